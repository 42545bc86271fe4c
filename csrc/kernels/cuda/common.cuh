#pragma once
// Shared pieces of the CUDA kernels: the device's stream, launch geometry, error checks, and an
// indexer that maps a linear element index to the (strided) offsets of several tensors.
#include <cuda_runtime.h>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"

namespace pydl::kernels::cuda {

/// The stream of the current device (kernels run on their tensors' device, set by the caller).
inline cudaStream_t stream_of(const TensorImpl& t) {
  int d = t.device().index;
  cudaSetDevice(d);
  return static_cast<cudaStream_t>(cuda_stream(d));
}
/// The stream of the calling thread's current device.
inline cudaStream_t current_stream() {
  int d = 0;
  cudaGetDevice(&d);
  return static_cast<cudaStream_t>(cuda_stream(d));
}

/// RuntimeError naming the kernel when its launch failed.
inline void check_launch(const char* what) {
  cudaError_t e = cudaGetLastError();
  PYDL_CHECK(e == cudaSuccess, RuntimeError, "[cuda] kernel ", what, " failed: ", cudaGetErrorString(e));
}

constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535LL * 32 ? (b > 0 ? b : 1) : 65535LL * 32);
}

// Grid-stride loop over [0, n).
#define PYDL_CUDA_LOOP(i, n) \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<int64_t>(blockDim.x) * gridDim.x)

constexpr int kMaxDims = 12;

/// Offsets (in bytes) of element i of NT tensors sharing one shape (strides may be 0: broadcast).
template <int NT>
struct Indexer {
  int nd = 0;
  int64_t size[kMaxDims];
  int64_t stride[NT][kMaxDims];  // bytes
  char* base[NT];
  __device__ void offsets(int64_t i, char** p) const {
    for (int t = 0; t < NT; ++t) p[t] = base[t];
    for (int d = nd - 1; d >= 0; --d) {
      int64_t q = i / size[d], r = i - q * size[d];
      for (int t = 0; t < NT; ++t) p[t] += r * stride[t][d];
      i = q;
    }
  }
};

/// An indexer over `ts` (all of ts[0]'s shape), with their data pointers.
template <int NT>
Indexer<NT> make_indexer(const TensorImpl* const (&ts)[NT], const char* op) {
  Indexer<NT> ix;
  const Shape& s = ts[0]->shape;
  PYDL_CHECK(s.size() <= static_cast<size_t>(kMaxDims), RuntimeError, "[", op, "] CUDA kernels take at most ", kMaxDims,
             " dims, got ", s.size());
  ix.nd = static_cast<int>(s.size());
  for (int t = 0; t < NT; ++t) {
    ix.base[t] = static_cast<char*>(ts[t]->raw());
    for (int d = 0; d < ix.nd; ++d) ix.stride[t][d] = ts[t]->strides[d] * static_cast<int64_t>(ts[t]->itemsize());
  }
  for (int d = 0; d < ix.nd; ++d) ix.size[d] = s[d];
  return ix;
}

}  // namespace pydl::kernels::cuda
