// Pooling: max_pool2d (with indices), avg_pool2d, adaptive_avg_pool2d; checks, forward
// and backward side by side. Inputs are (N, C, H, W) or (C, H, W).
#include "kernels/dispatch.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

namespace {

IntList pair(const IntList& v, const char* op, const char* what) {
  PYDL_CHECK(v.size() == 1 || v.size() == 2, ValueError, "[", op, "] ", what, " must be an int or a pair, got ", v.size(), " values");
  return v.size() == 1 ? IntList{v[0], v[0]} : v;
}

int64_t pool_out(int64_t in, int64_t k, int64_t pad, int64_t s, int64_t d, bool ceil_mode) {
  int64_t num = in + 2 * pad - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + pad) --out;
  return out;
}

// Validates and fills the geometry; `planes` gets N*C.
K::PoolGeom pool_geom(const Tensor& x, IntList k, IntList s, IntList p, IntList d, bool ceil_mode, const char* op) {
  PYDL_CHECK(x->dim() == 3 || x->dim() == 4, ValueError, "[", op, "] expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got ",
             shape_str(x->shape));
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[", op, "] expected a floating input, got ", dtype_name(x->dtype));
  k = pair(k, op, "kernel_size");
  s = s.empty() ? k : pair(s, op, "stride");
  p = pair(p, op, "padding");
  d = pair(d, op, "dilation");
  check_window(k, op, "kernel_size");
  check_window(s, op, "stride");
  check_window(p, op, "padding");
  check_window(d, op, "dilation");
  PYDL_CHECK(k[0] > 0 && k[1] > 0, ValueError, "[", op, "] kernel_size must be positive, got ", shape_str(k));
  PYDL_CHECK(s[0] > 0 && s[1] > 0, ValueError, "[", op, "] stride must be positive, got ", shape_str(s));
  PYDL_CHECK(d[0] > 0 && d[1] > 0, ValueError, "[", op, "] dilation must be positive, got ", shape_str(d));
  PYDL_CHECK(p[0] >= 0 && p[1] >= 0, ValueError, "[", op, "] padding must be non-negative, got ", shape_str(p));
  PYDL_CHECK(p[0] * 2 <= k[0] && p[1] * 2 <= k[1], ValueError, "[", op, "] padding ", shape_str(p),
             " should be at most half of the kernel size ", shape_str(k));
  int64_t nd = x->dim(), H = x->shape[nd - 2], W = x->shape[nd - 1];
  int64_t NC = x->numel / std::max<int64_t>(H * W, 1);
  if (H * W == 0) { NC = 1; for (int64_t i = 0; i < nd - 2; ++i) NC *= x->shape[i]; }
  int64_t OH = pool_out(H, k[0], p[0], s[0], d[0], ceil_mode), OW = pool_out(W, k[1], p[1], s[1], d[1], ceil_mode);
  PYDL_CHECK(OH >= 1 && OW >= 1, ValueError, "[", op, "] kernel ", shape_str(k), " (dilation ", shape_str(d),
             ") is larger than the padded input: input ", shape_str(x->shape), " gives output size (", OH, ", ", OW, ")");
  return K::PoolGeom{NC, H, W, OH, OW, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1]};
}

Shape out_shape(const Tensor& x, const K::PoolGeom& g) {
  Shape s = x->shape;
  s[s.size() - 2] = g.OH;
  s[s.size() - 1] = g.OW;
  return s;
}

