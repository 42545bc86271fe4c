// conv2d by im2col + GEMM. Each thread takes a block of samples and keeps its own column
// buffer for one chunk of output positions (Cg*kh*kw, chunk: see col_chunk), which stays in
// L2 between im2col and the GEMM. A 1x1, stride-1, unpadded convolution uses the input
// directly as the column matrix.
#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <memory>
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

// Calls f(row, oh, ow_lo, ow_hi, xr) for every run of output positions [j0, j1) (p = oh*OW + ow)
// of column-matrix row (c, ki, kj) that reads the input: xr points at x's element for ow = 0 of
// that output row (read it at xr[ow * sw]). Positions outside [ow_lo, ow_hi) read padding.
template <typename T, typename F>
void for_col_runs(const ConvGeom& g, int64_t Cg, T* x, int64_t j0, int64_t j1, const F& f) {
  const int64_t oh0 = j0 / g.OW, oh1 = (j1 - 1) / g.OW + 1;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      int64_t oh_lo, oh_hi;
      valid_range(g.H, g.OH, g.sh, g.ph0, ki * g.dh, oh_lo, oh_hi);
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        const int64_t row = (c * g.kh + ki) * g.kw + kj;
        int64_t ow_lo, ow_hi;
        valid_range(g.W, g.OW, g.sw, g.pw0, kj * g.dw, ow_lo, ow_hi);
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          // this output row's share of [j0, j1)
          const int64_t a = std::max<int64_t>(j0 - oh * g.OW, 0), b = std::min<int64_t>(j1 - oh * g.OW, g.OW);
          const bool inside = oh >= oh_lo && oh < oh_hi;
          T* xr = inside ? x + (c * g.H + oh * g.sh - g.ph0 + ki * g.dh) * g.W - g.pw0 + kj * g.dw : nullptr;
          f(row, oh * g.OW - j0, a, b, inside ? std::max(a, ow_lo) : b, inside ? std::min(b, ow_hi) : b, xr);
        }
      }
    }
}

// col (Cg*kh*kw, j1 - j0): columns [j0, j1) of the column matrix of x (Cg, H, W).
template <typename T>
void im2col(const ConvGeom& g, int64_t Cg, const T* x, int64_t j0, int64_t j1, T* col) {
  const int64_t ld = j1 - j0;
  for_col_runs(g, Cg, x, j0, j1, [&](int64_t row, int64_t off, int64_t a, int64_t b, int64_t lo, int64_t hi, const T* xr) {
    T* r = col + row * ld + off;  // r[ow] is output position (oh, ow)
    hi = std::max(lo, hi);
    std::fill(r + a, r + lo, T(0));
    if (hi > lo) {
      if (g.sw == 1) std::memcpy(r + lo, xr + lo, (hi - lo) * sizeof(T));
      else for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * g.sw];
    }
    std::fill(r + hi, r + b, T(0));
  });
}

// x (Cg, H, W) += col2im(col) for columns [j0, j1) of the column matrix (col is (Cg*kh*kw, j1 - j0)).
template <typename T>
void col2im_add(const ConvGeom& g, int64_t Cg, const T* col, int64_t j0, int64_t j1, T* x) {
  const int64_t ld = j1 - j0;
  for_col_runs(g, Cg, x, j0, j1, [&](int64_t row, int64_t off, int64_t, int64_t, int64_t lo, int64_t hi, T* xr) {
    const T* r = col + row * ld + off;
    if (g.sw == 1) for (int64_t ow = lo; ow < hi; ++ow) xr[ow] += r[ow];
    else for (int64_t ow = lo; ow < hi; ++ow) xr[ow * g.sw] += r[ow];
  });
}

