#pragma once
#include "core/tensor.h"

namespace pydl::kernels {

/// C (M,N) = A (M,K) @ B (K,N) for `batch` independent products. Each operand is given by
/// base pointer geometry in elements: row stride, col stride (one of them must be 1 for
/// A and B; C is contiguous) and batch stride. `accumulate` adds into C.
void gemm(DType dt, int64_t batch, int64_t M, int64_t N, int64_t K,
          const void* A, int64_t a_rs, int64_t a_cs, int64_t a_bs,
          const void* B, int64_t b_rs, int64_t b_cs, int64_t b_bs,
          void* C, int64_t c_bs, bool accumulate);

}  // namespace pydl::kernels
