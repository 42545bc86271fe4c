// conv2d by GEMM: stride-1 convolutions with many channels read the padded input in place, one
// GEMM per kernel tap (see Shift); the rest by im2col + GEMM. Threads take work items (forward: a chunk of one sample's output
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
// Groups' weights are gs apart (0: M*K, the whole weight of a 2-D GEMM per group).
template <typename T>
struct WeightGemm {
  const T* w;
  int64_t M, K, rs, cs, gs;
  Tensor packed;  // float32: the G packed weights
  int64_t per = 0;
  WeightGemm(const T* w_, int64_t G, int64_t M_, int64_t K_, int64_t rs_, int64_t cs_, int64_t gs_ = 0)
      : w(w_), M(M_), K(K_), rs(rs_), cs(cs_), gs(gs_ ? gs_ : M_ * K_) {
    if constexpr (std::is_same_v<T, float>) {
      per = sgemm_packed_a_size(M, K);
      packed = empty({std::max<int64_t>(G * per, 1)}, DType::Float32);
      for (int64_t gi = 0; gi < G; ++gi) sgemm_pack_a(M, K, w + gi * gs, rs, cs, packed->data<float>() + gi * per);
    } else if (rs != 1 && cs != 1) {  // Eigen's GEMM needs a unit stride: a row-major copy
      packed = empty({std::max<int64_t>(G * M * K, 1)}, dtype_of<T>::value);
      T* d = packed->data<T>();
      for (int64_t gi = 0; gi < G; ++gi)
        for (int64_t i = 0; i < M; ++i)
          for (int64_t p = 0; p < K; ++p) d[(gi * M + i) * K + p] = w[gi * gs + i * rs + p * cs];
      w = d, rs = K, cs = 1, gs = M * K;
    }
  }
  void operator()(int64_t gi, int64_t n, const T* B, int64_t ldb, T* C, int64_t ldc, bool acc) const {
    if constexpr (std::is_same_v<T, float>)
      sgemm_packed_a(M, n, K, packed->data<float>() + gi * per, B, ldb, 1, C, ldc, acc);
    else
      gemm_any<T>(M, n, K, w + gi * gs, rs, cs, B, ldb, 1, C, ldc, acc, true);
  }
};

// ---- Stride-1 convolution without im2col ("shifted windows") -----------------------------
// With the input zero-padded to (Hp, Wp) and the output computed over the padded width
// (position j = oh*Wp + ow; the last Wp - OW of each row are junk, dropped at the end), tap
// t = (ki, kj) of the kernel reads every input plane at the fixed offset ki*dh*Wp + kj*dw. So
// the GEMM of one tap reads its B, the padded input itself (rows = channels, a plane apart), in
// place: out (M, Pw) = sum over taps of W_t (M, K) @ X_t (K, Pw). No column matrix is written
// (im2col was a fifth of a many-channel conv's time, in runs of one output row). The input
// gradient is the same kind of convolution, of the padded output gradient with the flipped
// kernel; the weight gradient is one GEMM per tap against the same shifted input.
struct Shift {
  int64_t Hp, Wp, OH, OW, kh, kw, dh, dw;
  int64_t plane() const { return Hp * Wp; }
  int64_t Pw() const { return (OH - 1) * Wp + OW; }  // the last row's junk is not computed
  int64_t taps() const { return kh * kw; }
  int64_t off(int64_t t) const { return (t / kw) * dh * Wp + (t % kw) * dw; }
};

// Copies planes (H, W) into zeroed planes (Hp, Wp) at row top, column left.
template <typename T>
void pad_planes(int64_t n, int64_t H, int64_t W, int64_t top, int64_t left, int64_t Hp, int64_t Wp, const T* src, T* dst) {
  for (int64_t i = 0; i < n; ++i) {
    T* d = dst + i * Hp * Wp;
    std::fill(d, d + Hp * Wp, T(0));
    for (int64_t h = 0; h < H; ++h) copy_run(d + (top + h) * Wp + left, src + (i * H + h) * W, W);
  }
}

// Per-tap weights of a shifted convolution: taps[t] is W_t of every group.
template <typename T>
using TapWeights = std::vector<std::unique_ptr<WeightGemm<T>>>;

