#pragma once
// One step of the CTC alpha / beta recursions in log space over the extended label sequence
// l' = (blank, l1, blank, l2, ..., blank): shared by the CPU kernels (kernels/cpu/nn_ctc.cpp,
// one sample per task) and their CUDA mirror (kernels/cuda/nn_ctc.cu, one block per sample,
// one thread per s), so both devices run the same recursion.
#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__CUDACC__)
#define PYDL_CTC_HD __host__ __device__
#else
#define PYDL_CTC_HD
#endif

namespace pydl::kernels {

/// log(exp(a) + exp(b)), exact when either is -inf.
template <typename T>
PYDL_CTC_HD inline T ctc_lse2(T a, T b) {
  const T ninf = -std::numeric_limits<T>::infinity();
  if (a == ninf) return b;
  if (b == ninf) return a;
  return (a > b ? a : b) + std::log1p(std::exp(-(a > b ? a - b : b - a)));
}

/// l'_s for the targets t of one sample.
PYDL_CTC_HD inline int64_t ctc_label(const int64_t* t, int64_t blank, int64_t s) { return s % 2 ? t[s / 2] : blank; }

/// alpha_t(s) from alpha_{t-1} (ap) and y = lp_t(l'_s).
template <typename T>
PYDL_CTC_HD inline T ctc_alpha(const T* ap, const int64_t* t, int64_t blank, int64_t s, T y) {
  T v = ap[s];
  if (s > 0) v = ctc_lse2(v, ap[s - 1]);
  if (s > 1 && s % 2 && ctc_label(t, blank, s) != ctc_label(t, blank, s - 2)) v = ctc_lse2(v, ap[s - 2]);
  return v == -std::numeric_limits<T>::infinity() ? v : v + y;
}

/// beta_t(s) (which includes y = lp_t(l'_s), like alpha) from beta_{t+1} (bn; null at the last step) over S labels.
template <typename T>
PYDL_CTC_HD inline T ctc_beta(const T* bn, const int64_t* t, int64_t blank, int64_t s, int64_t S, T y) {
  const T ninf = -std::numeric_limits<T>::infinity();
  T v;
  if (!bn) {
    v = (s == S - 1 || s == S - 2) ? T(0) : ninf;
  } else {
    v = bn[s];
    if (s + 1 < S) v = ctc_lse2(v, bn[s + 1]);
    if (s + 2 < S && s % 2 && ctc_label(t, blank, s) != ctc_label(t, blank, s + 2)) v = ctc_lse2(v, bn[s + 2]);
  }
  return v == ninf ? ninf : v + y;
}

}  // namespace pydl::kernels
