// interpolate, im2col / col2im: checks, forward and backward side by side.
#include "ops/resample.h"

#include "kernels/cpu/resample.h"
#include "kernels/dispatch.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

namespace {

K::Interp parse_mode(const std::string& m) {
  if (m == "nearest") return K::Interp::Nearest;
  if (m == "nearest-exact") return K::Interp::NearestExact;
  if (m == "linear") return K::Interp::Linear;
  if (m == "cubic") return K::Interp::Cubic;
  throw ValueError(str("[interpolate] mode must be 'nearest', 'nearest-exact', 'linear' or 'cubic', got '", m, "'"));
}

// Right-aligns a list of k values into 3 dims, padding the front with `fill`.
void put3(const IntList& v, int64_t fill, int64_t (&out)[3]) {
  const size_t k = v.size();
  for (size_t i = 0; i < 3; ++i) out[i] = i + k >= 3 ? v[i + k - 3] : fill;
}

// The im2col geometry for x_shape (N, C, spatial...) with kernel/dilation/padding/stride per spatial dim.
K::ColGeom col_geom(const Shape& xs, const IntList& k, const IntList& d, const IntList& p, const IntList& s, const char* op) {
  const size_t n = k.size();
  PYDL_CHECK(n >= 1 && n <= 3, ValueError, "[", op, "] expected 1 to 3 spatial dims, got kernel_size ", shape_str(k));
  PYDL_CHECK(d.size() == n && p.size() == n && s.size() == n, ValueError, "[", op, "] kernel_size ", shape_str(k),
             ", dilation ", shape_str(d), ", padding ", shape_str(p), " and stride ", shape_str(s), " must have the same length");
  for (size_t i = 0; i < n; ++i) {
    PYDL_CHECK(k[i] > 0 && d[i] > 0 && s[i] > 0, ValueError, "[", op, "] kernel_size, dilation and stride must be positive, got ",
               shape_str(k), ", ", shape_str(d), ", ", shape_str(s));
    PYDL_CHECK(p[i] >= 0, ValueError, "[", op, "] padding must be non-negative, got ", shape_str(p));
  }
  K::ColGeom g{};
  g.N = xs[0];
  g.C = xs[1];
  put3(IntList(xs.begin() + 2, xs.end()), 1, g.in);
  put3(k, 1, g.k);
  put3(d, 1, g.d);
  put3(p, 0, g.p);
  put3(s, 1, g.s);
  for (int i = 0; i < 3; ++i) {
    const int64_t span = g.d[i] * (g.k[i] - 1) + 1;
    g.out[i] = (g.in[i] + 2 * g.p[i] - span) / g.s[i] + 1;
    PYDL_CHECK(g.in[i] + 2 * g.p[i] >= span && g.out[i] > 0, ValueError, "[", op, "] the kernel ", shape_str(k),
               " (dilation ", shape_str(d), ") does not fit the padded spatial size of ", shape_str(xs), " (padding ",
               shape_str(p), ")");
  }
  return g;
}

}  // namespace

Tensor interpolate(const Tensor& x, IntList size, std::vector<double> scales, const std::string& mode, bool align,
                   bool antialias) {
  PYDL_CHECK(x, TypeError, "[interpolate] expected a tensor input");
  const K::Interp m = parse_mode(mode);
  const int64_t sd = x->dim() - 2;
  PYDL_CHECK(sd >= 1 && sd <= 3, ValueError, "[interpolate] expected a 3-D, 4-D or 5-D input (N, C, spatial...), got ",
             shape_str(x->shape));
  PYDL_CHECK(static_cast<int64_t>(size.size()) == sd, ValueError, "[interpolate] output size ", shape_str(size),
             " must have one value per spatial dim of input ", shape_str(x->shape));
  PYDL_CHECK(scales.empty() || static_cast<int64_t>(scales.size()) == sd, ValueError,
             "[interpolate] expected one scale factor per spatial dim, got ", scales.size());
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[interpolate] expected a floating input, got ", dtype_name(x->dtype));
  K::InterpGeom g{};
  g.NC = x->shape[0] * x->shape[1];
  g.mode = m;
  g.align_corners = align;
  g.antialias = antialias;
  Shape os = x->shape;
  for (int i = 0; i < 3; ++i) {
    const int64_t j = i - (3 - sd);
    g.in[i] = j >= 0 ? x->shape[2 + j] : 1;
    g.out[i] = j >= 0 ? size[j] : 1;
    g.scale[i] = j >= 0 && !scales.empty() ? scales[j] : -1.0;
    if (j < 0) continue;
    PYDL_CHECK(g.in[i] > 0 && g.out[i] > 0, ValueError, "[interpolate] input ", shape_str(x->shape), " and output size ",
               shape_str(size), " must have positive spatial sizes");
    os[2 + j] = size[j];
  }
  const Device dev = x->device();
  Tensor xc = contig(x), out = empty(os, x->dtype, dev);
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "interpolate", [&] {
      PYDL_KERNEL(dev, interp_forward<scalar_t>, g, xc->data<scalar_t>(), out->data<scalar_t>());
    });
  if (any_requires_grad({&x})) {
    auto node = make_node("InterpolateBackward", {x}, [g, xs = x->shape, dt = x->dtype, size, scales, mode, align,
                                                      antialias](FunctionNode&, const TensorList& gr) -> TensorList {
      const Device dev = gr[0]->device();
      Tensor gy = contig(gr[0]), gx = empty(xs, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "interpolate", [&] {
        if (gx->numel > 0) PYDL_KERNEL(dev, interp_backward<scalar_t>, g, gy->data<scalar_t>(), gx->data<scalar_t>());
      });
      // interpolation is linear: the gradient of its backward is the interpolation itself
      record_linear_grad("InterpolateBackwardBackward", gr[0], gx, [=](const Tensor& ggx) {
        return interpolate(ggx, size, scales, mode, align, antialias);
      });
      return {gx};
    });
    set_history(out, node);
  }
  return out;
}

