// batch_norm, layer_norm, embedding, pad: checks, forward and backward side by side.
#include <cmath>

#include "kernels/dispatch.h"
#include "ops/device.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

namespace {
void check_vec(const Tensor& t, int64_t n, DType dt, const char* op, const char* what) {
  if (!t) return;
  PYDL_CHECK(t->dim() == 1 && t->shape[0] == n, ValueError, "[", op, "] ", what, " should have ", n,
             " elements (one per channel), got shape ", shape_str(t->shape));
  PYDL_CHECK(t->dtype == dt, TypeError, "[", op, "] ", what, " dtype ", dtype_name(t->dtype), " != input dtype ", dtype_name(dt));
}
template <typename T> const T* cptr(const Tensor& t) { return t ? t->data<T>() : nullptr; }
template <typename T> T* mptr(const Tensor& t) { return t ? t->data<T>() : nullptr; }

// The backward of y = xhat w + b, xhat = (x - mean) rstd over `dims`, written with ops (for create_graph); w and
// b have shape `ps`, viewed as `bs` against x. With `stats` null, mean and rstd are x's own (biased) statistics,
// differentiated too; else the constants {mean, rstd} (shape bs).
TensorList norm_graph_grads(const FunctionNode& n, const Tensor& gy, const IntList& dims, const Shape& ps, const Shape& bs,
                            double eps, const TensorList& stats) {
  Tensor x = n.get(0), w = n.get(1);
  Tensor mu = stats.empty() ? mean(x, dims, true) : stats[0];
  Tensor xm = sub(x, mu);
  Tensor rstd = stats.empty() ? pow_scalar(add_scalar(mean(square(xm), dims, true), eps), -0.5) : stats[1];
  Tensor xhat = mul(xm, rstd);
  Tensor gx, gw, gb;
  if (n.next_edges[0].fn) {
    Tensor gh = w ? mul(gy, reshape(w, bs)) : gy;
    gx = stats.empty() ? mul(rstd, sub(sub(gh, mean(gh, dims, true)), mul(xhat, mean(mul(gh, xhat), dims, true))))
                       : mul(gh, rstd);
  }
  if (n.next_edges[1].fn) gw = reshape(sum_to(mul(gy, xhat), bs), ps);
  if (n.next_edges[2].fn) gb = reshape(sum_to(gy, bs), ps);
  return {gx, gw, gb};
}
}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& rm, const Tensor& rv, const Tensor& w, const Tensor& b, bool training,
                  double momentum, double eps) {
  PYDL_CHECK(x && x->dim() >= 2, ValueError, "[batch_norm] expected input of at least 2 dims (N, C, ...), got ",
             x ? shape_str(x->shape) : std::string("None"));
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[batch_norm] expected a floating input, got ", dtype_name(x->dtype));
  const int64_t N = x->shape[0], C = x->shape[1];
  int64_t S = 1;
  for (int64_t i = 2; i < x->dim(); ++i) S *= x->shape[i];
  check_vec(rm, C, x->dtype, "batch_norm", "running_mean");
  check_vec(rv, C, x->dtype, "batch_norm", "running_var");
  check_vec(w, C, x->dtype, "batch_norm", "weight");
  check_vec(b, C, x->dtype, "batch_norm", "bias");
  PYDL_CHECK(bool(rm) == bool(rv), ValueError, "[batch_norm] running_mean and running_var must both be given or both be None");
  const bool use_batch = training || !rm;
  if (use_batch)
    PYDL_CHECK(N * S > 1, ValueError, "[batch_norm] expected more than 1 value per channel when training, got input ",
               shape_str(x->shape));
  const Device dev = common_device("batch_norm", {x.get(), rm.get(), rv.get(), w.get(), b.get()});
  Tensor xc = contig(x);
  Tensor mean = empty({C}, x->dtype, dev), invstd = empty({C}, x->dtype, dev), out = empty(x->shape, x->dtype, dev);
  PYDL_DISPATCH_FLOAT(x->dtype, "batch_norm", [&] {
    using T = scalar_t;
    if (use_batch) {
      Tensor var = empty({C}, x->dtype, dev);
      PYDL_KERNEL(dev, bn_stats<T>, N, C, S, xc->data<T>(), eps, mean->data<T>(), invstd->data<T>(), var->data<T>());
      if (training && rm) {
        const double unb = double(N * S) / double(N * S - 1);
        PYDL_KERNEL(dev, bn_update_running<T>, C, mean->data<T>(), var->data<T>(), unb, momentum, rm->data<T>(),
                    rm->strides[0], rv->data<T>(), rv->strides[0]);
        rm->bump_version();
        rv->bump_version();
      }
    } else {
      PYDL_KERNEL(dev, bn_running_stats<T>, C, rm->data<T>(), rm->strides[0], rv->data<T>(), rv->strides[0], eps,
                  mean->data<T>(), invstd->data<T>());
    }
    Tensor wc = w ? contig(w) : Tensor(), bc = b ? contig(b) : Tensor();
    PYDL_KERNEL(dev, bn_apply<T>, N, C, S, xc->data<T>(), mean->data<T>(), invstd->data<T>(), cptr<T>(wc), cptr<T>(bc),
                out->data<T>());
  });
  if (any_requires_grad({&x, &w, &b})) {
    auto node = make_node("BatchNormBackward", {x, w, b}, [N, C, S, use_batch, mean, invstd](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor x = contig(n.get(0)), w = n.get(1), gy = contig(g[0]);
      if (w) w = contig(w);
      const Device dev = common_device("batch_norm", {x.get(), w.get(), gy.get()});
      Tensor gx = n.next_edges[0].fn ? empty(x->shape, x->dtype, dev) : Tensor();
      Tensor gw = n.next_edges[1].fn ? empty({C}, x->dtype, dev) : Tensor();
      Tensor gb = n.next_edges[2].fn ? empty({C}, x->dtype, dev) : Tensor();
      PYDL_DISPATCH_FLOAT(x->dtype, "batch_norm", [&] {
        using T = scalar_t;
        PYDL_KERNEL(dev, bn_backward<T>, N, C, S, x->data<T>(), gy->data<T>(), mean->data<T>(), invstd->data<T>(),
                    cptr<T>(w), use_batch, mptr<T>(gx), mptr<T>(gw), mptr<T>(gb));
      });
      return {gx, gw, gb};
    });
    IntList dims{0};
    Shape bs(x->dim(), 1);
    bs[1] = C;
    for (int64_t i = 2; i < x->dim(); ++i) dims.push_back(i);
    TensorList stats = use_batch ? TensorList() : TensorList{reshape(mean, bs), reshape(invstd, bs)};
    set_fused_history(out, node, {x, w}, [dims, bs, C, eps, stats](FunctionNode& n, const TensorList& g) -> TensorList {
      return norm_graph_grads(n, g[0], dims, {C}, bs, eps, stats);
    });
  }
  return out;
}

