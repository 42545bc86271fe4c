// CUDA mirror of kernels/cpu/nn_index.cpp's embedding lookups: forward one thread per output
// element; backward adds each gradient row into its table row atomically (equal indices collide).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__global__ void embedding_fwd_k(int64_t n, int64_t D, const T* w, const int64_t* idx, T* out) {
  PYDL_CUDA_LOOP(k, n * D) {
    int64_t i = k / D;
    out[k] = w[idx[i] * D + (k - i * D)];
  }
}

template <typename T>
__global__ void embedding_bwd_k(int64_t n, int64_t D, const T* g, const int64_t* idx, int64_t pad, T* gw) {
  PYDL_CUDA_LOOP(k, n * D) {
    int64_t i = k / D, r = idx[i];
    if (r != pad) atomicAdd(gw + r * D + (k - i * D), g[k]);
  }
}

}  // namespace

template <typename T>
void embedding_forward(int64_t n, int64_t D, const T* w, const int64_t* idx, T* out) {
  if (n * D == 0) return;
  embedding_fwd_k<T><<<blocks_for(n * D), kThreads, 0, current_stream()>>>(n, D, w, idx, out);
  check_launch("embedding_forward");
}

template <typename T>
void embedding_backward(int64_t n, int64_t V, int64_t D, const T* g, const int64_t* idx, int64_t pad, T* gw) {
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gw, 0, V * D * sizeof(T), s);
  if (n * D == 0) return;
  embedding_bwd_k<T><<<blocks_for(n * D), kThreads, 0, s>>>(n, D, g, idx, pad, gw);
  check_launch("embedding_backward");
}

#define INST(T)                                                                            \
  template void embedding_forward<T>(int64_t, int64_t, const T*, const int64_t*, T*); \
  template void embedding_backward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, int64_t, T*);
INST(float)
INST(double)

}  // namespace pydl::kernels::cuda
