// CUDA mirror of kernels/cpu/rnn.cpp: one direction of one recurrent layer. The input projection
// of all steps is one cuBLAS GEMM (gemm.cu); each step is one recurrent GEMM and one launch of
// the gate math, one thread per (batch row, hidden unit). Same workspace layout as the CPU's.
#include <algorithm>
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename F>
__device__ F sigm(F x) { return F(1) / (F(1) + exp(-x)); }

// Step s (time t) of the forward: xp (B, GH) is the input projection at t, hp (B, GH) the
// recurrent one (GRU adds b_hh into it, as the CPU does); writes the gates, the new state and
// the output. Finished sequences (t >= lengths[b]) carry their state and output 0.
template <typename F>
__global__ void rnn_step_fwd_k(RnnMode mode, int64_t B, int64_t H, int64_t t, const int64_t* lengths, const F* xp, F* hp,
                               const F* bih, const F* bhh, const F* hprev, F* hnext, const F* cprev, F* cnext, F* gs, F* ex,
                               F* o) {
  const int64_t G = rnn_gates(mode), GH = G * H;
  PYDL_CUDA_LOOP(k, B * H) {
    const int64_t b = k / H, j = k - b * H, r = b * GH + j;
    // input part of gate q: the projection plus the biases the CPU folds into it (b_ih, and b_hh but for GRU)
    auto in = [&](int q) {
      F bias = 0;
      if (bih) bias += bih[q * H + j];
      if (bhh && mode != RnnMode::GRU) bias += bhh[q * H + j];
      return xp[r + q * H] + bias;
    };
    F hn = 0;
    switch (mode) {
      case RnnMode::Tanh:
      case RnnMode::Relu: {
        F a = in(0) + hp[r];
        hn = mode == RnnMode::Tanh ? tanh(a) : (a > F(0) ? a : F(0));
        break;
      }
      case RnnMode::LSTM: {
        F gi = sigm(in(0) + hp[r]), gf = sigm(in(1) + hp[r + H]);
        F gg = tanh(in(2) + hp[r + 2 * H]), go = sigm(in(3) + hp[r + 3 * H]);
        gs[r] = gi;
        gs[r + H] = gf;
        gs[r + 2 * H] = gg;
        gs[r + 3 * H] = go;
        F cn = gf * cprev[k] + gi * gg;
        cnext[k] = cn;
        hn = go * tanh(cn);
        break;
      }
      case RnnMode::GRU: {
        if (bhh)
          for (int q = 0; q < 3; ++q) hp[r + q * H] += bhh[q * H + j];
        F gr = sigm(in(0) + hp[r]), gz = sigm(in(1) + hp[r + H]);
        F e = hp[r + 2 * H];
        F gn = tanh(in(2) + gr * e);
        gs[r] = gr;
        gs[r + H] = gz;
        gs[r + 2 * H] = gn;
        ex[k] = e;
        hn = (F(1) - gz) * gn + gz * hprev[k];
        break;
      }
    }
    if (lengths && t >= lengths[b]) {
      hnext[k] = hprev[k];
      if (cnext) cnext[k] = cprev[k];
      o[t * B * H + k] = 0;
    } else {
      hnext[k] = hn;
      o[t * B * H + k] = hn;
    }
  }
}

// Step s (time t) of the backward: from dh, dc (the gradients of the state after the step) and
// the output's gradient, the pre-activation gradients dX (time-indexed, input side) and dHp
// (step-indexed, recurrent side); leaves in dh the direct path to the previous state (the GEMM
// with W_hh then accumulates onto it) and in dc the previous cell's gradient.
template <typename F>
__global__ void rnn_step_bwd_k(RnnMode mode, int64_t B, int64_t H, int64_t t, const int64_t* lengths, const F* gout,
                               const F* hprev, const F* hnext, const F* cp, const F* cn, const F* gs, const F* ex, F* dh,
                               F* dc, F* dX, F* dHp) {
  const int64_t G = rnn_gates(mode), GH = G * H;
  PYDL_CUDA_LOOP(k, B * H) {
    const int64_t b = k / H, j = k - b * H, r = b * GH + j;
    if (lengths && t >= lengths[b]) {  // past the sequence's end: dh and dc pass through unchanged
      for (int64_t q = 0; q < G; ++q) dX[r + q * H] = dHp[r + q * H] = 0;
      continue;
    }
    const F dH = gout ? dh[k] + gout[t * B * H + k] : dh[k];
    switch (mode) {
      case RnnMode::Tanh:
      case RnnMode::Relu: {
        F h = hnext[k];
        F d = mode == RnnMode::Tanh ? dH * (F(1) - h * h) : (h > F(0) ? dH : F(0));
        dX[r] = d;
        dHp[r] = d;
        dh[k] = 0;
        break;
      }
      case RnnMode::LSTM: {
        F gi = gs[r], gf = gs[r + H], gg = gs[r + 2 * H], go = gs[r + 3 * H];
        F tc = tanh(cn[k]);
        F dct = dc[k] + dH * go * (F(1) - tc * tc);
        F d[4] = {dct * gg * gi * (F(1) - gi), dct * cp[k] * gf * (F(1) - gf), dct * gi * (F(1) - gg * gg),
                  dH * tc * go * (F(1) - go)};
        for (int q = 0; q < 4; ++q) dX[r + q * H] = dHp[r + q * H] = d[q];
        dc[k] = dct * gf;
        dh[k] = 0;
        break;
      }
      case RnnMode::GRU: {
        F gr = gs[r], gz = gs[r + H], gn = gs[r + 2 * H];
        F dn = dH * (F(1) - gz) * (F(1) - gn * gn);
        F dr = dn * ex[k] * gr * (F(1) - gr);
        F dz = dH * (hprev[k] - gn) * gz * (F(1) - gz);
        dX[r] = dr;
        dX[r + H] = dz;
        dX[r + 2 * H] = dn;
        dHp[r] = dr;
        dHp[r + H] = dz;
        dHp[r + 2 * H] = dn * gr;
        dh[k] = dH * gz;
        break;
      }
    }
  }
}

