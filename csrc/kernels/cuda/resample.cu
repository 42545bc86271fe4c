// CUDA mirror of kernels/cpu/resample.cpp. interpolate: the taps of each spatial dim are built on
// the host by the CPU's interp_taps (so both devices use the same coordinate rules) and copied to
// the device; one thread per output element sums its taps; the backward adds each output's
// gradient into its taps atomically. im2col: one thread per column element; col2im adds atomically.
#include <type_traits>
#include <vector>

#include "kernels/cpu/resample.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

// Sizes, and where each dim's taps start in the concatenated index / weight arrays.
struct TapGeom {
  int64_t in[3], out[3], taps[3], off[3];
  // The tap list of output element e of a plane: calls f(input offset in the plane, weight).
  template <typename T, typename F>
  __device__ void each_tap(int64_t e, const int64_t* idx, const T* w, F&& f) const {
    const int64_t o2 = e % out[2], o1 = (e / out[2]) % out[1], o0 = e / (out[2] * out[1]);
    const int64_t b0 = off[0] + o0 * taps[0], b1 = off[1] + o1 * taps[1], b2 = off[2] + o2 * taps[2];
    for (int64_t a = 0; a < taps[0]; ++a)
      for (int64_t b = 0; b < taps[1]; ++b) {
        const T wab = w[b0 + a] * w[b1 + b];
        const int64_t row = (idx[b0 + a] * in[1] + idx[b1 + b]) * in[2];
        for (int64_t c = 0; c < taps[2]; ++c) f(row + idx[b2 + c], wab * w[b2 + c]);
      }
  }
};

template <typename T>
__global__ void interp_fwd_k(TapGeom g, int64_t n, int64_t I, int64_t O, const int64_t* idx, const T* w, const T* x, T* y) {
  PYDL_CUDA_LOOP(k, n) {
    const int64_t c = k / O;
    const T* xp = x + c * I;
    T acc = 0;
    g.each_tap(k - c * O, idx, w, [&](int64_t i, T wt) { acc += wt * xp[i]; });
    y[k] = acc;
  }
}

template <typename T>
__global__ void interp_bwd_k(TapGeom g, int64_t n, int64_t I, int64_t O, const int64_t* idx, const T* w, const T* gy, T* gx) {
  PYDL_CUDA_LOOP(k, n) {
    const int64_t c = k / O;
    T* xp = gx + c * I;
    const T gv = gy[k];
    g.each_tap(k - c * O, idx, w, [&](int64_t i, T wt) { atomicAdd(xp + i, wt * gv); });
  }
}

Device current_device() {
  int dev = 0;
  cudaGetDevice(&dev);
  return Device{DeviceType::CUDA, dev};
}

// The taps of g on the device: `didx` and `dw` hold every dim's taps one after another.
template <typename T>
TapGeom tap_geom(const InterpGeom& g, Tensor& didx, Tensor& dw) {
  const InterpTaps<T> t = interp_taps<T>(g);
  TapGeom tg;
  std::vector<int64_t> idx;
  std::vector<T> w;
  for (int d = 0; d < 3; ++d) {
    tg.in[d] = g.in[d];
    tg.out[d] = g.out[d];
    tg.taps[d] = t.taps[d];
    tg.off[d] = static_cast<int64_t>(idx.size());
    idx.insert(idx.end(), t.idx[d].begin(), t.idx[d].end());
    w.insert(w.end(), t.w[d].begin(), t.w[d].end());
  }
  const Device cd = current_device();
  const int64_t m = static_cast<int64_t>(idx.size());
  didx = empty({m}, DType::Int64, cd);
  dw = empty({m}, std::is_same_v<T, float> ? DType::Float32 : DType::Float64, cd);
  copy_bytes(didx->data<int64_t>(), cd, idx.data(), Device{}, m * sizeof(int64_t));
  copy_bytes(dw->data<T>(), cd, w.data(), Device{}, m * sizeof(T));
  return tg;
}

