// CUDA mirror of kernels/cpu/nn_channel.cpp: per-channel maps over (N, C, P) tensors.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__global__ void channel_fill_k(int64_t N, int64_t C, int64_t P, const T* b, T* y, bool add) {
  PYDL_CUDA_LOOP(k, N * C * P) {
    T v = b ? b[(k / P) % C] : T(0);
    y[k] = add ? y[k] + v : v;
  }
}

// One block per channel; accumulated in double, as on the CPU.
template <typename T>
__global__ void channel_sum_k(int64_t N, int64_t C, int64_t P, const T* x, T* s) {
  __shared__ double sm[kThreads];
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    double a = 0;
    for (int64_t k = threadIdx.x; k < N * P; k += blockDim.x) {
      int64_t n = k / P, p = k - n * P;
      a += double(x[(n * C + c) * P + p]);
    }
    sm[threadIdx.x] = a;
    __syncthreads();
    for (unsigned h = blockDim.x / 2; h > 0; h >>= 1) {
      if (threadIdx.x < h) sm[threadIdx.x] += sm[threadIdx.x + h];
      __syncthreads();
    }
    if (threadIdx.x == 0) s[c] = T(sm[0]);
    __syncthreads();
  }
}

}  // namespace

template <typename T>
void channel_fill(int64_t N, int64_t C, int64_t P, const T* b, T* y) {
  if (N * C * P == 0) return;
  channel_fill_k<T><<<blocks_for(N * C * P), kThreads, 0, current_stream()>>>(N, C, P, b, y, false);
  check_launch("channel_fill");
}

template <typename T>
void channel_add(int64_t N, int64_t C, int64_t P, const T* b, T* y) {
  if (N * C * P == 0) return;
  channel_fill_k<T><<<blocks_for(N * C * P), kThreads, 0, current_stream()>>>(N, C, P, b, y, true);
  check_launch("channel_add");
}

template <typename T>
void channel_sum(int64_t N, int64_t C, int64_t P, const T* x, T* s) {
  if (C == 0) return;
  channel_sum_k<T><<<static_cast<unsigned>(C < 65535 ? C : 65535), kThreads, 0, current_stream()>>>(N, C, P, x, s);
  check_launch("channel_sum");
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_CHANNEL_FNS)

}  // namespace pydl::kernels::cuda