// A max-pooling gradient gx is the scatter-add of gy at the saved (flat per-plane) indices; its gradient gathers at them.
void record_max_pool_grad(const char* name, const Tensor& gy, const Tensor& gx, const K::PoolGeom& g, const Tensor& idx) {
  record_linear_grad(name, gy, gx, [g, idx, ys = gy->shape](const Tensor& ggx) {
    return reshape(gather(reshape(ggx, {g.NC, g.H * g.W}), 1, reshape(idx, {g.NC, g.OH * g.OW})), ys);
  });
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d(const Tensor& x, IntList k, IntList s, IntList p, IntList d, bool ceil_mode) {
  K::PoolGeom g = pool_geom(x, k, s, p, d, ceil_mode, "max_pool2d");
  Tensor xc = contig(x);
  Shape os = out_shape(x, g);
  Device dev = x->device();
  Tensor out = empty(os, x->dtype, dev), idx = empty(os, DType::Int64, dev);
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "max_pool2d", [&] {
      PYDL_KERNEL(dev, max_pool2d_forward<scalar_t>, g, xc->data<scalar_t>(), out->data<scalar_t>(), idx->data<int64_t>());
    });
  if (any_requires_grad({&x})) {
    auto node = make_node("MaxPool2dBackward", {x}, [g, xs = x->shape, dt = x->dtype](FunctionNode& n, const TensorList& gr) -> TensorList {
      Tensor idx = n.get(0), gy = contig(gr[0]);
      Device dev = common_device("max_pool2d", {idx.get(), gy.get()});
      Tensor gx = empty(xs, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "max_pool2d", [&] {
        if (gx->numel == 0) return;
        PYDL_KERNEL(dev, max_pool2d_backward<scalar_t>, g, gy->data<scalar_t>(), idx->data<int64_t>(), gx->data<scalar_t>());
      });
      record_max_pool_grad("MaxPool2dBackwardBackward", gr[0], gx, g, idx);
      return {gx};
    });
    node->saved.emplace_back(idx, false);
    set_history(out, node);
  }
  return {out, idx};
}

Tensor avg_pool2d(const Tensor& x, IntList k, IntList s, IntList p, bool ceil_mode, bool cip, std::optional<int64_t> divisor) {
  K::PoolGeom g = pool_geom(x, k, s, p, {1}, ceil_mode, "avg_pool2d");
  PYDL_CHECK(!divisor || *divisor != 0, ValueError, "[avg_pool2d] divisor_override must be non-zero");
  int64_t dv = divisor ? *divisor : 0;
  Tensor xc = contig(x);
  Device dev = x->device();
  Tensor out = empty(out_shape(x, g), x->dtype, dev);
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "avg_pool2d", [&] {
      PYDL_KERNEL(dev, avg_pool2d_forward<scalar_t>, g, xc->data<scalar_t>(), out->data<scalar_t>(), cip, dv);
    });
  if (any_requires_grad({&x})) {
    auto node = make_node("AvgPool2dBackward", {x}, [g, ceil_mode, cip, divisor, xs = x->shape, dt = x->dtype](FunctionNode&, const TensorList& gr) -> TensorList {
      Tensor gy = contig(gr[0]);
      Device dev = gy->device();
      Tensor gx = empty(xs, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "avg_pool2d", [&] {
        if (gx->numel == 0) return;
        PYDL_KERNEL(dev, avg_pool2d_backward<scalar_t>, g, gy->data<scalar_t>(), gx->data<scalar_t>(), cip,
                    divisor ? *divisor : 0);
      });
      record_linear_grad("AvgPool2dBackwardBackward", gr[0], gx, [g, ceil_mode, cip, divisor](const Tensor& ggx) {
        return avg_pool2d(ggx, {g.kh, g.kw}, {g.sh, g.sw}, {g.ph, g.pw}, ceil_mode, cip, divisor);
      });
      return {gx};
    });
    set_history(out, node);
  }
  return out;
}