// Input offset (within its (n, c) plane) read by column element (kr, l), -1 in the padding.
__device__ int64_t col_source(const ColGeom& g, int64_t kr, int64_t l) {
  const int64_t e = kr % g.k[2], b = (kr / g.k[2]) % g.k[1], a = kr / (g.k[2] * g.k[1]);
  const int64_t o2 = l % g.out[2], o1 = (l / g.out[2]) % g.out[1], o0 = l / (g.out[2] * g.out[1]);
  const int64_t i0 = o0 * g.s[0] - g.p[0] + a * g.d[0], i1 = o1 * g.s[1] - g.p[1] + b * g.d[1],
                i2 = o2 * g.s[2] - g.p[2] + e * g.d[2];
  if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) return -1;
  return (i0 * g.in[1] + i1) * g.in[2] + i2;
}

// cols is (N * C) planes of (K, L): plane p reads the input plane p.
template <typename T>
__global__ void im2col_k(ColGeom g, int64_t n, int64_t I, int64_t K, int64_t L, const T* x, T* cols) {
  PYDL_CUDA_LOOP(q, n) {
    const int64_t p = q / (K * L), r = q - p * K * L;
    const int64_t src = col_source(g, r / L, r % L);
    cols[q] = src >= 0 ? x[p * I + src] : T(0);
  }
}

template <typename T>
__global__ void col2im_k(ColGeom g, int64_t n, int64_t I, int64_t K, int64_t L, const T* cols, T* x) {
  PYDL_CUDA_LOOP(q, n) {
    const int64_t p = q / (K * L), r = q - p * K * L;
    const int64_t src = col_source(g, r / L, r % L);
    if (src >= 0) atomicAdd(x + p * I + src, cols[q]);
  }
}

}  // namespace

template <typename T>
void interp_forward(const InterpGeom& g, const T* x, T* y) {
  const int64_t I = g.in[0] * g.in[1] * g.in[2], O = g.out[0] * g.out[1] * g.out[2], n = g.NC * O;
  if (n == 0) return;
  Tensor didx, dw;
  const TapGeom tg = tap_geom<T>(g, didx, dw);
  interp_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(tg, n, I, O, didx->data<int64_t>(), dw->data<T>(), x, y);
  check_launch("interp_forward");
}

template <typename T>
void interp_backward(const InterpGeom& g, const T* gy, T* gx) {
  const int64_t I = g.in[0] * g.in[1] * g.in[2], O = g.out[0] * g.out[1] * g.out[2], n = g.NC * O;
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gx, 0, g.NC * I * sizeof(T), s);
  if (n == 0) return;
  Tensor didx, dw;
  const TapGeom tg = tap_geom<T>(g, didx, dw);
  interp_bwd_k<T><<<blocks_for(n), kThreads, 0, s>>>(tg, n, I, O, didx->data<int64_t>(), dw->data<T>(), gy, gx);
  check_launch("interp_backward");
}

template <typename T>
void im2col(const ColGeom& g, const T* x, T* cols) {
  const int64_t I = g.in[0] * g.in[1] * g.in[2], K = g.k[0] * g.k[1] * g.k[2], L = g.out[0] * g.out[1] * g.out[2];
  const int64_t n = g.N * g.C * K * L;
  if (n == 0) return;
  im2col_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(g, n, I, K, L, x, cols);
  check_launch("im2col");
}

template <typename T>
void col2im(const ColGeom& g, const T* cols, T* x) {
  const int64_t I = g.in[0] * g.in[1] * g.in[2], K = g.k[0] * g.k[1] * g.k[2], L = g.out[0] * g.out[1] * g.out[2];
  const int64_t n = g.N * g.C * K * L;
  cudaStream_t s = current_stream();
  cudaMemsetAsync(x, 0, g.N * g.C * I * sizeof(T), s);
  if (n == 0) return;
  col2im_k<T><<<blocks_for(n), kThreads, 0, s>>>(g, n, I, K, L, cols, x);
  check_launch("col2im");
}

PYDL_INSTANTIATE_FLOATING(PYDL_RESAMPLE_FNS)

}  // namespace pydl::kernels::cuda
