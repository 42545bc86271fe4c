#pragma once
#include "autograd/node.h"

namespace pydl {

/// Runs backward from `roots` with seed gradients `grad_roots` (null = ones for scalars).
/// If `inputs` is non-empty, returns the gradients of those tensors instead of
/// accumulating into leaves' .grad (pydl.autograd.grad).
TensorList run_backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph,
                        bool create_graph, const TensorList& inputs, bool allow_unused);

}  // namespace pydl
