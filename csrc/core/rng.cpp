#include "core/rng.h"

#include <pthread.h>

#include <cmath>

namespace pydl {

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void Generator::seed_(uint64_t seed) {
  seed_value_ = seed;
  uint64_t z = seed;
  for (auto& s : s_) {  // splitmix64 expands the seed into the state
    z += 0x9e3779b97f4a7c15ull;
    uint64_t x = z;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    s = x ^ (x >> 31);
  }
  has_spare_ = false;
}

uint64_t Generator::next_u64() {
  uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
  s_[2] ^= t; s_[3] = rotl(s_[3], 45);
  return result;
}

double Generator::normal() {
  if (has_spare_) { has_spare_ = false; return spare_; }
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  double r = std::sqrt(-2.0 * std::log(u1)), th = 6.283185307179586 * u2;
  spare_ = r * std::sin(th);
  has_spare_ = true;
  return r * std::cos(th);
}

Generator& default_generator() {
  static Generator g(0x5eed);
  return g;
}

Generator& cuda_generator() {
  static Generator g(0x5eed);
  return g;
}

namespace {
// As for the allocator: the generator's lock is held across fork() so the child gets it free.
const bool g_fork_safe = [] {
  default_generator();
  pthread_atfork([] { default_generator().mutex().lock(); }, [] { default_generator().mutex().unlock(); },
                 [] { default_generator().mutex().unlock(); });
  return true;
}();
}  // namespace

}  // namespace pydl
