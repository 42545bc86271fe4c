// CUDA mirror of kernels/cpu/nn_pool.cpp's max pooling: one thread per output (NaN wins, the
// first maximum wins ties); flat indices into each H*W plane, as on the CPU.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__global__ void max_pool_fwd_k(PoolGeom g, const T* x, T* y, int64_t* idx) {
  const int64_t OHW = g.OH * g.OW;
  PYDL_CUDA_LOOP(k, g.NC * OHW) {
    int64_t p = k / OHW, o = k - p * OHW, oh = o / g.OW, ow = o - oh * g.OW;
    const T* xp = x + p * g.H * g.W;
    int64_t hs = oh * g.sh - g.ph, ws = ow * g.sw - g.pw;
    T m = -INFINITY;
    int64_t im = -1;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      int64_t ih = hs + ki * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        int64_t iw = ws + kj * g.dw;
        if (iw < 0 || iw >= g.W) continue;
        T v = xp[ih * g.W + iw];
        if (im < 0 || v > m || isnan(v)) { m = v; im = ih * g.W + iw; }
        if (isnan(v)) { ki = g.kh; break; }  // the first NaN stays
      }
    }
    y[k] = m;
    idx[k] = im < 0 ? 0 : im;
  }
}

// Windows may overlap (stride < kernel): several outputs add into one input, atomically.
template <typename T>
__global__ void max_pool_bwd_k(PoolGeom g, const T* gy, const int64_t* idx, T* gx) {
  const int64_t OHW = g.OH * g.OW;
  PYDL_CUDA_LOOP(k, g.NC * OHW) {
    int64_t p = k / OHW;
    atomicAdd(gx + p * g.H * g.W + idx[k], gy[k]);
  }
}

}  // namespace

template <typename T>
void max_pool2d_forward(const PoolGeom& g, const T* x, T* y, int64_t* idx) {
  int64_t n = g.NC * g.OH * g.OW;
  if (n == 0) return;
  max_pool_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(g, x, y, idx);
  check_launch("max_pool2d_forward");
}

template <typename T>
void max_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* idx, T* gx) {
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gx, 0, g.NC * g.H * g.W * sizeof(T), s);
  int64_t n = g.NC * g.OH * g.OW;
  if (n == 0) return;
  max_pool_bwd_k<T><<<blocks_for(n), kThreads, 0, s>>>(g, gy, idx, gx);
  check_launch("max_pool2d_backward");
}

#define INST(T)                                                                      \
  template void max_pool2d_forward<T>(const PoolGeom&, const T*, T*, int64_t*); \
  template void max_pool2d_backward<T>(const PoolGeom&, const T*, const int64_t*, T*);
INST(float)
INST(double)

}  // namespace pydl::kernels::cuda