Tensor im2col(const Tensor& x, IntList k, IntList d, IntList p, IntList s) {
  PYDL_CHECK(x, TypeError, "[unfold] expected a tensor input");
  PYDL_CHECK(x->dim() == static_cast<int64_t>(k.size()) + 2, ValueError, "[unfold] expected a ", k.size() + 2,
             "-D input (N, C, spatial...) for kernel_size ", shape_str(k), ", got ", shape_str(x->shape));
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[unfold] expected a floating input, got ", dtype_name(x->dtype));
  const K::ColGeom g = col_geom(x->shape, k, d, p, s, "unfold");
  const int64_t Kn = g.k[0] * g.k[1] * g.k[2], L = g.out[0] * g.out[1] * g.out[2];
  const Device dev = x->device();
  Tensor xc = contig(x), out = empty({g.N, g.C * Kn, L}, x->dtype, dev);
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "unfold", [&] {
      PYDL_KERNEL(dev, im2col<scalar_t>, g, xc->data<scalar_t>(), out->data<scalar_t>());
    });
  if (any_requires_grad({&x})) {
    IntList spatial(x->shape.begin() + 2, x->shape.end());
    auto node = make_node("Im2ColBackward", {x}, [spatial, k, d, p, s](FunctionNode&, const TensorList& gr) -> TensorList {
      return {col2im(gr[0], spatial, k, d, p, s)};
    });
    set_history(out, node);
  }
  return out;
}

Tensor col2im(const Tensor& cols, IntList osz, IntList k, IntList d, IntList p, IntList s) {
  PYDL_CHECK(cols, TypeError, "[fold] expected a tensor input");
  PYDL_CHECK(cols->dim() == 3, ValueError, "[fold] expected a 3-D input (N, C * prod(kernel_size), L), got ",
             shape_str(cols->shape));
  PYDL_CHECK(is_floating(cols->dtype), TypeError, "[fold] expected a floating input, got ", dtype_name(cols->dtype));
  PYDL_CHECK(osz.size() == k.size(), ValueError, "[fold] output_size ", shape_str(osz), " and kernel_size ", shape_str(k),
             " must have the same length");
  int64_t Kn = 1;
  for (int64_t v : k) Kn *= v;
  PYDL_CHECK(Kn > 0 && cols->shape[1] % Kn == 0, ValueError, "[fold] expected size of input's dim 1 (", cols->shape[1],
             ") to be divisible by the product of kernel_size ", shape_str(k));
  Shape xs{cols->shape[0], cols->shape[1] / Kn};
  for (int64_t v : osz) {
    PYDL_CHECK(v > 0, ValueError, "[fold] output_size must be positive, got ", shape_str(osz));
    xs.push_back(v);
  }
  const K::ColGeom g = col_geom(xs, k, d, p, s, "fold");
  const int64_t L = g.out[0] * g.out[1] * g.out[2];
  PYDL_CHECK(cols->shape[2] == L, ValueError, "[fold] input ", shape_str(cols->shape), " has ", cols->shape[2],
             " blocks but output_size ", shape_str(osz), ", kernel_size ", shape_str(k), ", dilation ", shape_str(d),
             ", padding ", shape_str(p), " and stride ", shape_str(s), " give ", L);
  const Device dev = cols->device();
  Tensor cc = contig(cols), out = empty(xs, cols->dtype, dev);
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(cols->dtype, "fold", [&] {
      PYDL_KERNEL(dev, col2im<scalar_t>, g, cc->data<scalar_t>(), out->data<scalar_t>());
    });
  if (any_requires_grad({&cols})) {
    auto node = make_node("Col2ImBackward", {cols}, [k, d, p, s](FunctionNode&, const TensorList& gr) -> TensorList {
      return {im2col(gr[0], k, d, p, s)};
    });
    set_history(out, node);
  }
  return out;
}

}  // namespace pydl