// Columns [j0, j1) of out_w (M, Pw) for group gi of one sample (in: its K padded planes):
// every tap's GEMM into tmp (M, j1 - j0), then the valid positions into out (M, OH*OW), plus
// bias (M values or null).
template <typename T>
void shifted_chunk(const Shift& s, const TapWeights<T>& taps, int64_t gi, int64_t M, const T* in, int64_t j0,
                   int64_t j1, T* tmp, const T* bias, T* out) {
  const int64_t nc = j1 - j0, P = s.OH * s.OW;
  for (int64_t t = 0; t < s.taps(); ++t) (*taps[t])(gi, nc, in + s.off(t) + j0, s.plane(), tmp, nc, t > 0);
  for (int64_t oh = j0 / s.Wp; oh * s.Wp < j1; ++oh) {
    const int64_t a = std::max(j0, oh * s.Wp), e = std::min(j1, oh * s.Wp + s.OW);
    if (e <= a) continue;
    for (int64_t m = 0; m < M; ++m) {
      const T bm = bias ? bias[m] : T(0);
      const T* __restrict src = tmp + m * nc + (a - j0);
      T* __restrict dst = out + m * P + oh * s.OW + (a - oh * s.Wp);
      for (int64_t i = 0; i < e - a; ++i) dst[i] = src[i] + bm;
    }
  }
}

// Output columns per shifted chunk: tmp (M, chunk) within 32K values (128 KB of float32).
inline int64_t shifted_chunk_cols(int64_t M, int64_t Pw) {
  return std::min(Pw, std::max<int64_t>(64, (32 * 1024 / std::max<int64_t>(M, 1)) / 64 * 64));
}

// The shifted path pays where each tap's GEMM has depth (channels) to work with and the junk
// columns are few; it needs stride 1 and, for the input gradient, padding within the kernel's
// reach (a larger one crops the gradient).
inline bool shifted_fits(const ConvGeom& g, int64_t channels) {
  const int64_t Wp = g.W + g.pw0 + g.pw1;
  return g.sh == 1 && g.sw == 1 && channels >= 16 && (g.kh > 1 || g.kw > 1) && 4 * (Wp - g.OW) <= Wp;
}
inline bool shifted_fits_gx(const ConvGeom& g) {
  const int64_t rh = (g.kh - 1) * g.dh, rw = (g.kw - 1) * g.dw;
  return shifted_fits(g, g.O / g.groups) && g.ph0 <= rh && g.ph1 <= rh && g.pw0 <= rw && g.pw1 <= rw &&
         4 * rw <= g.W + rw;
}

// The forward's shifted geometry (input padded by the convolution's padding), and the input
// gradient's (output gradient padded by the kernel's reach less that padding; its output is x).
inline Shift forward_shift(const ConvGeom& g) {
  return {g.H + g.ph0 + g.ph1, g.W + g.pw0 + g.pw1, g.OH, g.OW, g.kh, g.kw, g.dh, g.dw};
}
inline Shift input_grad_shift(const ConvGeom& g) {
  const int64_t rh = (g.kh - 1) * g.dh, rw = (g.kw - 1) * g.dw;
  return {g.H + rh, g.W + rw, g.H, g.W, g.kh, g.kw, g.dh, g.dw};
}

// Tap t's weights of group gi as an (M, K) matrix, element (i, p) at w + gi*O_g*K_g + i*rs + p*cs + tap(t).
template <typename T>
TapWeights<T> tap_weights(const ConvGeom& g, const T* w, bool input_grad) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, kk = g.kh * g.kw, Kg = Cg * kk;
  TapWeights<T> taps;
  for (int64_t t = 0; t < kk; ++t) {
    if (input_grad)  // (Cg, Og) of the flipped kernel
      taps.push_back(std::make_unique<WeightGemm<T>>(w + (kk - 1 - t), G, Cg, Og, kk, Kg, Og * Kg));
    else  // (Og, Cg)
      taps.push_back(std::make_unique<WeightGemm<T>>(w + t, G, Og, Cg, Kg, kk, Og * Kg));
  }
  return taps;
}

