// Elementwise ops: arithmetic with NumPy broadcasting, unary math, comparisons, casts,
// in-place variants. Each op's forward and backward stand together.
#include <array>
#include <cmath>

#include "kernels/dispatch.h"
#include "ops/ops.h"

namespace pydl {

namespace K = kernels;

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    PYDL_CHECK(da == db || da == 1 || db == 1, ValueError, "[", op, "] shapes ", shape_str(a), " and ", shape_str(b),
               " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// A stride-0 view of `t` with shape `s` (no autograd; kernels read it).
Tensor broadcast_view(const Tensor& t, const Shape& s) {
  if (t->shape == s) return t;
  Shape st(s.size(), 0);
  size_t off = s.size() - t->shape.size();
  for (size_t i = 0; i < t->shape.size(); ++i) st[off + i] = t->shape[i] == 1 ? 0 : t->strides[i];
  return std::make_shared<TensorImpl>(t->storage, s, st, t->offset, t->dtype);
}

Tensor cast_raw(const Tensor& t, DType dt) {
  if (t->dtype == dt) return t;
  Tensor out = empty(t->shape, dt, t->device());
  PYDL_KERNEL(t->device(), copy, *out, *t);
  return out;
}

Device operand_device(const char* op, std::initializer_list<Tensor*> ts) {
  Device dev;
  for (Tensor* t : ts)
    if (*t && (*t)->device().is_cuda()) {
      dev = (*t)->device();
      break;
    }
  const TensorImpl* first = nullptr;
  for (Tensor* t : ts) {
    if (!*t) continue;
    if (dev.is_cuda() && (*t)->dim() == 0 && (*t)->device().is_cpu() && !(*t)->requires_grad) {
      // written by the fill kernel (the value travels as its argument): no copy, no wait
      Tensor on = empty({}, (*t)->dtype, dev);
      PYDL_KERNEL(dev, fill, *on, item(*t));
      *t = on;
    }
    if (first) common_device(op, {first, t->get()});
    else first = t->get();
  }
  return first ? first->device() : dev;
}

namespace {

// Gradient for input `in` from a gradient of the broadcast result: reduce and cast back.
Tensor grad_for(const Tensor& g, const Shape& shape, DType dt) {
  Tensor r = sum_to(g, shape);
  return r->dtype == dt ? r : to_dtype(r, dt);
}

Tensor binary_raw(K::BinaryOp op, Tensor a, Tensor b, DType dt, const char* name) {
  PYDL_CHECK(a && b, TypeError, "[", name, "] expected tensors, got None");
  Device dev = operand_device(name, {&a, &b});
  if (a->shape == b->shape && a->dtype == dt && b->dtype == dt) {
    Tensor out = empty(a->shape, dt, dev);
    PYDL_KERNEL(dev, binary, op, *out, *a, *b);
    return out;
  }
  Shape s = broadcast_shapes(a->shape, b->shape, name);
  Tensor out = empty(s, dt, dev);
  PYDL_KERNEL(dev, binary, op, *out, *broadcast_view(cast_raw(a, dt), s), *broadcast_view(cast_raw(b, dt), s));
  return out;
}

Tensor unary_raw(K::UnaryOp op, const Tensor& a, DType dt) {
  Tensor out = empty(a->shape, dt, a->device());
  PYDL_KERNEL(a->device(), unary, op, *out, *cast_raw(a, dt));
  return out;
}

// Math functions on ints/bools compute in float32, like PyTorch.
DType float_type(const Tensor& a) { return is_floating(a->dtype) ? a->dtype : DType::Float32; }

// Records a node for a one-input op whose backward is `f(node, grad)`.
template <typename F>
void record_unary(const char* name, const Tensor& a, const Tensor& out, bool save_input, bool save_output, F f) {
  if (!any_requires_grad({&a})) return;
  auto node = make_node(name, {a}, [f](FunctionNode& n, const TensorList& g) -> TensorList { return {f(n, g[0])}; });
  // saved[0] = input (if saved), then output
  if (save_input) node->saved.emplace_back(a, false);
  set_history(out, node);
  if (save_output) node->saved.emplace_back(out, true);
}

}  // namespace

Tensor sum_to(const Tensor& t, const Shape& shape) {
  if (t->shape == shape) return t;
  IntList dims;
  size_t lead = t->shape.size() - shape.size();
  for (size_t i = 0; i < t->shape.size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && t->shape[i] != 1)) dims.push_back(static_cast<int64_t>(i));
  Tensor r = sum(t, dims, true);
  return reshape(r, shape);
}

Tensor wrap_scalar(double v, bool is_int, const Tensor& like) {
  DType dt = is_floating(like->dtype) ? like->dtype : (is_int ? DType::Int64 : DType::Float32);
  if (is_int && like->dtype == DType::Bool && (v == 0 || v == 1)) dt = DType::Int64;
  return scalar_tensor(v, dt);  // on the CPU: operand_device hands it to a CUDA op as a kernel argument
}

namespace {
// Result dtypes of the ops/binary_ops.h rules, with their argument checks.
DType binary_result_Promote(const char*, const Tensor& a, const Tensor& b) { return promote(a->dtype, b->dtype); }
DType binary_result_Float(const char*, const Tensor& a, const Tensor& b) {  // true division and math
  return promote(promote(a->dtype, b->dtype), DType::Float32);
}
DType binary_result_NoBools(const char* name, const Tensor& a, const Tensor& b) {
  PYDL_CHECK(!(a->dtype == DType::Bool && b->dtype == DType::Bool), TypeError,
             "[", name, "] subtraction of two bool tensors is not supported; use logical_xor or ~");
  return promote(a->dtype, b->dtype);
}
DType binary_result_Pow(const char* name, const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  if (dt == DType::Int64 && b->numel > 0) {
    AutoGradMode off(false);
    PYDL_CHECK(item(amin(b, {}, false)) >= 0, ValueError, "[", name, "] integers to negative integer powers are not "
               "allowed (exponent of shape ", shape_str(b->shape), "); use a float base");
  }
  return dt;
}
DType binary_result_Divisor(const char* name, const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  if (b->numel > 0) check_int_divisor(b, dt, name);
  return dt;
}
DType int_result(const char* name, const Tensor& a, const Tensor& b, bool allow_bool) {
  DType dt = promote(a->dtype, b->dtype);
  PYDL_CHECK(dt == DType::Int64 || (allow_bool && dt == DType::Bool), TypeError, "[", name, "] is only implemented for ",
             allow_bool ? "integer and bool" : "integer", " tensors, got ", dtype_name(a->dtype), " and ", dtype_name(b->dtype));
  return dt;
}
DType binary_result_IntOrBool(const char* name, const Tensor& a, const Tensor& b) { return int_result(name, a, b, true); }
DType binary_result_Int(const char* name, const Tensor& a, const Tensor& b) { return int_result(name, a, b, false); }
DType binary_result_Floating(const char* name, const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  PYDL_CHECK(is_floating(dt), TypeError, "[", name, "] expected floating tensors, got ", dtype_name(a->dtype), " and ",
             dtype_name(b->dtype));
  return dt;
}

// log x, taken as 0 where x == 0 (d/db a^b = a^b log a).
Tensor log0(const Tensor& x) {
  Tensor zero = scalar_tensor(0, x->dtype);
  return where(compare(Cmp::Eq, x, zero), zero, log(x));
}

// maximum / minimum: the gradient goes to the input that won (x); ties split it evenly (as PyTorch).
Tensor tie_share(const Tensor& g, const Tensor& x, const Tensor& y, const Tensor& r) {
  Tensor wx = to_dtype(compare(Cmp::Eq, x, r), g->dtype), wy = to_dtype(compare(Cmp::Eq, y, r), g->dtype);
  return mul(g, div(wx, add(wx, wy)));
}

using BinaryGrad = Tensor (*)(const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& r);

// Records a two-input op's node: saves[] says which of a, b, out backward reads; each input's
// gradient is computed only when that input needs one, then summed back to its shape and dtype.
void record_binary(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, std::array<bool, 3> saves,
                   BinaryGrad ga, BinaryGrad gb) {
  auto node = make_node(name, {a, b}, [saves, ga, gb, sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](
                                          FunctionNode& n, const TensorList& g) -> TensorList {
    Tensor x = saves[0] ? n.get(0) : Tensor(), y = saves[1] ? n.get(1) : Tensor(), r = saves[2] ? n.get(2) : Tensor();
    return {n.next_edges[0].fn ? grad_for(ga(g[0], x, y, r), sa, da) : Tensor(),
            n.next_edges[1].fn ? grad_for(gb(g[0], x, y, r), sb, db) : Tensor()};
  });
  node->saved.emplace_back(saves[0] ? a : Tensor(), false);
  node->saved.emplace_back(saves[1] ? b : Tensor(), false);
  set_history(out, node);
  node->saved.emplace_back(saves[2] ? out : Tensor(), true);
}
}  // namespace

// The ops of ops/binary_ops.h.
#define PYDL_BINARY_GRAD(EXPR)                                                                                  \
  [](const Tensor& g, [[maybe_unused]] const Tensor& a, [[maybe_unused]] const Tensor& b,                      \
     [[maybe_unused]] const Tensor& r) -> Tensor { return EXPR; }
#define PYDL_DEFINE_BINARY(NAME, KOP, RESULT, SAVES, GA, GB)                                                    \
  Tensor NAME(const Tensor& a, const Tensor& b) {                                                              \
    PYDL_CHECK(a && b, TypeError, "[" #NAME "] expected tensors, got None");                                   \
    Tensor out = binary_raw(K::BinaryOp::KOP, a, b, binary_result_##RESULT(#NAME, a, b), #NAME);              \
    if (any_requires_grad({&a, &b})) {                                                                         \
      [[maybe_unused]] const bool ra = a->requires_grad, rb = b->requires_grad;                                \
      record_binary(#KOP "Backward", a, b, out, {PYDL_UNPAREN SAVES}, PYDL_BINARY_GRAD(GA), PYDL_BINARY_GRAD(GB)); \
    }                                                                                                          \
    return out;                                                                                                \
  }
#define PYDL_DEFINE_BINARY_N(NAME, KOP, RESULT)                                                                 \
  Tensor NAME(const Tensor& a, const Tensor& b) {                                                              \
    PYDL_CHECK(a && b, TypeError, "[" #NAME "] expected tensors, got None");                                   \
    return binary_raw(K::BinaryOp::KOP, a, b, binary_result_##RESULT(#NAME, a, b), #NAME);                    \
  }
PYDL_BINARY_OPS(PYDL_DEFINE_BINARY, PYDL_DEFINE_BINARY_N)
#undef PYDL_DEFINE_BINARY
#undef PYDL_DEFINE_BINARY_N
#undef PYDL_BINARY_GRAD

Tensor pow_scalar(const Tensor& a, double e) {
  DType dt = (std::floor(e) == e && !is_floating(a->dtype)) ? a->dtype : float_type(a);
  PYDL_CHECK(!(dt == DType::Int64 && e < 0), ValueError, "[pow] integers to negative integer powers are not allowed "
             "(exponent ", e, "); use a float base");
  Tensor ex = scalar_tensor(e, dt);
  Tensor out = binary_raw(K::BinaryOp::Pow, a, ex, dt, "pow");
  record_unary("PowBackward", a, out, true, false, [e](FunctionNode& n, const Tensor& g) {
    Tensor x = n.get(0);
    if (e == 0) return mul_scalar(g, 0.0);
    if (e == 1) return g;
    if (e == 2) return mul(g, mul_scalar(x, 2.0));
    return mul(g, mul_scalar(pow_scalar(x, e - 1), e));
  });
  return out;
}

Tensor mul_scalar(const Tensor& a, double s) { return mul(a, wrap_scalar(s, false, a)); }
Tensor add_scalar(const Tensor& a, double s) { return add(a, wrap_scalar(s, false, a)); }

void check_int_divisor(const Tensor& b, DType result, const char* op) {
  if (is_floating(result)) return;
  AutoGradMode off(false);
  PYDL_CHECK(item(amax(compare(Cmp::Eq, b, scalar_tensor(0, b->dtype)), {}, false)) == 0, RuntimeError, "[", op,
             "] ZeroDivisionError: integer division by zero (divisor of shape ", shape_str(b->shape), ", dtype ",
             dtype_name(b->dtype), ")");
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  if (is_floating(dt)) return floor(div(a, b));
  if (dt == DType::Bool) return floor_divide(to_dtype(a, DType::Int64), to_dtype(b, DType::Int64));
  if (b->numel > 0) check_int_divisor(b, dt, "floor_divide");
  // exact for all int64: a - (a mod b) is a multiple of b, so C++'s truncating division is exact
  return binary_raw(K::BinaryOp::Div, sub(a, remainder(a, b)), b, dt, "floor_divide");
}

// ---- unary ------------------------------------------------------------------------

Tensor neg(const Tensor& a) {
  PYDL_CHECK(a->dtype != DType::Bool, TypeError, "[neg] negation, the `-` operator, on a bool tensor is not supported; "
             "use `~` or logical_not() to invert a mask");
  Tensor out = unary_raw(K::UnaryOp::Neg, a, a->dtype);
  record_unary("NegBackward", a, out, false, false, [](FunctionNode&, const Tensor& g) { return neg(g); });
  return out;
}

// The ops of ops/unary_ops.h: result dtype, saved tensor and gradient from the table's columns.
#define PYDL_RESULT_Float(a) float_type(a)
#define PYDL_RESULT_Keep(a) (a)->dtype
#define PYDL_SAVES_IN_In true
#define PYDL_SAVES_IN_Out false
#define PYDL_SAVES_IN_None false
#define PYDL_SAVES_OUT_In false
#define PYDL_SAVES_OUT_Out true
#define PYDL_SAVES_OUT_None false
#define PYDL_SAVED_In n.get(0)
#define PYDL_SAVED_Out n.get(0)
#define PYDL_SAVED_None Tensor()
#define PYDL_DEFINE_UNARY(NAME, KOP, RESULT, SAVES, GRAD)                                                     \
  Tensor NAME(const Tensor& a) {                                                                              \
    Tensor out = unary_raw(K::UnaryOp::KOP, a, PYDL_RESULT_##RESULT(a));                                      \
    record_unary(#KOP "Backward", a, out, PYDL_SAVES_IN_##SAVES, PYDL_SAVES_OUT_##SAVES,                       \
                 [](FunctionNode& n, const Tensor& g) { [[maybe_unused]] Tensor s = PYDL_SAVED_##SAVES; (void)n; return GRAD; }); \
    return out;                                                                                               \
  }
PYDL_UNARY_OPS(PYDL_DEFINE_UNARY)
#undef PYDL_DEFINE_UNARY

// polygamma(1, x) for digamma's gradient; its own derivative is not implemented.
Tensor trigamma(const Tensor& a) {
  Tensor out = unary_raw(K::UnaryOp::Trigamma, a, float_type(a));
  record_unary("PolygammaBackward", a, out, false, false, [](FunctionNode&, const Tensor&) -> Tensor {
    throw RuntimeError("[polygamma] the derivative of polygamma(1, x) is not implemented");
  });
  return out;
}

Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi) {
  PYDL_CHECK(lo || hi, ValueError, "[clamp] at least one of 'min' or 'max' must not be None");
  Tensor out = empty(a->shape, a->dtype, a->device());
  PYDL_KERNEL(a->device(), clamp, *out, *a, lo.has_value(), lo.value_or(0), hi.has_value(), hi.value_or(0));
  record_unary("ClampBackward", a, out, true, false, [lo, hi](FunctionNode& n, const Tensor& g) {
    Tensor x = n.get(0);
    Tensor m = full(x->shape, 1.0, g->dtype, x->device());
    // gradient passes where lo <= x <= hi
    if (lo) m = mul(m, to_dtype(compare(Cmp::Ge, x, scalar_tensor(*lo, x->dtype)), g->dtype));
    if (hi) m = mul(m, to_dtype(compare(Cmp::Le, x, scalar_tensor(*hi, x->dtype)), g->dtype));
    return mul(g, m);
  });
  return out;
}

Tensor where(const Tensor& cond_, const Tensor& a_, const Tensor& b_) {
  PYDL_CHECK(cond_->dtype == DType::Bool, TypeError, "[where] condition must be a bool tensor, got ", dtype_name(cond_->dtype));
  Tensor cond = cond_, a = a_, b = b_;
  Device dev = operand_device("where", {&cond, &a, &b});
  DType dt = promote(a->dtype, b->dtype);
  Shape s = broadcast_shapes(broadcast_shapes(cond->shape, a->shape, "where"), b->shape, "where");
  Tensor out = empty(s, dt, dev);
  PYDL_KERNEL(dev, where, *out, *broadcast_view(cond, s), *broadcast_view(cast_raw(a, dt), s),
              *broadcast_view(cast_raw(b, dt), s));
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("WhereBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor c = n.get(0), z = scalar_tensor(0, g[0]->dtype);
      return {grad_for(where(c, g[0], z), sa, da), grad_for(where(c, z, g[0]), sb, db)};
    });
    node->saved.emplace_back(cond, false);
    set_history(out, node);
  }
  return out;
}

Tensor compare(Cmp op, const Tensor& a_, const Tensor& b_) {
  Tensor a = a_, b = b_;
  Device dev = operand_device("compare", {&a, &b});
  DType dt = promote(a->dtype, b->dtype);
  Shape s = broadcast_shapes(a->shape, b->shape, "compare");
  Tensor out = empty(s, DType::Bool, dev);
  K::CompareOp kop = K::CompareOp::Eq;
  switch (op) {
#define PYDL_KERNEL_CMP(NAME, KOP) case Cmp::KOP: kop = K::CompareOp::KOP; break;
    PYDL_COMPARE_OPS(PYDL_KERNEL_CMP)
#undef PYDL_KERNEL_CMP
  }
  PYDL_KERNEL(dev, compare, kop, *out, *broadcast_view(cast_raw(a, dt), s), *broadcast_view(cast_raw(b, dt), s));
  return out;
}

Tensor to_dtype(const Tensor& a, DType dtype) {
  if (a->dtype == dtype) return a;
  Tensor out = cast_raw(a, dtype);
  if (is_floating(dtype) && is_floating(a->dtype))
    record_unary("ToCopyBackward", a, out, false, false, [src = a->dtype](FunctionNode&, const Tensor& g) { return to_dtype(g, src); });
  return out;
}

Tensor contiguous_copy(const Tensor& a) {
  Tensor out = empty(a->shape, a->dtype, a->device());
  PYDL_KERNEL(a->device(), copy, *out, *a);
  return out;
}

Tensor clone(const Tensor& a) {
  Tensor out = contiguous_copy(a);
  record_unary("CloneBackward", a, out, false, false, [](FunctionNode&, const Tensor& g) { return g; });
  return out;
}

// ---- in place -----------------------------------------------------------------------

void check_inplace(const Tensor& self, const char* op) {
  if (!GradMode::is_enabled()) return;
  PYDL_CHECK(!(self->requires_grad && self->is_leaf()), RuntimeError, "[", op,
             "] a leaf Variable that requires grad is being used in an in-place operation.");
}

namespace {
// Writes `result` (computed out of place from a copy of self) into self and makes
// self its output in the graph. Used when autograd must see the in-place change.
void rebase_inplace(const Tensor& self, const Tensor& result, const char* op) {
  PYDL_CHECK(!self->is_view, RuntimeError, "[", op, "] in-place operation on a view of a tensor that takes part in "
             "autograd is not supported; use the out-of-place form");
  PYDL_CHECK(result->shape == self->shape, ValueError, "[", op, "] output with shape ", shape_str(self->shape),
             " doesn't match the broadcast shape ", shape_str(result->shape));
  {
    AutoGradMode off(false);
    Device dev = common_device(op, {self.get(), result.get()});
    PYDL_KERNEL(dev, copy, *self, *result);
  }
  self->bump_version();
  if (self->retains_grad && self->grad_fn && result->grad_fn) {
    // retain_grad follows the tensor: .grad is the gradient of its new value, as in torch
    auto& from = self->grad_fn->pre_hooks;
    for (auto it = from.begin(); it != from.end();) {
      if (it->first != self->output_nr) { ++it; continue; }
      result->grad_fn->pre_hooks.push_back({result->output_nr, std::move(it->second)});
      it = from.erase(it);
    }
  }
  self->grad_fn = result->grad_fn;
  self->output_nr = result->output_nr;
  self->requires_grad = result->requires_grad;
}

// An expanded (stride-0) tensor has several elements in one memory location: writing
// a different value to each would keep only the last one (torch raises here too).
void check_no_internal_overlap(const Tensor& self, const char* op) {
  for (int64_t i = 0; i < self->dim(); ++i)
    PYDL_CHECK(!(self->strides[i] == 0 && self->shape[i] > 1), RuntimeError, "[", op, "] unsupported operation: more "
               "than one element of the written-to tensor of shape ", shape_str(self->shape), " (strides ",
               shape_str(self->strides), ") refers to a single memory location. Call .clone() before writing to it.");
}

// The value `v` written over all of self, as a graph result: the old self gets a zero
// gradient (self * 0 + v would turn inf into nan), v gets the incoming one.
Tensor overwrite(const Tensor& self, const Tensor& v) {
  return where(full(self->shape, 1.0, DType::Bool, self->device()), v, clone(self));
}

template <typename OutOfPlace>
void inplace_binary(const Tensor& self, const Tensor& other, K::BinaryOp op, const char* name, OutOfPlace f) {
  check_inplace(self, name);
  check_no_internal_overlap(self, name);
  if (any_requires_grad({&self, &other})) {
    rebase_inplace(self, f(clone(self), other), name);
    return;
  }
  PYDL_CHECK(promote(self->dtype, other->dtype) == self->dtype, TypeError, "[", name,
             "] result type ", dtype_name(promote(self->dtype, other->dtype)), " can't be cast to the desired output type ",
             dtype_name(self->dtype));
  Shape s = broadcast_shapes(self->shape, other->shape, name);
  PYDL_CHECK(s == self->shape, ValueError, "[", name, "] output with shape ", shape_str(self->shape),
             " doesn't match the broadcast shape ", shape_str(s));
  Tensor o = other;
  Tensor me = self;
  if (o->dim() == 0) operand_device(name, {&me, &o});  // a 0-d CPU operand may join a CUDA self
  Device dev = common_device(name, {self.get(), o.get()});
  PYDL_KERNEL(dev, binary, op, *self, *self, *broadcast_view(cast_raw(o, self->dtype), s));
  self->bump_version();
}
}  // namespace

void add_(const Tensor& self, const Tensor& other, double alpha) {
  if (alpha != 1.0) {
    add_(self, mul_scalar(other, alpha));
    return;
  }
  inplace_binary(self, other, K::BinaryOp::Add, "add_", [](const Tensor& a, const Tensor& b) { return add(a, b); });
}
void sub_(const Tensor& self, const Tensor& other) {
  inplace_binary(self, other, K::BinaryOp::Sub, "sub_", [](const Tensor& a, const Tensor& b) { return sub(a, b); });
}
void mul_(const Tensor& self, const Tensor& other) {
  inplace_binary(self, other, K::BinaryOp::Mul, "mul_", [](const Tensor& a, const Tensor& b) { return mul(a, b); });
}
void div_(const Tensor& self, const Tensor& other) {
  PYDL_CHECK(is_floating(self->dtype), TypeError, "[div_] result type float32 can't be cast to the desired output type ",
             dtype_name(self->dtype));
  inplace_binary(self, other, K::BinaryOp::Div, "div_", [](const Tensor& a, const Tensor& b) { return div(a, b); });
}

void copy_(const Tensor& self, const Tensor& src) {
  check_inplace(self, "copy_");
  check_no_internal_overlap(self, "copy_");
  Shape s = broadcast_shapes(self->shape, src->shape, "copy_");
  PYDL_CHECK(s == self->shape, ValueError, "[copy_] source of shape ", shape_str(src->shape),
             " cannot be broadcast to the destination's shape ", shape_str(self->shape));
  if (any_requires_grad({&self, &src})) {
    rebase_inplace(self, overwrite(self, src), "copy_");
    return;
  }
  // across devices: the source goes over first (contiguous), then the strided copy runs on self's device
  Tensor from = src->device() == self->device() ? src : copy_contiguous_to(contig(src), self->device());
  PYDL_KERNEL(self->device(), copy, *self, *broadcast_view(from, s));
  self->bump_version();
}

void fill_(const Tensor& self, double value) {
  check_inplace(self, "fill_");
  if (any_requires_grad({&self})) {
    rebase_inplace(self, overwrite(self, scalar_tensor(value, self->dtype)), "fill_");
    return;
  }
  PYDL_KERNEL(self->device(), fill, *self, value);
  self->bump_version();
}

void zero_(const Tensor& self) { fill_(self, 0.0); }

void clamp_(const Tensor& self, std::optional<double> lo, std::optional<double> hi) {
  check_inplace(self, "clamp_");
  if (any_requires_grad({&self})) {
    rebase_inplace(self, clamp(clone(self), lo, hi), "clamp_");
    return;
  }
  PYDL_CHECK(lo || hi, ValueError, "[clamp_] at least one of 'min' or 'max' must not be None");
  PYDL_KERNEL(self->device(), clamp, *self, *self, lo.has_value(), lo.value_or(0), hi.has_value(), hi.value_or(0));
  self->bump_version();
}

void relu_(const Tensor& self) {
  check_inplace(self, "relu_");
  check_no_internal_overlap(self, "relu_");
  if (any_requires_grad({&self})) {
    rebase_inplace(self, relu(self), "relu_");  // relu saves its output, not self: no clone needed
    return;
  }
  PYDL_KERNEL(self->device(), unary, K::UnaryOp::Relu, *self, *self);
  self->bump_version();
}

}  // namespace pydl
