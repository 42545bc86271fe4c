#pragma once
// Elementwise kernels. Operands are already broadcast to the output's shape (stride-0
// views) and, except for copy and where's condition, of the output's dtype.
#include "core/tensor.h"
#include "kernels/cpu/binary_ops.h"
#include "kernels/cpu/unary_ops.h"

namespace pydl::kernels {

#define PYDL_ENUM_V(N, ...) N,
enum class BinaryOp { PYDL_BINARY_KERNELS(PYDL_ENUM_V) };
enum class UnaryOp { PYDL_UNARY_KERNELS(PYDL_ENUM_V, PYDL_ENUM_V) };
enum class CompareOp { PYDL_COMPARE_KERNELS(PYDL_ENUM_V) };
#undef PYDL_ENUM_V

#include "kernels/cpu/elementwise_kernels.inc"

}  // namespace pydl::kernels
