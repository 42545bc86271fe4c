#pragma once
// Every differentiable op of pydl. Each op checks its arguments (errors name the op and
// the shapes), runs its kernel and, when grad mode is on and an input requires grad,
// records a backward node written next to it in csrc/ops/<family>.cpp.
#include <optional>
#include <vector>

#include "autograd/node.h"
#include "core/tensor.h"
#include "ops/binary_ops.h"
#include "ops/reduce_ops.h"
#include "ops/unary_ops.h"

namespace pydl {

using IntList = std::vector<int64_t>;
/// Strips one pair of parentheses: the op tables' parenthesised columns.
#define PYDL_UNPAREN(...) __VA_ARGS__

// ---- elementwise.cpp ---------------------------------------------------------------
/// NumPy broadcast of two shapes; ValueError naming `op` if incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
/// A stride-0 view of `t` broadcast to `s` (no autograd; for kernels to read).
Tensor broadcast_view(const Tensor& t, const Shape& s);
/// The one device of an op's operands (null ones skipped); 0-d CPU tensors among them (Python
/// scalars) are moved onto a CUDA operand's device first, as PyTorch allows. RuntimeError
/// "[op] expected all tensors on the same device, got cpu and cuda:0" otherwise.
Device operand_device(const char* op, std::initializer_list<Tensor*> ts);
/// `t` converted to dtype `dt` (itself if already so), no autograd.
Tensor cast_raw(const Tensor& t, DType dt);
/// Sums `t` down to `shape` (the reverse of broadcasting), used by backward formulas.
Tensor sum_to(const Tensor& t, const Shape& shape);
/// A 0-d tensor for a Python scalar next to tensor `like` (keeps like's dtype category).
Tensor wrap_scalar(double v, bool is_int, const Tensor& like);

#define PYDL_DECLARE_BINARY(NAME, ...) Tensor NAME(const Tensor& a, const Tensor& b);
PYDL_BINARY_OPS(PYDL_DECLARE_BINARY, PYDL_DECLARE_BINARY)  // add, sub, ..., hypot: ops/binary_ops.h
#undef PYDL_DECLARE_BINARY
Tensor pow_scalar(const Tensor& a, double exponent);
/// Python's //: floor(a / b); exact for integers (RuntimeError on an integer zero divisor).
Tensor floor_divide(const Tensor& a, const Tensor& b);
/// RuntimeError naming `op` if `result` is an integer dtype and `b` holds a zero.
void check_int_divisor(const Tensor& b, DType result, const char* op);
Tensor mul_scalar(const Tensor& a, double s);
Tensor add_scalar(const Tensor& a, double s);

Tensor neg(const Tensor& a);
#define PYDL_DECLARE_UNARY(NAME, ...) Tensor NAME(const Tensor& a);
PYDL_UNARY_OPS(PYDL_DECLARE_UNARY)  // abs, exp, ..., erf: ops/unary_ops.h
#undef PYDL_DECLARE_UNARY
Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

#define PYDL_ENUM_CMP(NAME, KOP) KOP,
enum class Cmp { PYDL_COMPARE_OPS(PYDL_ENUM_CMP) };
#undef PYDL_ENUM_CMP
/// Elementwise comparison; bool result, no gradient.
Tensor compare(Cmp op, const Tensor& a, const Tensor& b);

/// Dtype conversion (differentiable between float dtypes); returns `a` if already `dtype`.
Tensor to_dtype(const Tensor& a, DType dtype);
/// A contiguous copy with its own storage (differentiable, like clone()).
Tensor clone(const Tensor& a);
/// A contiguous copy without autograd (used by the engine).
Tensor contiguous_copy(const Tensor& a);
/// `t` itself if contiguous (or undefined), else a contiguous copy; no autograd. For kernels.
inline Tensor contig(const Tensor& t) { return t && !t->is_contiguous() ? contiguous_copy(t) : t; }

// in place: bump the version counter; error on leaves that require grad (grad mode on)
void add_(const Tensor& self, const Tensor& other, double alpha = 1.0);
void sub_(const Tensor& self, const Tensor& other);
void mul_(const Tensor& self, const Tensor& other);
void div_(const Tensor& self, const Tensor& other);
void copy_(const Tensor& self, const Tensor& src);
void fill_(const Tensor& self, double value);
void zero_(const Tensor& self);
void clamp_(const Tensor& self, std::optional<double> lo, std::optional<double> hi);
/// max(self, 0) in place.
void relu_(const Tensor& self);
/// Checks that an in-place op may write into `self` (not a leaf requiring grad in grad mode).
void check_inplace(const Tensor& self, const char* op);

// ---- shape.cpp: views share storage ------------------------------------------------
Tensor view(const Tensor& a, IntList shape);      // contiguous-compatible only
Tensor reshape(const Tensor& a, IntList shape);   // a view when possible, else a copy
Tensor contiguous(const Tensor& a);
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1);
Tensor permute(const Tensor& a, IntList dims);
Tensor expand(const Tensor& a, IntList shape);     // -1 keeps a dim
Tensor squeeze(const Tensor& a, std::optional<IntList> dims);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim);
Tensor slice(const Tensor& a, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step);
Tensor select(const Tensor& a, int64_t dim, int64_t index);
Tensor as_strided_view(const Tensor& a, Shape shape, Shape strides, int64_t offset);  // no autograd
Tensor cat(const TensorList& ts, int64_t dim);
Tensor stack(const TensorList& ts, int64_t dim);
TensorList split(const Tensor& a, IntList sizes, int64_t dim);  // explicit sizes
TensorList split_size(const Tensor& a, int64_t size, int64_t dim);
TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim);

