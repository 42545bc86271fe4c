// CUDA mirror of kernels/cpu/nn_loss.cpp: cross-entropy and NLL (one thread per (n, inner) row),
// and the pointwise losses (one thread per element, kernels/cpu/loss_ops.h's formulas).
#include <cmath>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__device__ T row_max(const T* xr, int64_t C, int64_t inner) {
  T mx = -INFINITY;
  for (int64_t c = 0; c < C; ++c) mx = fmax(mx, xr[c * inner]);
  return (isinf(mx) && mx < 0) ? T(0) : mx;
}

template <typename T>
__global__ void ce_fwd_k(int64_t rows, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                         T ls, T wall, T* loss, T* lse, T* wsum) {
  PYDL_CUDA_LOOP(r, rows) {
    int64_t n = r / inner, j = r - n * inner;
    const T* xr = x + n * C * inner + j;
    T mx = row_max(xr, C, inner), s = 0;
    for (int64_t c = 0; c < C; ++c) s += exp(xr[c * inner] - mx);
    T l = ::log(s);
    lse[r] = l;
    int64_t tg = t[r];
    if (tg == ignore) { loss[r] = 0; wsum[r] = 0; continue; }
    T wt = w ? w[tg] : T(1);
    T v = (T(1) - ls) * wt * ((mx - xr[tg * inner]) + l);
    if (ls > 0) {
      T sm = 0;
      if (w) {
        for (int64_t c = 0; c < C; ++c) sm += w[c] * (mx - xr[c * inner]);
        sm += wall * l;
      } else {
        for (int64_t c = 0; c < C; ++c) sm += mx - xr[c * inner];
        sm += T(C) * l;
      }
      v += ls / T(C) * sm;
    }
    loss[r] = v;
    wsum[r] = wt;
  }
}

// (1-ls) w_t (p - onehot) + ls/C (W p - w)
template <typename T>
__global__ void ce_bwd_k(int64_t rows, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                         T ls, T wall, const T* lse, const T* g, int64_t g_stride, T scale, T* gx) {
  PYDL_CUDA_LOOP(r, rows) {
    int64_t n = r / inner, j = r - n * inner;
    const T* xr = x + n * C * inner + j;
    T* gr = gx + n * C * inner + j;
    int64_t tg = t[r];
    if (tg == ignore) {
      for (int64_t c = 0; c < C; ++c) gr[c * inner] = 0;
      continue;
    }
    T s = g[r * g_stride] * scale;
    T wt = w ? w[tg] : T(1);
    T cp = s * ((T(1) - ls) * wt + ls / T(C) * wall);
    T mx = row_max(xr, C, inner), k = s * ls / T(C);
    for (int64_t c = 0; c < C; ++c) {
      T v = exp((xr[c * inner] - mx) - lse[r]) * cp;
      if (ls > 0) v -= (w ? w[c] : T(1)) * k;
      gr[c * inner] = v;
    }
    gr[tg * inner] -= s * (T(1) - ls) * wt;
  }
}

template <typename T>
__global__ void nll_fwd_k(int64_t rows, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                          T* loss, T* wt) {
  PYDL_CUDA_LOOP(r, rows) {
    int64_t n = r / inner, j = r - n * inner, tg = t[r];
    if (tg == ignore) { loss[r] = 0; wt[r] = 0; continue; }
    T ww = w ? w[tg] : T(1);
    loss[r] = -ww * x[(n * C + tg) * inner + j];
    wt[r] = ww;
  }
}

template <typename T>
__global__ void nll_bwd_k(int64_t rows, int64_t C, int64_t inner, const int64_t* t, const T* w, int64_t ignore, const T* g,
                          int64_t g_stride, T scale, T* gx) {
  PYDL_CUDA_LOOP(r, rows) {
    int64_t n = r / inner, j = r - n * inner, tg = t[r];
    for (int64_t c = 0; c < C; ++c) gx[(n * C + c) * inner + j] = 0;
    if (tg == ignore) continue;
    T ww = w ? w[tg] : T(1);
    gx[(n * C + tg) * inner + j] = -ww * g[r * g_stride] * scale;
  }
}

