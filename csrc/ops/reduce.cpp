// Reductions over one, several or all dims, with keepdim.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/dispatch.h"
#include "ops/ops.h"

namespace pydl {

namespace K = kernels;

namespace {

struct Layout {
  Tensor in;  // contiguous, viewed as (outer, R, inner)
  int64_t outer = 1, R = 1, inner = 1;
  Shape keep_shape, out_shape;  // with and without the reduced dims
  std::vector<bool> reduced;
};

Layout layout(const Tensor& a, IntList dims, bool keepdim, const char* op) {
  int64_t n = a->dim();
  Layout L;
  L.reduced.assign(n, dims.empty());
  for (int64_t d : dims) {
    if (n == 0) { wrap_dim(d, 0, op); continue; }
    int64_t w = wrap_dim(d, n, op);
    PYDL_CHECK(!L.reduced[w] || dims.empty(), ValueError, "[", op, "] dim ", w, " appears multiple times in the list of dims");
    L.reduced[w] = true;
  }
  IntList kept, red;
  for (int64_t i = 0; i < n; ++i) {
    (L.reduced[i] ? red : kept).push_back(i);
    L.keep_shape.push_back(L.reduced[i] ? 1 : a->shape[i]);
    if (!L.reduced[i]) L.out_shape.push_back(a->shape[i]);
  }
  (void)keepdim;
  // A contiguous block of reduced dims needs no permutation.
  bool block = red.empty() || (red.back() - red.front() + 1 == static_cast<int64_t>(red.size()));
  if (block) {
    L.in = a->is_contiguous() ? a : contiguous_copy(a);
    if (!red.empty()) {
      for (int64_t i = 0; i < red.front(); ++i) L.outer *= a->shape[i];
      for (int64_t i : red) L.R *= a->shape[i];
      for (int64_t i = red.back() + 1; i < n; ++i) L.inner *= a->shape[i];
    } else {
      L.outer = a->numel;
    }
  } else {
    IntList perm = kept;
    perm.insert(perm.end(), red.begin(), red.end());
    Shape s, st;
    for (int64_t p : perm) { s.push_back(a->shape[p]); st.push_back(a->strides[p]); }
    L.in = contiguous_copy(make_view(a, s, st, a->offset));
    for (int64_t i : kept) L.outer *= a->shape[i];
    for (int64_t i : red) L.R *= a->shape[i];
  }
  return L;
}

Tensor reduce_raw(K::ReduceOp op, const Tensor& a, const Layout& L, bool keepdim, DType out_dtype) {
  Tensor out = empty(keepdim ? L.keep_shape : L.out_shape, out_dtype, a->device());
  PYDL_KERNEL(a->device(), reduce, op, *out, *L.in, L.outer, L.R, L.inner);
  (void)a;
  return out;
}

IntList all_dims_if_empty(const Tensor& a, const IntList& dims) {
  if (!dims.empty()) return dims;
  IntList d(a->dim());
  for (int64_t i = 0; i < a->dim(); ++i) d[i] = i;
  return d;
}

// Gradient of a reduction, broadcast back to the input's shape.
Tensor expand_back(const Tensor& g, const Shape& keep_shape, const Shape& in_shape) {
  return expand(reshape(g, keep_shape), in_shape);
}

}  // namespace

Tensor prod_keep(const Tensor& a, const IntList& dims, const Shape& keep_shape);

Tensor sum(const Tensor& a, IntList dims, bool keepdim, std::optional<DType> dtype) {
  Layout L = layout(a, dims, keepdim, "sum");
  DType dt = dtype ? *dtype : (is_floating(a->dtype) ? a->dtype : DType::Int64);
  Tensor src = a;
  if (dt != a->dtype && is_floating(dt)) { src = to_dtype(a, dt); L = layout(src, dims, keepdim, "sum"); }
  Tensor out = reduce_raw(K::ReduceOp::Sum, src, L, keepdim, dt);
  if (any_requires_grad({&src})) {
    auto node = make_node("SumBackward", {src}, [ks = L.keep_shape, in = src->shape](FunctionNode&, const TensorList& g) -> TensorList {
      return {expand_back(g[0], ks, in)};
    });
    set_history(out, node);
  }
  return out;
}

Tensor mean(const Tensor& in, IntList dims, bool keepdim, std::optional<DType> dtype) {
  const Tensor& a = dtype ? to_dtype(in, *dtype) : in;
  PYDL_CHECK(is_floating(a->dtype), TypeError, "[mean] could not infer output dtype. Input dtype must be either a "
             "floating point or complex dtype. Got: ", dtype_name(a->dtype));
  Layout L = layout(a, dims, keepdim, "mean");
  Tensor s = sum(a, dims, keepdim);
  return mul_scalar(s, L.R == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / static_cast<double>(L.R));
}

Tensor prod(const Tensor& in, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype) {
  const Tensor& a = dtype ? to_dtype(in, *dtype) : in;
  IntList dims = dim ? IntList{*dim} : IntList{};
  Layout L = layout(a, dims, keepdim, "prod");
  DType dt = is_floating(a->dtype) ? a->dtype : DType::Int64;
  Tensor out = reduce_raw(K::ReduceOp::Prod, a, L, keepdim, dt);
  if (any_requires_grad({&a})) {
    auto node = make_node("ProdBackward", {a}, [dims, ks = L.keep_shape, in = a->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      // d prod / dx_i = product of the others, computed without dividing by zero
      Tensor x = n.get(0);
      Tensor zero = scalar_tensor(0, x->dtype), one = scalar_tensor(1, x->dtype);
      Tensor is0 = compare(Cmp::Eq, x, zero);
      Tensor nz = where(is0, one, x);
      Tensor pn = reshape(prod_keep(nz, dims, ks), ks);
      Tensor zc = reshape(sum(is0, dims, true), ks);
      Tensor none0 = compare(Cmp::Eq, zc, scalar_tensor(0, DType::Int64));
      Tensor one0 = compare(Cmp::Eq, zc, scalar_tensor(1, DType::Int64));
      Tensor grad_x = where(none0, div(pn, nz), where(is0, mul(pn, to_dtype(one0, x->dtype)), zero));
      return {mul(expand_back(g[0], ks, in), grad_x)};
    });
    node->saved.emplace_back(a, false);
    set_history(out, node);
  }
  return out;
}

// prod over `dims` (empty = all) keeping dims, used by prod's backward.
Tensor prod_keep(const Tensor& a, const IntList& dims, const Shape& keep_shape) {
  if (dims.empty()) return reshape(prod(a, std::nullopt, false), keep_shape);
  return prod(a, dims[0], true);
}

namespace {
Tensor amaxmin(const Tensor& a, IntList dims, bool keepdim, bool is_max) {
  const char* name = is_max ? "amax" : "amin";
  PYDL_CHECK(a->numel > 0, RuntimeError, "[", name, "] expected a non-empty tensor when reducing over all dims or a zero-size dim");
  Layout L = layout(a, dims, keepdim, name);
  PYDL_CHECK(L.R > 0, RuntimeError, "[", name, "] cannot reduce over a zero-size dimension");
  Tensor out = reduce_raw(is_max ? K::ReduceOp::Max : K::ReduceOp::Min, a, L, keepdim, a->dtype);
  if (any_requires_grad({&a})) {
    auto node = make_node(is_max ? "AmaxBackward" : "AminBackward", {a}, [dims, ks = L.keep_shape, in = a->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      // ties share the gradient evenly
      Tensor x = n.get(0), r = reshape(n.get(1), ks);
      Tensor mask = to_dtype(compare(Cmp::Eq, x, r), g[0]->dtype);
      Tensor cnt = sum(mask, dims, true);
      return {div(mul(expand_back(g[0], ks, in), mask), cnt)};
    });
    node->saved.emplace_back(a, false);
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

std::pair<Tensor, Tensor> minmax_dim(const Tensor& a, int64_t dim, bool keepdim, bool is_max) {
  const char* name = is_max ? "max" : "min";
  int64_t d = a->dim() == 0 ? 0 : wrap_dim(dim, a->dim(), name);
  Layout L = layout(a, {dim}, keepdim, name);
  PYDL_CHECK(L.R > 0, IndexError, "[", name, "] cannot compute ", name, " over an empty dimension ", d,
             " of a tensor of shape ", shape_str(a->shape));
  Shape s = keepdim ? L.keep_shape : L.out_shape;
  Tensor vals = empty(s, a->dtype, a->device()), idx = empty(s, DType::Int64, a->device());
  PYDL_KERNEL(a->device(), arg_reduce, is_max, vals.get(), *idx, *L.in, L.outer, L.R, L.inner);
  if (any_requires_grad({&a})) {
    auto node = make_node(is_max ? "MaxBackward" : "MinBackward", {a}, [d, ks = L.keep_shape, in = a->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      // one-hot of the chosen index along d
      Tensor ix = reshape(n.get(0), ks);
      Shape ar(in.size(), 1);
      if (!in.empty()) ar[d] = in[d];
      Tensor pos = reshape(copy_contiguous_to(arange(0, in.empty() ? 1 : in[d], 1, DType::Int64), ix->device()), ar);
      Tensor onehot = to_dtype(compare(Cmp::Eq, pos, ix), g[0]->dtype);
      return {mul(expand_back(g[0], ks, in), onehot)};
    });
    node->saved.emplace_back(idx, false);
    set_history(TensorList{vals, Tensor()}, node);
  }
  return {vals, idx};
}

Tensor arg(const Tensor& a, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  const char* name = is_max ? "argmax" : "argmin";
  PYDL_CHECK(a->numel > 0, RuntimeError, "[", name, "] expected a non-empty tensor");
  if (!dim) {
    Tensor flat = reshape(a, {-1});
    Layout L = layout(flat, {0}, false, name);
    Tensor idx = empty({}, DType::Int64, a->device());
    PYDL_KERNEL(a->device(), arg_reduce, is_max, nullptr, *idx, *L.in, 1, L.R, 1);
    return keepdim ? reshape(idx, IntList(a->dim(), 1)) : idx;
  }
  Layout L = layout(a, {*dim}, keepdim, name);
  PYDL_CHECK(L.R > 0, IndexError, "[", name, "] cannot compute over an empty dimension");
  Tensor idx = empty(keepdim ? L.keep_shape : L.out_shape, DType::Int64, a->device());
  PYDL_KERNEL(a->device(), arg_reduce, is_max, nullptr, *idx, *L.in, L.outer, L.R, L.inner);
  return idx;
}
}  // namespace

Tensor amax(const Tensor& a, IntList dims, bool keepdim) { return amaxmin(a, dims, keepdim, true); }
Tensor amin(const Tensor& a, IntList dims, bool keepdim) { return amaxmin(a, dims, keepdim, false); }
std::pair<Tensor, Tensor> max_dim(const Tensor& a, int64_t dim, bool keepdim) { return minmax_dim(a, dim, keepdim, true); }
std::pair<Tensor, Tensor> min_dim(const Tensor& a, int64_t dim, bool keepdim) { return minmax_dim(a, dim, keepdim, false); }
Tensor argmax(const Tensor& a, std::optional<int64_t> dim, bool keepdim) { return arg(a, dim, keepdim, true); }
Tensor argmin(const Tensor& a, std::optional<int64_t> dim, bool keepdim) { return arg(a, dim, keepdim, false); }

Tensor var(const Tensor& a, IntList dims, double correction, bool keepdim) {
  PYDL_CHECK(is_floating(a->dtype), TypeError, "[var] expected a floating dtype, got ", dtype_name(a->dtype));
  Layout L = layout(a, dims, keepdim, "var");
  Tensor d = sub(a, mean(a, dims, true));
  Tensor ss = sum(mul(d, d), dims, keepdim);
  double denom = std::max(0.0, static_cast<double>(L.R) - correction);
  return mul_scalar(ss, denom == 0 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / denom);
}

Tensor std(const Tensor& a, IntList dims, double correction, bool keepdim) {
  Tensor v = var(a, dims, correction, keepdim);
  Tensor out;
  {
    AutoGradMode off(false);
    out = sqrt(v);
  }
  if (any_requires_grad({&v})) {
    auto node = make_node("StdBackward", {v}, [](FunctionNode& n, const TensorList& g) -> TensorList {
      // d sqrt(v) = g / (2 sqrt(v)), taken as 0 where std is 0 (a constant input), as torch does
      Tensor s = n.get(0), zero = scalar_tensor(0, n.get(0)->dtype);
      return {where(compare(Cmp::Eq, s, zero), zero, div(g[0], mul_scalar(s, 2.0)))};
    });
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

Tensor logsumexp(const Tensor& a, IntList dims, bool keepdim) {
  Tensor x = is_floating(a->dtype) ? a : to_dtype(a, DType::Float32);
  if (x->numel == 0) return log(sum(exp(x), dims, keepdim));
  Tensor m;
  {
    AutoGradMode off(false);  // the shift is a constant for autograd
    m = amax(x, all_dims_if_empty(x, dims), true);
    m = where(compare(Cmp::Eq, abs(m), scalar_tensor(std::numeric_limits<double>::infinity(), m->dtype)),
              scalar_tensor(0, m->dtype), m);
  }
  Tensor r = add(log(sum(exp(sub(x, m)), dims, true)), m);
  if (keepdim) return r;
  Layout L = layout(x, dims, false, "logsumexp");
  return reshape(r, L.out_shape);
}

}  // namespace pydl

namespace pydl {

Tensor vector_norm(const Tensor& a, double ord, IntList dims, bool keepdim) {
  PYDL_CHECK(is_floating(a->dtype), TypeError, "[vector_norm] expected a floating point tensor as input, got ",
             dtype_name(a->dtype));
  if (std::isinf(ord)) {
    PYDL_CHECK(a->numel > 0 || !dims.empty(), RuntimeError, "[vector_norm] the norm of order ", ord,
               " is not defined for an empty tensor");
    return ord > 0 ? amax(abs(a), dims, keepdim) : amin(abs(a), dims, keepdim);  // abs'(0) = 0, as torch
  }
  if (ord == 0) {  // the number of nonzeros: piecewise constant, no gradient
    AutoGradMode off(false);
    return sum(compare(Cmp::Ne, a, scalar_tensor(0, a->dtype)), dims, keepdim, a->dtype);
  }
  if (ord == 1) return sum(abs(a), dims, keepdim);
  Layout L = layout(a, dims, keepdim, "vector_norm");
  Tensor out;
  {
    AutoGradMode off(false);
    out = ord == 2 ? sqrt(sum(mul(a, a), dims, keepdim)) : pow_scalar(sum(pow_scalar(abs(a), ord), dims, keepdim), 1.0 / ord);
  }
  if (any_requires_grad({&a})) {
    auto node = make_node("NormBackward", {a}, [ord, ks = L.keep_shape, in = a->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      // d||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1)  (x / ||x|| for p = 2), taken as 0 where ||x|| = 0
      Tensor x = n.get(0), nrm = reshape(n.get(1), ks), zero = scalar_tensor(0, x->dtype);
      Tensor num = ord == 2 ? x : mul(sign(x), pow_scalar(abs(x), ord - 1));
      Tensor den = ord == 2 ? nrm : pow_scalar(nrm, ord - 1);
      Tensor safe = where(compare(Cmp::Eq, den, zero), scalar_tensor(1, x->dtype), den);
      Tensor d = where(compare(Cmp::Eq, expand(den, in), zero), zero, div(num, safe));
      return {mul(expand_back(g[0], ks, in), d)};
    });
    node->saved.emplace_back(a, false);
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

}  // namespace pydl
