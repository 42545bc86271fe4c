// tril / triu: the lower / upper triangle of the last two dims, the rest zeroed. Compositions
// of where() with a (rows, cols) mask, so where's backward passes the gradient through the kept
// triangle and no node of their own is needed.
#include "ops/ops.h"

namespace pydl {

namespace {
Tensor triangle(const Tensor& a, int64_t diagonal, bool lower, const char* op) {
  int64_t n = a->dim();
  PYDL_CHECK(n >= 2, ValueError, "[", op, "] input tensor must have at least 2 dimensions, got shape ", shape_str(a->shape));
  int64_t R = a->shape[n - 2], C = a->shape[n - 1];
  Tensor rows = reshape(arange(0, static_cast<double>(R), 1, DType::Int64), {R, 1});
  Tensor cols = reshape(arange(0, static_cast<double>(C), 1, DType::Int64), {1, C});
  Tensor offset = sub(cols, rows);  // j - i: 0 on the diagonal, > 0 above it
  Tensor k = scalar_tensor(static_cast<double>(diagonal), DType::Int64);
  Tensor keep = compare(lower ? Cmp::Le : Cmp::Ge, offset, k);
  return where(keep, a, scalar_tensor(0, a->dtype));
}
}  // namespace

Tensor tril(const Tensor& a, int64_t diagonal) { return triangle(a, diagonal, true, "tril"); }
Tensor triu(const Tensor& a, int64_t diagonal) { return triangle(a, diagonal, false, "triu"); }

}  // namespace pydl
