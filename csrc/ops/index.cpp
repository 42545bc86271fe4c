// Indexing ops: index_select, gather, scatter_add, advanced indexing (index / index_put),
// nonzero, masks, sort/topk/cumsum, and the x[...] / x[...] = v machinery built on them.
#include <algorithm>

#include "kernels/cpu/index.h"
#include "kernels/dispatch.h"
#include "ops/device.h"
#include "ops/ops.h"

namespace pydl {

namespace K = kernels;

namespace {

// True when a tensor of shape `from` broadcasts to exactly `to`.
bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != 1 && from[i] != to[off + i]) return false;
  return true;
}

// `s` without leading size-1 dims beyond `ndim` dims (x[0] = t of shape (1, n) works, as in PyTorch).
Shape strip_leading_ones(Shape s, size_t ndim) {
  while (s.size() > ndim && s.front() == 1) s.erase(s.begin());
  return s;
}

void check_index_dtype(const Tensor& idx, const char* op) {
  PYDL_CHECK(idx, TypeError, "[", op, "] index must be a tensor, got None");
  PYDL_CHECK(idx->dtype == DType::Int64, TypeError, "[", op, "] index must be an int64 tensor, got ", dtype_name(idx->dtype));
}

// Range-checks `idx` against `size` and returns a contiguous int64 copy with negatives wrapped
// (on idx's device; a CUDA index is checked on the host: one copy back, one synchronisation).
Tensor checked_indices(const Tensor& idx, int64_t size, int64_t dim, const char* op) {
  if (idx->device().is_cuda())
    return to_device(checked_indices(to_device(idx, Device{}, false), size, dim, op), idx->device(), false);
  int64_t bad;
  PYDL_CHECK(!K::find_out_of_range(*idx, size, bad), IndexError, "[", op, "] index ", bad,
             " is out of bounds for dimension ", dim, " with size ", size);
  Tensor out = empty(idx->shape, DType::Int64);
  K::wrap_indices(*out, *idx, size);
  return out;
}

// Makes `self` the output of `result` (an out-of-place version of an in-place op).
void rebase(const Tensor& self, const Tensor& result, const char* op) {
  PYDL_CHECK(!self->is_view, RuntimeError, "[", op, "] in-place operation on a view of a tensor that takes part in "
             "autograd is not supported; apply it to the base tensor or to a clone() of the view");
  {
    AutoGradMode off(false);
    PYDL_KERNEL(self->device(), copy, *self, *result);
  }
  self->bump_version();
  self->grad_fn = result->grad_fn;
  self->output_nr = result->output_nr;
  self->requires_grad = result->requires_grad;
}

// Replaces bool masks by the int64 index tensors of their nonzero positions and checks
// dtypes and the number of indexed dims.
TensorList expand_masks(const Tensor& a, const TensorList& indices, const char* op) {
  TensorList out;
  for (const Tensor& t : indices) {
    if (!t) { out.push_back(t); continue; }
    if (t->dtype == DType::Bool) {
      int64_t pos = static_cast<int64_t>(out.size()), k = t->dim();
      PYDL_CHECK(k > 0, IndexError, "[", op, "] a 0-d bool index is only supported as a subscript x[True]");
      PYDL_CHECK(pos + k <= a->dim(), IndexError, "[", op, "] too many indices for tensor of dimension ", a->dim());
      for (int64_t j = 0; j < k; ++j)
        PYDL_CHECK(t->shape[j] == a->shape[pos + j], IndexError, "[", op, "] the shape of the mask ", shape_str(t->shape),
                   " at index ", j, " does not match the shape of the indexed tensor ", shape_str(a->shape),
                   " at index ", pos + j);
      Tensor nz = nonzero(t);
      for (int64_t j = 0; j < k; ++j) out.push_back(select(nz, 1, j));
      continue;
    }
    PYDL_CHECK(t->dtype == DType::Int64, IndexError, "[", op, "] tensors used as indices must be int64 or bool tensors, got ",
               dtype_name(t->dtype));
    out.push_back(t);
  }
  PYDL_CHECK(static_cast<int64_t>(out.size()) <= a->dim(), IndexError, "[", op, "] too many indices for tensor of dimension ",
             a->dim(), " (got ", out.size(), ")");
  return out;
}