Tensor layer_norm(const Tensor& x, IntList ns, const Tensor& w, const Tensor& b, double eps) {
  PYDL_CHECK(is_floating(x->dtype), TypeError, "[layer_norm] expected a floating input, got ", dtype_name(x->dtype));
  const int64_t k = static_cast<int64_t>(ns.size());
  bool ok = k >= 1 && k <= x->dim();
  for (int64_t i = 0; ok && i < k; ++i) ok = x->shape[x->dim() - k + i] == ns[i];
  PYDL_CHECK(ok, ValueError, "[layer_norm] normalized_shape ", shape_str(ns), " does not match the trailing dims of input ",
             shape_str(x->shape));
  int64_t D = 1;
  for (int64_t v : ns) D *= v;
  const int64_t R = D ? x->numel / D : 0;
  for (const Tensor* t : {&w, &b})
    if (*t) {
      PYDL_CHECK((*t)->shape == Shape(ns.begin(), ns.end()), ValueError, "[layer_norm] weight/bias of shape ",
                 shape_str((*t)->shape), " does not match normalized_shape ", shape_str(ns));
      PYDL_CHECK((*t)->dtype == x->dtype, TypeError, "[layer_norm] weight/bias dtype ", dtype_name((*t)->dtype), " != ",
                 dtype_name(x->dtype));
    }
  const Device dev = common_device("layer_norm", {x.get(), w.get(), b.get()});
  Tensor xc = contig(x), wc = w ? contig(w) : Tensor(), bc = b ? contig(b) : Tensor();
  Tensor out = empty(x->shape, x->dtype, dev), mean = empty({R}, x->dtype, dev), invstd = empty({R}, x->dtype, dev);
  if (x->numel > 0)
    PYDL_DISPATCH_FLOAT(x->dtype, "layer_norm", [&] {
      using T = scalar_t;
      PYDL_KERNEL(dev, ln_forward<T>, R, D, xc->data<T>(), cptr<T>(wc), cptr<T>(bc), eps, out->data<T>(), mean->data<T>(),
                  invstd->data<T>());
    });
  if (any_requires_grad({&x, &w, &b})) {
    auto node = make_node("LayerNormBackward", {x, w, b}, [R, D, mean, invstd](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor x = contig(n.get(0)), w = n.get(1), gy = contig(g[0]);
      if (w) w = contig(w);
      const Device dev = common_device("layer_norm", {x.get(), w.get(), gy.get()});
      Tensor gx = n.next_edges[0].fn ? empty(x->shape, x->dtype, dev) : Tensor();
      Tensor gw = n.next_edges[1].fn ? empty(w->shape, x->dtype, dev) : Tensor();
      Tensor gb = n.next_edges[2].fn ? empty({D}, x->dtype, dev) : Tensor();
      PYDL_DISPATCH_FLOAT(x->dtype, "layer_norm", [&] {
        using T = scalar_t;
        if (x->numel == 0) {
          for (const Tensor& t : {gw, gb}) if (t) PYDL_KERNEL(dev, fill, *t, 0.0);
          return;
        }
        PYDL_KERNEL(dev, ln_backward<T>, R, D, x->data<T>(), gy->data<T>(), mean->data<T>(), invstd->data<T>(), cptr<T>(w),
                    mptr<T>(gx), mptr<T>(gw), mptr<T>(gb));
      });
      if (gb && w) gb = reshape(gb, w->shape);
      return {gx, gw, gb};
    });
    IntList dims;
    for (int64_t i = x->dim() - k; i < x->dim(); ++i) dims.push_back(i);
    const Shape ps(ns.begin(), ns.end());
    set_fused_history(out, node, {x, w}, [dims, ps, eps](FunctionNode& n, const TensorList& g) -> TensorList {
      return norm_graph_grads(n, g[0], dims, ps, ps, eps, {});
    });
  }
  return out;
}

