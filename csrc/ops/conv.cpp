// conv2d: checks, forward and backward (grad input, weight, bias) side by side.
// conv1d is conv2d with a height of 1 (pydl/nn/functional.py).
#include <algorithm>

#include "kernels/dispatch.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

namespace {

IntList two(const IntList& v, const char* what) {
  PYDL_CHECK(v.size() == 1 || v.size() == 2, ValueError, "[conv2d] ", what, " must be an int or a pair, got ", v.size(), " values");
  return v.size() == 1 ? IntList{v[0], v[0]} : v;
}

// A conv backward's saved input and weight (contiguous), incoming gradient, and the gradients the graph needs
// (bias: bias_len values).
struct ConvGrads { Tensor x, w, gy, gx, gw, gb; Device dev; };
ConvGrads conv_grads(const char* op, FunctionNode& n, const TensorList& gr, int64_t bias_len) {
  ConvGrads c{contig(n.get(0)), contig(n.get(1)), contig(gr[0]), Tensor(), Tensor(), Tensor(), Device{}};
  c.dev = common_device(op, {c.x.get(), c.gy.get()});
  if (n.next_edges[0].fn) c.gx = empty(c.x->shape, c.x->dtype, c.dev);
  if (n.next_edges[1].fn) c.gw = empty(c.w->shape, c.w->dtype, c.dev);
  if (n.next_edges.size() > 2 && n.next_edges[2].fn) c.gb = empty({bias_len}, c.x->dtype, c.dev);
  return c;
}

// The backward of conv2d written with ops (so that it is differentiable again), for geometry g:
// d/dx is the transposed convolution of gy with w over the padded input, cropped to (H, W).
Tensor conv2d_input_grad(const Tensor& gy, const Tensor& w, const K::ConvGeom& g) {
  const int64_t Hp = g.H + g.ph0 + g.ph1, Wp = g.W + g.pw0 + g.pw1;
  const int64_t oph = Hp - ((g.OH - 1) * g.sh + g.dh * (g.kh - 1) + 1), opw = Wp - ((g.OW - 1) * g.sw + g.dw * (g.kw - 1) + 1);
  Tensor gxp = conv_transpose2d(gy, w, Tensor(), {g.sh, g.sw}, {0, 0}, {oph, opw}, g.groups, {g.dh, g.dw});
  return slice(slice(gxp, 2, g.ph0, g.ph0 + g.H, 1), 3, g.pw0, g.pw0 + g.W, 1);
}

// d/dw is a convolution of x with gy over the batch, stride and dilation swapped:
// (C/G, G*N, H, W) * (O, N, OH, OW) -> (C/G, O, >= kh, >= kw), cropped and transposed to (O, C/G, kh, kw).
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& gy, const K::ConvGeom& g) {
  const int64_t G = g.groups, Cg = g.C / G, Og = g.O / G;
  Tensor xt = reshape(permute(reshape(x, {g.N, G, Cg, g.H, g.W}), {2, 1, 0, 3, 4}), {Cg, G * g.N, g.H, g.W});
  Tensor gt = reshape(permute(reshape(gy, {g.N, G, Og, g.OH, g.OW}), {1, 2, 0, 3, 4}), {g.O, g.N, g.OH, g.OW});
  Tensor gw = conv2d(xt, gt, Tensor(), {g.dh, g.dw}, {g.ph0, g.ph1, g.pw0, g.pw1}, {g.sh, g.sw}, G);
  return transpose(slice(slice(gw, 2, 0, g.kh, 1), 3, 0, g.kw, 1), 0, 1);
}