bool has_tensor(const TensorList& l) {
  for (const Tensor& t : l)
    if (t) return true;
  return false;
}

// Geometry of a[indices] (indices already int64, one per leading dim, null = whole dim).
K::AdvIndexPlan make_plan(const Tensor& a, const TensorList& indices, const char* op) {
  K::AdvIndexPlan p;
  std::vector<bool> is_adv(a->dim(), false);
  for (size_t d = 0; d < indices.size(); ++d) {
    if (!indices[d]) continue;
    p.index_shape = p.adv_dims.empty() ? indices[d]->shape : broadcast_shapes(p.index_shape, indices[d]->shape, op);
    p.adv_dims.push_back(static_cast<int64_t>(d));
    is_adv[d] = true;
  }
  for (size_t j = 0; j < p.adv_dims.size(); ++j) {
    int64_t d = p.adv_dims[j];
    Tensor ix = checked_indices(broadcast_view(indices[d], p.index_shape), a->shape[d], d, op);
    p.indices.push_back(ix->device() == a->device() ? ix : to_device(ix, a->device(), false));  // CPU indices index a GPU tensor
  }
  // Adjacent index tensors keep their place; separated ones put the index dims first (NumPy).
  bool adjacent = p.adv_dims.back() - p.adv_dims.front() + 1 == static_cast<int64_t>(p.adv_dims.size());
  int64_t first = adjacent ? p.adv_dims.front() : 0;
  auto push_index_dims = [&] {
    for (int64_t s : p.index_shape) { p.out_shape.push_back(s); p.src_dim.push_back(-1); }
  };
  for (int64_t d = 0; d < a->dim(); ++d) {
    if (d == first && (adjacent || d == 0)) push_index_dims();
    if (!is_adv[d]) { p.out_shape.push_back(a->shape[d]); p.src_dim.push_back(d); }
  }
  return p;
}

Tensor index_impl(const Tensor& a, const TensorList& indices_in, const char* op) {
  PYDL_CHECK(a, TypeError, "[", op, "] expected a tensor, got None");
  TensorList indices = expand_masks(a, indices_in, op);
  if (!has_tensor(indices)) return reshape(a, a->shape);
  K::AdvIndexPlan plan = make_plan(a, indices, op);
  const Device dev = a->device();
  Tensor out = empty(plan.out_shape, a->dtype, dev);
  PYDL_KERNEL(dev, index_gather, *out, *a, plan);
  if (any_requires_grad({&a})) {
    size_t n_idx = indices.size();
    auto node = make_node("IndexBackward", {a}, [shape = a->shape, n_idx](FunctionNode& n, const TensorList& g) -> TensorList {
      TensorList idx;
      for (size_t i = 0; i < n_idx; ++i) idx.push_back(n.get(i));
      // scatter-add the gradient into zeros of the input's shape (repeated indices add up)
      return {index_put(zeros(shape, g[0]->dtype, g[0]->device()), idx, g[0], true)};
    });
    for (const Tensor& t : indices) node->saved.emplace_back(t, false);
    set_history(out, node);
  }
  return out;
}

// Checks values against the indexing result's shape; returns values cast and broadcast for the kernel.
Tensor values_for(const Tensor& a, const K::AdvIndexPlan& plan, const Tensor& values, const char* op) {
  PYDL_CHECK(values, TypeError, "[", op, "] values must be a tensor, got None");
  Shape vs = strip_leading_ones(values->shape, plan.out_shape.size());
  PYDL_CHECK(broadcasts_to(vs, plan.out_shape), ValueError, "[", op, "] shape mismatch: value tensor of shape ", shape_str(values->shape),
             " cannot be broadcast to indexing result of shape ", shape_str(plan.out_shape));
  Tensor v = cast_raw(values, a->dtype);
  if (v->device() != a->device() && v->dim() == 0 && !v->requires_grad) v = to_device(v, a->device(), false);
  common_device(op, {a.get(), v.get()});
  if (vs != v->shape) v = as_strided_view(v, vs, Shape(v->strides.end() - vs.size(), v->strides.end()), v->offset);
  return contiguous_copy(broadcast_view(v, plan.out_shape));  // the kernel reads it contiguously
}

