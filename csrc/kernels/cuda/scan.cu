// CUDA mirror of kernels/cpu/scan.cpp's cumprod: one thread per line of the (outer, R, inner)
// block, running the line functions of kernels/cpu/scan_ops.h that the CPU kernels run.
#include "kernels/cpu/scan_ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__global__ void cumprod_fwd_k(int64_t lines, int64_t R, int64_t inner, const T* x, T* y) {
  PYDL_CUDA_LOOP(l, lines) {
    const int64_t o = (l / inner) * R * inner + l % inner;
    cumprod_line(R, inner, x + o, y + o);
  }
}

template <typename T>
__global__ void cumprod_bwd_k(int64_t lines, int64_t R, int64_t inner, const T* x, const T* g, T* gx) {
  PYDL_CUDA_LOOP(l, lines) {
    const int64_t o = (l / inner) * R * inner + l % inner;
    cumprod_backward_line(R, inner, x + o, g + o, gx + o);
  }
}

}  // namespace

template <typename T>
void cumprod_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y) {
  const int64_t n = outer * inner;
  if (n == 0 || R == 0) return;
  cumprod_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, R, inner, x, y);
  check_launch("cumprod_forward");
}

template <typename T>
void cumprod_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* g, T* gx) {
  const int64_t n = outer * inner;
  if (n == 0 || R == 0) return;
  cumprod_bwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, R, inner, x, g, gx);
  check_launch("cumprod_backward");
}

template void cumprod_forward<float>(int64_t, int64_t, int64_t, const float*, float*);
template void cumprod_forward<double>(int64_t, int64_t, int64_t, const double*, double*);
template void cumprod_forward<int64_t>(int64_t, int64_t, int64_t, const int64_t*, int64_t*);
template void cumprod_backward<float>(int64_t, int64_t, int64_t, const float*, const float*, float*);
template void cumprod_backward<double>(int64_t, int64_t, int64_t, const double*, const double*, double*);

}  // namespace pydl::kernels::cuda
