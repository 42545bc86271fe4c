#pragma once
// One direction of one recurrent layer over a whole sequence: the input projection of
// all steps in one GEMM, then per step one recurrent GEMM and one fused gate kernel.
#include "core/tensor.h"

namespace pydl::kernels {

enum class RnnMode { Tanh = 0, Relu = 1, LSTM = 2, GRU = 3 };

/// Gates per hidden unit: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).
constexpr int64_t rnn_gates(RnnMode m) { return m == RnnMode::LSTM ? 4 : (m == RnnMode::GRU ? 3 : 1); }

/// Everything a layer direction works on. Pointers are contiguous, row-major; T-major
/// sequences (T, B, ...). `lengths` (B, int64) or null: step t of sequence b runs only
/// when t < lengths[b]; otherwise its state is carried and its output is 0.
/// Workspace saved for backward, indexed by step s (s = t, or T-1-t when reverse):
/// hs (T+1, B, H) states before/after each step, cs (T+1, B, H) LSTM cells,
/// gates (T, B, G*H) gate activations, extra (T, B, H) GRU's W_hn h + b_hn.
struct RnnArgs {
  RnnMode mode;
  int64_t T, B, I, H;
  bool reverse;
  const int64_t* lengths;
  const void *x, *w_ih, *w_hh, *b_ih, *b_hh;  // biases may be null
  void *hs, *cs, *gates, *extra, *out;
  /// float32 on the CPU, or null: W_ih^T (I, G*H) and W_hh^T (H, G*H) packed by sgemm_pack_b (an
  /// op's cached copy, reused across calls); the forward packs what is not given.
  const float *w_ih_packed = nullptr, *w_hh_packed = nullptr;
};

/// Runs the forward; reads hs[0] (and cs[0]) as the initial state.
void rnn_forward(DType dt, const RnnArgs& a);

/// Backward. grad_out (T,B,H), grad_hn/grad_cn (B,H) may be null. Writes dx (T,B,I),
/// dh0/dc0 (B,H), dw_ih, dw_hh, db_ih, db_hh (any may be null when not wanted).
void rnn_backward(DType dt, const RnnArgs& a, const void* grad_out, const void* grad_hn, const void* grad_cn,
                  void* dx, void* dh0, void* dc0, void* dw_ih, void* dw_hh, void* db_ih, void* db_hh);

}  // namespace pydl::kernels
