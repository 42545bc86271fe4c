// Losses: cross_entropy (one fused log-softmax + NLL kernel), nll_loss, and the pointwise
// losses. Checks, forward and backward side by side.
#include <cmath>

#include "kernels/dispatch.h"
#include "ops/device.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

namespace {

struct ClassLayout { int64_t N, C, inner; Shape tshape; };

// Validates logits (N, C, d...) or (C,) against class-index targets.
ClassLayout class_layout(const Tensor& x, const Tensor& t, const Tensor& w, int64_t ignore, const char* op) {
  PYDL_CHECK(x && t, TypeError, "[", op, "] expected tensors for input and target");
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[", op, "] expected a floating input, got ", dtype_name(x->dtype));
  PYDL_CHECK(t->dtype == DType::Int64, TypeError, "[", op, "] expected target of dtype int64 (class indices), got ",
             dtype_name(t->dtype), " with shape ", shape_str(t->shape));
  PYDL_CHECK(x->dim() >= 1, ValueError, "[", op, "] input must have at least 1 dim, got ", shape_str(x->shape));
  ClassLayout L;
  if (x->dim() == 1) {
    PYDL_CHECK(t->dim() == 0, ValueError, "[", op, "] input ", shape_str(x->shape), " expects a 0-d target, got ", shape_str(t->shape));
    L = {1, x->shape[0], 1, {}};
  } else {
    Shape expect{x->shape[0]};
    for (int64_t i = 2; i < x->dim(); ++i) expect.push_back(x->shape[i]);
    PYDL_CHECK(t->shape == expect, ValueError, "[", op, "] input ", shape_str(x->shape), " expects target of shape ",
               shape_str(expect), ", got ", shape_str(t->shape));
    int64_t inner = 1;
    for (int64_t i = 2; i < x->dim(); ++i) inner *= x->shape[i];
    L = {x->shape[0], x->shape[1], inner, expect};
  }
  if (w) {
    PYDL_CHECK(w->dim() == 1 && w->shape[0] == L.C, ValueError, "[", op, "] weight should have one entry per class (",
               L.C, "), got shape ", shape_str(w->shape));
    PYDL_CHECK(w->dtype == x->dtype, TypeError, "[", op, "] weight dtype ", dtype_name(w->dtype), " != input dtype ",
               dtype_name(x->dtype));
  }
  common_device(op, {x.get(), t.get(), w.get()});
  Tensor tc = copy_contiguous_to(contig(t), Device{});  // checked on the host (a copy from a GPU)
  const int64_t* tp = tc->data<int64_t>();
  for (int64_t i = 0; i < tc->numel; ++i)
    PYDL_CHECK((tp[i] >= 0 && tp[i] < L.C) || tp[i] == ignore, IndexError, "[", op, "] target ", tp[i],
               " is out of bounds for ", L.C, " classes (input ", shape_str(x->shape), ")");
  return L;
}

template <typename T>
double sum_of(const T* p, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += p[i];
  return s;
}

// Reduces per-element losses; returns the scale the backward applies (1/total weight for mean).
Tensor finish(const Tensor& loss, const Tensor& wsum, Reduction red, const Shape& tshape, double& scale) {
  scale = 1;
  if (red == Reduction::None) { loss->shape = tshape; loss->strides = contiguous_strides(tshape); return loss; }
  Tensor lh = copy_contiguous_to(loss, Device{}), wh = copy_contiguous_to(wsum, Device{});  // summed in double on the host
  return PYDL_DISPATCH_FLOAT(loss->dtype, "loss", [&] {
    double s = sum_of(lh->data<scalar_t>(), lh->numel);
    if (red == Reduction::Mean) {
      double wt = sum_of(wh->data<scalar_t>(), wh->numel);
      scale = 1.0 / wt;
      s = s / wt;
    }
    return scalar_tensor(s, loss->dtype, loss->device());
  });
}

// The op-written backward of a class loss (its gradient recorded, for create_graph). The gradient with respect
// to the log-probabilities is -g Q, where the constant Q (x's shape) is
// scale (1 - ls) w[t] onehot(t) + scale ls / C w on the rows whose target is not ignored.
Tensor class_loss_logp_grad(const Shape& xs, DType dt, const Tensor& t, const Tensor& w, const Tensor& g, Reduction red,
                            int64_t ignore, double ls, double scale) {
  const int64_t nd = int64_t(xs.size()), cdim = nd == 1 ? 0 : 1, C = xs[cdim];
  Tensor q;
  {
    AutoGradMode off(false);
    Tensor keep = compare(Cmp::Ne, t, scalar_tensor(double(ignore), DType::Int64));
    Tensor ts = where(keep, t, scalar_tensor(0.0, DType::Int64));  // ignored targets may be out of range
    Tensor wt = w ? index(w, {ts}) : full(t->shape, 1.0, dt, t->device());
    q = to_dtype(one_hot(ts, C), dt);  // (N, d..., C)
    if (cdim == 1) {
      IntList perm{0, nd - 1};
      for (int64_t i = 1; i < nd - 1; ++i) perm.push_back(i);
      q = permute(q, perm);  // (N, C, d...)
    }
    Tensor keepk = mul_scalar(to_dtype(keep, dt), scale);  // target shape, then a class dim of 1
    if (cdim == 1) { keepk = unsqueeze(keepk, 1); wt = unsqueeze(wt, 1); }
    q = mul(q, mul_scalar(wt, 1.0 - ls));
    if (ls > 0) {
      Shape ws(nd, 1);
      ws[cdim] = C;
      q = add(q, mul_scalar(w ? reshape(w, ws) : full(ws, 1.0, dt, t->device()), ls / double(C)));
    }
    q = mul(keepk, q);
  }
  Tensor ge = red == Reduction::None && cdim == 1 ? unsqueeze(g, 1) : g;
  return neg(mul(ge, q));
}

}  // namespace

