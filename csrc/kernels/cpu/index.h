#pragma once
// Indexing kernels: gather/scatter along a dim, advanced indexing, nonzero, sort, cumsum.
// Index tensors are int64 and already range-checked and wrapped (non-negative) by the ops,
// so kernels never throw inside a parallel region.
#include <vector>

#include "core/tensor.h"

namespace pydl::kernels {

/// First element of int64 `idx` outside [-size, size) (its value in `bad`), or false if none.
bool find_out_of_range(const TensorImpl& idx, int64_t size, int64_t& bad);
/// A contiguous int64 copy of `idx` with negative values wrapped by `size` (assumes in range).
void wrap_indices(const TensorImpl& out, const TensorImpl& idx, int64_t size);

/// out[p] = a[p with p[dim] = idx[p]]; out and idx have idx's shape, idx contiguous.
void gather(const TensorImpl& out, const TensorImpl& a, int64_t dim, const TensorImpl& idx);
/// self[p with p[dim] = idx[p]] (+)= src[p] for p over idx's shape (src has idx's shape).
/// Race-free in parallel: positions that differ only along `dim` stay on one thread.
void scatter(const TensorImpl& self, int64_t dim, const TensorImpl& idx, const TensorImpl& src, bool accumulate);

/// Geometry of advanced indexing: for each output dim, the input dim it walks (>= 0)
/// or -1 for a dim of the broadcast index shape.
struct AdvIndexPlan {
  Shape out_shape;
  std::vector<int64_t> src_dim;   // per output dim
  std::vector<int64_t> adv_dims;  // input dims indexed by tensors, in order
  Shape index_shape;              // broadcast shape of the index tensors
  std::vector<Tensor> indices;    // contiguous, wrapped, of index_shape, one per adv_dims entry
};
/// out = a[plan] (out contiguous of plan.out_shape).
void index_gather(const TensorImpl& out, const TensorImpl& a, const AdvIndexPlan& plan);
/// a[plan] = values or += values (values contiguous of plan.out_shape, a's dtype).
void index_put(const TensorImpl& a, const AdvIndexPlan& plan, const TensorImpl& values, bool accumulate);

/// Count of nonzero elements of `a`.
int64_t count_nonzero(const TensorImpl& a);
/// Writes the (n, ndim) row-major coordinates of nonzero elements of `a` into `out`.
void nonzero(const TensorImpl& out, const TensorImpl& a);

/// Stable argsort along the middle axis of a contiguous (outer, R, inner) `a`; out int64 same layout.
void argsort(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner, bool descending);
/// Inclusive cumulative sum along the middle axis of contiguous (outer, R, inner) layouts.
void cumsum(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner);
/// out (contiguous, shape idx.shape + (C,), zero-filled int64) gets 1 at each idx.
void one_hot(const TensorImpl& out, const TensorImpl& idx, int64_t num_classes);

}  // namespace pydl::kernels
