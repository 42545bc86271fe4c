// CUDA mirror of kernels/cpu/attention.cpp's fused attention, composed of batched cuBLAS GEMMs
// (kernels/cuda/gemm.cu) and row kernels (one warp per query row): scale, mask and softmax in
// forward; the dropout mask (kernels/cpu/attention_ops.h, the CPU's streams) and the softmax
// backward in backward. The whole (B, L, S) score matrix is kept, as on the CPU (P).
#include <limits>
#include <type_traits>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/attention_ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T> constexpr DType dtype_of() { return std::is_same_v<T, float> ? DType::Float32 : DType::Float64; }

template <typename T>
__device__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <typename T>
__device__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ inline float exp_of(float x) { return expf(x); }
__device__ inline double exp_of(double x) { return exp(x); }

// Warp-per-row loop: every lane of a warp sees the same rows (the shuffles need all 32).
#define PYDL_WARP_ROWS(r, rows)                                                                       \
  for (int64_t r = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5; r < (rows); \
       r += (static_cast<int64_t>(blockDim.x) * gridDim.x) >> 5)

unsigned warp_blocks(int64_t rows) {
  const int64_t b = (rows + kThreads / 32 - 1) / (kThreads / 32);
  return static_cast<unsigned>(b < 65535 ? (b > 0 ? b : 1) : 65535);
}

// Row r = (b, i) of the scores -> scaled, masked (attn mask, causal) and softmaxed in place; rows
// whose keys are all masked become zeros (as the CPU kernel and PyTorch).
template <typename T>
__global__ void softmax_rows_k(AttnGeom g, int64_t rows, T* P) {
  const int lane = threadIdx.x & 31;
  const T ninf = -std::numeric_limits<T>::infinity();
  PYDL_WARP_ROWS(r, rows) {
    const int64_t b = r / g.L, i = r - b * g.L, base = b * g.mask_sb + i * g.mask_sl;
    T* row = P + r * g.S;
    T mx = ninf;
    for (int64_t j = lane; j < g.S; j += 32) {
      T s = row[j] * T(g.scale);
      if (g.mask) {
        if (g.mask_is_bool) {
          if (!static_cast<const bool*>(g.mask)[base + j * g.mask_ss]) s = ninf;
        } else {
          s += static_cast<const T*>(g.mask)[base + j * g.mask_ss];
        }
      }
      if (g.causal && j > i) s = ninf;
      row[j] = s;
      mx = max(mx, s);
    }
    mx = warp_max(mx);
    if (mx == ninf) {
      for (int64_t j = lane; j < g.S; j += 32) row[j] = T(0);
      continue;
    }
    T sum = 0;
    for (int64_t j = lane; j < g.S; j += 32) sum += (row[j] = exp_of(row[j] - mx));
    const T inv = T(1) / warp_sum(sum);
    for (int64_t j = lane; j < g.S; j += 32) row[j] *= inv;
  }
}

// D = P * dropout mask (element e of row e / S).
template <typename T>
__global__ void dropout_k(AttnGeom g, int64_t n, const T* P, T* D) {
  PYDL_CUDA_LOOP(e, n) D[e] = P[e] * T(attn_dropout(g.seed, e / g.S, e % g.S, g.p));
}

// dP (the gradient of the dropped weights) -> the gradient of the scaled scores, in place:
// dS = P * (dP' - rowsum(dP' * P)) with dP' = dP * mask; gs (if any) gets dS before the scale.
template <typename T>
__global__ void softmax_bwd_rows_k(AttnGeom g, int64_t rows, const T* P, T* dP, T* gs) {
  const int lane = threadIdx.x & 31;
  PYDL_WARP_ROWS(r, rows) {
    const T* p = P + r * g.S;
    T* d = dP + r * g.S;
    T dot = 0;
    for (int64_t j = lane; j < g.S; j += 32) {
      if (g.p > 0) d[j] *= T(attn_dropout(g.seed, r, j, g.p));
      dot += d[j] * p[j];
    }
    dot = warp_sum(dot);
    for (int64_t j = lane; j < g.S; j += 32) {
      const T ds = p[j] * (d[j] - dot);
      if (gs) gs[r * g.S + j] = ds;
      d[j] = ds * T(g.scale);
    }
  }
}

