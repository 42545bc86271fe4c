// CUDA mirror of kernels/cpu/nn_conv.cpp: 2-D convolution as im2col + cuBLAS GEMM (gemm.cu),
// over chunks of samples so the column buffer stays bounded.
#include <algorithm>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

constexpr int64_t kColBudget = 1 << 26;  // elements of column buffer per chunk (256 MiB in float32)

// col (nb, Kg, P) of group gi's channels: col[n, (c, ki, kj), (oh, ow)] = x[n, gi*Cg + c, ih, iw] (0 in padding).
template <typename T>
__global__ void im2col_k(ConvGeom g, int64_t gi, int64_t n0, int64_t nb, const T* x, T* col) {
  const int64_t Cg = g.C / g.groups, P = g.OH * g.OW, KK = g.kh * g.kw, Kg = Cg * KK;
  PYDL_CUDA_LOOP(k, nb * Kg * P) {
    int64_t n = k / (Kg * P), r = k - n * Kg * P, q = r / P, p = r - q * P;
    int64_t c = q / KK, kk = q - c * KK, ki = kk / g.kw, kj = kk - ki * g.kw, oh = p / g.OW, ow = p - oh * g.OW;
    int64_t ih = oh * g.sh - g.ph0 + ki * g.dh, iw = ow * g.sw - g.pw0 + kj * g.dw;
    col[k] = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
                 ? x[(((n0 + n) * g.C + gi * Cg + c) * g.H + ih) * g.W + iw]
                 : T(0);
  }
}

// gx[n, gi*Cg + c, ih, iw] = sum of the gcol entries that im2col read from there (a gather: no atomics).
template <typename T>
__global__ void col2im_k(ConvGeom g, int64_t gi, int64_t n0, int64_t nb, const T* gcol, T* gx) {
  const int64_t Cg = g.C / g.groups, P = g.OH * g.OW, KK = g.kh * g.kw, Kg = Cg * KK, HW = g.H * g.W;
  PYDL_CUDA_LOOP(k, nb * Cg * HW) {
    int64_t n = k / (Cg * HW), r = k - n * Cg * HW, c = r / HW, hw = r - c * HW, ih = hw / g.W, iw = hw - ih * g.W;
    T acc = 0;
    for (int64_t ki = 0; ki < g.kh; ++ki) {
      int64_t th = ih + g.ph0 - ki * g.dh;
      if (th < 0 || th % g.sh) continue;
      int64_t oh = th / g.sh;
      if (oh >= g.OH) continue;
      for (int64_t kj = 0; kj < g.kw; ++kj) {
        int64_t tw = iw + g.pw0 - kj * g.dw;
        if (tw < 0 || tw % g.sw) continue;
        int64_t ow = tw / g.sw;
        if (ow >= g.OW) continue;
        acc += gcol[(n * Kg + c * KK + ki * g.kw + kj) * P + oh * g.OW + ow];
      }
    }
    gx[(((n0 + n) * g.C) + gi * Cg + c) * HW + hw] = acc;
  }
}

// Calls f(n0, nb, col) over chunks of nb samples from n0, with a column buffer of nb * KgP
// elements on the current device (freed after the queued kernels, which the stream orders).
template <typename T, typename F>
void over_chunks(int64_t N, int64_t KgP, const F& f) {
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(N, kColBudget / std::max<int64_t>(KgP, 1)));
  int d = 0;
  cudaGetDevice(&d);
  Tensor ws = empty({std::max<int64_t>(chunk * KgP, 1)}, dtype_of<T>::value, Device{DeviceType::CUDA, d});
  for (int64_t n0 = 0; n0 < N; n0 += chunk) f(n0, std::min(chunk, N - n0), ws->data<T>());
}

template <typename T>
void im2col(const ConvGeom& g, int64_t gi, int64_t n0, int64_t nb, const T* x, T* col, int64_t KgP, cudaStream_t s) {
  im2col_k<T><<<blocks_for(nb * KgP), kThreads, 0, s>>>(g, gi, n0, nb, x, col);
  check_launch("im2col");
}

}  // namespace

template <typename T>
void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, P = g.OH * g.OW;
  if (g.N * g.O * P == 0) return;
  cudaStream_t s = current_stream();
  if (b) channel_fill<T>(g.N, g.O, P, b, y);
  over_chunks<T>(g.N, Kg * P, [&](int64_t n0, int64_t nb, T* col) {
    for (int64_t gi = 0; gi < G; ++gi) {
      im2col(g, gi, n0, nb, x, col, Kg * P, s);
      // per sample: (Og,Kg) x (Kg,P) -> (Og,P), written into y[n, gi*Og:(gi+1)*Og]
      gemm(dtype_of<T>::value, nb, Og, P, Kg, w + gi * Og * Kg, Kg, 1, 0, col, P, 1, Kg * P,
           y + (n0 * g.O + gi * Og) * P, g.O * P, b != nullptr);
    }
  });
}

template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G, Kg = Cg * g.kh * g.kw, P = g.OH * g.OW, HW = g.H * g.W;
  cudaStream_t s = current_stream();
  if (gb) channel_sum<T>(g.N, g.O, P, gy, gb);
  if (gw) cudaMemsetAsync(gw, 0, g.O * Kg * sizeof(T), s);
  if (gx) cudaMemsetAsync(gx, 0, g.N * g.C * HW * sizeof(T), s);
  if ((!gx && !gw) || g.N * P == 0) return;
  over_chunks<T>(g.N, Kg * P, [&](int64_t n0, int64_t nb, T* col) {
    for (int64_t gi = 0; gi < G; ++gi) {
      const T* gyg = gy + (n0 * g.O + gi * Og) * P;
      if (gw) {
        im2col(g, gi, n0, nb, x, col, Kg * P, s);
        // (Og,P) x (Kg,P)^T -> (Og,Kg), summed over the samples
        for (int64_t n = 0; n < nb; ++n)
          gemm(dtype_of<T>::value, 1, Og, Kg, P, gyg + n * g.O * P, P, 1, 0, col + n * Kg * P, 1, P, 0,
               gw + gi * Og * Kg, 0, true);
      }
      if (gx) {
        // per sample: (Og,Kg)^T x (Og,P) -> (Kg,P), then back onto the image
        gemm(dtype_of<T>::value, nb, Kg, P, Og, w + gi * Og * Kg, 1, Kg, 0, gyg, P, 1, g.O * P, col, Kg * P, false);
        col2im_k<T><<<blocks_for(nb * Cg * HW), kThreads, 0, s>>>(g, gi, n0, nb, col, gx);
        check_launch("col2im");
      }
    }
  });
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_CONV_FNS)

}  // namespace pydl::kernels::cuda