Tensor cross_entropy(const Tensor& x, const Tensor& t, const Tensor& w, Reduction red, int64_t ignore, double ls) {
  ClassLayout L = class_layout(x, t, w, ignore, "cross_entropy");
  PYDL_CHECK(ls >= 0 && ls <= 1, ValueError, "[cross_entropy] label_smoothing must be between 0.0 and 1.0, got ", ls);
  Tensor xc = contig(x), tc = contig(t), wc = w ? contig(w) : Tensor();
  const int64_t R = L.N * L.inner;
  Device dev = x->device();
  Tensor loss = empty({R}, x->dtype, dev), lse = empty({R}, x->dtype, dev), wsum = empty({R}, x->dtype, dev);
  PYDL_DISPATCH_FLOAT(x->dtype, "cross_entropy", [&] {
    PYDL_KERNEL(dev, cross_entropy_forward<scalar_t>, L.N, L.C, L.inner, xc->data<scalar_t>(), tc->data<int64_t>(),
                wc ? wc->data<scalar_t>() : nullptr, ignore, ls, loss->data<scalar_t>(), lse->data<scalar_t>(),
                wsum->data<scalar_t>());
  });
  double scale;
  Tensor out = finish(loss, wsum, red, L.tshape, scale);
  if (any_requires_grad({&x})) {
    PYDL_CHECK(!w || !w->requires_grad, RuntimeError, "[cross_entropy] gradient with respect to weight is not supported");
    auto node = make_node("CrossEntropyBackward", {x}, [L, ignore, ls, lse, scale, red](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor x = contig(n.get(0)), t = n.get(1), w = n.get(2), gc = contig(g[0]);
      Device dev = common_device("cross_entropy", {x.get(), gc.get()});
      Tensor gx = empty(x->shape, x->dtype, dev);
      PYDL_DISPATCH_FLOAT(x->dtype, "cross_entropy", [&] {
        PYDL_KERNEL(dev, cross_entropy_backward<scalar_t>, L.N, L.C, L.inner, x->data<scalar_t>(), t->data<int64_t>(),
                    w ? w->data<scalar_t>() : nullptr, ignore, ls, lse->data<scalar_t>(), gc->data<scalar_t>(),
                    red == Reduction::None ? 1 : 0, scale, gx->data<scalar_t>());
      });
      return {gx};
    });
    node->saved.emplace_back(xc == x ? x : xc, false);
    node->saved.emplace_back(tc, false);
    node->saved.emplace_back(wc, false);
    node->once_differentiable = true;  // backward runs raw kernels
    // d/dx = d/dlogp - softmax(x) sum_c d/dlogp (the log-softmax backward)
    node->graph_fn = [ignore, ls, scale, red](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor x = n.get(0);
      const int64_t cdim = x->dim() == 1 ? 0 : 1;
      Tensor gl = class_loss_logp_grad(x->shape, x->dtype, n.get(1), n.get(2), g[0], red, ignore, ls, scale);
      return {sub(gl, mul(softmax(x, cdim), sum(gl, {cdim}, true)))};
    };
    set_history(out, node);
  }
  return out;
}

