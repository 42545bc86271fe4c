// CUDA mirror of kernels/cpu/nn_norm.cpp: batch norm (one block per channel) and layer norm (one
// block per row); statistics and the backward sums accumulate in double, as on the CPU.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

// Sum of every thread's v over the block (blockDim.x == kThreads), returned to all threads.
__device__ double block_sum(double v, double* sm) {
  sm[threadIdx.x] = v;
  __syncthreads();
  for (unsigned h = blockDim.x / 2; h > 0; h >>= 1) {
    if (threadIdx.x < h) sm[threadIdx.x] += sm[threadIdx.x + h];
    __syncthreads();
  }
  double s = sm[0];
  __syncthreads();  // sm is reused by the next call
  return s;
}

inline unsigned grid_for(int64_t n) { return static_cast<unsigned>(n < 65535 ? (n > 0 ? n : 1) : 65535); }

template <typename T>
__global__ void bn_stats_k(int64_t N, int64_t C, int64_t S, const T* x, double eps, T* mean, T* invstd, T* var_biased) {
  __shared__ double sm[kThreads];
  const double M = double(N * S);
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    double a = 0;
    for (int64_t k = threadIdx.x; k < N * S; k += blockDim.x) {
      int64_t n = k / S;
      a += double(x[(n * C + c) * S + (k - n * S)]);
    }
    const T mu = T(block_sum(a, sm) / M);  // the CPU subtracts the mean in T
    double q = 0;
    for (int64_t k = threadIdx.x; k < N * S; k += blockDim.x) {
      int64_t n = k / S;
      T d = x[(n * C + c) * S + (k - n * S)] - mu;
      q += double(d * d);
    }
    const double var = block_sum(q, sm) / M;
    if (threadIdx.x == 0) {
      mean[c] = mu;
      var_biased[c] = T(var);
      invstd[c] = T(1.0 / sqrt(var + eps));
    }
  }
}

template <typename T>
__global__ void bn_apply_k(int64_t N, int64_t C, int64_t S, const T* x, const T* mean, const T* invstd, const T* w,
                           const T* b, T* y) {
  PYDL_CUDA_LOOP(k, N * C * S) {
    const int64_t c = (k / S) % C;
    const T a = invstd[c] * (w ? w[c] : T(1));
    const T sh = (b ? b[c] : T(0)) - mean[c] * a;
    y[k] = x[k] * a + sh;
  }
}

template <typename T>
__global__ void bn_backward_k(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const T* mean, const T* invstd,
                              const T* w, bool training, T* gx, T* gw, T* gb) {
  __shared__ double sm[kThreads];
  const double M = double(N * S);
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    const T mu = mean[c], is = invstd[c];
    double a = 0, ax = 0;
    for (int64_t k = threadIdx.x; k < N * S; k += blockDim.x) {
      int64_t n = k / S, o = (n * C + c) * S + (k - n * S);
      a += double(gy[o]);
      ax += double(gy[o] * (x[o] - mu));
    }
    const double sg = block_sum(a, sm), sgx = block_sum(ax, sm) * double(is);
    if (threadIdx.x == 0) {
      if (gb) gb[c] = T(sg);
      if (gw) gw[c] = T(sgx);
    }
    if (!gx) continue;
    const T k0 = (w ? w[c] : T(1)) * is, mg = T(sg / M), mgx = T(sgx / M);
    for (int64_t k = threadIdx.x; k < N * S; k += blockDim.x) {
      int64_t n = k / S, o = (n * C + c) * S + (k - n * S);
      gx[o] = training ? k0 * (gy[o] - mg - (x[o] - mu) * is * mgx) : k0 * gy[o];
    }
  }
}

template <typename T>
__global__ void bn_update_running_k(int64_t C, const T* mean, const T* var_biased, double unbias, double momentum, T* rm,
                                    int64_t sm, T* rv, int64_t sv) {
  PYDL_CUDA_LOOP(c, C) {
    rm[c * sm] = T((1 - momentum) * rm[c * sm] + momentum * mean[c]);
    rv[c * sv] = T((1 - momentum) * rv[c * sv] + momentum * var_biased[c] * unbias);
  }
}

template <typename T>
__global__ void bn_running_stats_k(int64_t C, const T* rm, int64_t sm, const T* rv, int64_t sv, double eps, T* mean,
                                   T* invstd) {
  PYDL_CUDA_LOOP(c, C) {
    mean[c] = rm[c * sm];
    invstd[c] = T(1.0 / sqrt(double(rv[c * sv]) + eps));
  }
}

template <typename T>
__global__ void ln_forward_k(int64_t R, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, T* mean,
                             T* invstd) {
  __shared__ double sm[kThreads];
  for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
    const T* xr = x + r * D;
    double a = 0;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) a += double(xr[i]);
    const T mu = T(block_sum(a, sm) / double(D));
    double q = 0;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
      T d = xr[i] - mu;
      q += double(d * d);
    }
    const T is = T(1.0 / sqrt(block_sum(q, sm) / double(D) + eps));
    if (threadIdx.x == 0) {
      mean[r] = mu;
      invstd[r] = is;
    }
    T* yr = y + r * D;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
      T v = (xr[i] - mu) * is;
      if (w) v *= w[i];
      if (b) v += b[i];
      yr[i] = v;
    }
  }
}

