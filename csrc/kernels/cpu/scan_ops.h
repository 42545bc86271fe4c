#pragma once
// One line of a cumulative scan: R elements at x[0], x[s], ..., x[(R-1) s]. Shared by the CPU
// kernels (kernels/cpu/scan.cpp, index.cpp) and their CUDA mirrors (kernels/cuda/scan.cu, one
// thread per line), so both devices compute the same running sums and products.
#include <cstdint>

#if defined(__CUDACC__)
#define PYDL_SCAN_HD __host__ __device__
#else
#define PYDL_SCAN_HD
#endif

namespace pydl::kernels {

/// y[r] = x[0] + ... + x[r].
template <typename T>
PYDL_SCAN_HD inline void cumsum_line(int64_t R, int64_t s, const T* x, T* y) {
  T acc = T(0);
  for (int64_t r = 0; r < R; ++r) y[r * s] = acc += x[r * s];
}

/// y[r] = x[0] * ... * x[r].
template <typename T>
PYDL_SCAN_HD inline void cumprod_line(int64_t R, int64_t s, const T* x, T* y) {
  T acc = T(1);
  for (int64_t r = 0; r < R; ++r) y[r * s] = acc *= x[r * s];
}

/// gx[r] = sum_{j>=r} g[j] prod_{k<=j, k!=r} x[k], in O(R) and without dividing by x.
template <typename T>
PYDL_SCAN_HD inline void cumprod_backward_line(int64_t R, int64_t s, const T* x, const T* g, T* gx) {
  if (R == 0) return;
  // S[r] = g[r] + x[r+1] S[r+1];  gx[r] = (x[0] ... x[r-1]) S[r]
  T acc = g[(R - 1) * s];
  gx[(R - 1) * s] = acc;
  for (int64_t r = R - 2; r >= 0; --r) gx[r * s] = acc = g[r * s] + x[(r + 1) * s] * acc;
  T pre = T(1);
  for (int64_t r = 0; r < R; ++r) {
    gx[r * s] *= pre;
    pre *= x[r * s];
  }
}

}  // namespace pydl::kernels