Tensor nll_loss(const Tensor& x, const Tensor& t, const Tensor& w, Reduction red, int64_t ignore) {
  ClassLayout L = class_layout(x, t, w, ignore, "nll_loss");
  Tensor xc = contig(x), tc = contig(t), wc = w ? contig(w) : Tensor();
  const int64_t R = L.N * L.inner;
  Device dev = x->device();
  Tensor loss = empty({R}, x->dtype, dev), wsum = empty({R}, x->dtype, dev);
  PYDL_DISPATCH_FLOAT(x->dtype, "nll_loss", [&] {
    PYDL_KERNEL(dev, nll_forward<scalar_t>, L.N, L.C, L.inner, xc->data<scalar_t>(), tc->data<int64_t>(),
                wc ? wc->data<scalar_t>() : nullptr, ignore, loss->data<scalar_t>(), wsum->data<scalar_t>());
  });
  double scale;
  Tensor out = finish(loss, wsum, red, L.tshape, scale);
  if (any_requires_grad({&x})) {
    auto node = make_node("NllLossBackward", {x}, [L, ignore, scale, red, xs = x->shape, dt = x->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor t = n.get(0), w = n.get(1), gc = contig(g[0]);
      Device dev = common_device("nll_loss", {t.get(), gc.get()});
      Tensor gx = empty(xs, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "nll_loss", [&] {
        PYDL_KERNEL(dev, nll_backward<scalar_t>, L.N, L.C, L.inner, t->data<int64_t>(), w ? w->data<scalar_t>() : nullptr,
                    ignore, gc->data<scalar_t>(), red == Reduction::None ? 1 : 0, scale, gx->data<scalar_t>());
      });
      return {gx};
    });
    node->saved.emplace_back(tc, false);
    node->saved.emplace_back(wc, false);
    node->once_differentiable = true;  // backward runs raw kernels
    node->graph_fn = [ignore, scale, red, xs = x->shape, dt = x->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      return {class_loss_logp_grad(xs, dt, n.get(0), n.get(1), g[0], red, ignore, 0.0, scale)};
    };
    set_history(out, node);
  }
  return out;
}

