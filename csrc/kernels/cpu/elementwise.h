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

/// out = op(a, b)
void binary(BinaryOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b);
/// out = op(a)
void unary(UnaryOp op, const TensorImpl& out, const TensorImpl& a);
/// out (bool) = a op b
void compare(CompareOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b);
/// out = clamp(a, lo, hi); has_lo/has_hi select the bounds used.
void clamp(const TensorImpl& out, const TensorImpl& a, bool has_lo, double lo, bool has_hi, double hi);
/// out = cond ? a : b (cond is bool).
void where(const TensorImpl& out, const TensorImpl& cond, const TensorImpl& a, const TensorImpl& b);
/// out = a, converting dtype, any strides on both sides.
void copy(const TensorImpl& out, const TensorImpl& a);
/// out[:] = value
void fill(const TensorImpl& out, double value);

}  // namespace pydl::kernels