template <typename T>
void conv2d_forward_shifted(const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, P = g.OH * g.OW;
  const Shift s = forward_shift(g);
  Tensor xbuf;
  const T* xp = x;
  if (s.Hp != g.H || s.Wp != g.W) {
    xbuf = empty({g.N * g.C * s.plane()}, dtype_of<T>::value);
    T* d = xbuf->data<T>();
    parallel_for(g.N * g.C, 16, [&](int64_t i0, int64_t i1) {
      pad_planes(i1 - i0, g.H, g.W, g.ph0, g.pw0, s.Hp, s.Wp, x + i0 * g.H * g.W, d + i0 * s.plane());
    });
    xp = d;
  }
  const TapWeights<T> taps = tap_weights(g, w, false);
  const int64_t Pw = s.Pw(), NC = shifted_chunk_cols(Og, Pw), chunks = (Pw + NC - 1) / NC, items = g.N * G * chunks;
  const int64_t nt = std::min<int64_t>(get_num_threads(), items);
  Tensor ws = empty({nt * Og * NC}, dtype_of<T>::value);
  over_items(items, nt, [&](int64_t it, int64_t tid) {
    const int64_t n = it / (G * chunks), gi = (it / chunks) % G, j0 = (it % chunks) * NC, j1 = std::min(Pw, j0 + NC);
    shifted_chunk(s, taps, gi, Og, xp + (n * g.C + gi * Cg) * s.plane(), j0, j1, ws->data<T>() + tid * Og * NC,
                  b ? b + gi * Og : nullptr, y + (n * g.O + gi * Og) * P);
  });
}