template <typename T>
__global__ void ln_backward_gx_k(int64_t R, int64_t D, const T* x, const T* gy, const T* mean, const T* invstd,
                                 const T* w, T* gx) {
  __shared__ double sm[kThreads];
  for (int64_t r = blockIdx.x; r < R; r += gridDim.x) {
    const T* xr = x + r * D;
    const T* gr = gy + r * D;
    const T mu = mean[r], is = invstd[r];
    double a1 = 0, a2 = 0;  // sum(gxhat), sum(gxhat * xhat)
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
      T gh = gr[i] * (w ? w[i] : T(1));
      a1 += double(gh);
      a2 += double(gh * (xr[i] - mu) * is);
    }
    const T m1 = T(block_sum(a1, sm) / double(D)), m2 = T(block_sum(a2, sm) / double(D));
    T* o = gx + r * D;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
      T gh = gr[i] * (w ? w[i] : T(1));
      o[i] = is * (gh - m1 - (xr[i] - mu) * is * m2);
    }
  }
}

// One thread per column: consecutive threads read consecutive elements of each row.
template <typename T>
__global__ void ln_backward_wb_k(int64_t R, int64_t D, const T* x, const T* gy, const T* mean, const T* invstd, T* gw,
                                 T* gb) {
  PYDL_CUDA_LOOP(i, D) {
    double aw = 0, ab = 0;
    for (int64_t r = 0; r < R; ++r) {
      const T g = gy[r * D + i];
      aw += double(g * (x[r * D + i] - mean[r]) * invstd[r]);
      ab += double(g);
    }
    if (gw) gw[i] = T(aw);
    if (gb) gb[i] = T(ab);
  }
}

}  // namespace

template <typename T>
void bn_stats(int64_t N, int64_t C, int64_t S, const T* x, double eps, T* mean, T* invstd, T* var_biased) {
  if (C == 0) return;
  bn_stats_k<T><<<grid_for(C), kThreads, 0, current_stream()>>>(N, C, S, x, eps, mean, invstd, var_biased);
  check_launch("bn_stats");
}

template <typename T>
void bn_apply(int64_t N, int64_t C, int64_t S, const T* x, const T* mean, const T* invstd, const T* w, const T* b, T* y) {
  int64_t n = N * C * S;
  if (n == 0) return;
  bn_apply_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(N, C, S, x, mean, invstd, w, b, y);
  check_launch("bn_apply");
}

template <typename T>
void bn_backward(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const T* mean, const T* invstd, const T* w,
                 bool training, T* gx, T* gw, T* gb) {
  if (C == 0) return;
  bn_backward_k<T><<<grid_for(C), kThreads, 0, current_stream()>>>(N, C, S, x, gy, mean, invstd, w, training, gx, gw, gb);
  check_launch("bn_backward");
}

template <typename T>
void bn_update_running(int64_t C, const T* mean, const T* var_biased, double unbias, double momentum, T* rm, int64_t sm,
                       T* rv, int64_t sv) {
  if (C == 0) return;
  bn_update_running_k<T><<<blocks_for(C), kThreads, 0, current_stream()>>>(C, mean, var_biased, unbias, momentum, rm, sm,
                                                                            rv, sv);
  check_launch("bn_update_running");
}

template <typename T>
void bn_running_stats(int64_t C, const T* rm, int64_t sm, const T* rv, int64_t sv, double eps, T* mean, T* invstd) {
  if (C == 0) return;
  bn_running_stats_k<T><<<blocks_for(C), kThreads, 0, current_stream()>>>(C, rm, sm, rv, sv, eps, mean, invstd);
  check_launch("bn_running_stats");
}

template <typename T>
void ln_forward(int64_t R, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* invstd) {
  if (R == 0) return;
  ln_forward_k<T><<<grid_for(R), kThreads, 0, current_stream()>>>(R, D, x, w, b, eps, y, mean, invstd);
  check_launch("ln_forward");
}

template <typename T>
void ln_backward(int64_t R, int64_t D, const T* x, const T* gy, const T* mean, const T* invstd, const T* w, T* gx, T* gw,
                 T* gb) {
  cudaStream_t s = current_stream();
  if (gx && R > 0) {
    ln_backward_gx_k<T><<<grid_for(R), kThreads, 0, s>>>(R, D, x, gy, mean, invstd, w, gx);
    check_launch("ln_backward");
  }
  if ((gw || gb) && D > 0) {
    ln_backward_wb_k<T><<<blocks_for(D), kThreads, 0, s>>>(R, D, x, gy, mean, invstd, gw, gb);
    check_launch("ln_backward");
  }
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_NORM_FNS)

}  // namespace pydl::kernels::cuda