// The gradients the node's edges ask for, from the op-written formulas: {d/dx, d/dw, d/db = sum of gy}.
TensorList conv_graph_grads(const FunctionNode& n, const std::function<Tensor()>& gx, const std::function<Tensor()>& gw,
                            const Tensor& gy) {
  return {n.next_edges[0].fn ? gx() : Tensor(), n.next_edges[1].fn ? gw() : Tensor(),
          n.next_edges.size() > 2 && n.next_edges[2].fn ? sum(gy, {0, 2, 3}, false) : Tensor()};
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& w, const Tensor& b, IntList stride, IntList padding, IntList dilation,
              int64_t groups) {
  PYDL_CHECK(x_in && w, TypeError, "[conv2d] expected tensors for input and weight");
  PYDL_CHECK(x_in->dim() == 4 || x_in->dim() == 3, ValueError, "[conv2d] expected 3-D (C, H, W) or 4-D (N, C, H, W) input, got ",
             shape_str(x_in->shape));
  if (x_in->dim() == 3) return squeeze(conv2d(unsqueeze(x_in, 0), w, b, stride, padding, dilation, groups), IntList{0});
  const Tensor& x = x_in;
  PYDL_CHECK(w->dim() == 4, ValueError, "[conv2d] expected 4-D weight (out, in/groups, kh, kw), got ", shape_str(w->shape));
  PYDL_CHECK(is_floating(x->dtype) && x->dtype == w->dtype, TypeError, "[conv2d] expected input and weight of the same "
             "floating dtype, got ", dtype_name(x->dtype), " and ", dtype_name(w->dtype));
  PYDL_CHECK(groups >= 1, ValueError, "[conv2d] groups must be positive, got ", groups);
  stride = two(stride, "stride");
  dilation = two(dilation, "dilation");
  for (const IntList* v : {&stride, &dilation, &padding}) check_window(*v, "conv2d", "stride/dilation/padding");
  check_window({groups}, "conv2d", "groups");
  if (padding.size() == 1) padding = {padding[0], padding[0], padding[0], padding[0]};
  if (padding.size() == 2) padding = {padding[0], padding[0], padding[1], padding[1]};
  PYDL_CHECK(padding.size() == 4, ValueError, "[conv2d] padding must have 1, 2 or 4 values");
  PYDL_CHECK(stride[0] > 0 && stride[1] > 0, ValueError, "[conv2d] stride must be positive, got (", stride[0], ", ", stride[1], ")");
  PYDL_CHECK(dilation[0] > 0 && dilation[1] > 0, ValueError, "[conv2d] dilation must be positive, got (", dilation[0], ", ",
             dilation[1], ")");
  for (int64_t p : padding) PYDL_CHECK(p >= 0, ValueError, "[conv2d] negative padding is not supported, got ", shape_str(padding));
  const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t O = w->shape[0], kh = w->shape[2], kw = w->shape[3];
  PYDL_CHECK(O % groups == 0, ValueError, "[conv2d] out_channels (", O, ") must be divisible by groups (", groups, ")");
  PYDL_CHECK(w->shape[1] * groups == C, ValueError, "[conv2d] input ", shape_str(x->shape), " has ", C,
             " channels but weight ", shape_str(w->shape), " with groups=", groups, " expects ", w->shape[1] * groups);
  const int64_t ekh = dilation[0] * (kh - 1) + 1, ekw = dilation[1] * (kw - 1) + 1;
  const int64_t Hp = H + padding[0] + padding[1], Wp = W + padding[2] + padding[3];
  PYDL_CHECK(ekh <= Hp && ekw <= Wp, ValueError, "[conv2d] kernel size (", ekh, ", ", ekw, ") (after dilation) can't be greater "
             "than the padded input size (", Hp, ", ", Wp, "); input ", shape_str(x->shape), ", weight ", shape_str(w->shape));
  if (b) {
    PYDL_CHECK(b->dim() == 1 && b->shape[0] == O, ValueError, "[conv2d] bias of shape ", shape_str(b->shape),
               " does not match ", O, " output channels");
    PYDL_CHECK(b->dtype == x->dtype, TypeError, "[conv2d] bias dtype ", dtype_name(b->dtype), " != ", dtype_name(x->dtype));
  }
  K::ConvGeom g{N, C, H, W, O, kh, kw, stride[0], stride[1], padding[0], padding[1], padding[2], padding[3],
                dilation[0], dilation[1], groups, (Hp - ekh) / stride[0] + 1, (Wp - ekw) / stride[1] + 1};
  Device dev = common_device("conv2d", {x.get(), w.get(), b.get()});
  Tensor out = empty({N, O, g.OH, g.OW}, x->dtype, dev);
  Tensor xc = contig(x), wc = contig(w), bc = b ? contig(b) : Tensor();
  if (out->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "conv2d", [&] {
      if (C == 0 || kh * kw == 0) {
        PYDL_KERNEL(dev, channel_fill<scalar_t>, N, O, g.OH * g.OW, bc ? bc->data<scalar_t>() : nullptr,
                    out->data<scalar_t>());
        return;
      }
      PYDL_KERNEL(dev, conv2d_forward<scalar_t>, g, xc->data<scalar_t>(), wc->data<scalar_t>(),
                  bc ? bc->data<scalar_t>() : nullptr, out->data<scalar_t>());
    });
  if (any_requires_grad({&x, &w, &b})) {
    auto node = make_node("Conv2dBackward", {x, w, b}, [g](FunctionNode& n, const TensorList& gr) -> TensorList {
      ConvGrads c = conv_grads("conv2d", n, gr, g.O);
      const Tensor &x = c.x, &w = c.w, &gy = c.gy, &gx = c.gx, &gw = c.gw, &gb = c.gb;
      const Device dev = c.dev;
      PYDL_DISPATCH_FLOAT(x->dtype, "conv2d", [&] {
        if (g.N * g.OH * g.OW == 0 || g.C == 0) {
          for (const Tensor& t : {gx, gw, gb}) if (t) PYDL_KERNEL(dev, fill, *t, 0.0);
          return;
        }
        PYDL_KERNEL(dev, conv2d_backward<scalar_t>, g, x->data<scalar_t>(), w->data<scalar_t>(), gy->data<scalar_t>(),
                    gx ? gx->data<scalar_t>() : nullptr, gw ? gw->data<scalar_t>() : nullptr,
                    gb ? gb->data<scalar_t>() : nullptr);
      });
      return {gx, gw, gb};
    });
    set_fused_history(out, node, {x, w}, [g](FunctionNode& n, const TensorList& gr) -> TensorList {
      Tensor x = n.get(0), w = n.get(1), gy = gr[0];
      return conv_graph_grads(n, [&] { return conv2d_input_grad(gy, w, g); }, [&] { return conv2d_weight_grad(x, gy, g); }, gy);
    });
  }
  return out;
}

