// Shape ops. Views share storage with their input; their backward maps the gradient
// back to the input's geometry.
#include <algorithm>
#include <numeric>

#include "kernels/cpu/elementwise.h"
#include "ops/ops.h"

namespace pydl {

namespace {

// A view of `a` with autograd: backward is `bw(grad)`.
template <typename F>
Tensor view_op(const Tensor& a, Shape shape, Shape strides, int64_t offset, const char* name, F bw) {
  Tensor v = make_view(a, std::move(shape), std::move(strides), offset);
  if (any_requires_grad({&a})) {
    // An in-place change of the base after this view was taken would leave the view's
    // history describing the old values (a silently wrong gradient): detect it instead.
    auto node = make_node(name, {a}, [bw, name, st = a->storage, ver = a->version(), sh = a->shape, dt = a->dtype](
                                         FunctionNode&, const TensorList& g) -> TensorList {
      PYDL_CHECK(st->version == ver, RuntimeError, "[", name, "] one of the variables needed for gradient computation "
                 "has been modified by an inplace operation: the base [", dtype_name(dt), " ", shape_str(sh),
                 "] of a view is at version ", st->version, "; expected version ", ver, " instead.");
      return {bw(g[0])};
    });
    set_history(v, node);
  }
  return v;
}

Shape infer_shape(IntList shape, int64_t numel, const char* op) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      PYDL_CHECK(infer < 0, ValueError, "[", op, "] only one dimension can be inferred");
      infer = static_cast<int64_t>(i);
    } else {
      PYDL_CHECK(shape[i] >= 0, ValueError, "[", op, "] invalid shape dimension ", shape[i]);
      PYDL_CHECK(!__builtin_mul_overflow(known, shape[i], &known), ValueError, "[", op, "] shape '", shape_str(shape),
                 "' is invalid for input of size ", numel);
    }
  }
  if (infer >= 0) {
    PYDL_CHECK(known != 0 && numel % known == 0, ValueError, "[", op, "] shape '", shape_str(shape),
               "' is invalid for input of size ", numel);
    shape[infer] = numel / known;
  } else {
    PYDL_CHECK(known == numel, ValueError, "[", op, "] shape '", shape_str(shape), "' is invalid for input of size ", numel);
  }
  return shape;
}

// Strides for viewing `a` as `shape` without copying, if possible (PyTorch's computeStride).
bool view_strides(const Tensor& a, const Shape& shape, Shape& out) {
  if (a->is_contiguous()) { out = contiguous_strides(shape); return true; }
  if (a->numel == 0) { out = contiguous_strides(shape); return true; }
  const Shape& os = a->shape;
  const Shape& ost = a->strides;
  out.assign(shape.size(), 0);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.empty() ? 1 : ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor view(const Tensor& a, IntList shape_in) {
  Shape shape = infer_shape(std::move(shape_in), a->numel, "view");
  Shape st;
  PYDL_CHECK(view_strides(a, shape, st), RuntimeError, "[view] size ", shape_str(shape),
             " is not compatible with input tensor's size and stride ", shape_str(a->shape), " / ", shape_str(a->strides),
             " (at least one dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
  return view_op(a, shape, st, a->offset, "ViewBackward", [in = a->shape](const Tensor& g) { return reshape(g, in); });
}

Tensor reshape(const Tensor& a, IntList shape_in) {
  Shape shape = infer_shape(std::move(shape_in), a->numel, "reshape");
  if (shape == a->shape) return view_op(a, shape, a->strides, a->offset, "ViewBackward", [](const Tensor& g) { return g; });
  Shape st;
  if (view_strides(a, shape, st))
    return view_op(a, shape, st, a->offset, "ViewBackward", [in = a->shape](const Tensor& g) { return reshape(g, in); });
  return view(clone(a), shape);
}

Tensor contiguous(const Tensor& a) { return a->is_contiguous() ? a : clone(a); }

Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
  int64_t n = a->dim();
  if (n == 0) return view_op(a, {}, {}, a->offset, "TransposeBackward", [](const Tensor& g) { return g; });
  d0 = wrap_dim(d0, n, "transpose");
  d1 = wrap_dim(d1, n, "transpose");
  Shape s = a->shape, st = a->strides;
  std::swap(s[d0], s[d1]);
  std::swap(st[d0], st[d1]);
  return view_op(a, s, st, a->offset, "TransposeBackward", [d0, d1](const Tensor& g) { return transpose(g, d0, d1); });
}

Tensor permute(const Tensor& a, IntList dims) {
  int64_t n = a->dim();
  PYDL_CHECK(static_cast<int64_t>(dims.size()) == n, ValueError, "[permute] number of dims don't match: tensor has ", n,
             " dims but got ", shape_str(dims));
  Shape s(n), st(n);
  IntList inv(n, -1);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims[i], n, "permute");
    PYDL_CHECK(inv[d] < 0, ValueError, "[permute] repeated dim in ", shape_str(dims));
    inv[d] = i;
    s[i] = a->shape[d];
    st[i] = a->strides[d];
  }
  return view_op(a, s, st, a->offset, "PermuteBackward", [inv](const Tensor& g) { return permute(g, inv); });
}