namespace {

Tensor reduce(const Tensor& l, Reduction red) {
  if (red == Reduction::None) return l;
  if (red == Reduction::Sum) return sum(l, {}, false);
  return mean(l, {}, false);
}

// {df/dx, df/dy} of a pointwise loss written with ops (the formulas of kernels/cpu/loss_ops.h), for create_graph.
std::pair<Tensor, Tensor> point_loss_grad_ops(K::PointLoss op, const Tensor& x, const Tensor& y, const Tensor& pw, double beta) {
  auto c = [&](double v) { return scalar_tensor(v, x->dtype); };
  auto one_minus = [&](const Tensor& t) { return add_scalar(neg(t), 1.0); };
  switch (op) {
    case K::PointLoss::MSE: { Tensor dx = mul_scalar(sub(x, y), 2.0); return {dx, neg(dx)}; }
    case K::PointLoss::L1: { Tensor dx = sign(sub(x, y)); return {dx, neg(dx)}; }
    case K::PointLoss::SmoothL1: {
      Tensor d = sub(x, y), dx = where(compare(Cmp::Lt, abs(d), c(beta)), mul_scalar(d, 1.0 / beta), sign(d));
      return {dx, neg(dx)};
    }
    case K::PointLoss::BCE: {
      Tensor dx = div(sub(x, y), clamp(mul(x, one_minus(x)), 1e-12, std::nullopt));
      return {dx, sub(clamp(log1p(neg(x)), -100.0, std::nullopt), clamp(log(x), -100.0, std::nullopt))};
    }
    case K::PointLoss::BCEWithLogits: {
      Tensor lw = pw ? add_scalar(mul(add_scalar(pw, -1.0), y), 1.0) : c(1.0);
      Tensor dx = sub(one_minus(y), mul(lw, one_minus(sigmoid(x))));
      Tensor dy = neg(x);
      if (pw) dy = add(dy, mul(add_scalar(pw, -1.0), add(relu(neg(x)), log1p(exp(neg(abs(x)))))));  // softplus(-x)
      return {dx, dy};
    }
  }
  return {};  // unreachable: every PointLoss has its case above
}

// Elementwise loss f(x, y) over the broadcast shape, then weight and reduction.
Tensor point_loss(K::PointLoss op, const char* name, const Tensor& x, const Tensor& y, const Tensor& pw, double beta,
                  const Tensor& weight, Reduction red) {
  PYDL_CHECK(x && y, TypeError, "[", name, "] expected tensors for input and target");
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[", name, "] expected a floating input, got ", dtype_name(x->dtype));
  PYDL_CHECK(x->dtype == y->dtype, TypeError, "[", name, "] input dtype ", dtype_name(x->dtype), " and target dtype ",
             dtype_name(y->dtype), " differ");
  if (op == K::PointLoss::BCE)
    PYDL_CHECK(x->shape == y->shape, ValueError, "[", name, "] target size ", shape_str(y->shape),
               " must be the same as input size ", shape_str(x->shape));
  Shape s = broadcast_shapes(x->shape, y->shape, name);
  Tensor xb, yb, pb;
  {
    AutoGradMode off(false);
    xb = x->shape == s ? contig(x) : contiguous_copy(expand(x, s));
    yb = y->shape == s ? contig(y) : contiguous_copy(expand(y, s));
    if (pw) {
      PYDL_CHECK(pw->dtype == x->dtype, TypeError, "[", name, "] pos_weight dtype ", dtype_name(pw->dtype), " != ", dtype_name(x->dtype));
      broadcast_shapes(pw->shape, s, name);
      pb = contiguous_copy(expand(pw, s));
    }
  }
  const Device dev = common_device(name, {xb.get(), yb.get(), pb.get()});
  if (op == K::PointLoss::BCE) {
    bool ok;
    if (dev.is_cuda()) {  // count the elements in [0, 1] there (NaN is not), read back one number
      AutoGradMode off(false);
      Tensor in = mul(compare(Cmp::Ge, xb, scalar_tensor(0.0, xb->dtype, dev)),
                      compare(Cmp::Le, xb, scalar_tensor(1.0, xb->dtype, dev)));
      ok = contig(to_device(sum(to_dtype(in, DType::Int64), {}, false), Device{}, false))->data<int64_t>()[0] == xb->numel;
    } else {
      ok = PYDL_DISPATCH_FLOAT(x->dtype, name, [&] {
        const scalar_t* p = xb->data<scalar_t>();
        for (int64_t i = 0; i < xb->numel; ++i) if (!(p[i] >= 0 && p[i] <= 1)) return false;
        return true;
      });
    }
    PYDL_CHECK(ok, ValueError, "[", name, "] all elements of input should be between 0 and 1");
  }
  Tensor l = empty(s, x->dtype, dev);
  PYDL_DISPATCH_FLOAT(x->dtype, name, [&] {
    PYDL_KERNEL(dev, point_loss_forward<scalar_t>, op, l->numel, xb->data<scalar_t>(), yb->data<scalar_t>(),
                pb ? pb->data<scalar_t>() : nullptr, beta, l->data<scalar_t>());
  });
  if (any_requires_grad({&x, &y})) {
    auto node = make_node(name, {x, y}, [op, beta, name, xs = x->shape, ys = y->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor xb = n.get(0), yb = n.get(1), pb = n.get(2), gc = contig(g[0]);
      bool need_x = bool(n.next_edges[0].fn), need_y = bool(n.next_edges[1].fn);
      const Device dev = common_device(name, {xb.get(), gc.get()});
      Tensor gx = need_x ? empty(xb->shape, xb->dtype, dev) : Tensor();
      Tensor gy = need_y ? empty(xb->shape, xb->dtype, dev) : Tensor();
      PYDL_DISPATCH_FLOAT(xb->dtype, name, [&] {
        PYDL_KERNEL(dev, point_loss_backward<scalar_t>, op, xb->numel, xb->data<scalar_t>(), yb->data<scalar_t>(),
                    pb ? pb->data<scalar_t>() : nullptr, beta, gc->data<scalar_t>(), gx ? gx->data<scalar_t>() : nullptr,
                    gy ? gy->data<scalar_t>() : nullptr);
      });
      if (gx) gx = sum_to(gx, xs);
      if (gy) gy = sum_to(gy, ys);
      return {gx, gy};
    });
    node->saved.emplace_back(xb, false);
    node->saved.emplace_back(yb, false);
    node->saved.emplace_back(pb, false);
    node->saved.emplace_back(x, false);  // with their history, for the op-written backward
    node->saved.emplace_back(y, false);
    node->once_differentiable = true;  // backward runs raw kernels
    node->graph_fn = [op, beta, s](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor x = n.get(3), y = n.get(4), pb = n.get(2);
      auto d = point_loss_grad_ops(op, expand(x, s), expand(y, s), pb, beta);
      return {n.next_edges[0].fn ? sum_to(mul(g[0], d.first), x->shape) : Tensor(),
              n.next_edges[1].fn ? sum_to(mul(g[0], d.second), y->shape) : Tensor()};
    };
    set_history(l, node);
  }
  if (weight) l = mul(l, weight);
  return reduce(l, red);
}

}  // namespace

