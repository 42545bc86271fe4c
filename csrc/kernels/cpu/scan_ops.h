#pragma once
// One line of a cumulative scan: R elements at x[0], x[s], ..., x[(R-1) s]. Shared by the CPU
// kernels (kernels/cpu/scan.cpp, index.cpp) and their CUDA mirrors (kernels/cuda/scan.cu, one
// thread per line), so both devices compute the same running sums and products.
#include <cmath>
#include <cstdint>

#include "kernels/cpu/binary_ops.h"  // logaddexp

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

/// y[r] = log(exp(x[0]) + ... + exp(x[r])), without overflow.
template <typename T>
PYDL_SCAN_HD inline void logcumsumexp_line(int64_t R, int64_t s, const T* x, T* y) {
  T acc = -INFINITY;
  for (int64_t r = 0; r < R; ++r) y[r * s] = acc = logaddexp(acc, x[r * s]);
}

/// gx[r] = exp(x[r]) sum_{j>=r} g[j] exp(-y[j]), with y the forward's result, in O(R): the running
/// sum carries exp(y[r] - y[r+1]) <= 1 (y never decreases along the line), so nothing overflows.
template <typename T>
PYDL_SCAN_HD inline void logcumsumexp_backward_line(int64_t R, int64_t s, const T* x, const T* y, const T* g, T* gx) {
  T acc = T(0);
  for (int64_t r = R - 1; r >= 0; --r) {
    const T yr = y[r * s];
    const T f = r + 1 < R && !std::isinf(yr) ? std::exp(yr - y[(r + 1) * s]) : T(0);
    acc = g[r * s] + f * acc;
    gx[r * s] = std::isinf(yr) && yr < 0 ? T(0) : std::exp(x[r * s] - yr) * acc;
  }
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

/// y[r] = the running max (min) of x[0..r] and idx[r] the index of its last occurrence; NaN
/// propagates (a NaN is kept once seen), as in torch.
template <typename T>
PYDL_SCAN_HD inline void cummax_line(int64_t R, int64_t s, const T* x, T* y, int64_t* idx, bool is_max) {
  T best = T(0);
  int64_t bi = 0;
  for (int64_t r = 0; r < R; ++r) {
    const T v = x[r * s];
    const bool v_nan = v != v, best_nan = best != best;
    if (r == 0 || v_nan || (!best_nan && (is_max ? v >= best : v <= best))) { best = v; bi = r; }
    y[r * s] = best;
    idx[r * s] = bi;
  }
}

/// The lower (upper when right) bound of x in the sorted row[0..M), NaN sorting last (as torch).
template <typename T>
PYDL_SCAN_HD inline int64_t sorted_bound(const T* row, int64_t M, T x, bool right) {
  int64_t lo = 0, hi = M;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    const T m = row[mid];
    // goes right of mid: m < x (lower bound) or !(x < m) (upper bound), where NaN is the largest
    const bool m_nan = m != m, x_nan = x != x;
    const bool m_lt_x = x_nan ? !m_nan : (!m_nan && m < x);
    const bool x_lt_m = m_nan ? !x_nan : (!x_nan && x < m);
    if (right ? !x_lt_m : m_lt_x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

}  // namespace pydl::kernels
