// conv2d by im2col + GEMM. Each thread takes a block of samples and keeps its own
// column buffer (Cg*kh*kw, OH*OW), which stays in cache between im2col and the GEMM.
// A 1x1, stride-1, unpadded convolution uses the input directly as the column matrix.
#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/tensor.h"
#include "core/threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/nn.h"

namespace pydl::kernels {
namespace {

inline int64_t div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Valid output range [lo, hi) for kernel offset `k`: 0 <= o*s - pad + k*d < size.
inline void valid_range(int64_t size, int64_t out, int64_t s, int64_t pad, int64_t koff, int64_t& lo, int64_t& hi) {
  int64_t base = pad - koff;  // o*s >= base
  lo = base <= 0 ? 0 : (base + s - 1) / s;
  hi = div_floor(size - 1 + base, s) + 1;
  lo = std::min(std::max<int64_t>(lo, 0), out);
  hi = std::min(std::max(hi, lo), out);
}

// col (Cg*kh*kw, OH*OW) from x (Cg, H, W).
template <typename T>
void im2col(const ConvGeom& g, int64_t Cg, const T* x, T* col) {
  const int64_t P = g.OH * g.OW;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      int64_t oh_lo, oh_hi;
      valid_range(g.H, g.OH, g.sh, g.ph0, ki * g.dh, oh_lo, oh_hi);
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * P;
        int64_t ow_lo, ow_hi;
        valid_range(g.W, g.OW, g.sw, g.pw0, kj * g.dw, ow_lo, ow_hi);
        std::fill(row, row + oh_lo * g.OW, T(0));
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          T* r = row + oh * g.OW;
          const T* xr = x + (c * g.H + oh * g.sh - g.ph0 + ki * g.dh) * g.W - g.pw0 + kj * g.dw;
          std::fill(r, r + ow_lo, T(0));
          if (g.sw == 1) std::memcpy(r + ow_lo, xr + ow_lo, (ow_hi - ow_lo) * sizeof(T));
          else for (int64_t ow = ow_lo; ow < ow_hi; ++ow) r[ow] = xr[ow * g.sw];
          std::fill(r + ow_hi, r + g.OW, T(0));
        }
        std::fill(row + oh_hi * g.OW, row + P, T(0));
      }
    }
}

// x (Cg, H, W) += col2im(col); x must be zeroed first.
template <typename T>
void col2im_add(const ConvGeom& g, int64_t Cg, const T* col, T* x) {
  const int64_t P = g.OH * g.OW;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      int64_t oh_lo, oh_hi;
      valid_range(g.H, g.OH, g.sh, g.ph0, ki * g.dh, oh_lo, oh_hi);
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * P;
        int64_t ow_lo, ow_hi;
        valid_range(g.W, g.OW, g.sw, g.pw0, kj * g.dw, ow_lo, ow_hi);
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          const T* r = row + oh * g.OW;
          T* xr = x + (c * g.H + oh * g.sh - g.ph0 + ki * g.dh) * g.W - g.pw0 + kj * g.dw;
          if (g.sw == 1) for (int64_t ow = ow_lo; ow < ow_hi; ++ow) xr[ow] += r[ow];
          else for (int64_t ow = ow_lo; ow < ow_hi; ++ow) xr[ow * g.sw] += r[ow];
        }
      }
    }
}

inline bool is_pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph0 == 0 && g.ph1 == 0 && g.pw0 == 0 && g.pw1 == 0;
}

// Runs f(n0, n1, tid) over sample blocks: one block per thread when there are enough
// samples (single-threaded GEMMs), else all samples on this thread (the GEMM threads itself).
template <typename F>
void over_samples(int64_t N, int64_t& nthreads, const F& f) {
  nthreads = get_num_threads();
  if (N < nthreads || nthreads == 1) {
    nthreads = 1;
    f(int64_t(0), N, 0);
    return;
  }
  int nt = static_cast<int>(nthreads);
#pragma omp parallel num_threads(nt)
  {
    int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t b = N * t / T, e = N * (t + 1) / T;
    if (b < e) f(b, e, t);
  }
}

inline int64_t pick_threads(int64_t N) {
  int64_t nt = get_num_threads();
  return (N < nt) ? 1 : nt;
}

}  // namespace

