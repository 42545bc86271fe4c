#pragma once
// The order sort / argsort / topk use, shared by the CPU kernel (kernels/cpu/index.cpp) and its
// CUDA mirror (kernels/cuda/index.cu): NaN sorts last ascending and first descending, like PyTorch.
#include <type_traits>

#if defined(__CUDACC__)
#define PYDL_SORT_HD __host__ __device__
#else
#define PYDL_SORT_HD
#endif

namespace pydl::kernels {

/// True when u goes strictly before v (a strict weak order; ties keep their input order).
template <typename T>
PYDL_SORT_HD inline bool sorts_before(T u, T v, bool descending) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool nu = u != u, nv = v != v;
    if (nu || nv) return descending ? (nu && !nv) : (!nu && nv);
  }
  return descending ? u > v : u < v;
}

}  // namespace pydl::kernels
