// Cumulative ops along one dim (cumsum lives with the indexing ops): cumprod,
// logcumsumexp, cummax / cummin. Checks, forward and backward side by side.
#include "kernels/cpu/scan.h"
#include "kernels/dispatch.h"
#include "ops/device.h"
#include "ops/ops.h"

namespace pydl {

namespace K = kernels;

namespace {
struct Lines { int64_t dim, outer = 1, R = 1, inner = 1; };

Lines lines_of(const Tensor& a, int64_t dim, const char* op) {
  PYDL_CHECK(a, TypeError, "[", op, "] expected a tensor, got None");
  Lines L;
  L.dim = wrap_dim(dim, std::max<int64_t>(a->dim(), 1), op);
  for (int64_t i = 0; i < a->dim(); ++i) (i < L.dim ? L.outer : i == L.dim ? L.R : L.inner) *= a->shape[i];
  return L;
}
// The suffix sum of v along `dim` (sum over j >= i), written with ops.
Tensor rev_cumsum(const Tensor& v, int64_t dim) { return add(sub(sum(v, {dim}, true), cumsum(v, dim)), v); }

// cumprod's gradient written with ops: gx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k. Without zeros in x that is
// rev_cumsum(g y) / x; with zeros, prod_{k < i} x_k sum_{j >= i} g_j prod_{i < k <= j} x_k, the inner products being
// a cumprod over a (..., R, R) matrix (x_k where k > i, else 1).
Tensor cumprod_grad_ops(const Tensor& x, const Tensor& g, int64_t dim) {
  bool zeros_in;
  {
    AutoGradMode off(false);
    zeros_in = contig(to_device(sum(to_dtype(compare(Cmp::Eq, x, scalar_tensor(0.0, x->dtype)), DType::Int64), {}, false),
                                Device{}, false))->data<int64_t>()[0] > 0;
  }
  if (!zeros_in) return div(rev_cumsum(mul(g, cumprod(x, dim)), dim), x);
  const int64_t R = x->shape[dim];
  Tensor xt = transpose(x, dim, -1), gt = transpose(g, dim, -1);  // (..., R)
  Tensor ar = arange(0, double(R), 1, DType::Int64);
  if (x->device().is_cuda()) ar = to_device(ar, x->device(), false);
  Tensor j = unsqueeze(ar, 0), i = unsqueeze(ar, 1);
  // z[..., i, j] = prod_{i < k <= j} x_k
  Tensor z = cumprod(where(compare(Cmp::Gt, j, i), unsqueeze(xt, -2), scalar_tensor(1.0, x->dtype)), -1);
  Tensor inner = sum(mul(mul(z, to_dtype(compare(Cmp::Ge, j, i), x->dtype)), unsqueeze(gt, -2)), {-1}, false);
  Shape one = xt->shape;
  one.back() = 1;
  Tensor before = cat({full(one, 1.0, x->dtype, x->device()), slice(cumprod(xt, -1), -1, 0, R - 1, 1)}, -1);  // prod_{k < i}
  return transpose(mul(before, inner), dim, -1);
}

}  // namespace

Tensor cumprod(const Tensor& a, int64_t dim) {
  Lines L = lines_of(a, dim, "cumprod");
  DType dt = is_floating(a->dtype) ? a->dtype : DType::Int64;
  Tensor x = contiguous_copy(cast_raw(a, dt));
  const Device dev = a->device();
  Tensor out = empty(a->shape, dt, dev);
  PYDL_DISPATCH_NUMERIC(dt, "cumprod", [&] {
    PYDL_KERNEL(dev, cumprod_forward<scalar_t>, L.outer, L.R, L.inner, x->data<scalar_t>(), out->data<scalar_t>());
  });
  if (any_requires_grad({&a})) {
    auto node = make_node("CumprodBackward", {a}, [L](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor xs = contig(n.get(0)), gc = contig(g[0]);
      const Device dev = common_device("cumprod", {xs.get(), gc.get()});
      Tensor gx = empty(xs->shape, xs->dtype, dev);
      PYDL_DISPATCH_FLOAT(xs->dtype, "cumprod", [&] {
        PYDL_KERNEL(dev, cumprod_backward<scalar_t>, L.outer, L.R, L.inner, xs->data<scalar_t>(), gc->data<scalar_t>(), gx->data<scalar_t>());
      });
      return {gx};
    });
    node->saved.emplace_back(a, false);
    node->once_differentiable = true;  // backward runs a raw kernel
    if (is_floating(dt))
      node->graph_fn = [dim = L.dim, nd = a->dim()](FunctionNode& n, const TensorList& g) -> TensorList {
        return {nd ? cumprod_grad_ops(n.get(0), g[0], dim) : g[0]};
      };
    set_history(out, node);
  }
  return out;
}

Tensor logcumsumexp(const Tensor& a, int64_t dim) {
  Lines L = lines_of(a, dim, "logcumsumexp");
  PYDL_CHECK(is_floating(a->dtype), TypeError, "[logcumsumexp] expected a floating tensor, got ", dtype_name(a->dtype));
  const Device dev = a->device();
  Tensor x = contig(a);
  Tensor out = empty(a->shape, a->dtype, dev);
  PYDL_DISPATCH_FLOAT(a->dtype, "logcumsumexp", [&] {
    PYDL_KERNEL(dev, logcumsumexp_forward<scalar_t>, L.outer, L.R, L.inner, x->data<scalar_t>(), out->data<scalar_t>());
  });
  if (any_requires_grad({&a})) {
    auto node = make_node("LogcumsumexpBackward", {a}, [L](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor xs = contig(n.get(0)), ys = contig(n.get(1)), gc = contig(g[0]);
      const Device dev = common_device("logcumsumexp", {xs.get(), gc.get()});
      Tensor gx = empty(xs->shape, xs->dtype, dev);
      PYDL_DISPATCH_FLOAT(xs->dtype, "logcumsumexp", [&] {
        PYDL_KERNEL(dev, logcumsumexp_backward<scalar_t>, L.outer, L.R, L.inner, xs->data<scalar_t>(),
                    ys->data<scalar_t>(), gc->data<scalar_t>(), gx->data<scalar_t>());
      });
      return {gx};
    });
    node->saved.emplace_back(a, false);
    node->once_differentiable = true;
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

std::pair<Tensor, Tensor> cummax(const Tensor& a, int64_t dim, bool is_max) {
  const char* name = is_max ? "cummax" : "cummin";
  Lines L = lines_of(a, dim, name);
  PYDL_CHECK(a->dtype != DType::Bool, TypeError, "[", name, "] bool tensors are not supported; convert with .long()");
  Tensor x = contig(a);
  const Device dev = a->device();
  Tensor vals = empty(a->shape, a->dtype, dev), idx = empty(a->shape, DType::Int64, dev);
  PYDL_DISPATCH_NUMERIC(a->dtype, name, [&] {
    PYDL_KERNEL(dev, cummax_forward<scalar_t>, L.outer, L.R, L.inner, x->data<scalar_t>(), vals->data<scalar_t>(),
                idx->data<int64_t>(), is_max);
  });
  if (any_requires_grad({&a})) {
    // each output's gradient goes to the element it copied
    auto node = make_node(is_max ? "CummaxBackward" : "CumminBackward", {a}, [L, shape = a->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      if (shape.empty()) return {g[0]};
      return {scatter_add(zeros(shape, g[0]->dtype, g[0]->device()), L.dim, n.get(0), g[0])};
    });
    node->saved.emplace_back(idx, false);
    set_history(TensorList{vals, Tensor()}, node);
  }
  return {vals, idx};
}

Tensor searchsorted(const Tensor& sorted, const Tensor& values, bool right) {
  PYDL_CHECK(sorted && values, TypeError, "[searchsorted] expected tensors");
  const Device dev = common_device("searchsorted", {sorted.get(), values.get()});
  PYDL_CHECK(sorted->dim() >= 1, ValueError, "[searchsorted] sorted_sequence must have at least 1 dim, got shape ",
             shape_str(sorted->shape));
  const int64_t M = sorted->shape.back();
  int64_t rows = 1, K = values->dim() ? values->shape.back() : 1;
  if (sorted->dim() > 1) {
    Shape lead_s(sorted->shape.begin(), sorted->shape.end() - 1);
    Shape lead_v(values->shape.begin(), values->shape.end() - (values->dim() ? 1 : 0));
    PYDL_CHECK(lead_s == lead_v, ValueError, "[searchsorted] boundaries ", shape_str(sorted->shape), " and input ",
               shape_str(values->shape), " must have the same leading dims (all but the last)");
    for (int64_t d : lead_s) rows *= d;
  } else {
    rows = K ? values->numel / K : 0;
  }
  DType dt = promote(sorted->dtype, values->dtype);
  PYDL_CHECK(dt != DType::Bool, TypeError, "[searchsorted] bool tensors are not supported");
  Tensor s = contiguous_copy(cast_raw(sorted, dt)), v = contiguous_copy(cast_raw(values, dt));
  Tensor out = empty(values->shape, DType::Int64, dev);
  if (values->numel > 0)
    PYDL_DISPATCH_NUMERIC(dt, "searchsorted", [&] {
      PYDL_KERNEL(dev, searchsorted<scalar_t>, rows, M, K, s->data<scalar_t>(), sorted->dim() > 1 ? M : 0,
                  v->data<scalar_t>(), out->data<int64_t>(), right);
    });
  return out;
}

}  // namespace pydl