// Output positions per column chunk: the chunk's column matrix (Kg x chunk) stays within
// 64K values (256 KB of float32), so it and the GEMM's reads of it stay in L2 and the GEMM
// reads it in place instead of packing a copy.
inline int64_t col_chunk(int64_t Kg, int64_t P) {
  const int64_t c = std::max<int64_t>(64, (64 * 1024 / std::max<int64_t>(Kg, 1)) / 64 * 64);
  return std::min(c, P);
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

// C (M, n) (+)= A_g (M, K) @ B (K, n) for the weight A_g of group g (at w + g*M*K, element
// (i, p) at [i*rs + p*cs]), B rows ldb apart. float32 packs the weights once per call, for
// all samples and threads (the engine's packed A).
template <typename T>
struct WeightGemm {
  const T* w;
  int64_t M, K, rs, cs;
  Tensor packed;  // float32: the G packed weights
  int64_t per = 0;
  WeightGemm(const T* w_, int64_t G, int64_t M_, int64_t K_, int64_t rs_, int64_t cs_)
      : w(w_), M(M_), K(K_), rs(rs_), cs(cs_) {
    if constexpr (std::is_same_v<T, float>) {
      per = sgemm_packed_a_size(M, K);
      packed = empty({std::max<int64_t>(G * per, 1)}, DType::Float32);
      for (int64_t gi = 0; gi < G; ++gi) sgemm_pack_a(M, K, w + gi * M * K, rs, cs, packed->data<float>() + gi * per);
    }
  }
  void operator()(int64_t gi, int64_t n, const T* B, int64_t ldb, T* C, int64_t ldc, bool acc) const {
    if constexpr (std::is_same_v<T, float>)
      sgemm_packed_a(M, n, K, packed->data<float>() + gi * per, B, ldb, 1, C, ldc, acc);
    else
      gemm_any<T>(M, n, K, w + gi * M * K, rs, cs, B, ldb, 1, C, ldc, acc, true);
  }
};

template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, P = g.OH * g.OW;
  const bool pw = is_pointwise(g);
  const int64_t nt = pick_threads(g.N), NC = col_chunk(Kg, P);
  Tensor ws = pw ? Tensor() : empty({nt * Kg * NC}, dtype_of<T>::value);
  const WeightGemm<T> mm(w, G, Og, Kg, Kg, 1);
  int64_t used;
  over_samples(g.N, used, [&](int64_t n0, int64_t n1, int64_t tid) {
    T* col = pw ? nullptr : ws->data<T>() + tid * Kg * NC;
    for (int64_t n = n0; n < n1; ++n) {
      const T* xn = x + n * g.C * g.H * g.W;
      T* yn = y + n * g.O * P;
      if (b)
        for (int64_t o = 0; o < g.O; ++o) std::fill(yn + o * P, yn + (o + 1) * P, b[o]);
      for (int64_t gi = 0; gi < G; ++gi) {
        const T* xg = xn + gi * Cg * g.H * g.W;
        for (int64_t j0 = 0; j0 < P; j0 += NC) {
          const int64_t j1 = std::min(P, j0 + NC);
          // (Og,Kg) x (Kg,j1-j0) -> columns [j0, j1) of (Og,P)
          if (!pw) im2col(g, Cg, xg, j0, j1, col);
          mm(gi, j1 - j0, pw ? xg + j0 : col, pw ? P : j1 - j0, yn + gi * Og * P + j0, P, b != nullptr);
        }
      }
    }
  });
}

template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, P = g.OH * g.OW;
  const int64_t HWin = g.H * g.W;
  const bool pw = is_pointwise(g);
  const int64_t nt = pick_threads(g.N), NC = col_chunk(Kg, P);
  // Per thread: the column matrix of a sample (for gw, which sums over all its positions), a
  // column-gradient chunk (for gx), and weight / bias gradient accumulators (summed over threads
  // at the end). One parallel region in all.
  const int64_t cols = pw ? 0 : (gw ? Kg * P : 0) + Kg * NC, accw = gw ? g.O * Kg : 0, accb = gb ? g.O : 0;
  const int64_t per = cols + accw + accb;
  Tensor ws = empty({std::max<int64_t>(nt * per, 1)}, dtype_of<T>::value);
  for (int64_t t = 0; t < nt; ++t) {
    T* a = ws->data<T>() + t * per + cols;
    std::fill(a, a + accw + accb, T(0));
  }
  const std::unique_ptr<WeightGemm<T>> wt(gx ? new WeightGemm<T>(w, G, Kg, Og, 1, Kg) : nullptr);  // w_g^T (Kg,Og)
  int64_t used;
  over_samples(g.N, used, [&](int64_t n0, int64_t n1, int64_t tid) {
    T* base = ws->data<T>() + tid * per;
    T* col = pw ? nullptr : base;
    T* gcol = pw ? nullptr : base + (gw ? Kg * P : 0);
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
        const T* xg = xn ? xn + gi * Cg * HWin : nullptr;
        const T* gyg = gyn + gi * Og * P;
        if (gwt) {
          const T* cm = xg;
          if (!pw) { im2col(g, Cg, xg, 0, P, col); cm = col; }
          // (Og,P) x (Kg,P)^T -> (Og,Kg)
          gemm_any<T>(Og, Kg, P, gyg, P, 1, cm, 1, P, gwt + gi * Og * Kg, Kg, true);
        }
        if (gxn) {
          T* gxg = gxn + gi * Cg * HWin;
          for (int64_t j0 = 0; j0 < P; j0 += NC) {
            const int64_t j1 = std::min(P, j0 + NC), nc = j1 - j0;
            // (Og,Kg)^T x (Og,nc) -> (Kg,nc): columns [j0, j1) of the column gradient
            (*wt)(gi, nc, gyg + j0, P, pw ? gxg + j0 : gcol, pw ? HWin : nc, false);
            if (!pw) col2im_add(g, Cg, gcol, j0, j1, gxg);
          }
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