// Shared checks of gather/scatter_add: returns the wrapped contiguous index.
Tensor gather_index(const Tensor& a, int64_t& dim, const Tensor& index, const char* op) {
  check_index_dtype(index, op);
  int64_t nd = a->dim();
  dim = wrap_dim(dim, std::max<int64_t>(nd, 1), op);
  PYDL_CHECK(index->dim() == nd, ValueError, "[", op, "] index tensor must have the same number of dimensions as the input: ",
             "input ", shape_str(a->shape), ", index ", shape_str(index->shape));
  for (int64_t d = 0; d < nd; ++d)
    PYDL_CHECK(d == dim || index->shape[d] <= a->shape[d], ValueError, "[", op, "] index ", shape_str(index->shape),
               " is larger than the input ", shape_str(a->shape), " in dimension ", d);
  return checked_indices(index, nd ? a->shape[dim] : 1, dim, op);
}

// src narrowed to index's shape (differentiable) after the scatter checks.
Tensor scatter_src(const Tensor& index, const Tensor& src, const char* op) {
  PYDL_CHECK(src, TypeError, "[", op, "] src must be a tensor, got None");
  PYDL_CHECK(src->dim() == index->dim(), ValueError, "[", op, "] index ", shape_str(index->shape), " and src ",
             shape_str(src->shape), " must have the same number of dimensions");
  Tensor s = src;
  for (int64_t d = 0; d < src->dim(); ++d) {
    PYDL_CHECK(index->shape[d] <= src->shape[d], ValueError, "[", op, "] index ", shape_str(index->shape),
               " is larger than src ", shape_str(src->shape), " in dimension ", d);
    if (index->shape[d] < src->shape[d]) s = slice(s, d, 0, index->shape[d], 1);
  }
  return s;
}

// (outer, R, inner) of `shape` around `dim`.
void split_dims(const Shape& shape, int64_t dim, int64_t& outer, int64_t& R, int64_t& inner) {
  outer = 1; inner = 1; R = shape.empty() ? 1 : shape[dim];
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
}

}  // namespace

// ---- advanced indexing ---------------------------------------------------------------

Tensor index(const Tensor& a, const TensorList& indices) { return index_impl(a, indices, "index"); }

Tensor index_put(const Tensor& a, const TensorList& indices_in, const Tensor& values, bool accumulate) {
  PYDL_CHECK(a, TypeError, "[index_put_] expected a tensor, got None");
  TensorList indices = expand_masks(a, indices_in, "index_put_");
  if (!has_tensor(indices)) {  // a[:] = values
    PYDL_CHECK(broadcasts_to(values->shape, a->shape), ValueError, "[index_put_] shape mismatch: value tensor of shape ", shape_str(values->shape),
               " cannot be broadcast to indexing result of shape ", shape_str(a->shape));
    Tensor v = expand(to_dtype(values, a->dtype), a->shape);
    return accumulate ? add(a, v) : clone(v);
  }
  K::AdvIndexPlan plan = make_plan(a, indices, "index_put_");
  Tensor v = values_for(a, plan, values, "index_put_");
  Tensor out = contiguous_copy(a);
  PYDL_KERNEL(a->device(), index_put, *out, plan, *v, accumulate);
  if (any_requires_grad({&a, &values})) {
    size_t n_idx = indices.size();
    auto node = make_node("IndexPutBackward", {a, values},
                          [n_idx, accumulate, vs = values->shape, vd = values->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      TensorList idx;
      for (size_t i = 0; i < n_idx; ++i) idx.push_back(n.get(i));
      Tensor ga, gv;
      if (n.next_edges[0].fn)
        ga = accumulate ? g[0] : index_put(g[0], idx, to_device(scalar_tensor(0, g[0]->dtype), g[0]->device(), false), false);
      if (n.next_edges[1].fn) {
        Tensor gi = index(g[0], idx);
        gv = to_dtype(reshape(sum_to(gi, strip_leading_ones(vs, gi->dim())), vs), vd);
      }
      return {ga, gv};
    });
    for (const Tensor& t : indices) node->saved.emplace_back(t, false);
    set_history(out, node);
  }
  return out;
}

