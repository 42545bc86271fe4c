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

// ---- nn_conv.cpp ---------------------------------------------------------------------
struct ConvGeom {
  int64_t N, C, H, W;        // input
  int64_t O, kh, kw;         // weight (O, C/groups, kh, kw)
  int64_t sh, sw, ph0, ph1, pw0, pw1, dh, dw, groups;
  int64_t OH, OW;            // output
};

// ---- nn_pool.cpp ---------------------------------------------------------------------
struct PoolGeom {
  int64_t NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw;
};

#include "kernels/cpu/instantiate.h"
#include "kernels/cpu/nn_kernels.inc"

// The template kernels of each family, X(name): kernels/cpu/<family>.cpp and its CUDA mirror
// kernels/cuda/<family>.cu instantiate exactly these, with PYDL_INSTANTIATE_FLOATING.
#define PYDL_NN_ACT_FNS(X) \
  X(act_forward) X(act_backward) X(softmax_forward) X(softmax_backward) X(dropout_mask) X(broadcast_rows)
#define PYDL_NN_LOSS_FNS(X)                                                                                  \
  X(cross_entropy_forward) X(cross_entropy_backward) X(nll_forward) X(nll_backward) X(point_loss_forward)   \
  X(point_loss_backward)
#define PYDL_NN_CONV_FNS(X) X(conv2d_forward) X(conv2d_backward)
#define PYDL_NN_CHANNEL_FNS(X) X(channel_fill) X(channel_add) X(channel_sum)
#define PYDL_NN_POOL_FNS(X)                                                                                    \
  X(max_pool2d_forward) X(max_pool2d_backward) X(avg_pool2d_forward) X(avg_pool2d_backward)                   \
  X(adaptive_avg_pool2d_forward) X(adaptive_avg_pool2d_backward) X(adaptive_max_pool2d_forward)
#define PYDL_NN_NORM_FNS(X) \
  X(bn_stats) X(bn_apply) X(bn_backward) X(bn_update_running) X(bn_running_stats) X(ln_forward) X(ln_backward)
#define PYDL_NN_OPTIM_FNS(X)                                                                                   \
  X(sgd_step) X(adam_step) X(rmsprop_step) X(adagrad_step) X(adadelta_step) X(nadam_step) X(radam_step)       \
  X(adamax_step) X(asgd_step) X(rprop_step) X(sparse_adam_step)
#define PYDL_NN_CTC_FNS(X) X(ctc_forward) X(ctc_backward)

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
