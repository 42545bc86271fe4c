#pragma once
// The little arithmetic the engine does on gradients (sum, cast, copy), written on kernels:
// autograd sits below ops, so it cannot call them. Under create_graph the sum and the cast
// record their own (identity and cast-back) backward nodes.
#include "autograd/node.h"

namespace pydl {

/// a + b for two gradients of the same shape (b is cast to a's dtype); recorded in grad mode.
Tensor grad_add(const Tensor& a, const Tensor& b);
/// acc += g in place (g cast to acc's dtype, same shape), no autograd; bumps acc's version.
void grad_add_(const Tensor& acc, const Tensor& g);
/// `t` converted to `dtype` (itself if already so); recorded in grad mode between float dtypes.
Tensor grad_cast(const Tensor& t, DType dtype);
/// A contiguous copy with storage of its own, no autograd.
Tensor dense_copy(const Tensor& t);

}  // namespace pydl