namespace {
void index_put_impl(const Tensor& a, const TensorList& indices_in, const Tensor& values, bool accumulate, const char* op) {
  PYDL_CHECK(a && values, TypeError, "[", op, "] expected tensors, got None");
  check_inplace(a, op);
  if (any_requires_grad({&a, &values})) {
    rebase(a, index_put(a, indices_in, values, accumulate), op);
    return;
  }
  TensorList indices = expand_masks(a, indices_in, op);
  if (!has_tensor(indices)) {
    Tensor full_idx = to_device(arange(0, a->dim() ? a->shape[0] : 1, 1, DType::Int64), a->device(), false);
    if (a->dim() == 0) {
      Shape s = a->shape;
      PYDL_CHECK(broadcasts_to(values->shape, s), ValueError, "[", op, "] shape mismatch: value tensor of shape ", shape_str(values->shape),
                 " cannot be broadcast to indexing result of shape ()");
      Tensor v = cast_raw(values, a->dtype);
      if (v->device() != a->device() && !v->requires_grad) v = to_device(v, a->device(), false);
      common_device(op, {a.get(), v.get()});
      if (accumulate) PYDL_KERNEL(a->device(), binary, K::BinaryOp::Add, *a, *a, *broadcast_view(v, s));
      else PYDL_KERNEL(a->device(), copy, *a, *broadcast_view(v, s));
      a->bump_version();
      return;
    }
    indices = {full_idx};
  }
  K::AdvIndexPlan plan = make_plan(a, indices, op);
  Tensor v = values_for(a, plan, values, op);
  PYDL_KERNEL(a->device(), index_put, *a, plan, *v, accumulate);
  a->bump_version();
}

}  // namespace

void index_put_(const Tensor& a, const TensorList& indices, const Tensor& values, bool accumulate) {
  index_put_impl(a, indices, values, accumulate, "index_put_");
}

Tensor nonzero(const Tensor& a) {
  PYDL_CHECK(a, TypeError, "[nonzero] expected a tensor, got None");
  const Device dev = a->device();
  const int64_t n = PYDL_KERNEL(dev, count_nonzero, *a);  // on CUDA, the one wait for the device
  Tensor out = empty({n, a->dim()}, DType::Int64, dev);
  PYDL_KERNEL(dev, nonzero, *out, *a);
  return out;
}

// ---- along a dim ---------------------------------------------------------------------

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index) {
  PYDL_CHECK(a, TypeError, "[index_select] expected a tensor, got None");
  check_index_dtype(index, "index_select");
  PYDL_CHECK(index->dim() <= 1, ValueError, "[index_select] index must be 0-d or 1-D, got shape ", shape_str(index->shape));
  if (a->dim() == 0) {
    wrap_dim(dim, 1, "index_select");
    return reshape(index_impl(reshape(a, {1}), {reshape(index, {-1})}, "index_select"), index->shape);
  }
  dim = wrap_dim(dim, a->dim(), "index_select");
  TensorList idx(dim);
  idx.push_back(reshape(index, {-1}));
  return index_impl(a, idx, "index_select");
}

Tensor gather(const Tensor& a, int64_t dim, const Tensor& index) {
  PYDL_CHECK(a, TypeError, "[gather] expected a tensor, got None");
  const Device dev = common_device("gather", {a.get(), index.get()});
  Tensor idx = gather_index(a, dim, index, "gather");
  Tensor out = empty(idx->shape, a->dtype, dev);
  PYDL_KERNEL(dev, gather, *out, *a, dim, *idx);
  if (any_requires_grad({&a})) {
    auto node = make_node("GatherBackward", {a}, [dim, shape = a->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      return {scatter_add(zeros(shape, g[0]->dtype, g[0]->device()), dim, n.get(0), g[0])};
    });
    node->saved.emplace_back(idx, false);
    set_history(out, node);
  }
  return out;
}

Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src_in) {
  PYDL_CHECK(a, TypeError, "[scatter_add] expected a tensor, got None");
  const Device dev = common_device("scatter_add", {a.get(), index.get(), src_in.get()});
  Tensor idx = gather_index(a, dim, index, "scatter_add");
  Tensor src = to_dtype(scatter_src(idx, src_in, "scatter_add"), a->dtype);
  Tensor out = contiguous_copy(a);
  PYDL_KERNEL(dev, scatter, *out, dim, *idx, *src, true);
  if (any_requires_grad({&a, &src})) {
    // d/da = g;  d/dsrc = g gathered at the scattered positions
    auto node = make_node("ScatterAddBackward", {a, src}, [dim](FunctionNode& n, const TensorList& g) -> TensorList {
      return {g[0], n.next_edges[1].fn ? gather(g[0], dim, n.get(0)) : Tensor()};
    });
    node->saved.emplace_back(idx, false);
    set_history(out, node);
  }
  return out;
}