// ---- reduce.cpp ----------------------------------------------------------------------
/// Dims to reduce; empty = all. Negative dims allowed; duplicates rejected. dtype defaults to none.
#define PYDL_DECLARE_REDUCE(NAME, FORM) Tensor NAME(const Tensor& a, PYDL_REDUCE_PARAMS_##FORM);
PYDL_REDUCE_OPS(PYDL_DECLARE_REDUCE)  // sum, mean, ..., logsumexp: ops/reduce_ops.h
#undef PYDL_DECLARE_REDUCE
inline Tensor sum(const Tensor& a, IntList dims, bool keepdim) { return sum(a, std::move(dims), keepdim, std::nullopt); }
inline Tensor mean(const Tensor& a, IntList dims, bool keepdim) { return mean(a, std::move(dims), keepdim, std::nullopt); }
inline Tensor prod(const Tensor& a, std::optional<int64_t> dim, bool keepdim) { return prod(a, dim, keepdim, std::nullopt); }
/// max/min along one dim: (values, indices).
std::pair<Tensor, Tensor> max_dim(const Tensor& a, int64_t dim, bool keepdim);
std::pair<Tensor, Tensor> min_dim(const Tensor& a, int64_t dim, bool keepdim);
/// The p-norm of `a` over `dims` (empty = all): ord 2, 1, any p, +-inf (max/min |x|), 0 (nonzeros).
Tensor vector_norm(const Tensor& a, double ord, IntList dims, bool keepdim);

// ---- triangular.cpp ------------------------------------------------------------------
/// The lower (tril) / upper (triu) triangle of the last two dims from `diagonal` on, the rest 0.
Tensor tril(const Tensor& a, int64_t diagonal);
Tensor triu(const Tensor& a, int64_t diagonal);

// ---- linalg.cpp ----------------------------------------------------------------------
/// PyTorch matmul: 1-D, 2-D and batched with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
/// The float32 GEMM engine in use (its instruction set, or "eigen").
const char* gemm_engine_name();
/// Measured float32 FMA GFLOP/s of `threads` threads with instruction set `isa`.
double fma_peak_gflops(const std::string& isa, int threads, double seconds);