// s[c] = sum over rows of m (rows, cols), one thread per column.
template <typename F>
__global__ void col_sum_k(int64_t rows, int64_t cols, const F* m, F* s) {
  PYDL_CUDA_LOOP(c, cols) {
    F acc = 0;
    for (int64_t i = 0; i < rows; ++i) acc += m[i * cols + c];
    s[c] = acc;
  }
}

template <typename F>
Tensor workspace(int64_t n) {
  int d = 0;
  cudaGetDevice(&d);
  return empty({std::max<int64_t>(n, 1)}, dtype_of<F>::value, Device{DeviceType::CUDA, d});
}

template <typename F>
void forward(const RnnArgs& a) {
  const int64_t T = a.T, B = a.B, I = a.I, H = a.H, GH = rnn_gates(a.mode) * H;
  const DType dt = dtype_of<F>::value;
  cudaStream_t st = current_stream();
  F* hs = static_cast<F*>(a.hs);
  F* cs = static_cast<F*>(a.cs);
  Tensor xp = workspace<F>(T * B * GH), hp = workspace<F>(B * GH);
  // (T*B, I) x (GH, I)^T -> (T*B, GH)
  gemm(dt, 1, T * B, GH, I, a.x, I, 1, 0, a.w_ih, 1, I, 0, xp->raw(), 0, false);
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = a.reverse ? T - 1 - s : s;
    F* hprev = hs + s * B * H;
    // (B, H) x (GH, H)^T -> (B, GH)
    gemm(dt, 1, B, GH, H, hprev, H, 1, 0, a.w_hh, 1, H, 0, hp->raw(), 0, false);
    rnn_step_fwd_k<F><<<blocks_for(B * H), kThreads, 0, st>>>(
        a.mode, B, H, t, a.lengths, xp->data<F>() + t * B * GH, hp->data<F>(), static_cast<const F*>(a.b_ih),
        static_cast<const F*>(a.b_hh), hprev, hprev + B * H, cs ? cs + s * B * H : nullptr,
        cs ? cs + (s + 1) * B * H : nullptr, static_cast<F*>(a.gates) + s * B * GH,
        a.extra ? static_cast<F*>(a.extra) + s * B * H : nullptr, static_cast<F*>(a.out));
    check_launch("rnn_forward");
  }
}