void scatter_add_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src_in) {
  PYDL_CHECK(self && src_in, TypeError, "[scatter_add_] expected tensors, got None");
  check_inplace(self, "scatter_add_");
  if (any_requires_grad({&self, &src_in})) {
    rebase(self, scatter_add(self, dim, index, src_in), "scatter_add_");
    return;
  }
  const Device dev = common_device("scatter_add_", {self.get(), index.get(), src_in.get()});
  Tensor idx = gather_index(self, dim, index, "scatter_add_");
  Tensor src = cast_raw(scatter_src(idx, src_in, "scatter_add_"), self->dtype);
  if (src->storage == self->storage) src = contiguous_copy(src);
  PYDL_KERNEL(dev, scatter, *self, dim, *idx, *src, true);
  self->bump_version();
}

Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src_in) {
  PYDL_CHECK(a, TypeError, "[scatter] expected a tensor, got None");
  const Device dev = common_device("scatter", {a.get(), index.get(), src_in.get()});
  Tensor idx = gather_index(a, dim, index, "scatter");
  Tensor src = to_dtype(scatter_src(idx, src_in, "scatter"), a->dtype);
  Tensor out = contiguous_copy(a);
  PYDL_KERNEL(dev, scatter, *out, dim, *idx, *src, false);
  if (any_requires_grad({&a, &src})) {
    // d/da = g with the overwritten positions zeroed;  d/dsrc = g at the written positions
    auto node = make_node("ScatterBackward", {a, src}, [dim](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor i = n.get(0), ga, gs;
      if (n.next_edges[0].fn) ga = scatter(g[0], dim, i, zeros(i->shape, g[0]->dtype, g[0]->device()));
      if (n.next_edges[1].fn) gs = gather(g[0], dim, i);
      return {ga, gs};
    });
    node->saved.emplace_back(idx, false);
    set_history(out, node);
  }
  return out;
}

void scatter_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src_in) {
  PYDL_CHECK(self && src_in, TypeError, "[scatter_] expected tensors, got None");
  check_inplace(self, "scatter_");
  if (any_requires_grad({&self, &src_in})) {
    rebase(self, scatter(self, dim, index, src_in), "scatter_");
    return;
  }
  const Device dev = common_device("scatter_", {self.get(), index.get(), src_in.get()});
  Tensor idx = gather_index(self, dim, index, "scatter_");
  Tensor src = cast_raw(scatter_src(idx, src_in, "scatter_"), self->dtype);
  if (src->storage == self->storage) src = contiguous_copy(src);
  PYDL_KERNEL(dev, scatter, *self, dim, *idx, *src, false);
  self->bump_version();
}

// ---- masks ---------------------------------------------------------------------------

namespace {
void check_mask(const Tensor& a, const Tensor& mask, const char* op) {
  PYDL_CHECK(a && mask, TypeError, "[", op, "] expected tensors, got None");
  PYDL_CHECK(mask->dtype == DType::Bool, TypeError, "[", op, "] mask must be a bool tensor, got ", dtype_name(mask->dtype));
}
}  // namespace

