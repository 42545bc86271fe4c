// matmul: 1-D, 2-D and batched with broadcast batch dims, on the device's GEMM (CPU: pydl's packed
// float32 engine, Eigen for float64 and int64; CUDA: cuBLAS).
#include "kernels/dispatch.h"
#include "ops/ops.h"

namespace pydl {

namespace {

// Strides of the last two dims as the GEMM kernel wants them: one of them 1.
// Size-1 dims get a harmless stride; returns false if the operand must be copied.
bool gemm_strides(const Tensor& t, int64_t& rs, int64_t& cs) {
  int64_t n = t->dim();
  int64_t rows = t->shape[n - 2], cols = t->shape[n - 1];
  rs = t->strides[n - 2];
  cs = t->strides[n - 1];
  if (cols == 1) cs = 1;
  if (rows == 1) rs = cs == 1 ? cols : 1;
  if (cs == 1 && rs >= cols) return true;
  if (rs == 1 && cs >= rows) return true;
  return false;
}

// Collapses the batch dims of `t` (all but the last two) into one stride, if possible.
bool batch_stride(const Tensor& t, int64_t& bs) {
  int64_t nb = t->dim() - 2;
  bs = 0;
  int64_t expect = -1;
  for (int64_t i = nb - 1; i >= 0; --i) {
    if (t->shape[i] == 1) continue;
    if (expect < 0) { bs = t->strides[i]; expect = bs * t->shape[i]; continue; }
    if (t->strides[i] != expect) return false;
    expect *= t->shape[i];
  }
  return true;
}

// (batch..., M, K) @ (batch..., K, N) with batch dims already equal (broadcast views).
Tensor bmm_raw(Tensor a, Tensor b) {
  int64_t n = a->dim();
  int64_t M = a->shape[n - 2], K = a->shape[n - 1], N = b->shape[n - 1];
  Shape out_shape(a->shape.begin(), a->shape.end() - 2);
  int64_t batch = 1;
  for (int64_t d : out_shape) batch *= d;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Device dev = common_device("matmul", {a.get(), b.get()});
  Tensor out = empty(out_shape, a->dtype, dev);
  if (out->numel == 0) return out;
  int64_t ars, acs, abs_, brs, bcs, bbs;
  if (!gemm_strides(a, ars, acs) || !batch_stride(a, abs_)) {
    a = contiguous_copy(a);
    gemm_strides(a, ars, acs);
    batch_stride(a, abs_);
  }
  if (!gemm_strides(b, brs, bcs) || !batch_stride(b, bbs)) {
    b = contiguous_copy(b);
    gemm_strides(b, brs, bcs);
    batch_stride(b, bbs);
  }
  // A shared right operand and a row-major left one: fold the batch into M (one big GEMM).
  if (batch > 1 && bbs == 0 && acs == 1 && abs_ == M * ars) {
    PYDL_KERNEL(dev, gemm, a->dtype, 1, batch * M, N, K, a->raw(), ars, 1, 0, b->raw(), brs, bcs, 0, out->raw(), 0, false);
    return out;
  }
  PYDL_KERNEL(dev, gemm, a->dtype, batch, M, N, K, a->raw(), ars, acs, abs_, b->raw(), brs, bcs, bbs, out->raw(), M * N,
              false);
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  PYDL_CHECK(a->dim() > 0 && b->dim() > 0, ValueError, "[matmul] both arguments need to be at least 1D, but they are ",
             a->dim(), "D and ", b->dim(), "D");
  common_device("matmul", {a.get(), b.get()});
  PYDL_CHECK(a->dtype == b->dtype, TypeError, "[matmul] expected both operands to have the same dtype, but got ",
             dtype_name(a->dtype), " and ", dtype_name(b->dtype));
  PYDL_CHECK(a->dtype != DType::Bool, TypeError, "[matmul] not supported for bool tensors");
  int64_t ka = a->shape.back(), kb = b->dim() == 1 ? b->shape[0] : b->shape[b->dim() - 2];
  PYDL_CHECK(ka == kb, ValueError, "[matmul] shapes ", shape_str(a->shape), " and ", shape_str(b->shape), " cannot be multiplied");
  // 1-D operands become matrices, and the added dim is removed from the result.
  if (a->dim() == 1) return squeeze(matmul(unsqueeze(a, 0), b), IntList{b->dim() == 1 ? -1 : -2});
  if (b->dim() == 1) return squeeze(matmul(a, unsqueeze(b, 1)), IntList{-1});

  Shape ba(a->shape.begin(), a->shape.end() - 2), bb(b->shape.begin(), b->shape.end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), a->shape.end() - 2, a->shape.end());
  eb.insert(eb.end(), b->shape.end() - 2, b->shape.end());
  Tensor out;
  {
    AutoGradMode off(false);
    out = bmm_raw(ea == a->shape ? a : expand(a, ea), eb == b->shape ? b : expand(b, eb));
  }
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("MatmulBackward", {a, b}, [sa = a->shape, sb = b->shape](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor ga, gb;
      // (M,N) x (K,N)^T -> (M,K);  (M,K)^T x (M,N) -> (K,N); broadcast batch dims summed away
      if (n.next_edges[0].fn) ga = sum_to(matmul(g[0], transpose(n.get(1), -1, -2)), sa);
      if (n.next_edges[1].fn) gb = sum_to(matmul(transpose(n.get(0), -1, -2), g[0]), sb);
      return {ga, gb};
    });
    node->saved.emplace_back(b->requires_grad ? a : Tensor(), false);
    node->saved.emplace_back(a->requires_grad ? b : Tensor(), false);
    set_history(out, node);
  }
  return out;
}

const char* gemm_engine_name() { return kernels::sgemm_engine_name(); }

double fma_peak_gflops(const std::string& isa, int threads, double seconds) {
  return kernels::fma_peak_gflops(isa, threads, seconds);
}

}  // namespace pydl
