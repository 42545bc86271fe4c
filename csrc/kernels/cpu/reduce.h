#pragma once
// Reductions over the middle axis of a contiguous (outer, R, inner) layout.
#include "core/tensor.h"

namespace pydl::kernels {

enum class ReduceOp { Sum, Prod, Max, Min };

/// out[o, i] = reduce_r in[o, r, i]; `in` contiguous, `out` contiguous with outer*inner elements.
/// `out` may have a wider dtype than `in` (sum of bool/int64 into int64).
void reduce(ReduceOp op, const TensorImpl& out, const TensorImpl& in, int64_t outer, int64_t R, int64_t inner);
/// values/indices (int64) of the max (is_max) or min over r; first occurrence wins, NaN wins.
void arg_reduce(bool is_max, const TensorImpl* values, const TensorImpl& indices, const TensorImpl& in, int64_t outer,
                int64_t R, int64_t inner);

}  // namespace pydl::kernels