Tensor masked_fill(const Tensor& a, const Tensor& mask, double value) {
  check_mask(a, mask, "masked_fill");
  Shape s = broadcast_shapes(a->shape, mask->shape, "masked_fill");
  PYDL_CHECK(s == a->shape, ValueError, "[masked_fill] mask of shape ", shape_str(mask->shape),
             " cannot be broadcast to the input's shape ", shape_str(a->shape));
  return where(mask, scalar_tensor(value, a->dtype), a);
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value) {
  check_mask(a, mask, "masked_fill");
  PYDL_CHECK(value && value->dim() == 0, ValueError, "[masked_fill] only supports a 0-dimensional value tensor, got shape ",
             value ? shape_str(value->shape) : std::string("None"));
  PYDL_CHECK(broadcasts_to(mask->shape, a->shape), ValueError, "[masked_fill] mask of shape ", shape_str(mask->shape),
             " cannot be broadcast to the input's shape ", shape_str(a->shape));
  return where(mask, to_dtype(value, a->dtype), a);
}

void masked_fill_(const Tensor& a, const Tensor& mask, double value) {
  check_mask(a, mask, "masked_fill_");
  check_inplace(a, "masked_fill_");
  if (any_requires_grad({&a})) {
    rebase(a, masked_fill(a, mask, value), "masked_fill_");
    return;
  }
  Shape s = broadcast_shapes(a->shape, mask->shape, "masked_fill_");
  PYDL_CHECK(s == a->shape, ValueError, "[masked_fill_] mask of shape ", shape_str(mask->shape),
             " cannot be broadcast to the input's shape ", shape_str(a->shape));
  common_device("masked_fill_", {a.get(), mask.get()});
  Tensor m = mask->storage == a->storage ? contiguous_copy(mask) : mask;
  Tensor v = to_device(scalar_tensor(value, a->dtype), a->device(), false);
  PYDL_KERNEL(a->device(), where, *a, *broadcast_view(m, s), *broadcast_view(v, s), *a);
  a->bump_version();
}

Tensor masked_select(const Tensor& a, const Tensor& mask) {
  check_mask(a, mask, "masked_select");
  Shape s = broadcast_shapes(a->shape, mask->shape, "masked_select");
  if (s.empty()) s = {1};
  Tensor ab = expand(reshape(a, a->dim() ? a->shape : Shape{1}), s);
  Tensor mb = contiguous_copy(broadcast_view(mask->dim() ? mask : reshape(mask, {1}), s));
  return index_impl(ab, {mb}, "masked_select");
}

// ---- sort, topk, cumsum, one_hot -----------------------------------------------------

std::pair<Tensor, Tensor> sort(const Tensor& a, int64_t dim, bool descending) {
  PYDL_CHECK(a, TypeError, "[sort] expected a tensor, got None");
  dim = wrap_dim(dim, std::max<int64_t>(a->dim(), 1), "sort");
  Tensor ac = a->is_contiguous() ? a : contiguous_copy(a);
  int64_t outer, R, inner;
  split_dims(a->shape, dim, outer, R, inner);
  Tensor idx = empty(a->shape, DType::Int64, a->device());
  PYDL_KERNEL(a->device(), argsort, *idx, *ac, outer, R, inner, descending);
  return {gather(a, dim, idx), idx};  // gather carries the gradient
}

std::pair<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim, bool largest) {
  PYDL_CHECK(a, TypeError, "[topk] expected a tensor, got None");
  dim = wrap_dim(dim, std::max<int64_t>(a->dim(), 1), "topk");
  int64_t n = a->dim() ? a->shape[dim] : 1;
  PYDL_CHECK(k >= 0 && k <= n, ValueError, "[topk] k (", k, ") is out of range for dimension ", dim, " of size ", n,
             " (input shape ", shape_str(a->shape), ")");
  Tensor idx = sort(detach(a), dim, largest).second;
  if (a->dim()) idx = contiguous_copy(slice(idx, dim, 0, k, 1));
  return {gather(a, dim, idx), idx};
}

