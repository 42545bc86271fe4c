#pragma once
// The attention dropout mask, one element at a time: shared by the CPU kernels
// (kernels/cpu/attention.cpp) and their CUDA mirror (kernels/cuda/attention.cu), so both
// devices drop the same weights for the same seed.
#include <cstdint>

#if defined(__CUDACC__)
#define PYDL_ATTN_HD __host__ __device__
#else
#define PYDL_ATTN_HD
#endif

namespace pydl::kernels {

/// The dropout factor (0 or 1 / (1 - p)) of key j in attention row `row` (= b * L + i): one
/// splitmix64 stream per row seeded from (seed, row); draw j / 2 serves keys j (low 32 bits)
/// and j + 1 (high 32 bits).
PYDL_ATTN_HD inline double attn_dropout(uint64_t seed, int64_t row, int64_t j, double p) {
  const uint64_t gamma = 0x9e3779b97f4a7c15ull;
  uint64_t z = (seed ^ (gamma * uint64_t(row + 1))) + gamma * uint64_t(j / 2 + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const uint32_t bits = (j & 1) ? uint32_t(z >> 32) : uint32_t(z);
  const double t = p * 4294967296.0;
  const uint32_t threshold = static_cast<uint32_t>(t < 4294967295.0 ? t : 4294967295.0);
  return bits < threshold || p >= 1 ? 0.0 : 1.0 / (1.0 - p);
}

}  // namespace pydl::kernels