template <typename T>
__global__ void point_loss_fwd_k(PointLoss op, int64_t n, const T* xp, const T* yp, const T* pw, T beta, T* loss) {
  const bool has_pw = pw != nullptr;
  PYDL_CUDA_LOOP(i, n) {
    const T x = xp[i], y = yp[i], p = has_pw ? pw[i] : T(0);
    T l = 0;
    switch (op) {
#define PYDL_LOSS_CASE(N, SL, SG) case PointLoss::N: { SL } break;
      PYDL_POINT_LOSS_KERNELS(PYDL_LOSS_CASE)
#undef PYDL_LOSS_CASE
    }
    loss[i] = l;
  }
}

template <typename T>
__global__ void point_loss_bwd_k(PointLoss op, int64_t n, const T* xp, const T* yp, const T* pw, T beta, const T* g, T* gx,
                                 T* gy) {
  const bool has_pw = pw != nullptr;
  PYDL_CUDA_LOOP(i, n) {
    T dx, dy;
    point_loss_grad_at(op, xp[i], yp[i], has_pw ? pw[i] : T(0), has_pw, beta, dx, dy);
    if (gx) gx[i] = g[i] * dx;
    if (gy) gy[i] = g[i] * dy;
  }
}

// Sum of the class weights, computed on the host side of the call: the weights are on the device.
template <typename T>
T weight_sum(const T* w, int64_t C, T none) {
  if (!w) return none;
  std::vector<T> h(C);
  cudaStream_t s = current_stream();
  cudaMemcpyAsync(h.data(), w, C * sizeof(T), cudaMemcpyDeviceToHost, s);
  cudaStreamSynchronize(s);
  T a = 0;
  for (T v : h) a += v;
  return a;
}

}  // namespace

template <typename T>
void cross_entropy_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                           double ls, T* loss, T* lse, T* wsum) {
  int64_t rows = N * inner;
  if (rows == 0) return;
  ce_fwd_k<T><<<blocks_for(rows), kThreads, 0, current_stream()>>>(rows, C, inner, x, t, w, ignore, T(ls),
                                                                   weight_sum(w, C, T(0)), loss, lse, wsum);
  check_launch("cross_entropy_forward");
}

template <typename T>
void cross_entropy_backward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                            double ls, const T* lse, const T* g, int64_t g_stride, double scale, T* gx) {
  int64_t rows = N * inner;
  if (rows == 0) return;
  ce_bwd_k<T><<<blocks_for(rows), kThreads, 0, current_stream()>>>(rows, C, inner, x, t, w, ignore, T(ls),
                                                                   weight_sum(w, C, T(C)), lse, g, g_stride, T(scale), gx);
  check_launch("cross_entropy_backward");
}

template <typename T>
void nll_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore, T* loss, T* wt) {
  if (N * inner == 0) return;
  nll_fwd_k<T><<<blocks_for(N * inner), kThreads, 0, current_stream()>>>(N * inner, C, inner, x, t, w, ignore, loss, wt);
  check_launch("nll_forward");
}

template <typename T>
void nll_backward(int64_t N, int64_t C, int64_t inner, const int64_t* t, const T* w, int64_t ignore, const T* g,
                  int64_t g_stride, double scale, T* gx) {
  if (N * inner == 0) return;
  nll_bwd_k<T><<<blocks_for(N * inner), kThreads, 0, current_stream()>>>(N * inner, C, inner, t, w, ignore, g, g_stride,
                                                                          T(scale), gx);
  check_launch("nll_backward");
}

template <typename T>
void point_loss_forward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, T* loss) {
  if (n == 0) return;
  point_loss_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(op, n, x, y, pw, T(beta), loss);
  check_launch("point_loss_forward");
}

template <typename T>
void point_loss_backward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, const T* g, T* gx, T* gy) {
  if (n == 0) return;
  point_loss_bwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(op, n, x, y, pw, T(beta), g, gx, gy);
  check_launch("point_loss_backward");
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_LOSS_FNS)

}  // namespace pydl::kernels::cuda
