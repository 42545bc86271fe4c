// conv2d by im2col + GEMM. Threads take work items (forward: a chunk of one sample's output
// positions; backward: a block of samples) one at a time, each with its own column buffer
// (Cg*kh*kw, chunk: see col_chunk), which stays in L2 between im2col and the GEMM. A 1x1, stride-1, unpadded convolution uses the input
// directly as the column matrix.
#include "kernels/cpu/eigen.h"
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "core/threads.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/nn.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
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

// d[0, n) = s[0, n) for the short runs of im2col (one output row, often 16-32 values): whole
// vectors and one masked (AVX-512) or overlapping (AVX2) vector for the tail, where a compiled
// loop's scalar epilogue cost more than the copy (im2col was 23% of a 64->128 channel conv).
template <typename T>
inline void copy_run(T* __restrict d, const T* __restrict s, int64_t n) {
  if constexpr (sizeof(T) == 4) {
#if defined(__AVX512F__)
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(reinterpret_cast<float*>(d + i), _mm512_loadu_ps(reinterpret_cast<const float*>(s + i)));
    if (i < n) {
      const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
      _mm512_mask_storeu_ps(reinterpret_cast<float*>(d + i), m, _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(s + i)));
    }
    return;
#elif defined(__AVX2__)
    if (n >= 8) {
      int64_t i = 0;
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(reinterpret_cast<float*>(d + i), _mm256_loadu_ps(reinterpret_cast<const float*>(s + i)));
      if (i < n) _mm256_storeu_ps(reinterpret_cast<float*>(d + n - 8), _mm256_loadu_ps(reinterpret_cast<const float*>(s + n - 8)));
      return;
    }
#endif
  }
  for (int64_t i = 0; i < n; ++i) d[i] = s[i];
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
  const int64_t ld = j1 - j0, sw = g.sw;
  for_col_runs(g, Cg, x, j0, j1, [&](int64_t row, int64_t off, int64_t a, int64_t b, int64_t lo, int64_t hi, const T* xr) {
    // plain loops: runs are short (one output row), where memcpy/fill calls cost more than the copy
    T* __restrict r = col + row * ld + off;  // r[ow] is output position (oh, ow)
    hi = std::max(lo, hi);
    for (int64_t ow = a; ow < lo; ++ow) r[ow] = T(0);
    if (sw == 1) {
      if (hi > lo) copy_run(r + lo, xr + lo, hi - lo);
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) r[ow] = xr[ow * sw];
    }
    for (int64_t ow = hi; ow < b; ++ow) r[ow] = T(0);
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

// Runs f(item, tid) for items [0, n) on up to `threads` threads, handed out one at a time: a
// thread that the OS deschedules holds up one item, not a fixed share. tid < threads indexes
// per-thread buffers.
template <typename F>
void over_items(int64_t n, int64_t threads, const F& f) {
  if (threads <= 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) f(i, int64_t(0));
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    const int64_t tid = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) f(i, tid);
  }
}

// Sample blocks of the backward pass: each block sums its weight and bias gradients into a slot
// of its own and the slots are added in order at the end, so the result depends neither on the
// thread count nor on which thread took which block. Up to 16 blocks (fewer when a slot is
// large: at most ~32 MB of slots).
inline int64_t grad_blocks(int64_t N, int64_t slot_values) {
  const int64_t by_memory = (int64_t(8) << 20) / std::max<int64_t>(slot_values, 1);
  return std::max<int64_t>(1, std::min<int64_t>({N, 16, by_memory}));
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
  // Items: (sample, group, chunk of output positions), so that even one sample keeps every thread busy.
  const int64_t NC = col_chunk(Kg, P), chunks = (P + NC - 1) / NC, items = g.N * G * chunks;
  const int64_t nt = std::min<int64_t>(get_num_threads(), items);
  Tensor ws = pw ? Tensor() : empty({nt * Kg * NC}, dtype_of<T>::value);
  const WeightGemm<T> mm(w, G, Og, Kg, Kg, 1);
  over_items(items, nt, [&](int64_t it, int64_t tid) {
    const int64_t n = it / (G * chunks), gi = (it / chunks) % G, j0 = (it % chunks) * NC, j1 = std::min(P, j0 + NC);
    const T* xg = x + (n * g.C + gi * Cg) * g.H * g.W;
    T* yg = y + (n * g.O + gi * Og) * P;
    if (b)
      for (int64_t o = 0; o < Og; ++o) std::fill(yg + o * P + j0, yg + o * P + j1, b[gi * Og + o]);
    T* col = pw ? nullptr : ws->data<T>() + tid * Kg * NC;
    if (!pw) im2col(g, Cg, xg, j0, j1, col);
    // (Og,Kg) x (Kg,j1-j0) -> columns [j0, j1) of (Og,P)
    mm(gi, j1 - j0, pw ? xg + j0 : col, pw ? P : j1 - j0, yg + j0, P, b != nullptr);
  });
}

template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, P = g.OH * g.OW;
  const int64_t HWin = g.H * g.W;
  const bool pw = is_pointwise(g);
  const int64_t NC = col_chunk(Kg, P);
  // Per thread: the column matrix of a sample (for gw, which sums over all its positions) and a
  // column-gradient chunk (for gx). Per sample block: weight / bias gradient slots (grad_blocks).
  const int64_t cols = pw ? 0 : (gw ? Kg * P : 0) + Kg * NC, accw = gw ? g.O * Kg : 0, accb = gb ? g.O : 0;
  const int64_t nb = grad_blocks(g.N, accw + accb), nt = std::min<int64_t>(get_num_threads(), nb);
  Tensor ws = empty({std::max<int64_t>(nt * cols + nb * (accw + accb), 1)}, dtype_of<T>::value);
  T* slots = ws->data<T>() + nt * cols;
  std::fill(slots, slots + nb * (accw + accb), T(0));
  const std::unique_ptr<WeightGemm<T>> wt(gx ? new WeightGemm<T>(w, G, Kg, Og, 1, Kg) : nullptr);  // w_g^T (Kg,Og)
  over_items(nb, nt, [&](int64_t blk, int64_t tid) {
    const int64_t n0 = g.N * blk / nb, n1 = g.N * (blk + 1) / nb;
    T* col = pw ? nullptr : ws->data<T>() + tid * cols;
    T* gcol = pw ? nullptr : col + (gw ? Kg * P : 0);
    T* gwt = gw ? slots + blk * (accw + accb) : nullptr;
    T* gbt = gb ? slots + blk * (accw + accb) + accw : nullptr;
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
  // Sum the blocks' slots in block order.
  const int64_t per = accw + accb;
  for (int64_t i = 0; i < accw; ++i) {
    T s = 0;
    for (int64_t k = 0; k < nb; ++k) s += slots[k * per + i];
    gw[i] = s;
  }
  for (int64_t i = 0; i < accb; ++i) {
    T s = 0;
    for (int64_t k = 0; k < nb; ++k) s += slots[k * per + accw + i];
    gb[i] = s;
  }
}

#define INST(T)                                                                                     \
  template void conv2d_forward<T>(const ConvGeom&, const T*, const T*, const T*, T*);               \
  template void conv2d_backward<T>(const ConvGeom&, const T*, const T*, const T*, T*, T*, T*);
INST(float)
INST(double)

}  // namespace pydl::kernels::PYDL_ISA_NS