Tensor conv_transpose2d(const Tensor& x_in, const Tensor& w, const Tensor& b, IntList stride, IntList padding,
                        IntList output_padding, int64_t groups, IntList dilation) {
  PYDL_CHECK(x_in && w, TypeError, "[conv_transpose2d] expected tensors for input and weight");
  PYDL_CHECK(x_in->dim() == 4 || x_in->dim() == 3, ValueError, "[conv_transpose2d] expected 3-D or 4-D input, got ",
             shape_str(x_in->shape));
  if (x_in->dim() == 3)
    return squeeze(conv_transpose2d(unsqueeze(x_in, 0), w, b, stride, padding, output_padding, groups, dilation), IntList{0});
  const Tensor& x = x_in;
  PYDL_CHECK(w->dim() == 4, ValueError, "[conv_transpose2d] expected 4-D weight (in, out/groups, kh, kw), got ", shape_str(w->shape));
  PYDL_CHECK(is_floating(x->dtype) && x->dtype == w->dtype, TypeError, "[conv_transpose2d] expected input and weight of the "
             "same floating dtype, got ", dtype_name(x->dtype), " and ", dtype_name(w->dtype));
  PYDL_CHECK(groups >= 1 && x->shape[1] % groups == 0, ValueError, "[conv_transpose2d] groups (", groups,
             ") must be positive and divide the input channels (", x->shape[1], ")");
  PYDL_CHECK(w->shape[0] == x->shape[1], ValueError, "[conv_transpose2d] input ", shape_str(x->shape), " has ", x->shape[1],
             " channels but weight ", shape_str(w->shape), " expects ", w->shape[0]);
  stride = two(stride, "stride");
  padding = two(padding, "padding");
  output_padding = two(output_padding, "output_padding");
  dilation = two(dilation, "dilation");
  for (const IntList* v : {&stride, &padding, &output_padding, &dilation})
    check_window(*v, "conv_transpose2d", "stride/padding/output_padding/dilation");
  for (int i = 0; i < 2; ++i) {
    PYDL_CHECK(stride[i] > 0 && dilation[i] > 0, ValueError, "[conv_transpose2d] stride and dilation must be positive");
    PYDL_CHECK(padding[i] >= 0 && output_padding[i] >= 0, ValueError, "[conv_transpose2d] negative padding is not supported");
    PYDL_CHECK(output_padding[i] < stride[i] || output_padding[i] < dilation[i], ValueError,
               "[conv_transpose2d] output_padding must be smaller than either stride or dilation");
  }
  const int64_t N = x->shape[0], Cin = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t O = w->shape[1] * groups, kh = w->shape[2], kw = w->shape[3];
  const int64_t OH = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1;
  const int64_t OW = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1;
  PYDL_CHECK(OH > 0 && OW > 0, ValueError, "[conv_transpose2d] input ", shape_str(x->shape), " and weight ",
             shape_str(w->shape), " give a non-positive output size (", OH, ", ", OW, ")");
  if (b) PYDL_CHECK(b->dim() == 1 && b->shape[0] == O && b->dtype == x->dtype, ValueError, "[conv_transpose2d] bias of shape ",
                    shape_str(b->shape), " does not match ", O, " output channels");
  // The equivalent conv2d: input = our output (N, O, OH, OW), weight (Cin, O/groups, kh, kw), output = x.
  K::ConvGeom g{N, O, OH, OW, Cin, kh, kw, stride[0], stride[1], padding[0], padding[0], padding[1], padding[1],
                dilation[0], dilation[1], groups, H, W};
  const Device dev = common_device("conv_transpose2d", {x.get(), w.get(), b.get()});
  Tensor out = empty({N, O, OH, OW}, x->dtype, dev);
  Tensor xc = contig(x), wc = contig(w), bc = b ? contig(b) : Tensor();
  PYDL_DISPATCH_FLOAT(x->dtype, "conv_transpose2d", [&] {
    using T = scalar_t;
    if (out->numel == 0) return;
    if (N * H * W == 0 || Cin == 0) PYDL_KERNEL(dev, fill, *out, 0.0);
    else PYDL_KERNEL(dev, conv2d_backward<T>, g, nullptr, wc->data<T>(), xc->data<T>(), out->data<T>(), nullptr, nullptr);
    if (bc) PYDL_KERNEL(dev, channel_add<T>, N, O, OH * OW, bc->data<T>(), out->data<T>());
  });
  if (any_requires_grad({&x, &w, &b})) {
    auto node = make_node("ConvTranspose2dBackward", {x, w, b}, [g](FunctionNode& n, const TensorList& gr) -> TensorList {
      ConvGrads c = conv_grads("conv_transpose2d", n, gr, g.C);
      const Tensor &x = c.x, &w = c.w, &gy = c.gy, &gx = c.gx, &gw = c.gw, &gb = c.gb;
      PYDL_DISPATCH_FLOAT(x->dtype, "conv_transpose2d", [&] {
        using T = scalar_t;
        // gx = conv2d(gy, w); gw = conv2d weight-gradient with (input gy, output-gradient x); gb = sum of gy
        if (gx) PYDL_KERNEL(c.dev, conv2d_forward<T>, g, gy->data<T>(), w->data<T>(), nullptr, gx->data<T>());
        if (gw) PYDL_KERNEL(c.dev, conv2d_backward<T>, g, gy->data<T>(), nullptr, x->data<T>(), nullptr, gw->data<T>(), nullptr);
        if (gb) PYDL_KERNEL(c.dev, channel_sum<T>, g.N, g.C, g.H * g.W, gy->data<T>(), gb->data<T>());
      });
      return {gx, gw, gb};
    });
    // conv_transpose2d is conv2d's input gradient: its input gradient is that conv2d, its weight gradient conv2d's
    // weight gradient with the roles of input (gy) and output gradient (x).
    set_fused_history(out, node, {x, w}, [g](FunctionNode& n, const TensorList& gr) -> TensorList {
      Tensor x = n.get(0), w = n.get(1), gy = gr[0];
      auto gx = [&] {
        Tensor r = conv2d(gy, w, Tensor(), {g.sh, g.sw}, {g.ph0, g.ph1, g.pw0, g.pw1}, {g.dh, g.dw}, g.groups);
        return slice(slice(r, 2, 0, g.OH, 1), 3, 0, g.OW, 1);
      };
      return conv_graph_grads(n, gx, [&] { return conv2d_weight_grad(gy, x, g); }, gy);
    });
  }
  return out;
}

}  // namespace pydl
