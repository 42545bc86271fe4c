#pragma once
#include <cstdint>
#include <mutex>

namespace pydl {

/// The global random generator (xoshiro256++), seeded by pydl.manual_seed.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) { seed_(seed); }
  void manual_seed(uint64_t seed) { std::lock_guard<std::mutex> l(mu_); seed_(seed); }
  uint64_t initial_seed() const { return seed_value_; }
  std::mutex& mutex() { return mu_; }
  // The following are not locked: take mutex() around a batch of draws.
  uint64_t next_u64();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return (next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  /// Standard normal (Box-Muller, caches the second value).
  double normal();

 private:
  void seed_(uint64_t seed);
  uint64_t s_[4];
  uint64_t seed_value_ = 0;
  bool has_spare_ = false;
  double spare_ = 0;
  std::mutex mu_;
};

/// splitmix64: a fast 64-bit mixer; `state` advances by one step per call. Used for
/// parallel streams (one per fixed-size chunk) seeded from one draw of the generator.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// The process-wide default generator.
Generator& default_generator();
/// The generator of CUDA kernels (dropout on the GPU): pydl.manual_seed seeds it too,
/// pydl.cuda.manual_seed_all seeds it alone.
Generator& cuda_generator();

}  // namespace pydl