template <typename F>
void backward(const RnnArgs& a, const F* gout, const F* ghn, const F* gcn, F* dx, F* dh0, F* dc0, F* dwih, F* dwhh,
              F* dbih, F* dbhh) {
  const int64_t T = a.T, B = a.B, I = a.I, H = a.H, GH = rnn_gates(a.mode) * H;
  const DType dt = dtype_of<F>::value;
  const bool lstm = a.mode == RnnMode::LSTM;
  cudaStream_t st = current_stream();
  const F* hs = static_cast<const F*>(a.hs);
  const F* cs = static_cast<const F*>(a.cs);
  Tensor dh = workspace<F>(B * H), dc = workspace<F>(B * H);
  const size_t state_bytes = static_cast<size_t>(B * H) * sizeof(F);
  if (ghn) cudaMemcpyAsync(dh->raw(), ghn, state_bytes, cudaMemcpyDeviceToDevice, st);
  else cudaMemsetAsync(dh->raw(), 0, state_bytes, st);
  if (gcn && lstm) cudaMemcpyAsync(dc->raw(), gcn, state_bytes, cudaMemcpyDeviceToDevice, st);
  else cudaMemsetAsync(dc->raw(), 0, state_bytes, st);
  // input-side (time-ordered) and recurrent-side (step-ordered) pre-activation gradients: the
  // same numbers but for GRU's n gate, so a forward RNN/LSTM shares one buffer (as on the CPU)
  const bool shared = a.mode != RnnMode::GRU && !a.reverse;
  Tensor dxp = workspace<F>(T * B * GH), dhp_own = shared ? Tensor() : workspace<F>(T * B * GH);
  F* dhp = shared ? dxp->data<F>() : dhp_own->data<F>();
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = a.reverse ? T - 1 - s : s;
    rnn_step_bwd_k<F><<<blocks_for(B * H), kThreads, 0, st>>>(
        a.mode, B, H, t, a.lengths, gout, hs + s * B * H, hs + (s + 1) * B * H, cs ? cs + s * B * H : nullptr,
        cs ? cs + (s + 1) * B * H : nullptr, static_cast<const F*>(a.gates) + s * B * GH,
        a.extra ? static_cast<const F*>(a.extra) + s * B * H : nullptr, dh->data<F>(), dc->data<F>(),
        dxp->data<F>() + t * B * GH, dhp + s * B * GH);
    check_launch("rnn_backward");
    // dh_prev = direct path + dHp (B, GH) x W_hh (GH, H)
    gemm(dt, 1, B, H, GH, dhp + s * B * GH, GH, 1, 0, a.w_hh, H, 1, 0, dh->raw(), 0, true);
  }
  if (dh0) cudaMemcpyAsync(dh0, dh->raw(), state_bytes, cudaMemcpyDeviceToDevice, st);
  if (dc0) {
    if (lstm) cudaMemcpyAsync(dc0, dc->raw(), state_bytes, cudaMemcpyDeviceToDevice, st);
    else cudaMemsetAsync(dc0, 0, state_bytes, st);
  }
  // (T*B,GH)^T x (T*B,I) -> (GH,I);  (T*B,GH) x (GH,I) -> (T*B,I);  (T*B,GH)^T x (T*B,H) -> (GH,H)
  if (dwih) gemm(dt, 1, GH, I, T * B, dxp->raw(), 1, GH, 0, a.x, I, 1, 0, dwih, 0, false);
  if (dx) gemm(dt, 1, T * B, I, GH, dxp->raw(), GH, 1, 0, a.w_ih, I, 1, 0, dx, 0, false);
  if (dwhh) gemm(dt, 1, GH, H, T * B, dhp, 1, GH, 0, hs, H, 1, 0, dwhh, 0, false);
  if (dbih) col_sum_k<F><<<blocks_for(GH), kThreads, 0, st>>>(T * B, GH, dxp->data<F>(), dbih);
  if (dbhh) col_sum_k<F><<<blocks_for(GH), kThreads, 0, st>>>(T * B, GH, dhp, dbhh);
  check_launch("rnn_backward");
}

}  // namespace

void rnn_forward(DType dt, const RnnArgs& a) {
  if (dt == DType::Float32) forward<float>(a);
  else if (dt == DType::Float64) forward<double>(a);
  else throw TypeError(str("[rnn] expected float32 or float64, got ", dtype_name(dt)));
}

void rnn_backward(DType dt, const RnnArgs& a, const void* grad_out, const void* grad_hn, const void* grad_cn, void* dx,
                  void* dh0, void* dc0, void* dw_ih, void* dw_hh, void* db_ih, void* db_hh) {
  if (dt == DType::Float32)
    backward<float>(a, static_cast<const float*>(grad_out), static_cast<const float*>(grad_hn),
                    static_cast<const float*>(grad_cn), static_cast<float*>(dx), static_cast<float*>(dh0),
                    static_cast<float*>(dc0), static_cast<float*>(dw_ih), static_cast<float*>(dw_hh),
                    static_cast<float*>(db_ih), static_cast<float*>(db_hh));
  else if (dt == DType::Float64)
    backward<double>(a, static_cast<const double*>(grad_out), static_cast<const double*>(grad_hn),
                     static_cast<const double*>(grad_cn), static_cast<double*>(dx), static_cast<double*>(dh0),
                     static_cast<double*>(dc0), static_cast<double*>(dw_ih), static_cast<double*>(dw_hh),
                     static_cast<double*>(db_ih), static_cast<double*>(db_hh));
  else throw TypeError(str("[rnn] expected float32 or float64, got ", dtype_name(dt)));
}

}  // namespace pydl::kernels::cuda