Tensor embedding(const Tensor& w, const Tensor& idx, std::optional<int64_t> padding_idx) {
  PYDL_CHECK(w && w->dim() == 2, ValueError, "[embedding] weight must be 2-D (num_embeddings, dim), got ",
             w ? shape_str(w->shape) : std::string("None"));
  PYDL_CHECK(idx->dtype == DType::Int64, TypeError, "[embedding] expected int64 indices, got ", dtype_name(idx->dtype));
  PYDL_CHECK(is_floating(w->dtype), TypeError, "[embedding] expected a floating weight, got ", dtype_name(w->dtype));
  const int64_t V = w->shape[0], D = w->shape[1];
  const Device dev = common_device("embedding", {w.get(), idx.get()});
  Tensor ic = contig(idx), wc = contig(w);
  {
    // range check on the host (a CUDA index tensor is copied back for it: one synchronisation)
    Tensor ih = dev.is_cuda() ? to_device(ic, Device{}, false) : ic;
    const int64_t* ip = ih->data<int64_t>();
    for (int64_t i = 0; i < ih->numel; ++i)
      PYDL_CHECK(ip[i] >= 0 && ip[i] < V, IndexError, "[embedding] index ", ip[i], " is out of range for ", V,
                 " embeddings (weight ", shape_str(w->shape), ")");
  }
  Shape os = idx->shape;
  os.push_back(D);
  Tensor out = empty(os, w->dtype, dev);
  PYDL_DISPATCH_FLOAT(w->dtype, "embedding", [&] {
    PYDL_KERNEL(dev, embedding_forward<scalar_t>, ic->numel, D, wc->data<scalar_t>(), ic->data<int64_t>(),
                out->data<scalar_t>());
  });
  if (any_requires_grad({&w})) {
    int64_t pad = padding_idx ? *padding_idx : -1;
    auto node = make_node("EmbeddingBackward", {w}, [V, D, pad, dt = w->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor ic = n.get(0), gy = contig(g[0]);
      const Device dev = common_device("embedding", {ic.get(), gy.get()});
      Tensor gw = empty({V, D}, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "embedding", [&] {
        PYDL_KERNEL(dev, embedding_backward<scalar_t>, ic->numel, V, D, gy->data<scalar_t>(), ic->data<int64_t>(), pad,
                    gw->data<scalar_t>());
      });
      // gw sums the rows of gy into the looked-up rows (padding_idx's stays 0): its gradient looks them up again
      record_linear_grad("EmbeddingBackwardBackward", g[0], gw, [ic, pad, ys = g[0]->shape](const Tensor& ggw) {
        Tensor r = index_select(ggw, 0, reshape(ic, {-1}));
        if (pad >= 0) r = mul(r, unsqueeze(to_dtype(compare(Cmp::Ne, reshape(ic, {-1}), scalar_tensor(double(pad), DType::Int64)), r->dtype), 1));
        return reshape(r, ys);
      });
      return {gw};
    });
    node->saved.emplace_back(ic, false);
    set_history(out, node);
  }
  return out;
}