Tensor expand(const Tensor& a, IntList shape) {
  int64_t n = static_cast<int64_t>(shape.size()), k = a->dim();
  PYDL_CHECK(n >= k, ValueError, "[expand] the number of sizes provided (", n,
             ") must be greater or equal to the number of dimensions in the tensor (", k, ")");
  Shape s(n), st(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    int64_t j = i - (n - k);
    int64_t have = j >= 0 ? a->shape[j] : 1;
    int64_t want = shape[i] == -1 ? have : shape[i];
    PYDL_CHECK(!(j < 0 && shape[i] == -1), ValueError, "[expand] -1 is not allowed in a leading, non-existing dimension");
    PYDL_CHECK(want >= 0 && (have == want || have == 1), ValueError, "[expand] the expanded size of the tensor (", want,
               ") must match the existing size (", have, ") at non-singleton dimension ", i, ". Target sizes: ",
               shape_str(shape), ". Tensor sizes: ", shape_str(a->shape));
    s[i] = want;
    st[i] = (j >= 0 && have == want) ? a->strides[j] : 0;
  }
  return view_op(a, s, st, a->offset, "ExpandBackward", [in = a->shape](const Tensor& g) { return sum_to(g, in); });
}

Tensor squeeze(const Tensor& a, std::optional<IntList> dims) {
  int64_t n = a->dim();
  std::vector<bool> drop(n, false);
  if (!dims) {
    for (int64_t i = 0; i < n; ++i) drop[i] = a->shape[i] == 1;
  } else {
    for (int64_t d : *dims) {
      if (n == 0) { wrap_dim(d, 0, "squeeze"); continue; }
      d = wrap_dim(d, n, "squeeze");
      drop[d] = a->shape[d] == 1;
    }
  }
  Shape s, st;
  for (int64_t i = 0; i < n; ++i)
    if (!drop[i]) { s.push_back(a->shape[i]); st.push_back(a->strides[i]); }
  return view_op(a, s, st, a->offset, "SqueezeBackward", [in = a->shape](const Tensor& g) { return reshape(g, in); });
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
  int64_t n = a->dim();
  dim = wrap_dim(dim, n + 1, "unsqueeze");
  Shape s = a->shape, st = a->strides;
  int64_t stride = dim < n ? a->strides[dim] * a->shape[dim] : 1;
  s.insert(s.begin() + dim, 1);
  st.insert(st.begin() + dim, stride);
  return view_op(a, s, st, a->offset, "UnsqueezeBackward", [dim](const Tensor& g) { return squeeze(g, IntList{dim}); });
}

Tensor flatten(const Tensor& a, int64_t start, int64_t end) {
  int64_t n = a->dim();
  if (n == 0) return reshape(a, {1});
  start = wrap_dim(start, n, "flatten");
  end = wrap_dim(end, n, "flatten");
  PYDL_CHECK(start <= end, ValueError, "[flatten] start_dim (", start, ") cannot come after end_dim (", end, ")");
  IntList s(a->shape.begin(), a->shape.begin() + start);
  int64_t m = 1;
  for (int64_t i = start; i <= end; ++i) m *= a->shape[i];
  s.push_back(m);
  s.insert(s.end(), a->shape.begin() + end + 1, a->shape.end());
  return reshape(a, s);
}

