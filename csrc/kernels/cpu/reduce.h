#pragma once
// Reductions over the middle axis of a contiguous (outer, R, inner) layout.
#include "core/tensor.h"

namespace pydl::kernels {

// The reduction kernels, one line each: X(Name, identity, combine, run) for the scalar type T, combine
// folding the next value b into the running a (NaN wins in Max / Min), run reducing an Eigen array m of
// floats at once (vectorised, several accumulators). Generates ReduceOp and the switches of reduce.cpp.
#define PYDL_REDUCE_KERNELS(X)                                                                 \
  X(Sum, T(0), a + b, m.sum())                                                                 \
  X(Prod, T(1), a * b, m.prod())                                                               \
  X(Max, lowest<T>(), (isnan_(b) || b > a) ? b : a, m.hasNaN() ? qnan<T>() : m.maxCoeff())      \
  X(Min, highest<T>(), (isnan_(b) || b < a) ? b : a, m.hasNaN() ? qnan<T>() : m.minCoeff())

#define PYDL_REDUCE_ENUM(NAME, ...) NAME,
enum class ReduceOp { PYDL_REDUCE_KERNELS(PYDL_REDUCE_ENUM) };
#undef PYDL_REDUCE_ENUM

/// out[o, i] = reduce_r in[o, r, i]; `in` contiguous, `out` contiguous with outer*inner elements.
/// `out` may have a wider dtype than `in` (sum of bool/int64 into int64).
void reduce(ReduceOp op, const TensorImpl& out, const TensorImpl& in, int64_t outer, int64_t R, int64_t inner);
/// values/indices (int64) of the max (is_max) or min over r; first occurrence wins, NaN wins.
void arg_reduce(bool is_max, const TensorImpl* values, const TensorImpl& indices, const TensorImpl& in, int64_t outer,
                int64_t R, int64_t inner);

}  // namespace pydl::kernels
