#pragma once
// Raw compute for the nn ops (activations, softmax, losses, convolution, pooling,
// normalisation, optimizer steps). Operands are contiguous unless a stride is given.
// Each template is instantiated for float and double in its .cpp file.
#include <cstdint>
#include <vector>

#include "kernels/cpu/act_ops.h"
#include "kernels/cpu/loss_ops.h"

namespace pydl::kernels {

// ---- nn_act.cpp ----------------------------------------------------------------------
// a, b: LeakyRelu (slope), Elu / Celu (alpha), Softplus (beta, threshold), Hardtanh (min, max),
// Softshrink / Hardshrink (lambda), Threshold (threshold, value). Formulas: kernels/cpu/act_ops.h.
#define PYDL_ACT_ENUM(N, ...) N,
enum class Act { PYDL_ACT_KERNELS(PYDL_ACT_ENUM) };
#undef PYDL_ACT_ENUM
/// y = act(x) elementwise; a, b are the op's parameters (slope / alpha / beta, threshold).
template <typename T> void act_forward(Act op, int64_t n, const T* x, T* y, double a, double b);
/// gx = g * act'(x).
template <typename T> void act_backward(Act op, int64_t n, const T* g, const T* x, T* gx, double a, double b);
/// Softmax (or log-softmax) of x viewed as (outer, dim, inner) along the middle axis.
template <typename T> void softmax_forward(int64_t outer, int64_t dim, int64_t inner, const T* x, T* y, bool log);
/// Gradient of softmax / log-softmax given the forward output y.
template <typename T> void softmax_backward(int64_t outer, int64_t dim, int64_t inner, const T* g, const T* y, T* gx, bool log);
/// Dropout mask: m[i] = 0 with probability p, else 1/(1-p). Fixed-size chunks each draw from
/// their own splitmix64 stream (seed, chunk): parallel, and the same mask for any thread count.
template <typename T> void dropout_mask(int64_t n, uint64_t seed, double p, T* m);
/// y (rows, cols) = row repeated on every row (the bias a GEMM then accumulates onto).
template <typename T> void broadcast_rows(int64_t rows, int64_t cols, const T* row, T* y);

// ---- nn_loss.cpp ---------------------------------------------------------------------
/// Fused log-softmax + NLL over logits (N, C, inner): per-element loss (N*inner) and the
/// row log-sum-exp (kept for backward). w: class weights or null. ls: label smoothing.
template <typename T>
void cross_entropy_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                           double ls, T* loss, T* lse, T* wsum_per_elem);
/// gx = d loss / d x with per-element upstream gradient g[i] * scale (g_stride 0 for reduced).
template <typename T>
void cross_entropy_backward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                            double ls, const T* lse, const T* g, int64_t g_stride, double scale, T* gx);
/// nll over log-probs (N, C, inner): loss[i] = -w[t] x[t]; wt[i] = w[t] (0 when ignored).
template <typename T>
void nll_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore, T* loss, T* wt);
template <typename T>
void nll_backward(int64_t N, int64_t C, int64_t inner, const int64_t* t, const T* w, int64_t ignore, const T* g,
                  int64_t g_stride, double scale, T* gx);
// PointLoss and its formulas: kernels/cpu/loss_ops.h
/// loss[i] = f(x[i], y[i]) (pw: pos_weight for BCEWithLogits, may be null).
template <typename T> void point_loss_forward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, T* loss);
/// gx = g * df/dx, gy = g * df/dy (either may be null).
template <typename T>
void point_loss_backward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, const T* g, T* gx, T* gy);

// ---- nn_conv.cpp ---------------------------------------------------------------------
struct ConvGeom {
  int64_t N, C, H, W;        // input
  int64_t O, kh, kw;         // weight (O, C/groups, kh, kw)
  int64_t sh, sw, ph0, ph1, pw0, pw1, dh, dw, groups;
  int64_t OH, OW;            // output
};
/// y (N, O, OH, OW) = conv(x, w) + b (b may be null).
template <typename T> void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y);
/// Any of gx, gw, gb may be null (not needed).
template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb);

// ---- nn_channel.cpp: per-channel maps over (N, C, P) tensors --------------------------
/// y[n, c, :] = b[c] (b null: 0).
template <typename T> void channel_fill(int64_t N, int64_t C, int64_t P, const T* b, T* y);
/// y[n, c, :] += b[c].
template <typename T> void channel_add(int64_t N, int64_t C, int64_t P, const T* b, T* y);
/// s[c] = sum over n, p of x[n, c, p] (accumulated in double).
template <typename T> void channel_sum(int64_t N, int64_t C, int64_t P, const T* x, T* s);

// ---- nn_pool.cpp ---------------------------------------------------------------------
struct PoolGeom {
  int64_t NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw;
};
template <typename T> void max_pool2d_forward(const PoolGeom& g, const T* x, T* y, int64_t* idx);
template <typename T> void max_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* idx, T* gx);
template <typename T> void avg_pool2d_forward(const PoolGeom& g, const T* x, T* y, bool count_include_pad, int64_t divisor);
template <typename T> void avg_pool2d_backward(const PoolGeom& g, const T* gy, T* gx, bool count_include_pad, int64_t divisor);
template <typename T> void adaptive_avg_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y);
template <typename T> void adaptive_avg_pool2d_backward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx);
/// Max over adaptive windows with flat indices into each H*W plane (backward: max_pool2d_backward).
template <typename T>
void adaptive_max_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y, int64_t* idx);

