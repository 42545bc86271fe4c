// CUDA mirror of kernels/cpu/nn_ctc.cpp: one block per sample, its threads over the extended
// labels s, one barrier per time step; the steps are kernels/cpu/ctc_ops.h's, as on the CPU.
// The backward keeps two beta rows per sample in global memory; thread c sums alpha * beta over
// the labels equal to class c and writes the gradient of lp_t(c).
#include <limits>
#include <type_traits>

#include "kernels/cpu/ctc_ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__global__ void ctc_fwd_k(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off,
                          const int64_t* tl, const int64_t* il, int64_t blank, int64_t S2, T* loss, T* alpha) {
  const T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
    const int64_t L = tl[n], S = 2 * L + 1, Ti = il[n];
    const int64_t* t = tg + off[n];
    T* a = alpha + n * Tn * S2;
    for (int64_t i = threadIdx.x; i < Tn * S2; i += blockDim.x) a[i] = ninf;
    __syncthreads();
    if (Ti == 0) {
      if (threadIdx.x == 0) loss[n] = L == 0 ? T(0) : std::numeric_limits<T>::infinity();
      __syncthreads();
      continue;
    }
    for (int64_t s = threadIdx.x; s < S && s < 2; s += blockDim.x) a[s] = lp[n * C + ctc_label(t, blank, s)];
    __syncthreads();
    for (int64_t ti = 1; ti < Ti; ++ti) {
      for (int64_t s = threadIdx.x; s < S; s += blockDim.x)
        a[ti * S2 + s] = ctc_alpha(a + (ti - 1) * S2, t, blank, s, lp[(ti * N + n) * C + ctc_label(t, blank, s)]);
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      const T* al = a + (Ti - 1) * S2;
      loss[n] = -(S > 1 ? ctc_lse2(al[S - 1], al[S - 2]) : al[S - 1]);
    }
    __syncthreads();
  }
}

// gx is zeroed by the caller; beta holds (N, 2, S2).
template <typename T>
__global__ void ctc_bwd_k(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off,
                          const int64_t* tl, const int64_t* il, int64_t blank, int64_t S2, const T* loss, const T* alpha,
                          const T* g, T* beta, T* gx) {
  const T ninf = -std::numeric_limits<T>::infinity();
  for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
    const int64_t L = tl[n], S = 2 * L + 1, Ti = il[n];
    const T ln = loss[n];
    if (Ti == 0 || ln == std::numeric_limits<T>::infinity() || ln == ninf) continue;  // the whole block skips n
    const int64_t* t = tg + off[n];
    const T* a = alpha + n * Tn * S2;
    T* bc = beta + n * 2 * S2;
    T* bn = bc + S2;
    const T gn = g[n];
    for (int64_t ti = Ti - 1; ti >= 0; --ti) {
      const T* y = lp + (ti * N + n) * C;
      for (int64_t s = threadIdx.x; s < S; s += blockDim.x)
        bc[s] = ctc_beta(ti == Ti - 1 ? static_cast<const T*>(nullptr) : bn, t, blank, s, S, y[ctc_label(t, blank, s)]);
      __syncthreads();
      for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
        T lcab = ninf;
        for (int64_t s = c == blank ? 0 : 1; s < S; s += 2)  // blanks at even s, labels at odd s
          if (ctc_label(t, blank, s) == c) lcab = ctc_lse2(lcab, a[ti * S2 + s] + bc[s]);
        if (lcab != ninf) gx[(ti * N + n) * C + c] = -gn * std::exp(lcab + ln - y[c]);
      }
      T* tmp = bc;
      bc = bn;
      bn = tmp;
    }
    __syncthreads();
  }
}

}  // namespace

template <typename T>
void ctc_forward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                 const int64_t* il, int64_t blank, int64_t S2, T* loss, T* alpha) {
  if (N == 0) return;
  ctc_fwd_k<T><<<static_cast<unsigned>(N < 65535 ? N : 65535), kThreads, 0, current_stream()>>>(Tn, N, C, lp, tg, off, tl,
                                                                                                  il, blank, S2, loss, alpha);
  check_launch("ctc_forward");
}

template <typename T>
void ctc_backward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                  const int64_t* il, int64_t blank, int64_t S2, const T* loss, const T* alpha, const T* g, bool zero_inf,
                  T* gx) {
  (void)zero_inf;
  cudaStream_t s = current_stream();
  cudaMemsetAsync(gx, 0, Tn * N * C * sizeof(T), s);
  if (N == 0 || Tn == 0) return;
  int dev = 0;
  cudaGetDevice(&dev);
  Tensor beta = empty({N, 2, S2}, std::is_same_v<T, float> ? DType::Float32 : DType::Float64, Device{DeviceType::CUDA, dev});
  ctc_bwd_k<T><<<static_cast<unsigned>(N < 65535 ? N : 65535), kThreads, 0, s>>>(Tn, N, C, lp, tg, off, tl, il, blank, S2,
                                                                                  loss, alpha, g, beta->data<T>(), gx);
  check_launch("ctc_backward");
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_CTC_FNS)

}  // namespace pydl::kernels::cuda
