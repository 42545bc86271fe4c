// CUDA mirror of kernels/cpu/nn_act.cpp: the activations (the scalar columns of
// kernels/cpu/act_ops.h), softmax / log-softmax, the dropout mask, row broadcast.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__device__ T act_value(Act op, T x, T a, T b) {
  using namespace act_constants;
  switch (op) {
#define PYDL_ACT_CASE(N, SY, EY, SG, EG) case Act::N: { SY }
    PYDL_ACT_KERNELS(PYDL_ACT_CASE)
#undef PYDL_ACT_CASE
  }
  return x;
}

template <typename T>
__device__ T act_grad(Act op, T g, T x, T a, T b) {
  using namespace act_constants;
  switch (op) {
#define PYDL_ACT_CASE(N, SY, EY, SG, EG) case Act::N: { SG }
    PYDL_ACT_KERNELS(PYDL_ACT_CASE)
#undef PYDL_ACT_CASE
  }
  return g;
}

template <typename T>
__global__ void act_fwd_k(Act op, int64_t n, const T* x, T* y, T a, T b) {
  PYDL_CUDA_LOOP(i, n) { y[i] = act_value(op, x[i], a, b); }
}

template <typename T>
__global__ void act_bwd_k(Act op, int64_t n, const T* g, const T* x, T* gx, T a, T b) {
  PYDL_CUDA_LOOP(i, n) { gx[i] = act_grad(op, g[i], x[i], a, b); }
}

// One thread per (outer, inner) row of `dim` elements, as the CPU's (outer, dim, inner) layout.
template <typename T>
__global__ void softmax_fwd_k(int64_t outer, int64_t dim, int64_t inner, const T* x, T* y, bool log) {
  PYDL_CUDA_LOOP(r, outer * inner) {
    int64_t o = r / inner, i = r - o * inner;
    const T* xr = x + o * dim * inner + i;
    T* yr = y + o * dim * inner + i;
    T mx = -INFINITY;
    for (int64_t d = 0; d < dim; ++d) mx = fmax(mx, xr[d * inner]);
    if (isinf(mx) && mx < 0) mx = 0;
    T s = 0;
    for (int64_t d = 0; d < dim; ++d) s += exp(xr[d * inner] - mx);
    if (log) {
      T ls = ::log(s);
      for (int64_t d = 0; d < dim; ++d) yr[d * inner] = (xr[d * inner] - mx) - ls;
    } else {
      T inv = T(1) / s;
      for (int64_t d = 0; d < dim; ++d) yr[d * inner] = exp(xr[d * inner] - mx) * inv;
    }
  }
}

// softmax: gx = y * (g - sum(g*y));  log_softmax: gx = g - exp(y) * sum(g)
template <typename T>
__global__ void softmax_bwd_k(int64_t outer, int64_t dim, int64_t inner, const T* g, const T* y, T* gx, bool log) {
  PYDL_CUDA_LOOP(r, outer * inner) {
    int64_t o = r / inner, i = r - o * inner, base = o * dim * inner + i;
    T s = 0;
    for (int64_t d = 0; d < dim; ++d) s += log ? g[base + d * inner] : g[base + d * inner] * y[base + d * inner];
    for (int64_t d = 0; d < dim; ++d) {
      int64_t k = base + d * inner;
      gx[k] = log ? g[k] - exp(y[k]) * s : y[k] * (g[k] - s);
    }
  }
}

// The CPU's splitmix64 streams, one per chunk of 2^14 elements: draw k of a chunk is the mix of
// its state after k + 1 steps, so each pair of elements is computed on its own and the mask equals
// the CPU's for the same seed.
__device__ uint64_t splitmix_at(uint64_t state, uint64_t steps) {
  uint64_t z = state + steps * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

template <typename T>
__global__ void dropout_k(int64_t n, uint64_t seed, uint32_t threshold, T scale, T* m) {
  constexpr int64_t kChunk = 1 << 14;
  PYDL_CUDA_LOOP(j, (n + 1) / 2) {
    int64_t i = 2 * j, ch = i / kChunk;
    uint64_t state = seed ^ (static_cast<uint64_t>(ch) * 0xd1b54a32d192ed03ull);
    uint64_t r = splitmix_at(state, static_cast<uint64_t>((i - ch * kChunk) / 2 + 1));
    m[i] = static_cast<uint32_t>(r) < threshold ? T(0) : scale;
    if (i + 1 < n) m[i + 1] = static_cast<uint32_t>(r >> 32) < threshold ? T(0) : scale;
  }
}

template <typename T>
__global__ void broadcast_rows_k(int64_t rows, int64_t cols, const T* row, T* y) {
  PYDL_CUDA_LOOP(k, rows * cols) { y[k] = row[k % cols]; }
}

}  // namespace

template <typename T>
void act_forward(Act op, int64_t n, const T* x, T* y, double a, double b) {
  if (n == 0) return;
  act_fwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(op, n, x, y, T(a), T(b));
  check_launch("act_forward");
}

template <typename T>
void act_backward(Act op, int64_t n, const T* g, const T* x, T* gx, double a, double b) {
  if (n == 0) return;
  act_bwd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(op, n, g, x, gx, T(a), T(b));
  check_launch("act_backward");
}

template <typename T>
void softmax_forward(int64_t outer, int64_t dim, int64_t inner, const T* x, T* y, bool log) {
  softmax_fwd_k<T><<<blocks_for(outer * inner), kThreads, 0, current_stream()>>>(outer, dim, inner, x, y, log);
  check_launch("softmax_forward");
}

template <typename T>
void softmax_backward(int64_t outer, int64_t dim, int64_t inner, const T* g, const T* y, T* gx, bool log) {
  softmax_bwd_k<T><<<blocks_for(outer * inner), kThreads, 0, current_stream()>>>(outer, dim, inner, g, y, gx, log);
  check_launch("softmax_backward");
}

template <typename T>
void dropout_mask(int64_t n, uint64_t seed, double p, T* m) {
  if (n == 0) return;
  // kChunk is even, so a pair never straddles two chunks (as on the CPU, whose pairs start at even i)
  uint32_t threshold = static_cast<uint32_t>(p >= 1 ? 4294967295.0 : std::fmin(p * 4294967296.0, 4294967295.0));
  T scale = p >= 1 ? T(0) : T(1.0 / (1.0 - p));
  dropout_k<T><<<blocks_for((n + 1) / 2), kThreads, 0, current_stream()>>>(n, seed, threshold, scale, m);
  check_launch("dropout_mask");
}

template <typename T>
void broadcast_rows(int64_t rows, int64_t cols, const T* row, T* y) {
  if (rows * cols == 0) return;
  broadcast_rows_k<T><<<blocks_for(rows * cols), kThreads, 0, current_stream()>>>(rows, cols, row, y);
  check_launch("broadcast_rows");
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_ACT_FNS)

}  // namespace pydl::kernels::cuda
