// scaled_dot_product_attention: checks, forward and backward side by side.
#include "ops/attention.h"

#include <cmath>
#include <mutex>

#include "core/rng.h"
#include "kernels/cpu/attention.h"
#include "kernels/dispatch.h"
#include "ops/device.h"
#include "ops/nn.h"

namespace pydl {

namespace K = kernels;

namespace {

constexpr const char* kOp = "[scaled_dot_product_attention] ";

Shape batch_of(const Tensor& t) { return Shape(t->shape.begin(), t->shape.end() - 2); }

Shape with_tail(Shape s, int64_t a, int64_t b) {
  s.push_back(a);
  s.push_back(b);
  return s;
}

// Heads of k or v (dim -3) repeated to `hq` as repeat_interleave does: q head h reads kv head h / (hq / hk).
Tensor repeat_heads(const Tensor& t, int64_t hq) {
  const int64_t hk = t->shape[t->dim() - 3];
  if (hk == hq) return t;
  PYDL_CHECK(hk > 0 && hq % hk == 0, ValueError, kOp, "enable_gqa needs the number of query heads (", hq,
             ") to be a multiple of the key/value heads (", hk, ")");
  IntList s(t->shape.begin(), t->shape.end());
  Tensor u = unsqueeze(t, t->dim() - 2);  // (..., hk, 1, S, E)
  IntList es(u->shape.begin(), u->shape.end());
  es[es.size() - 3] = hq / hk;
  s[s.size() - 3] = hq;
  return reshape(expand(u, es), s);
}

// The mask read through (B, L, S) strides when its broadcast batch dims collapse to one
// stride (a (L, S) mask, or one per batch), else a materialised (B, L, S) copy.
Tensor mask_view(const Tensor& m, const Shape& full, int64_t& sb, int64_t& sl, int64_t& ss) {
  Tensor bv = broadcast_view(m, full);
  const int64_t n = static_cast<int64_t>(full.size());
  bool ok = true, first = true;
  int64_t inner_stride = 0, inner_size = 1;
  for (int64_t i = n - 3; i >= 0 && ok; --i) {  // innermost batch dim first
    if (full[i] == 1) continue;
    if (first) sb = bv->strides[i], first = false;
    else ok = bv->strides[i] == inner_stride * inner_size;
    inner_stride = bv->strides[i];
    inner_size = full[i];
  }
  if (first) sb = 0;
  if (!ok) {
    bv = contiguous_copy(bv);
    sb = full[n - 2] * full[n - 1];
  }
  sl = bv->strides[n - 2];
  ss = bv->strides[n - 1];
  return bv;
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in, const Tensor& mask,
                                    double p, bool is_causal, std::optional<double> scale, bool enable_gqa) {
  PYDL_CHECK(q_in && k_in && v_in, TypeError, kOp, "expected tensors for query, key and value");
  PYDL_CHECK(q_in->dim() >= 2 && k_in->dim() >= 2 && v_in->dim() >= 2, ValueError, kOp,
             "expected query, key and value of at least 2 dims (..., L, E), got ", shape_str(q_in->shape), ", ",
             shape_str(k_in->shape), " and ", shape_str(v_in->shape));
  PYDL_CHECK(is_floating(q_in->dtype) && q_in->dtype == k_in->dtype && q_in->dtype == v_in->dtype, TypeError, kOp,
             "expected query, key and value of the same floating dtype, got ", dtype_name(q_in->dtype), ", ",
             dtype_name(k_in->dtype), " and ", dtype_name(v_in->dtype));
  const int64_t L = q_in->shape[q_in->dim() - 2], E = q_in->shape.back(), S = k_in->shape[k_in->dim() - 2], Ev = v_in->shape.back();
  PYDL_CHECK(k_in->shape.back() == E, ValueError, kOp, "query ", shape_str(q_in->shape), " and key ", shape_str(k_in->shape),
             " must have the same embedding size (last dim)");
  PYDL_CHECK(v_in->shape[v_in->dim() - 2] == S, ValueError, kOp, "key ", shape_str(k_in->shape), " and value ",
             shape_str(v_in->shape), " must have the same sequence length (dim -2)");
  PYDL_CHECK(p >= 0 && p < 1, ValueError, kOp, "dropout_p must be in [0, 1), got ", p);
  PYDL_CHECK(!(is_causal && mask), ValueError, kOp, "attn_mask should not be set when is_causal=True");
  Tensor q = q_in, k = k_in, v = v_in;
  if (enable_gqa && q->dim() >= 3 && k->dim() >= 3 && v->dim() >= 3) {
    const int64_t hq = q->shape[q->dim() - 3];
    k = repeat_heads(k, hq);
    v = repeat_heads(v, hq);
  }
  Shape batch = broadcast_shapes(broadcast_shapes(batch_of(q), batch_of(k), "scaled_dot_product_attention"), batch_of(v),
                                 "scaled_dot_product_attention");
  int64_t B = 1;
  for (int64_t d : batch) B *= d;
  // Broadcast batch dims with differentiable expands (their backward sums the gradient back).
  auto flat = [&](const Tensor& t, int64_t a, int64_t b) {
    Shape full = with_tail(batch, a, b);
    Tensor e = t->shape == full ? t : expand(t, IntList(full.begin(), full.end()));
    return reshape(e, {B, a, b});
  };
  Tensor qf = flat(q, L, E), kf = flat(k, S, E), vf = flat(v, S, Ev);
  K::AttnGeom g{B, L, S, E, Ev, scale ? *scale : 1.0 / std::sqrt(double(E > 0 ? E : 1)), is_causal, p, 0};
  Tensor mv, mask_grad_src;
  const Shape full_mask = with_tail(batch, L, S);
  if (mask) {
    PYDL_CHECK(mask->dtype == DType::Bool || mask->dtype == q->dtype, TypeError, kOp, "attn_mask must be bool or ",
               dtype_name(q->dtype), " like the query, got ", dtype_name(mask->dtype));
    bool fits = mask->dim() <= static_cast<int64_t>(full_mask.size());
    for (int64_t i = 1; fits && i <= mask->dim(); ++i) {
      const int64_t m = mask->shape[mask->dim() - i];
      fits = m == 1 || m == full_mask[full_mask.size() - i];
    }
    PYDL_CHECK(fits, ValueError, kOp, "attn_mask of shape ", shape_str(mask->shape),
               " does not broadcast to the attention shape ", shape_str(full_mask));
    mv = mask_view(mask, full_mask, g.mask_sb, g.mask_sl, g.mask_ss);
    g.mask_is_bool = mask->dtype == DType::Bool;
    if (!g.mask_is_bool) mask_grad_src = mask;
  }
  if (p > 0) {
    Generator& gen = default_generator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    g.seed = gen.next_u64();
  }
  const Device dev = common_device("scaled_dot_product_attention", {q.get(), k.get(), v.get(), mask.get()});
  // The mask's data pointer is taken where the kernel is called (a CUDA pointer only there).
  auto with_mask = [&] {
    K::AttnGeom gm = g;
    gm.mask = mv ? mv->raw() : nullptr;
    return gm;
  };
  Tensor qc = contig(qf), kc = contig(kf), vc = contig(vf);
  Tensor out = empty({B, L, Ev}, q->dtype, dev), P = empty({B, L, S}, q->dtype, dev);
  PYDL_DISPATCH_FLOAT(q->dtype, "scaled_dot_product_attention", [&] {
    using T = scalar_t;
    PYDL_KERNEL(dev, sdpa_forward<T>, with_mask(), qc->data<T>(), kc->data<T>(), vc->data<T>(), out->data<T>(), P->data<T>());
  });
  const bool mask_grad = mask_grad_src && any_requires_grad({&mask_grad_src});
  if (any_requires_grad({&qf, &kf, &vf}) || mask_grad) {
    Tensor mg = mask_grad ? mask_grad_src : Tensor();
    auto node = make_node("ScaledDotProductAttentionBackward", {qf, kf, vf, mg},
                          [g, P, full_mask, mshape = mask ? mask->shape : Shape{}](FunctionNode& n, const TensorList& gr) -> TensorList {
      K::AttnGeom gg = g;
      gg.mask = nullptr;  // backward reads the masking through P
      Tensor q = contig(n.get(0)), k = contig(n.get(1)), v = contig(n.get(2)), go = contig(gr[0]);
      const bool nq = bool(n.next_edges[0].fn), nk = bool(n.next_edges[1].fn), nv = bool(n.next_edges[2].fn);
      const bool nm = n.next_edges.size() > 3 && n.next_edges[3].fn;
      const Device dev = P->device();
      Tensor gq = nq ? empty(q->shape, q->dtype, dev) : Tensor(), gk = nk ? empty(k->shape, k->dtype, dev) : Tensor();
      Tensor gv = nv ? empty(v->shape, v->dtype, dev) : Tensor(), gs = nm ? empty(P->shape, q->dtype, dev) : Tensor();
      PYDL_DISPATCH_FLOAT(q->dtype, "scaled_dot_product_attention", [&] {
        using T = scalar_t;
        auto ptr = [](const Tensor& t) { return t ? t->data<T>() : nullptr; };
        PYDL_KERNEL(dev, sdpa_backward<T>, gg, q->data<T>(), k->data<T>(), v->data<T>(), P->data<T>(), go->data<T>(),
                    ptr(gq), ptr(gk), ptr(gv), ptr(gs));
      });
      if (gs) gs = sum_to(reshape(gs, IntList(full_mask.begin(), full_mask.end())), mshape);
      return {gq, gk, gv, gs};
    });
    node->saved.emplace_back(qf, false);
    node->saved.emplace_back(kf, false);
    node->saved.emplace_back(vf, false);
    node->once_differentiable = true;  // backward runs raw kernels
    // The same backward written with ops, from the probabilities recomputed with ops (without dropout: its mask
    // lives in the kernel's random stream).
    if (p == 0) {
      node->saved.emplace_back(mask, false);
      node->graph_fn = [g, full_mask, mshape = mask ? mask->shape : Shape{}](FunctionNode& n, const TensorList& gr) -> TensorList {
        Tensor q = n.get(0), k = n.get(1), v = n.get(2), m = n.get(3), go = gr[0];
        Tensor s = mul_scalar(matmul(q, transpose(k, 1, 2)), g.scale);  // (B, L, S)
        auto ninf = [&] { return scalar_tensor(-INFINITY, s->dtype); };
        if (m) {
          Tensor mb = reshape(expand(m, IntList(full_mask.begin(), full_mask.end())), {g.B, g.L, g.S});
          s = m->dtype == DType::Bool ? where(mb, s, ninf()) : add(s, mb);
        }
        if (g.causal) s = where(to_device(to_dtype(tril(full({g.L, g.S}, 1.0, DType::Int64), 0), DType::Bool), s->device(), false), s, ninf());
        Tensor a = softmax(s, -1);
        Tensor da = matmul(go, transpose(v, 1, 2));  // (B, L, Ev) x (B, S, Ev)^T
        Tensor ds = mul(a, sub(da, sum(mul(da, a), {-1}, true)));
        const bool nm = n.next_edges.size() > 3 && n.next_edges[3].fn;
        return {n.next_edges[0].fn ? mul_scalar(matmul(ds, k), g.scale) : Tensor(),
                n.next_edges[1].fn ? mul_scalar(matmul(transpose(ds, 1, 2), q), g.scale) : Tensor(),
                n.next_edges[2].fn ? matmul(transpose(a, 1, 2), go) : Tensor(),
                nm ? sum_to(reshape(ds, IntList(full_mask.begin(), full_mask.end())), mshape) : Tensor()};
      };
    }
    set_history(out, node);
  }
  const Shape os = with_tail(batch, L, Ev);
  return reshape(out, IntList(os.begin(), os.end()));
}

}  // namespace pydl