Device current_device() {
  int dev = 0;
  cudaGetDevice(&dev);
  return Device{DeviceType::CUDA, dev};
}

}  // namespace

template <typename T>
void sdpa_forward(const AttnGeom& g, const T* q, const T* k, const T* v, T* out, T* P) {
  const DType dt = dtype_of<T>();
  const int64_t LS = g.L * g.S, rows = g.B * g.L;
  if (rows == 0) return;
  cudaStream_t s = current_stream();
  gemm(dt, g.B, g.L, g.S, g.E, q, g.E, 1, g.L * g.E, k, 1, g.E, g.S * g.E, P, LS, false);  // (L,E) x (S,E)^T
  if (g.S > 0) {
    softmax_rows_k<T><<<warp_blocks(rows), kThreads, 0, s>>>(g, rows, P);
    check_launch("sdpa_forward");
  }
  Tensor drop;
  const T* W = P;
  if (g.p > 0 && LS > 0) {
    drop = empty({g.B, g.L, g.S}, dt, current_device());
    dropout_k<T><<<blocks_for(g.B * LS), kThreads, 0, s>>>(g, g.B * LS, P, drop->data<T>());
    check_launch("sdpa_forward");
    W = drop->data<T>();
  }
  gemm(dt, g.B, g.L, g.Ev, g.S, W, g.S, 1, LS, v, g.Ev, 1, g.S * g.Ev, out, g.L * g.Ev, false);  // (L,S) x (S,Ev)
}

template <typename T>
void sdpa_backward(const AttnGeom& g, const T* q, const T* k, const T* v, const T* P, const T* gout, T* gq, T* gk, T* gv,
                   T* gs) {
  const DType dt = dtype_of<T>();
  const int64_t LS = g.L * g.S, rows = g.B * g.L;
  cudaStream_t s = current_stream();
  const Device cd = current_device();
  if (gv) {
    Tensor drop;
    const T* W = P;
    if (g.p > 0 && LS > 0) {
      drop = empty({g.B, g.L, g.S}, dt, cd);
      dropout_k<T><<<blocks_for(g.B * LS), kThreads, 0, s>>>(g, g.B * LS, P, drop->data<T>());
      check_launch("sdpa_backward");
      W = drop->data<T>();
    }
    gemm(dt, g.B, g.S, g.Ev, g.L, W, 1, g.S, LS, gout, g.Ev, 1, g.L * g.Ev, gv, g.S * g.Ev, false);  // (L,S)^T x (L,Ev)
  }
  if (!gq && !gk && !gs) return;
  Tensor dPt = empty({g.B, g.L, g.S}, dt, cd);
  T* dP = dPt->data<T>();
  gemm(dt, g.B, g.L, g.S, g.Ev, gout, g.Ev, 1, g.L * g.Ev, v, 1, g.Ev, g.S * g.Ev, dP, LS, false);  // (L,Ev) x (S,Ev)^T
  if (rows > 0 && g.S > 0) {
    softmax_bwd_rows_k<T><<<warp_blocks(rows), kThreads, 0, s>>>(g, rows, P, dP, gs);
    check_launch("sdpa_backward");
  }
  if (gq) gemm(dt, g.B, g.L, g.E, g.S, dP, g.S, 1, LS, k, g.E, 1, g.S * g.E, gq, g.L * g.E, false);  // (L,S) x (S,E)
  if (gk) gemm(dt, g.B, g.S, g.E, g.L, dP, 1, g.S, LS, q, g.E, 1, g.L * g.E, gk, g.S * g.E, false);  // (L,S)^T x (L,E)
}

PYDL_INSTANTIATE_FLOATING(PYDL_ATTENTION_FNS)

}  // namespace pydl::kernels::cuda