Tensor pad(const Tensor& x, IntList p, const std::string& mode, double value) {
  PYDL_CHECK(p.size() % 2 == 0, ValueError, "[pad] padding length must be divisible by 2, got ", p.size());
  const int64_t k = static_cast<int64_t>(p.size()) / 2;
  PYDL_CHECK(k <= x->dim(), ValueError, "[pad] padding ", shape_str(p), " pads ", k, " dims but input ", shape_str(x->shape),
             " has ", x->dim());
  PYDL_CHECK(mode == "constant" || mode == "reflect" || mode == "replicate" || mode == "circular", ValueError,
             "[pad] mode must be 'constant', 'reflect', 'replicate' or 'circular', got '", mode, "'");
  std::vector<int64_t> in(k);
  std::vector<std::vector<int64_t>> map(k);
  Shape os = x->shape;
  int64_t outer = 1;
  for (int64_t i = 0; i < x->dim() - k; ++i) outer *= x->shape[i];
  for (int64_t d = 0; d < k; ++d) {
    const int64_t dim = x->dim() - k + d;
    const int64_t lo = p[2 * (k - 1 - d)], hi = p[2 * (k - 1 - d) + 1], n = x->shape[dim];
    const int64_t o = n + lo + hi;
    PYDL_CHECK(o >= 0, ValueError, "[pad] padding ", shape_str(p), " gives a negative size for dim ", dim, " of ", shape_str(x->shape));
    if (mode != "constant") {
      PYDL_CHECK(lo >= 0 && hi >= 0, ValueError, "[pad] negative padding is only supported in constant mode, got ", shape_str(p));
      if (mode == "reflect")
        PYDL_CHECK(lo < n && hi < n, ValueError, "[pad] reflect padding (", lo, ", ", hi, ") must be smaller than the input dim ",
                   dim, " of size ", n, " (input ", shape_str(x->shape), ")");
      else if (mode == "circular")
        PYDL_CHECK(lo <= n && hi <= n, ValueError, "[pad] circular padding (", lo, ", ", hi, ") must be at most the input dim ",
                   dim, " of size ", n);
      else
        PYDL_CHECK(n > 0, ValueError, "[pad] replicate padding needs a non-empty dim ", dim);
    }
    in[d] = n;
    os[dim] = o;
    map[d].resize(o);
    for (int64_t j = 0; j < o; ++j) {
      int64_t i = j - lo;
      if (mode == "constant") map[d][j] = (i >= 0 && i < n) ? i : -1;
      else if (mode == "replicate") map[d][j] = std::min(std::max<int64_t>(i, 0), n - 1);
      else if (mode == "circular") map[d][j] = ((i % n) + n) % n;
      else { if (i < 0) i = -i; if (i >= n) i = 2 * (n - 1) - i; map[d][j] = i; }
    }
  }
  Tensor xc = contig(x);
  const Device dev = x->device();
  Tensor out = empty(os, x->dtype, dev);
  if (out->numel > 0) {
    if (x->dtype == DType::Int64)
      PYDL_KERNEL(dev, pad_forward<int64_t>, outer, in, map, xc->data<int64_t>(), out->data<int64_t>(), int64_t(value));
    else
      PYDL_DISPATCH_FLOAT(x->dtype, "pad", [&] {
        PYDL_KERNEL(dev, pad_forward<scalar_t>, outer, in, map, xc->data<scalar_t>(), out->data<scalar_t>(), scalar_t(value));
      });
  }
  if (any_requires_grad({&x})) {
    auto node = make_node("PadBackward", {x}, [outer, in, map, p, mode, xs = x->shape, dt = x->dtype](FunctionNode&, const TensorList& g) -> TensorList {
      Tensor gy = contig(g[0]);
      const Device dev = gy->device();
      Tensor gx = empty(xs, dt, dev);
      PYDL_DISPATCH_FLOAT(dt, "pad", [&] {
        if (gx->numel == 0) return;
        PYDL_KERNEL(dev, pad_backward<scalar_t>, outer, in, map, gy->data<scalar_t>(), gx->data<scalar_t>());
      });
      // gx folds gy's padding back onto x: its gradient pads again (zeros in constant mode)
      record_linear_grad("PadBackwardBackward", g[0], gx, [p, mode](const Tensor& ggx) { return pad(ggx, p, mode, 0.0); });
      return {gx};
    });
    set_history(out, node);
  }
  return out;
}

}  // namespace pydl
