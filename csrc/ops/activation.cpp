// linear, activations, softmax and dropout: checks, forward and backward side by side.
#include <cmath>

#include "core/rng.h"
#include "kernels/dispatch.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

Reduction parse_reduction(const std::string& s, const char* op) {
  if (s == "mean") return Reduction::Mean;
  if (s == "sum") return Reduction::Sum;
  if (s == "none") return Reduction::None;
  throw ValueError(str("[", op, "] ", s, " is not a valid value for reduction (expected 'none', 'mean' or 'sum')"));
}

Tensor packed_weight_t(const Tensor& w) {
  constexpr int64_t kPackedTransposed = 1;  // derived_of's key for this layout
  return derived_of(w, {kPackedTransposed}, [&] {
    const int64_t rows = w->shape[0], cols = w->shape[1];
    Tensor p = empty({K::sgemm_packed_b_size(cols, rows)}, DType::Float32);
    K::sgemm_pack_b(cols, rows, w->data<float>(), w->strides[1], w->strides[0], p->data<float>());
    return p;
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  PYDL_CHECK(x && w, TypeError, "[linear] expected tensors for input and weight");
  PYDL_CHECK(w->dim() == 2, ValueError, "[linear] weight must be 2-D (out_features, in_features), got ", shape_str(w->shape));
  PYDL_CHECK(x->dim() >= 1 && x->shape.back() == w->shape[1], ValueError, "[linear] input ", shape_str(x->shape),
             " and weight ", shape_str(w->shape), " cannot be multiplied (last dim of input must equal weight.shape[1])");
  PYDL_CHECK(x->dtype == w->dtype && is_floating(x->dtype), TypeError, "[linear] expected input and weight of the same "
             "floating dtype, got ", dtype_name(x->dtype), " and ", dtype_name(w->dtype));
  const int64_t in = w->shape[1], outF = w->shape[0];
  if (b) {
    PYDL_CHECK(b->dim() == 1 && b->shape[0] == outF, ValueError, "[linear] bias of shape ", shape_str(b->shape),
               " does not match weight ", shape_str(w->shape));
    PYDL_CHECK(b->dtype == x->dtype, TypeError, "[linear] bias dtype ", dtype_name(b->dtype), " != ", dtype_name(x->dtype));
  }
  Shape out_shape = x->shape;
  out_shape.back() = outF;
  Device dev = common_device("linear", {x.get(), w.get(), b.get()});
  Tensor out = empty(out_shape, x->dtype, dev);
  const int64_t M = in == 0 ? x->numel : x->numel / in;
  if (out->numel > 0) {
    Tensor xc = contig(x), bc = b ? contig(b) : Tensor();
    PYDL_DISPATCH_FLOAT(x->dtype, "linear", [&] {
      if (bc) PYDL_KERNEL(dev, broadcast_rows<scalar_t>, M, outF, bc->data<scalar_t>(), out->data<scalar_t>());
      if (dev.is_cpu() && x->dtype == DType::Float32 && in > 0) {
        // (M,in) x (in,out) with the weight read transposed, packed once and reused across calls
        // until it changes (an optimizer step bumps its version)
        K::sgemm_packed_b(M, outF, in, xc->data<float>(), in, 1, packed_weight_t(w)->data<float>(), out->data<float>(),
                          outF, bool(bc));
        return;
      }
      Tensor wc = contig(w);
      // (M,in) x (in,out): weight read transposed (row stride 1, col stride in)
      PYDL_KERNEL(dev, gemm, x->dtype, 1, M, outF, in, xc->raw(), in, 1, 0, wc->raw(), 1, in, 0, out->raw(), 0, bool(bc));
    });
  }
  if (any_requires_grad({&x, &w, &b})) {
    auto node = make_node("LinearBackward", {x, w, b}, [in, outF, xs = x->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor g2 = reshape(g[0], {-1, outF});
      Tensor gx, gw, gb;
      // (M,out) x (out,in) -> (M,in);  (M,out)^T x (M,in) -> (out,in)
      if (n.next_edges[0].fn) gx = reshape(matmul(g2, n.get(1)), xs);
      if (n.next_edges[1].fn) gw = matmul(transpose(g2, 0, 1), reshape(n.get(0), {-1, in}));
      if (n.next_edges.size() > 2 && n.next_edges[2].fn) gb = sum(g2, {0}, false);
      return {gx, gw, gb};
    });
    node->saved.emplace_back(w->requires_grad ? x : Tensor(), false);
    node->saved.emplace_back(x->requires_grad ? w : Tensor(), false);
    set_history(out, node);
  }
  return out;
}

namespace {

// f''(x) of the activation, written with ops (so every higher derivative follows); null = 0.
Tensor act_second(K::Act op, const Tensor& x, double a, double b) {
  auto mask = [&](Cmp c, const Tensor& t, double v) { return to_dtype(compare(c, t, scalar_tensor(v, t->dtype)), t->dtype); };
  auto one_minus = [](const Tensor& t) { return add_scalar(neg(t), 1.0); };
  switch (op) {
    // piecewise linear: f'' = 0 almost everywhere
    case K::Act::LeakyRelu:
    case K::Act::Hardtanh:
    case K::Act::Hardsigmoid:
    case K::Act::Softshrink:
    case K::Act::Hardshrink:
    case K::Act::Threshold: return Tensor();
    case K::Act::Hardswish:  // x (x + 3) / 6 on (-3, 3): 1/3 there
      return mul_scalar(mul(mask(Cmp::Gt, x, -3.0), mask(Cmp::Lt, x, 3.0)), 1.0 / 3.0);
    case K::Act::Selu:  // scale alpha e^x for x <= 0
      return mul(mul_scalar(exp(x), 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717),
                 mask(Cmp::Le, x, 0.0));
    case K::Act::Celu:  // e^(x/alpha) / alpha for x <= 0
      return mul(mul_scalar(exp(mul_scalar(x, 1.0 / a)), 1.0 / a), mask(Cmp::Le, x, 0.0));
    case K::Act::Softsign: {  // -2 sign(x) / (1 + |x|)^3
      Tensor d = add_scalar(abs(x), 1.0);
      return div(mul_scalar(sign(x), -2.0), mul(square(d), d));
    }
    case K::Act::LogSigmoid: {  // -s (1 - s)
      Tensor sg = sigmoid(x);
      return neg(mul(sg, one_minus(sg)));
    }
    case K::Act::Tanhshrink: {  // x - tanh x: 2 t (1 - t^2)
      Tensor t = tanh(x);
      return mul_scalar(mul(t, one_minus(square(t))), 2.0);
    }
    case K::Act::Mish: {  // x t, t = tanh(softplus x), s = sigmoid x: (1 - t^2)(2 s + x s (1 - s) - 2 x t s^2)
      Tensor sp = add(relu(x), log1p(exp(neg(abs(x)))));  // softplus without overflow
      Tensor t = tanh(sp), sg = sigmoid(x), sech2 = one_minus(square(t));
      Tensor inner = add(mul_scalar(sg, 2.0), mul(x, sub(mul(sg, one_minus(sg)), mul_scalar(mul(t, square(sg)), 2.0))));
      return mul(sech2, inner);
    }
    case K::Act::Elu: return mul(mul_scalar(exp(x), a), mask(Cmp::Le, x, 0.0));
    case K::Act::Gelu:  // phi(x) (2 - x^2)
      return mul(mul_scalar(exp(mul_scalar(square(x), -0.5)), 0.3989422804014327), add_scalar(neg(square(x)), 2.0));
    case K::Act::GeluTanh: {  // f = x (1 + t) / 2, t = tanh(u), u = k (x + c x^3)
      const double k = 0.7978845608028654, c = 0.044715;
      Tensor x2 = square(x), t = tanh(mul_scalar(add(x, mul_scalar(mul(x2, x), c)), k));
      Tensor sech2 = one_minus(square(t)), du = mul_scalar(add_scalar(mul_scalar(x2, 3 * c), 1.0), k);
      Tensor d2u = mul_scalar(x, 6 * c * k);
      // f'' = sech2 u' + x/2 (sech2 u'' - 2 t sech2 u'^2)
      Tensor inner = sub(mul(sech2, d2u), mul_scalar(mul(mul(t, sech2), square(du)), 2.0));
      return add(mul(sech2, du), mul_scalar(mul(x, inner), 0.5));
    }
    case K::Act::Silu: {  // s (1 - s) (2 + x (1 - 2 s))
      Tensor sg = sigmoid(x);
      return mul(mul(sg, one_minus(sg)), add_scalar(mul(x, add_scalar(mul_scalar(sg, -2.0), 1.0)), 2.0));
    }
    case K::Act::Softplus: {  // beta s (1 - s), s = sigmoid(beta x), where beta x <= threshold
      Tensor sg = sigmoid(mul_scalar(x, a));
      return mul(mul_scalar(mul(sg, one_minus(sg)), a), mask(Cmp::Le, mul_scalar(x, a), b));
    }
  }
  return Tensor();  // unreachable: every Act has its case above (-Wswitch names a missing one)
}

// g * f'(x) by the fused kernel; differentiable again (create_graph) through act_second.
Tensor act_grad(K::Act op, const Tensor& g, const Tensor& x, double a, double b, const char* name) {
  Tensor xs = contig(x), gc = contig(g);
  Device dev = common_device(name, {xs.get(), gc.get()});
  Tensor gx = empty(xs->shape, xs->dtype, dev);
  PYDL_DISPATCH_FLOAT(xs->dtype, name, [&] {
    PYDL_KERNEL(dev, act_backward<scalar_t>, op, xs->numel, gc->data<scalar_t>(), xs->data<scalar_t>(),
                gx->data<scalar_t>(), a, b);
  });
  if (any_requires_grad({&g, &x})) {
    auto node = make_node("ActivationBackwardBackward", {g, x}, [op, a, b, name](FunctionNode& n, const TensorList& gg) -> TensorList {
      Tensor g = n.get(0), x = n.get(1);
      Tensor d2 = act_second(op, x, a, b);
      // d(g f'(x))/dg = f'(x);  d(g f'(x))/dx = g f''(x)
      return {act_grad(op, gg[0], x, a, b, name), d2 ? mul(mul(gg[0], g), d2) : zeros(x->shape, x->dtype, x->device())};
    });
    node->saved.emplace_back(g, false);
    node->saved.emplace_back(x, false);
    set_history(gx, node);
  }
  return gx;
}

Tensor act(const Tensor& x, K::Act op, double a, double b, const char* name, const char* bname) {
  PYDL_CHECK(x, TypeError, "[", name, "] expected a tensor");
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[", name, "] expected a floating tensor, got ", dtype_name(x->dtype));
  Tensor xc = contig(x);
  Tensor out = empty(x->shape, x->dtype, x->device());
  PYDL_DISPATCH_FLOAT(x->dtype, name, [&] {
    PYDL_KERNEL(x->device(), act_forward<scalar_t>, op, x->numel, xc->data<scalar_t>(), out->data<scalar_t>(), a, b);
  });
  if (any_requires_grad({&x})) {
    auto node = make_node(bname, {x}, [op, a, b, name](FunctionNode& n, const TensorList& g) -> TensorList {
      return {act_grad(op, g[0], n.get(0), a, b, name)};
    });
    node->saved.emplace_back(x, false);
    set_history(out, node);
  }
  return out;
}

Tensor softmax_impl(const Tensor& x, int64_t dim_, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[", name, "] expected a floating tensor, got ", dtype_name(x->dtype));
  int64_t nd = std::max<int64_t>(x->dim(), 1);
  int64_t dim = wrap_dim(dim_, nd, name);
  int64_t outer = 1, D = x->dim() ? x->shape[dim] : 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= x->shape[i];
  for (int64_t i = dim + 1; i < x->dim(); ++i) inner *= x->shape[i];
  Tensor xc = contig(x);
  Tensor out = empty(x->shape, x->dtype, x->device());
  if (x->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, name, [&] {
      PYDL_KERNEL(x->device(), softmax_forward<scalar_t>, outer, D, inner, xc->data<scalar_t>(), out->data<scalar_t>(), log);
    });
  if (any_requires_grad({&x})) {
    auto node = make_node(log ? "LogSoftmaxBackward" : "SoftmaxBackward", {x}, [outer, D, inner, log, name](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor y = n.get(0), gc = contig(g[0]);
      Device dev = common_device(name, {y.get(), gc.get()});
      Tensor gx = empty(y->shape, y->dtype, dev);
      if (y->numel > 0)
        PYDL_DISPATCH_FLOAT(y->dtype, name, [&] {
          PYDL_KERNEL(dev, softmax_backward<scalar_t>, outer, D, inner, gc->data<scalar_t>(), y->data<scalar_t>(),
                      gx->data<scalar_t>(), log);
        });
      return {gx};
    });
    node->once_differentiable = true;  // backward runs raw kernels
    // softmax: y (g - sum(g y)); log_softmax: g - e^y sum(g)
    node->graph_fn = [dims = x->dim() ? IntList{dim} : IntList{}, log](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor y = n.get(0);
      if (log) return {sub(g[0], mul(exp(y), sum(g[0], dims, true)))};
      return {mul(y, sub(g[0], sum(mul(g[0], y), dims, true)))};
    };
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

}  // namespace

#define PYDL_DEFINE_ACT(NAME, NODE, PARAMS, KERNEL, A, B, CHECK) \
  Tensor NAME(const Tensor& x PYDL_UNPAREN PARAMS) {                 \
    using Act = K::Act;                                             \
    CHECK;                                                          \
    return act(x, KERNEL, A, B, #NAME, #NODE "Backward");           \
  }
PYDL_ACTIVATIONS(PYDL_DEFINE_ACT)
#undef PYDL_DEFINE_ACT
Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, true); }

Tensor dropout(const Tensor& x, double p, bool training) {
  PYDL_CHECK(p >= 0 && p <= 1, ValueError, "[dropout] probability has to be between 0 and 1, but got ", p);
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[dropout] expected a floating tensor, got ", dtype_name(x->dtype));
  if (!training || p == 0) return x;
  Tensor mask = empty(x->shape, x->dtype, x->device());
  uint64_t seed;
  {
    Generator& gen = x->device().is_cuda() ? cuda_generator() : default_generator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    seed = gen.next_u64();
  }
  PYDL_DISPATCH_FLOAT(x->dtype, "dropout", [&] {
    PYDL_KERNEL(x->device(), dropout_mask<scalar_t>, mask->numel, seed, p, mask->data<scalar_t>());
  });
  return mul(x, mask);
}

}  // namespace pydl