template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
  if (shifted_fits(g, g.C / g.groups)) return conv2d_forward_shifted(g, x, w, b, y);
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
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, kk = g.kh * g.kw, Kg = Cg * kk, P = g.OH * g.OW;
  const int64_t HWin = g.H * g.W;
  const bool pw = is_pointwise(g);
  // Shifted-window paths (see Shift) for the input and the weight gradient, where they fit.
  const bool sgx = gx && shifted_fits_gx(g), sgw = gw && shifted_fits(g, Cg);
  const Shift sf = forward_shift(g), sq = input_grad_shift(g);
  const bool x_padded = sf.Hp != g.H || sf.Wp != g.W;
  const int64_t NC = col_chunk(Kg, P), NQ = sgx ? shifted_chunk_cols(Cg, sq.Pw()) : 0;
  // Per thread: the column matrix of a sample (im2col weight gradient, which sums over all its
  // positions) and a column-gradient chunk (im2col input gradient); or the shifted paths' padded
  // sample, widened (and, float32, packed) output gradient, padded output gradient and output
  // chunk. Per sample block: weight / bias gradient slots (grad_blocks).
  const int64_t n_col = pw ? 0 : (gw && !sgw ? Kg * P : 0) + (gx && !sgx ? Kg * NC : 0);
  // gyw: a group's output gradient over the padded width, planes (OH, Wp), junk columns 0
  const int64_t wplane = g.OH * sf.Wp;
  const int64_t n_xpad = sgw && x_padded ? g.C * sf.plane() : 0, n_gyw = sgw ? Og * wplane : 0;
  int64_t n_bpk = 0;
  if constexpr (std::is_same_v<T, float>) n_bpk = sgw ? sgemm_packed_b_size(sf.Pw(), Og) : 0;
  const int64_t n_gyp = sgx ? g.O * sq.plane() : 0, n_tmp = sgx ? Cg * NQ : 0;
  const int64_t per_thread = n_col + n_xpad + n_gyw + n_bpk + n_gyp + n_tmp;
  const int64_t accw = gw ? g.O * Kg : 0, accb = gb ? g.O : 0;
  const int64_t nb = grad_blocks(g.N, accw + accb), nt = std::min<int64_t>(get_num_threads(), nb);
  Tensor ws = empty({std::max<int64_t>(nt * per_thread + nb * (accw + accb), 1)}, dtype_of<T>::value);
  T* slots = ws->data<T>() + nt * per_thread;
  std::fill(slots, slots + nb * (accw + accb), T(0));
  // w_g^T (Kg,Og) for the im2col input gradient; the flipped taps for the shifted one
  const std::unique_ptr<WeightGemm<T>> wt(gx && !sgx ? new WeightGemm<T>(w, G, Kg, Og, 1, Kg) : nullptr);
  const TapWeights<T> taps = sgx ? tap_weights(g, w, true) : TapWeights<T>();
  over_items(nb, nt, [&](int64_t blk, int64_t tid) {
    const int64_t n0 = g.N * blk / nb, n1 = g.N * (blk + 1) / nb;
    T* col = ws->data<T>() + tid * per_thread;
    T* gcol = col + (gw && !sgw ? Kg * P : 0);
    T* xpad = col + n_col;
    T* gyw = xpad + n_xpad;
    T* bpk = gyw + n_gyw;
    T* gyp = bpk + n_bpk;
    T* tmp = gyp + n_gyp;
    T* gwt = gw ? slots + blk * (accw + accb) : nullptr;
    T* gbt = gb ? slots + blk * (accw + accb) + accw : nullptr;
    for (int64_t n = n0; n < n1; ++n) {
      const T* xn = x ? x + n * g.C * HWin : nullptr;
      const T* gyn = gy + n * g.O * P;
      if (gbt)  // Eigen's sum vectorises (a plain loop would not, without -ffast-math)
        for (int64_t o = 0; o < g.O; ++o) gbt[o] += Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(gyn + o * P, P).sum();
      if (!gx && !gw) continue;
      T* gxn = gx ? gx + n * g.C * HWin : nullptr;
      if (gxn && !pw && !sgx) std::fill(gxn, gxn + g.C * HWin, T(0));
      if (sgw && x_padded) pad_planes(g.C, g.H, g.W, g.ph0, g.pw0, sf.Hp, sf.Wp, xn, xpad);
      if (sgx) pad_planes(g.O, g.OH, g.OW, (g.kh - 1) * g.dh - g.ph0, (g.kw - 1) * g.dw - g.pw0, sq.Hp, sq.Wp, gyn, gyp);
      for (int64_t gi = 0; gi < G; ++gi) {
        const T* xg = xn ? xn + gi * Cg * HWin : nullptr;
        const T* gyg = gyn + gi * Og * P;
        if (gwt && sgw) {
          // tap t: gw_t^T (Cg, Og) += X_t (Cg, Pw) @ gyw^T (Pw, Og), slots [t][gi] of (Cg, Og)
          const T* xs = (x_padded ? xpad : xn) + gi * Cg * sf.plane();
          const int64_t Pw = sf.Pw();
          pad_planes(Og, g.OH, g.OW, 0, 0, g.OH, sf.Wp, gyg, gyw);
          if constexpr (std::is_same_v<T, float>) sgemm_pack_b(Pw, Og, gyw, 1, wplane, bpk);
          for (int64_t t = 0; t < kk; ++t) {
            T* c = gwt + (t * G + gi) * Cg * Og;
            if constexpr (std::is_same_v<T, float>)
              sgemm_packed_b(Cg, Og, Pw, xs + sf.off(t), sf.plane(), 1, bpk, c, Og, true);
            else
              gemm_any<T>(Cg, Og, Pw, xs + sf.off(t), sf.plane(), 1, gyw, 1, wplane, c, Og, true, true);
          }
        } else if (gwt) {
          const T* cm = xg;
          if (!pw) { im2col(g, Cg, xg, 0, P, col); cm = col; }
          // (Og,P) x (Kg,P)^T -> (Og,Kg)
          gemm_any<T>(Og, Kg, P, gyg, P, 1, cm, 1, P, gwt + gi * Og * Kg, Kg, true);
        }
        if (gxn && sgx) {
          const T* in = gyp + gi * Og * sq.plane();
          for (int64_t j0 = 0; j0 < sq.Pw(); j0 += NQ)
            shifted_chunk(sq, taps, gi, Cg, in, j0, std::min(sq.Pw(), j0 + NQ), tmp, static_cast<const T*>(nullptr),
                          gxn + gi * Cg * HWin);
        } else if (gxn) {
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
  // Sum the blocks' slots in block order (the shifted weight gradient's slots are [tap][group](Cg, Og)).
  const int64_t per = accw + accb;
  for (int64_t i = 0; i < accw; ++i) {
    int64_t at = i;
    if (sgw) {  // i = ((gi*Og + o)*Cg + c)*kk + t
      const int64_t t = i % kk, c = (i / kk) % Cg, go = i / Kg, gi = go / Og, o = go % Og;
      at = ((t * G + gi) * Cg + c) * Og + o;
    }
    T s = 0;
    for (int64_t k = 0; k < nb; ++k) s += slots[k * per + at];
    gw[i] = s;
  }
  for (int64_t i = 0; i < accb; ++i) {
    T s = 0;
    for (int64_t k = 0; k < nb; ++k) s += slots[k * per + accw + i];
    gb[i] = s;
  }
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_CONV_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