Tensor mse_loss(const Tensor& x, const Tensor& y, Reduction red) {
  return point_loss(K::PointLoss::MSE, "mse_loss", x, y, Tensor(), 0, Tensor(), red);
}
Tensor l1_loss(const Tensor& x, const Tensor& y, Reduction red) {
  return point_loss(K::PointLoss::L1, "l1_loss", x, y, Tensor(), 0, Tensor(), red);
}
Tensor smooth_l1_loss(const Tensor& x, const Tensor& y, Reduction red, double beta) {
  PYDL_CHECK(beta >= 0, ValueError, "[smooth_l1_loss] beta must be non-negative, got ", beta);
  if (beta == 0) return l1_loss(x, y, red);
  return point_loss(K::PointLoss::SmoothL1, "smooth_l1_loss", x, y, Tensor(), beta, Tensor(), red);
}
Tensor binary_cross_entropy(const Tensor& x, const Tensor& y, const Tensor& w, Reduction red) {
  return point_loss(K::PointLoss::BCE, "binary_cross_entropy", x, y, Tensor(), 0, w, red);
}
Tensor binary_cross_entropy_with_logits(const Tensor& x, const Tensor& y, const Tensor& w, const Tensor& pw, Reduction red) {
  return point_loss(K::PointLoss::BCEWithLogits, "binary_cross_entropy_with_logits", x, y, pw, 0, w, red);
}

}  // namespace pydl