Tensor cumsum(const Tensor& a, int64_t dim) {
  PYDL_CHECK(a, TypeError, "[cumsum] expected a tensor, got None");
  dim = wrap_dim(dim, std::max<int64_t>(a->dim(), 1), "cumsum");
  DType dt = is_floating(a->dtype) ? a->dtype : DType::Int64;
  Tensor ac = contiguous_copy(cast_raw(a, dt));
  int64_t outer, R, inner;
  split_dims(a->shape, dim, outer, R, inner);
  Tensor out = empty(a->shape, dt, a->device());
  PYDL_KERNEL(a->device(), cumsum, *out, *ac, outer, R, inner);
  if (any_requires_grad({&a})) {
    // reverse cumsum of g: sum(g) - cumsum(g) + g
    auto node = make_node("CumsumBackward", {a}, [dim, nd = a->dim()](FunctionNode&, const TensorList& g) -> TensorList {
      Tensor tot = nd ? sum(g[0], {dim}, true) : g[0];
      return {add(sub(tot, cumsum(g[0], dim)), g[0])};
    });
    set_history(out, node);
  }
  return out;
}

Tensor one_hot(const Tensor& index, int64_t num_classes) {
  check_index_dtype(index, "one_hot");
  const Device dev = index->device();
  Tensor idx = contiguous_copy(index);
  int64_t mx = -1, mn = 0;
  {
    // range check on the host (a CUDA index tensor is copied back for it: one synchronisation)
    Tensor ih = dev.is_cuda() ? to_device(idx, Device{}, false) : idx;
    const int64_t* p = ih->data<int64_t>();
    for (int64_t i = 0; i < ih->numel; ++i) { mx = std::max(mx, p[i]); mn = std::min(mn, p[i]); }
  }
  PYDL_CHECK(mn >= 0, ValueError, "[one_hot] class values must be non-negative, got ", mn);
  if (num_classes < 0) {
    PYDL_CHECK(idx->numel > 0, ValueError, "[one_hot] can not infer the number of classes from an empty tensor");
    num_classes = mx + 1;
  }
  PYDL_CHECK(mx < num_classes, ValueError, "[one_hot] class values must be smaller than num_classes (", num_classes,
             "), got ", mx);
  Shape s = idx->shape;
  s.push_back(num_classes);
  Tensor out = zeros(s, DType::Int64, dev);
  PYDL_KERNEL(dev, one_hot, *out, *idx, num_classes);
  return out;
}

// ---- x[...] and x[...] = v -----------------------------------------------------------

namespace {
using Kind = TensorIndex::Kind;

// Applies ints, slices, None and ... as views; index tensors are collected in `adv`
// (one entry per dim of the returned view, null = not indexed by a tensor).
Tensor apply_basic(const Tensor& a, const std::vector<TensorIndex>& items, TensorList& adv, const char* op) {
  int64_t consumed = 0, ellipses = 0;
  for (const TensorIndex& it : items) {
    if (it.kind == Kind::Int || it.kind == Kind::Slice) ++consumed;
    else if (it.kind == Kind::Ellipsis) ++ellipses;
    else if (it.kind == Kind::Tensor) consumed += it.t->dtype == DType::Bool ? it.t->dim() : 1;
  }
  PYDL_CHECK(ellipses <= 1, IndexError, "[", op, "] an index can only have a single ellipsis ('...')");
  PYDL_CHECK(consumed <= a->dim(), IndexError, "[", op, "] too many indices for tensor of dimension ", a->dim(),
             " (got ", consumed, ")");
  Tensor cur = a;
  int64_t d = 0;
  auto set_adv = [&](int64_t pos, const Tensor& t) {
    if (static_cast<int64_t>(adv.size()) <= pos) adv.resize(pos + 1);
    adv[pos] = t;
  };
  for (const TensorIndex& it : items) {
    switch (it.kind) {
      case Kind::Int:
        PYDL_CHECK(it.i >= -cur->shape[d] && it.i < cur->shape[d], IndexError, "[", op, "] index ", it.i,
                   " is out of bounds for dimension ", d, " with size ", cur->shape[d]);
        cur = select(cur, d, it.i);
        break;
      case Kind::Slice:
        PYDL_CHECK(it.step > 0, ValueError, "[", op, "] step must be greater than zero, got ", it.step);
        cur = slice(cur, d, it.start, it.stop, it.step);
        ++d;
        break;
      case Kind::None:
        cur = unsqueeze(cur, d);
        ++d;
        break;
      case Kind::Ellipsis:
        d += a->dim() - consumed;
        break;
      case Kind::Tensor: {
        const Tensor& t = it.t;
        if (t->dtype == DType::Bool && t->dim() == 0) {  // x[True] / x[False]: a new dim of size 1 or 0
          cur = unsqueeze(cur, d);
          set_adv(d, item(t) != 0 ? zeros({1}, DType::Int64) : empty({0}, DType::Int64));
          ++d;
        } else if (t->dtype == DType::Bool) {
          int64_t k = t->dim();
          for (int64_t j = 0; j < k; ++j)
            PYDL_CHECK(t->shape[j] == cur->shape[d + j], IndexError, "[", op, "] the shape of the mask ",
                       shape_str(t->shape), " at index ", j, " does not match the shape of the indexed tensor ",
                       shape_str(cur->shape), " at index ", d + j);
          Tensor nz = nonzero(t);
          for (int64_t j = 0; j < k; ++j) set_adv(d + j, select(nz, 1, j));
          d += k;
        } else {
          PYDL_CHECK(t->dtype == DType::Int64, IndexError, "[", op,
                     "] tensors used as indices must be int64 or bool tensors, got ", dtype_name(t->dtype));
          set_adv(d, t);
          ++d;
        }
        break;
      }
    }
  }
  return cur;
}
}  // namespace