Tensor as_strided_view(const Tensor& a, Shape shape, Shape strides, int64_t offset) {
  return make_view(a, std::move(shape), std::move(strides), offset);
}

namespace {
// Gradient of a slice/select: zeros of the input's shape with g written into the view.
// Differentiable (its own backward takes the same view of the incoming gradient).
Tensor view_backward(const Tensor& g, const Shape& in_shape, int64_t dim, int64_t start, int64_t step, bool is_select) {
  Tensor z = zeros(in_shape, g->dtype);
  Shape s = z->shape, st = z->strides;
  int64_t off = start * st[dim];
  if (is_select) { s.erase(s.begin() + dim); st.erase(st.begin() + dim); }
  else { s[dim] = g->shape[dim]; st[dim] *= step; }
  kernels::copy(*make_view(z, s, st, off), *g);
  if (any_requires_grad({&g})) {
    auto node = make_node(is_select ? "SelectBackwardBackward" : "SliceBackwardBackward", {g},
                          [dim, start, step, is_select, len = is_select ? 1 : g->shape[dim]](FunctionNode&, const TensorList& gg) -> TensorList {
                            if (is_select) return {select(gg[0], dim, start)};
                            return {slice(gg[0], dim, start, start + len * step, step)};
                          });
    set_history(z, node);
  }
  return z;
}
}  // namespace

Tensor slice(const Tensor& a, int64_t dim, std::optional<int64_t> start_, std::optional<int64_t> stop_, int64_t step) {
  PYDL_CHECK(a->dim() > 0, IndexError, "[slice] cannot slice a 0-d tensor");
  dim = wrap_dim(dim, a->dim(), "slice");
  PYDL_CHECK(step > 0, ValueError, "[slice] step must be greater than zero, got ", step);
  int64_t n = a->shape[dim];
  int64_t start = start_.value_or(0), stop = stop_.value_or(n);
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  start = std::clamp<int64_t>(start, 0, n);
  stop = std::clamp<int64_t>(stop, start, n);
  int64_t len = (stop - start + step - 1) / step;
  Shape s = a->shape, st = a->strides;
  s[dim] = len;
  st[dim] *= step;
  return view_op(a, s, st, a->offset + start * a->strides[dim], "SliceBackward",
                 [in = a->shape, dim, start, step](const Tensor& g) { return view_backward(g, in, dim, start, step, false); });
}

Tensor select(const Tensor& a, int64_t dim, int64_t index) {
  PYDL_CHECK(a->dim() > 0, IndexError, "[select] invalid index of a 0-dim tensor");
  dim = wrap_dim(dim, a->dim(), "select");
  int64_t n = a->shape[dim];
  PYDL_CHECK(index >= -n && index < n, IndexError, "[select] index ", index, " is out of bounds for dimension ", dim,
             " with size ", n);
  if (index < 0) index += n;
  Shape s = a->shape, st = a->strides;
  s.erase(s.begin() + dim);
  st.erase(st.begin() + dim);
  return view_op(a, s, st, a->offset + index * a->strides[dim], "SelectBackward",
                 [in = a->shape, dim, index](const Tensor& g) { return view_backward(g, in, dim, index, 1, true); });
}