// ---- index.cpp -----------------------------------------------------------------------
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
/// Advanced indexing a[indices...]: one optional int64 index tensor per leading dim
/// (null = take the whole dim), with NumPy/PyTorch placement of the result dims.
Tensor index(const Tensor& a, const TensorList& indices);
/// a[indices...] = values (accumulate=false) or += (accumulate=true), in place.
void index_put_(const Tensor& a, const TensorList& indices, const Tensor& values, bool accumulate);
/// Indices of nonzero elements, shape (n, ndim), int64.
Tensor nonzero(const Tensor& a);
Tensor masked_fill(const Tensor& a, const Tensor& mask, double value);
// ---- index.cpp: added by the indexing work ----
/// In-place scatter_add: self[..., index[p], ...] += src[p] along `dim`.
void scatter_add_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
/// A copy of `a` with src written at index along dim (last write wins on repeats).
Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
/// In-place scatter.
void scatter_(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
/// masked_fill with a 0-d tensor value (differentiable in the value too).
Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value);
/// Out-of-place index_put_ (differentiable in `a` and `values`).
Tensor index_put(const Tensor& a, const TensorList& indices, const Tensor& values, bool accumulate);
/// In-place masked_fill.
void masked_fill_(const Tensor& a, const Tensor& mask, double value);
/// 1-D tensor of the elements of `a` where `mask` (broadcast together) is true.
Tensor masked_select(const Tensor& a, const Tensor& mask);
/// Stable sort along `dim`: (values, int64 indices).
std::pair<Tensor, Tensor> sort(const Tensor& a, int64_t dim, bool descending);
/// The k largest (or smallest) elements along `dim`, sorted: (values, int64 indices).
std::pair<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim, bool largest);
/// Inclusive cumulative sum along `dim` (int64 for integer/bool input).
Tensor cumsum(const Tensor& a, int64_t dim);
/// int64 one-hot encoding, shape index.shape + (num_classes,); num_classes < 0 infers max + 1.
Tensor one_hot(const Tensor& index, int64_t num_classes);

/// One item of a Python subscript x[i, a:b:s, None, ..., idx_tensor].
struct TensorIndex {
  enum class Kind { Int, Slice, None, Ellipsis, Tensor } kind = Kind::None;
  int64_t i = 0;  // Int
  std::optional<int64_t> start, stop;  // Slice
  int64_t step = 1;
  Tensor t;  // Tensor: int64 indices or a bool mask
};
/// x[items]: views for ints/slices/None/..., a copy when index tensors take part.
Tensor getitem(const Tensor& a, const std::vector<TensorIndex>& items);
/// x[items] = value (broadcast), in place; records autograd history when needed.
void setitem(const Tensor& a, const std::vector<TensorIndex>& items, const Tensor& value);
// ---- end of the indexing additions ----

// ---- elementwise.cpp: issue 13's additions (the unary math is in ops/unary_ops.h) ----
/// polygamma(1, x), not differentiable.
Tensor trigamma(const Tensor& a);


// ---- scan.cpp: cumulative ops along one dim ----
/// Inclusive cumulative product along `dim` (exact gradient with zeros, no division).
Tensor cumprod(const Tensor& a, int64_t dim);
/// log(cumsum(exp(a))) along `dim`, computed stably.
Tensor logcumsumexp(const Tensor& a, int64_t dim);
/// Running max (or min) along `dim`: (values, int64 indices of the last extremum so far).
std::pair<Tensor, Tensor> cummax(const Tensor& a, int64_t dim, bool is_max);
/// Insertion indices of `values` into the last dim of `sorted` (1-D, or leading dims matching values'):
/// the first position with sorted >= v (right: sorted > v). int64, values' shape.
Tensor searchsorted(const Tensor& sorted, const Tensor& values, bool right);

// ---- factory.cpp (no autograd) --------------------------------------------------------
Tensor arange(double start, double end, double step, DType dtype);
Tensor linspace(double start, double end, int64_t steps, DType dtype);
Tensor eye(int64_t n, int64_t m, DType dtype);
Tensor rand(const Shape& shape, DType dtype);
Tensor randn(const Shape& shape, DType dtype);
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype);
Tensor randperm(int64_t n, DType dtype);
/// PyTorch's CPU randperm(n, generator seeded with `seed`) exactly (mt19937; DistributedSampler's order).
Tensor randperm_mt19937(int64_t n, uint64_t seed);
/// In-place initialisers used by nn.init (no autograd, bump the version).
void uniform_(const Tensor& t, double lo, double hi);
void normal_(const Tensor& t, double mean, double stdv);
void bernoulli_(const Tensor& t, double p);

}  // namespace pydl