Tensor getitem(const Tensor& a, const std::vector<TensorIndex>& items) {
  PYDL_CHECK(a, TypeError, "[index] expected a tensor, got None");
  TensorList adv;
  Tensor cur = apply_basic(a, items, adv, "index");
  if (!has_tensor(adv)) return cur == a ? reshape(a, a->shape) : cur;
  return index_impl(cur, adv, "index");
}

void setitem(const Tensor& a, const std::vector<TensorIndex>& items, const Tensor& value) {
  PYDL_CHECK(a && value, TypeError, "[setitem] expected tensors, got None");
  check_inplace(a, "setitem");
  if (any_requires_grad({&a, &value})) {
    // Out of place on the flat positions the subscript selects, then rebase `a` onto it.
    PYDL_CHECK(!a->is_view, RuntimeError, "[setitem] assignment into a view of a tensor that takes part in autograd "
               "is not supported; index the base tensor directly or assign into a clone()");
    Tensor pos;
    {
      AutoGradMode off(false);
      pos = getitem(reshape(arange(0, static_cast<double>(a->numel), 1, DType::Int64), a->shape), items);
    }
    Tensor val = reshape(value, strip_leading_ones(value->shape, pos->dim()));
    PYDL_CHECK(broadcasts_to(val->shape, pos->shape), ValueError, "[setitem] shape mismatch: value of shape ", shape_str(value->shape),
               " cannot be broadcast to indexing result of shape ", shape_str(pos->shape));
    Tensor v = reshape(expand(to_dtype(val, a->dtype), pos->shape), {-1});
    // a clone: a view of `a` itself would see its base change under it when we rebase
    Tensor r = index_put(reshape(clone(a), {-1}), {reshape(pos, {-1})}, v, false);
    rebase(a, reshape(r, a->shape), "setitem");
    return;
  }
  TensorList adv;
  Tensor cur = apply_basic(a, items, adv, "setitem");
  if (has_tensor(adv)) {
    index_put_impl(cur, adv, value, false, "setitem");
    return;
  }
  Shape s = cur->shape;
  Tensor val = reshape(value, strip_leading_ones(value->shape, s.size()));
  PYDL_CHECK(broadcasts_to(val->shape, s), ValueError, "[setitem] shape mismatch: value of shape ", shape_str(value->shape),
             " cannot be broadcast to indexing result of shape ", shape_str(cur->shape));
  Tensor v = val->storage == a->storage ? contiguous_copy(val) : val;
  if (v->device() != cur->device() && v->dim() == 0) v = to_device(v, cur->device(), false);  // x[...] = scalar
  common_device("setitem", {cur.get(), v.get()});
  PYDL_KERNEL(cur->device(), copy, *cur, *broadcast_view(v, s));
  cur->bump_version();
}

}  // namespace pydl