// ---- nn_norm.cpp ---------------------------------------------------------------------
/// Per-channel mean and biased inverse std of x (N, C, S).
template <typename T> void bn_stats(int64_t N, int64_t C, int64_t S, const T* x, double eps, T* mean, T* invstd, T* var_biased);
/// y = (x - mean) * invstd * w + b per channel (w, b may be null).
template <typename T>
void bn_apply(int64_t N, int64_t C, int64_t S, const T* x, const T* mean, const T* invstd, const T* w, const T* b, T* y);
/// Training-mode batch-norm backward (gx may be null; gw, gb may be null).
template <typename T>
void bn_backward(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const T* mean, const T* invstd, const T* w,
                 bool training, T* gx, T* gw, T* gb);
/// Running statistics: r = (1 - momentum) r + momentum * batch (var unbiased by `unbias`);
/// rm, rv have element strides sm, sv.
template <typename T>
void bn_update_running(int64_t C, const T* mean, const T* var_biased, double unbias, double momentum, T* rm, int64_t sm,
                       T* rv, int64_t sv);
/// Eval-mode statistics from the running buffers: mean = rm, invstd = 1 / sqrt(rv + eps).
template <typename T>
void bn_running_stats(int64_t C, const T* rm, int64_t sm, const T* rv, int64_t sv, double eps, T* mean, T* invstd);
/// Layer norm over rows of length D: y, mean, invstd (per row).
template <typename T>
void ln_forward(int64_t R, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* invstd);
template <typename T>
void ln_backward(int64_t R, int64_t D, const T* x, const T* gy, const T* mean, const T* invstd, const T* w, T* gx, T* gw, T* gb);

// ---- nn_ctc.cpp ----------------------------------------------------------------------
/// CTC negative log-likelihood per sample. lp: (T, N, C) log-probs; targets of sample n are
/// tg[off[n] .. off[n] + tl[n]); alpha: (N, T, S2) log-space forward variables kept for backward.
template <typename T>
void ctc_forward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                 const int64_t* il, int64_t blank, int64_t S2, T* loss, T* alpha);
/// gx = g[n] * d loss[n] / d lp (the exact gradient with respect to the log-probs).
template <typename T>
void ctc_backward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                  const int64_t* il, int64_t blank, int64_t S2, const T* loss, const T* alpha, const T* g, bool zero_inf,
                  T* gx);

// ---- nn_optim.cpp --------------------------------------------------------------------
template <typename T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, bool fresh, double lr, double momentum, double dampening, double wd,
              bool nesterov, bool maximize);
template <typename T>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, int64_t step, double lr, double b1, double b2, double eps,
               double wd, bool amsgrad, bool maximize, bool decoupled);
template <typename T>
void rmsprop_step(int64_t n, T* p, const T* g, T* sq, T* buf, T* gavg, double lr, double alpha, double eps, double wd,
                  double momentum, bool centered, bool maximize);
template <typename T>
void adagrad_step(int64_t n, T* p, const T* g, T* sum, int64_t step, double lr, double lr_decay, double wd, double eps,
                  bool maximize);
template <typename T>
void adadelta_step(int64_t n, T* p, const T* g, T* sq, T* acc, double lr, double rho, double eps, double wd, bool maximize);
// Per-step scalars that depend on the step count (bias corrections, NAdam's mu products,
// RAdam's rectification, ASGD's eta and mu) are computed by the caller for each parameter.
template <typename T>
void nadam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc2, double c_grad, double c_avg);
/// rect < 0: the variance is not yet tractable and the step is momentum only.
template <typename T>
void radam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc1, double bc2, double rect);
template <typename T>
void adamax_step(int64_t n, T* p, const T* g, T* m, T* u, double lr, double b1, double b2, double eps, double wd,
                 bool maximize, double bc1);
template <typename T>
void asgd_step(int64_t n, T* p, const T* g, T* ax, double eta, double mu, double lambd, double wd, bool maximize);
template <typename T>
void rprop_step(int64_t n, T* p, const T* g, T* prev, T* step_size, double etaminus, double etaplus, double smin,
                double smax, bool maximize);
/// Adam on the entries whose gradient is nonzero (SparseAdam's dense fallback).
template <typename T>
void sparse_adam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double bc1,
                      double bc2, bool maximize);

}  // namespace pydl::kernels

namespace pydl::kernels {
// ---- nn_index.cpp --------------------------------------------------------------------
/// out[i, :] = w[idx[i], :] for n indices into a (V, D) table.
template <typename T> void embedding_forward(int64_t n, int64_t D, const T* w, const int64_t* idx, T* out);
/// gw (V, D) = sum of g rows at idx (gw zeroed here); rows equal to pad (>= 0) get none.
template <typename T> void embedding_backward(int64_t n, int64_t V, int64_t D, const T* g, const int64_t* idx, int64_t pad, T* gw);
/// Padding by index maps: for each of the k trailing dims, map[d][o] is the source index of
/// output position o, or -1 (filled with value). x is (outer, in...), y is (outer, out...).
template <typename T>
void pad_forward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* x, T* y,
                 T value);
/// gx (outer, in...) = scatter-add of gy through the same maps (gx zeroed here).
template <typename T>
void pad_backward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* gy, T* gx);
}  // namespace pydl::kernels

#include "core/threads.h"

namespace pydl::kernels {
/// Splits the concatenation of segments of `sizes` across threads in ONE parallel region
/// and calls f(segment, begin, end) for each thread's pieces (a fused step over many
/// parameters pays for one fork/join, not one per tensor).
template <typename F>
void parallel_segments(const std::vector<int64_t>& sizes, int64_t grain, const F& f) {
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  auto run = [&](int64_t b, int64_t e) {
    int64_t off = 0;
    for (size_t i = 0; i < sizes.size() && off < e; off += sizes[i], ++i) {
      int64_t lo = std::max(b, off), hi = std::min(e, off + sizes[i]);
      if (lo < hi) f(i, lo - off, hi - off);
    }
  };
  parallel_for(total, grain, run);
}
}  // namespace pydl::kernels
