#pragma once
// The window of an adaptive pool, shared by kernels/cpu/nn_pool.cpp and its CUDA mirror
// kernels/cuda/nn_pool.cu so both devices pool the same input ranges (PyTorch's rule).
#include <cstdint>

#if defined(__CUDACC__)
#define PYDL_POOL_HD __host__ __device__
#else
#define PYDL_POOL_HD
#endif

namespace pydl::kernels {
struct PoolWindow {
  int64_t lo, hi;
};
/// Input range [floor(o I / O), ceil((o + 1) I / O)) of output position o of O over an input of size I.
/// static: each per-ISA kernel file keeps its own copy.
static PYDL_POOL_HD inline PoolWindow adaptive_window(int64_t o, int64_t I, int64_t O) {
  return {o * I / O, ((o + 1) * I + O - 1) / O};
}
}  // namespace pydl::kernels