Tensor adaptive_avg_pool2d(const Tensor& x, IntList os_) {
  PYDL_CHECK(x->dim() == 3 || x->dim() == 4, ValueError, "[adaptive_avg_pool2d] expected 3-D or 4-D input, got ", shape_str(x->shape));
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[adaptive_avg_pool2d] expected a floating input, got ", dtype_name(x->dtype));
  IntList os = pair(os_, "adaptive_avg_pool2d", "output_size");
  PYDL_CHECK(os[0] > 0 && os[1] > 0, ValueError, "[adaptive_avg_pool2d] output_size must be positive, got ", shape_str(os));
  int64_t nd = x->dim(), H = x->shape[nd - 2], W = x->shape[nd - 1];
  PYDL_CHECK(H > 0 && W > 0, ValueError, "[adaptive_avg_pool2d] input ", shape_str(x->shape), " has an empty spatial dim");
  int64_t NC = x->numel / (H * W);
  Shape s = x->shape;
  s[nd - 2] = os[0];
  s[nd - 1] = os[1];
  Tensor xc = contig(x);
  Device dev = x->device();
  Tensor out = empty(s, x->dtype, dev);
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "adaptive_avg_pool2d", [&] {
      PYDL_KERNEL(dev, adaptive_avg_pool2d_forward<scalar_t>, NC, H, W, os[0], os[1], xc->data<scalar_t>(),
                  out->data<scalar_t>());
    });
  if (any_requires_grad({&x})) {
    auto node = make_node("AdaptiveAvgPool2dBackward", {x}, [NC, H, W, os, xs = x->shape, dt = x->dtype](FunctionNode&, const TensorList& gr) -> TensorList {
      Tensor gy = contig(gr[0]);
      Device dev = gy->device();
      Tensor gx = empty(xs, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "adaptive_avg_pool2d", [&] {
        if (gx->numel == 0) return;
        PYDL_KERNEL(dev, adaptive_avg_pool2d_backward<scalar_t>, NC, H, W, os[0], os[1], gy->data<scalar_t>(),
                    gx->data<scalar_t>());
      });
      record_linear_grad("AdaptiveAvgPool2dBackwardBackward", gr[0], gx, [os](const Tensor& ggx) { return adaptive_avg_pool2d(ggx, os); });
      return {gx};
    });
    set_history(out, node);
  }
  return out;
}

std::pair<Tensor, Tensor> adaptive_max_pool2d(const Tensor& x, IntList os_) {
  PYDL_CHECK(x && (x->dim() == 3 || x->dim() == 4), ValueError, "[adaptive_max_pool2d] expected 3-D or 4-D input, got ",
             x ? shape_str(x->shape) : std::string("None"));
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[adaptive_max_pool2d] expected a floating input, got ", dtype_name(x->dtype));
  IntList os = pair(os_, "adaptive_max_pool2d", "output_size");
  PYDL_CHECK(os[0] > 0 && os[1] > 0, ValueError, "[adaptive_max_pool2d] output_size must be positive, got ", shape_str(os));
  int64_t nd = x->dim(), H = x->shape[nd - 2], W = x->shape[nd - 1];
  PYDL_CHECK(H > 0 && W > 0, ValueError, "[adaptive_max_pool2d] input ", shape_str(x->shape), " has an empty spatial dim");
  K::PoolGeom g{x->numel / (H * W), H, W, os[0], os[1], 1, 1, 1, 1, 0, 0, 1, 1};
  Shape s = x->shape;
  s[nd - 2] = os[0];
  s[nd - 1] = os[1];
  Device dev = x->device();
  Tensor xc = contig(x), out = empty(s, x->dtype, dev), idx = empty(s, DType::Int64, dev);
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "adaptive_max_pool2d", [&] {
      PYDL_KERNEL(dev, adaptive_max_pool2d_forward<scalar_t>, g.NC, H, W, os[0], os[1], xc->data<scalar_t>(),
                  out->data<scalar_t>(), idx->data<int64_t>());
    });
  if (any_requires_grad({&x})) {
    auto node = make_node("AdaptiveMaxPool2dBackward", {x}, [g, idx, xs = x->shape, dt = x->dtype](FunctionNode&, const TensorList& gr) -> TensorList {
      Tensor gy = contig(gr[0]);
      Device dev = common_device("adaptive_max_pool2d", {idx.get(), gy.get()});
      Tensor gx = empty(xs, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "adaptive_max_pool2d", [&] {
        if (gx->numel > 0)
          PYDL_KERNEL(dev, max_pool2d_backward<scalar_t>, g, gy->data<scalar_t>(), idx->data<int64_t>(), gx->data<scalar_t>());
      });
      record_max_pool_grad("AdaptiveMaxPool2dBackwardBackward", gr[0], gx, g, idx);
      return {gx};
    });
    set_history(out, node);
  }
  return {out, idx};
}

}  // namespace pydl