Tensor cat(const TensorList& ts, int64_t dim) {
  PYDL_CHECK(!ts.empty(), ValueError, "[cat] expected a non-empty list of tensors");
  const Tensor& ref = ts[0];
  PYDL_CHECK(ref->dim() > 0, ValueError, "[cat] zero-dimensional tensor (at position 0) cannot be concatenated");
  dim = wrap_dim(dim, ref->dim(), "cat");
  DType dt = ref->dtype;
  Shape out_shape = ref->shape;
  out_shape[dim] = 0;
  IntList sizes;
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    PYDL_CHECK(t->dim() == ref->dim(), ValueError, "[cat] tensors must have the same number of dimensions: got ",
               ref->dim(), " and ", t->dim(), " (tensor ", i, ")");
    for (int64_t d = 0; d < ref->dim(); ++d)
      PYDL_CHECK(d == dim || t->shape[d] == ref->shape[d], ValueError, "[cat] sizes of tensors must match except in dimension ",
                 dim, ": got ", shape_str(ref->shape), " and ", shape_str(t->shape), " (tensor ", i, ")");
    dt = promote(dt, t->dtype);
    out_shape[dim] += t->shape[dim];
    sizes.push_back(t->shape[dim]);
  }
  Tensor out = empty(out_shape, dt);
  int64_t off = 0;
  for (const Tensor& t : ts) {
    Shape s = out_shape;
    s[dim] = t->shape[dim];
    kernels::copy(*make_view(out, s, out->strides, off * out->strides[dim]), *t);
    off += t->shape[dim];
  }
  if (any_requires_grad(ts)) {
    std::vector<DType> dts;
    for (const Tensor& t : ts) dts.push_back(t->dtype);
    auto node = make_node("CatBackward", ts, [sizes, dim, dts](FunctionNode&, const TensorList& g) -> TensorList {
      TensorList parts = split(g[0], sizes, dim);
      for (size_t i = 0; i < parts.size(); ++i) parts[i] = to_dtype(parts[i], dts[i]);
      return parts;
    });
    set_history(out, node);
  }
  return out;
}

Tensor stack(const TensorList& ts, int64_t dim) {
  PYDL_CHECK(!ts.empty(), ValueError, "[stack] expected a non-empty list of tensors");
  dim = wrap_dim(dim, ts[0]->dim() + 1, "stack");
  TensorList u;
  for (size_t i = 0; i < ts.size(); ++i) {
    PYDL_CHECK(ts[i]->shape == ts[0]->shape, ValueError, "[stack] stack expects each tensor to be equal size, but got ",
               shape_str(ts[0]->shape), " at entry 0 and ", shape_str(ts[i]->shape), " at entry ", i);
    u.push_back(unsqueeze(ts[i], dim));
  }
  return cat(u, dim);
}

TensorList split(const Tensor& a, IntList sizes, int64_t dim) {
  PYDL_CHECK(a->dim() > 0, ValueError, "[split] cannot split a 0-d tensor");
  dim = wrap_dim(dim, a->dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    PYDL_CHECK(s >= 0, ValueError, "[split] split sizes must be non-negative, got ", shape_str(sizes));
    total += s;
  }
  PYDL_CHECK(total == a->shape[dim], ValueError, "[split] split sizes ", shape_str(sizes), " must sum to the size of dimension ",
             dim, " (", a->shape[dim], ")");
  TensorList out;
  int64_t off = 0;
  for (int64_t s : sizes) {
    out.push_back(slice(a, dim, off, off + s, 1));
    off += s;
  }
  return out;
}

TensorList split_size(const Tensor& a, int64_t size, int64_t dim) {
  PYDL_CHECK(a->dim() > 0, ValueError, "[split] cannot split a 0-d tensor");
  dim = wrap_dim(dim, a->dim(), "split");
  PYDL_CHECK(size > 0, ValueError, "[split] split_size must be positive, got ", size);
  int64_t n = a->shape[dim];
  IntList sizes;
  for (int64_t off = 0; off < n; off += size) sizes.push_back(std::min(size, n - off));
  if (sizes.empty()) sizes.push_back(0);
  return split(a, sizes, dim);
}

TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim) {
  PYDL_CHECK(chunks > 0, ValueError, "[chunk] chunk expects `chunks` to be greater than 0, got: ", chunks);
  PYDL_CHECK(a->dim() > 0, ValueError, "[chunk] cannot chunk a 0-d tensor");
  int64_t n = a->shape[wrap_dim(dim, a->dim(), "chunk")];
  return split_size(a, std::max<int64_t>(1, (n + chunks - 1) / chunks), dim);
}

}  // namespace pydl
