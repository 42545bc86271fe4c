// CUDA mirror of kernels/cpu/reduce.cpp: reductions over the middle axis of a contiguous
// (outer, R, inner) layout. One block per output element; its threads stride over R and meet
// in shared memory.
#include <limits>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__device__ T identity_d(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return T(0);
    case ReduceOp::Prod: return T(1);
    case ReduceOp::Max:
      return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
    case ReduceOp::Min:
      return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  }
  return T(0);
}

template <typename T>
__device__ T combine_d(ReduceOp op, T a, T b) {
  switch (op) {
    case ReduceOp::Sum: if constexpr (std::is_same_v<T, bool>) return a || b; else return a + b;
    case ReduceOp::Prod: if constexpr (std::is_same_v<T, bool>) return a && b; else return a * b;
    case ReduceOp::Max: if constexpr (std::is_floating_point_v<T>) { if (a != a) return a; if (b != b) return b; } return b > a ? b : a;
    case ReduceOp::Min: if constexpr (std::is_floating_point_v<T>) { if (a != a) return a; if (b != b) return b; } return b < a ? b : a;
  }
  return a;
}

unsigned threads_for(int64_t R) {
  unsigned t = 32;
  while (t < 256 && t < R) t <<= 1;
  return t;
}

template <typename Acc, typename In>
__global__ void reduce_k(ReduceOp op, Acc* out, const In* in, int64_t outer, int64_t R, int64_t inner) {
  extern __shared__ unsigned char smem_raw[];
  Acc* sm = reinterpret_cast<Acc*>(smem_raw);
  for (int64_t k = blockIdx.x; k < outer * inner; k += gridDim.x) {
    int64_t o = k / inner, i = k - o * inner;
    const In* p = in + o * R * inner + i;
    Acc acc = identity_d<Acc>(op);
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x) acc = combine_d<Acc>(op, acc, static_cast<Acc>(p[r * inner]));
    sm[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) sm[threadIdx.x] = combine_d<Acc>(op, sm[threadIdx.x], sm[threadIdx.x + s]);
      __syncthreads();
    }
    if (threadIdx.x == 0) out[k] = sm[0];
    __syncthreads();
  }
}

// (value, index) pairs; index -1 = no element. Lower index wins ties; the first NaN wins.
template <typename T>
__device__ bool arg_better(bool is_max, T v, int64_t i, T bv, int64_t bi) {
  if (i < 0) return false;
  if (bi < 0) return true;
  bool vn = false, bn = false;
  if constexpr (std::is_floating_point_v<T>) { vn = v != v; bn = bv != bv; }
  if (vn || bn) return vn && (!bn || i < bi);
  if (v == bv) return i < bi;
  return is_max ? v > bv : v < bv;
}

template <typename T>
__global__ void arg_reduce_k(bool is_max, T* vo, int64_t* io, const T* in, int64_t outer, int64_t R, int64_t inner) {
  extern __shared__ unsigned char smem_raw[];
  T* sv = reinterpret_cast<T*>(smem_raw);
  int64_t* si = reinterpret_cast<int64_t*>(smem_raw + blockDim.x * sizeof(T) + (8 - blockDim.x * sizeof(T) % 8) % 8);
  for (int64_t k = blockIdx.x; k < outer * inner; k += gridDim.x) {
    int64_t o = k / inner, i = k - o * inner;
    const T* p = in + o * R * inner + i;
    T best = T(0);
    int64_t bi = -1;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x)
      if (arg_better(is_max, p[r * inner], r, best, bi)) { best = p[r * inner]; bi = r; }
    sv[threadIdx.x] = best;
    si[threadIdx.x] = bi;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s && arg_better(is_max, sv[threadIdx.x + s], si[threadIdx.x + s], sv[threadIdx.x], si[threadIdx.x])) {
        sv[threadIdx.x] = sv[threadIdx.x + s];
        si[threadIdx.x] = si[threadIdx.x + s];
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      if (vo) vo[k] = sv[0];
      io[k] = si[0] < 0 ? 0 : si[0];
    }
    __syncthreads();
  }
}

unsigned grid_for(int64_t outputs) { return static_cast<unsigned>(outputs < (1 << 20) ? (outputs > 0 ? outputs : 1) : (1 << 20)); }

}  // namespace

void reduce(ReduceOp op, const TensorImpl& out, const TensorImpl& in, int64_t outer, int64_t R, int64_t inner) {
  if (outer * inner == 0) return;
  auto s = stream_of(out);
  unsigned t = threads_for(R);
  PYDL_DISPATCH_ALL(out.dtype, "reduce", [&] {
    using Acc = scalar_t;
    PYDL_DISPATCH_ALL(in.dtype, "reduce", [&] {
      reduce_k<Acc, scalar_t><<<grid_for(outer * inner), t, t * sizeof(Acc), s>>>(op, out.data<Acc>(), in.data<scalar_t>(),
                                                                                   outer, R, inner);
    });
  });
  check_launch("reduce");
}

void arg_reduce(bool is_max, const TensorImpl* values, const TensorImpl& indices, const TensorImpl& in, int64_t outer,
                int64_t R, int64_t inner) {
  if (outer * inner == 0) return;
  auto s = stream_of(indices);
  unsigned t = threads_for(R);
  PYDL_DISPATCH_ALL(in.dtype, "argmax", [&] {
    size_t shm = t * sizeof(scalar_t) + 8 + t * sizeof(int64_t);
    arg_reduce_k<scalar_t><<<grid_for(outer * inner), t, shm, s>>>(is_max, values ? values->data<scalar_t>() : nullptr,
                                                                   indices.data<int64_t>(), in.data<scalar_t>(), outer, R,
                                                                   inner);
  });
  check_launch("arg_reduce");
}

}  // namespace pydl::kernels::cuda