template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, P = g.OH * g.OW;
  const bool pw = is_pointwise(g);
  const int64_t nt = pick_threads(g.N);
  Tensor ws = pw ? Tensor() : empty({nt * Kg * P}, dtype_of<T>::value);
  int64_t used;
  over_samples(g.N, used, [&](int64_t n0, int64_t n1, int64_t tid) {
    T* col = pw ? nullptr : ws->data<T>() + tid * Kg * P;
    for (int64_t n = n0; n < n1; ++n) {
      const T* xn = x + n * g.C * g.H * g.W;
      T* yn = y + n * g.O * P;
      if (b)
        for (int64_t o = 0; o < g.O; ++o) std::fill(yn + o * P, yn + (o + 1) * P, b[o]);
      for (int64_t gi = 0; gi < G; ++gi) {
        const T* xg = xn + gi * Cg * g.H * g.W;
        const T* cm = xg;
        if (!pw) { im2col(g, Cg, xg, col); cm = col; }
        // (Og,Kg) x (Kg,P) -> (Og,P)
        gemm_any<T>(Og, P, Kg, w + gi * Og * Kg, Kg, 1, cm, P, 1, yn + gi * Og * P, P, b != nullptr);
      }
    }
  });
}

template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, P = g.OH * g.OW;
  const int64_t HWin = g.H * g.W;
  const bool pw = is_pointwise(g);
  const int64_t nt = pick_threads(g.N);
  // Per thread: a column buffer, a column-gradient buffer, and weight / bias gradient
  // accumulators (summed over threads at the end). One parallel region in all.
  const int64_t cols = pw ? 0 : 2 * Kg * P, accw = gw ? g.O * Kg : 0, accb = gb ? g.O : 0;
  const int64_t per = cols + accw + accb;
  Tensor ws = empty({std::max<int64_t>(nt * per, 1)}, dtype_of<T>::value);
  for (int64_t t = 0; t < nt; ++t) {
    T* a = ws->data<T>() + t * per + cols;
    std::fill(a, a + accw + accb, T(0));
  }
  int64_t used;
  over_samples(g.N, used, [&](int64_t n0, int64_t n1, int64_t tid) {
    T* base = ws->data<T>() + tid * per;
    T* col = pw ? nullptr : base;
    T* gcol = pw ? nullptr : base + Kg * P;
    T* gwt = gw ? base + cols : nullptr;
    T* gbt = gb ? base + cols + accw : nullptr;
    for (int64_t n = n0; n < n1; ++n) {
      const T* xn = x ? x + n * g.C * HWin : nullptr;
      const T* gyn = gy + n * g.O * P;
      if (gbt)  // Eigen's sum vectorises (a plain loop would not, without -ffast-math)
        for (int64_t o = 0; o < g.O; ++o) gbt[o] += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(gyn + o * P, P).sum();
      if (!gx && !gw) continue;
      T* gxn = gx ? gx + n * g.C * HWin : nullptr;
      if (gxn && !pw) std::fill(gxn, gxn + g.C * HWin, T(0));
      for (int64_t gi = 0; gi < G; ++gi) {
        if (gwt) {
          const T* cm = xn + gi * Cg * HWin;
          if (!pw) { im2col(g, Cg, cm, col); cm = col; }
          // (Og,P) x (Kg,P)^T -> (Og,Kg)
          gemm_any<T>(Og, Kg, P, gyn + gi * Og * P, P, 1, cm, 1, P, gwt + gi * Og * Kg, Kg, true);
        }
        if (gxn) {
          // (Og,Kg)^T x (Og,P) -> (Kg,P)
          T* dst = pw ? gxn + gi * Cg * HWin : gcol;
          gemm_any<T>(Kg, P, Og, w + gi * Og * Kg, 1, Kg, gyn + gi * Og * P, P, 1, dst, P, false);
          if (!pw) col2im_add(g, Cg, gcol, gxn + gi * Cg * HWin);
        }
      }
    }
  });
  // Sum the per-thread accumulators (small: O*Kg + O per thread).
  const T* acc = ws->data<T>() + cols;
  for (int64_t i = 0; i < accw; ++i) {
    T s = 0;
    for (int64_t t = 0; t < nt; ++t) s += acc[t * per + i];
    gw[i] = s;
  }
  for (int64_t i = 0; i < accb; ++i) {
    T s = 0;
    for (int64_t t = 0; t < nt; ++t) s += acc[t * per + accw + i];
    gb[i] = s;
  }
}

#define INST(T)                                                                                     \
  template void conv2d_forward<T>(const ConvGeom&, const T*, const T*, const T*, T*);               \
  template void conv2d_backward<T>(const ConvGeom&, const T*, const T*, const T*, T*, T*, T*);
INST(float)
INST(double)

}  // namespace pydl::kernels
