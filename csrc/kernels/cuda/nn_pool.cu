// CUDA mirror of kernels/cpu/nn_pool.cpp: max pooling (NaN wins, the first maximum wins ties; flat
// indices into each H*W plane, as on the CPU), avg pooling, adaptive avg and max pooling. Forward: one
// thread per output; backward: one thread per output adding its share into the input gradient.
#include <cmath>

#include "kernels/cpu/pool_ops.h"
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

// avg pooling's window bounds and divisor for output (oh, ow): the CPU's avg_window.
__device__ bool avg_window(const PoolGeom& g, int64_t oh, int64_t ow, bool cip, int64_t divisor, int64_t& h0,
                           int64_t& h1, int64_t& w0, int64_t& w1, int64_t& div) {
  h0 = oh * g.sh - g.ph;
  w0 = ow * g.sw - g.pw;
  h1 = min(h0 + g.kh, g.H + g.ph);
  w1 = min(w0 + g.kw, g.W + g.pw);
  int64_t pool = (h1 - h0) * (w1 - w0);
  h0 = max(h0, int64_t(0));
  w0 = max(w0, int64_t(0));
  h1 = min(h1, g.H);
  w1 = min(w1, g.W);
  if (h0 >= h1 || w0 >= w1) return false;
  div = divisor > 0 ? divisor : (cip ? pool : (h1 - h0) * (w1 - w0));
  return true;
}

template <typename T>
__global__ void avg_pool_fwd_k(PoolGeom g, const T* x, T* y, bool cip, int64_t divisor) {
  const int64_t OHW = g.OH * g.OW;
  PYDL_CUDA_LOOP(k, g.NC * OHW) {
    int64_t p = k / OHW, o = k - p * OHW, oh = o / g.OW, ow = o - oh * g.OW;
    int64_t h0, h1, w0, w1, div;
    if (!avg_window(g, oh, ow, cip, divisor, h0, h1, w0, w1, div)) {
      y[k] = 0;
      continue;
    }
    const T* xp = x + p * g.H * g.W;
    T s = 0;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) s += xp[ih * g.W + iw];
    y[k] = s / T(div);
  }
}

template <typename T>
__global__ void avg_pool_bwd_k(PoolGeom g, const T* gy, T* gx, bool cip, int64_t divisor) {
  const int64_t OHW = g.OH * g.OW;
  PYDL_CUDA_LOOP(k, g.NC * OHW) {
    int64_t p = k / OHW, o = k - p * OHW, oh = o / g.OW, ow = o - oh * g.OW;
    int64_t h0, h1, w0, w1, div;
    if (!avg_window(g, oh, ow, cip, divisor, h0, h1, w0, w1, div)) continue;
    T* xp = gx + p * g.H * g.W;
    const T v = gy[k] / T(div);
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) atomicAdd(xp + ih * g.W + iw, v);
  }
}

template <typename T>
__global__ void adaptive_avg_fwd_k(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y) {
  PYDL_CUDA_LOOP(k, NC * OH * OW) {
    int64_t p = k / (OH * OW), o = k - p * OH * OW, oh = o / OW, ow = o - oh * OW;
    const auto [h0, h1] = adaptive_window(oh, H, OH);
    const auto [w0, w1] = adaptive_window(ow, W, OW);
    T s = 0;
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) s += x[(p * H + ih) * W + iw];
    y[k] = s / T((h1 - h0) * (w1 - w0));
  }
}

template <typename T>
__global__ void adaptive_avg_bwd_k(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx) {
  PYDL_CUDA_LOOP(k, NC * OH * OW) {
    int64_t p = k / (OH * OW), o = k - p * OH * OW, oh = o / OW, ow = o - oh * OW;
    const auto [h0, h1] = adaptive_window(oh, H, OH);
    const auto [w0, w1] = adaptive_window(ow, W, OW);
    const T v = gy[k] / T((h1 - h0) * (w1 - w0));
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) atomicAdd(gx + (p * H + ih) * W + iw, v);
  }
}

// The CPU's adaptive max, step for step: the window's first element starts, a larger value or a
// NaN replaces it, and a NaN ends the scan of its row (NaN propagates, as in PyTorch).
template <typename T>
__global__ void adaptive_max_fwd_k(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y,
                                   int64_t* idx) {
  PYDL_CUDA_LOOP(k, NC * OH * OW) {
    int64_t p = k / (OH * OW), o = k - p * OH * OW, oh = o / OW, ow = o - oh * OW;
    const auto [h0, h1] = adaptive_window(oh, H, OH);
    const auto [w0, w1] = adaptive_window(ow, W, OW);
    const T* xp = x + p * H * W;
    int64_t best = h0 * W + w0;
    T m = xp[best];
    for (int64_t ih = h0; ih < h1; ++ih)
      for (int64_t iw = w0; iw < w1; ++iw) {
        const T v = xp[ih * W + iw];
        if (v > m || isnan(v)) { m = v; best = ih * W + iw; }
        if (isnan(m)) break;
      }
    y[k] = m;
    idx[k] = best;
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

template <typename T>
void avg_pool2d_forward(const PoolGeom& g, const T* x, T* y, bool count_include_pad, int64_t divisor) {
  int64_t n = g.NC * g.OH * g.OW;
  if (n == 0) return;
  avg_pool_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(g, x, y, count_include_pad, divisor);
  check_launch("avg_pool2d_forward");
}

template <typename T>
void avg_pool2d_backward(const PoolGeom& g, const T* gy, T* gx, bool count_include_pad, int64_t divisor) {
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gx, 0, g.NC * g.H * g.W * sizeof(T), s);
  int64_t n = g.NC * g.OH * g.OW;
  if (n == 0) return;
  avg_pool_bwd_k<T><<<blocks_for(n), kThreads, 0, s>>>(g, gy, gx, count_include_pad, divisor);
  check_launch("avg_pool2d_backward");
}

template <typename T>
void adaptive_avg_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y) {
  int64_t n = NC * OH * OW;
  if (n == 0) return;
  adaptive_avg_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(NC, H, W, OH, OW, x, y);
  check_launch("adaptive_avg_pool2d_forward");
}

template <typename T>
void adaptive_avg_pool2d_backward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx) {
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gx, 0, NC * H * W * sizeof(T), s);
  int64_t n = NC * OH * OW;
  if (n == 0) return;
  adaptive_avg_bwd_k<T><<<blocks_for(n), kThreads, 0, s>>>(NC, H, W, OH, OW, gy, gx);
  check_launch("adaptive_avg_pool2d_backward");
}

template <typename T>
void adaptive_max_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y, int64_t* idx) {
  int64_t n = NC * OH * OW;
  if (n == 0) return;
  adaptive_max_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(NC, H, W, OH, OW, x, y, idx);
  check_launch("adaptive_max_pool2d_forward");
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_POOL_FNS)

}  // namespace pydl::kernels::cuda
