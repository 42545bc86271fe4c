// Elementwise ops: arithmetic with NumPy broadcasting, unary math, comparisons, casts,
// in-place variants. Each op's forward and backward stand together.
#include <cmath>

#include "kernels/cpu/elementwise.h"
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
  Tensor out = empty(t->shape, dt);
  K::copy(*out, *t);
  return out;
}

namespace {

// Gradient for input `in` from a gradient of the broadcast result: reduce and cast back.
Tensor grad_for(const Tensor& g, const Shape& shape, DType dt) {
  Tensor r = sum_to(g, shape);
  return r->dtype == dt ? r : to_dtype(r, dt);
}

Tensor binary_raw(K::BinaryOp op, const Tensor& a, const Tensor& b, DType dt, const char* name) {
  PYDL_CHECK(a && b, TypeError, "[", name, "] expected tensors, got None");
  if (a->shape == b->shape && a->dtype == dt && b->dtype == dt) {
    Tensor out = empty(a->shape, dt);
    K::binary(op, *out, *a, *b);
    return out;
  }
  Shape s = broadcast_shapes(a->shape, b->shape, name);
  Tensor out = empty(s, dt);
  K::binary(op, *out, *broadcast_view(cast_raw(a, dt), s), *broadcast_view(cast_raw(b, dt), s));
  return out;
}

Tensor unary_raw(K::UnaryOp op, const Tensor& a, DType dt) {
  Tensor out = empty(a->shape, dt);
  K::unary(op, *out, *cast_raw(a, dt));
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
  return scalar_tensor(v, dt);
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(K::BinaryOp::Add, a, b, promote(a->dtype, b->dtype), "add");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("AddBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode&, const TensorList& g) -> TensorList {
      return {grad_for(g[0], sa, da), grad_for(g[0], sb, db)};
    });
    set_history(out, node);
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  PYDL_CHECK(!(a->dtype == DType::Bool && b->dtype == DType::Bool), TypeError,
             "[sub] subtraction of two bool tensors is not supported; use logical_xor or ~");
  Tensor out = binary_raw(K::BinaryOp::Sub, a, b, promote(a->dtype, b->dtype), "sub");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("SubBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode&, const TensorList& g) -> TensorList {
      return {grad_for(g[0], sa, da), grad_for(neg(g[0]), sb, db)};
    });
    set_history(out, node);
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(K::BinaryOp::Mul, a, b, promote(a->dtype, b->dtype), "mul");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("MulBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor ga = n.next_edges[0].fn ? grad_for(mul(g[0], n.get(1)), sa, da) : Tensor();
      Tensor gb = n.next_edges[1].fn ? grad_for(mul(g[0], n.get(0)), sb, db) : Tensor();
      return {ga, gb};
    });
    // (a*b)' needs the other factor only
    node->saved.emplace_back(b->requires_grad ? a : Tensor(), false);
    node->saved.emplace_back(a->requires_grad ? b : Tensor(), false);
    set_history(out, node);
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  DType dt = promote(promote(a->dtype, b->dtype), DType::Float32);  // true division
  Tensor out = binary_raw(K::BinaryOp::Div, a, b, dt, "div");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("DivBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor bb = n.get(1);
      Tensor ga = n.next_edges[0].fn ? grad_for(div(g[0], bb), sa, da) : Tensor();
      // d(a/b)/db = -a / b^2
      Tensor gb = n.next_edges[1].fn ? grad_for(neg(div(mul(g[0], n.get(0)), mul(bb, bb))), sb, db) : Tensor();
      return {ga, gb};
    });
    node->saved.emplace_back(b->requires_grad ? a : Tensor(), false);
    node->saved.emplace_back(b, false);
    set_history(out, node);
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  if (dt == DType::Int64 && b->numel > 0) {
    AutoGradMode off(false);
    PYDL_CHECK(item(amin(b, {}, false)) >= 0, ValueError, "[pow] integers to negative integer powers are not allowed "
               "(exponent of shape ", shape_str(b->shape), "); use a float base");
  }
  Tensor out = binary_raw(K::BinaryOp::Pow, a, b, dt, "pow");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("PowBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor x = n.get(0), y = n.get(1), r = n.get(2);
      Tensor ga, gb;
      // d/da a^b = b a^(b-1);  d/db a^b = a^b log a (taken as 0 where a == 0)
      if (n.next_edges[0].fn) ga = grad_for(mul(g[0], mul(y, pow(x, sub(y, scalar_tensor(1, y->dtype))))), sa, da);
      if (n.next_edges[1].fn) {
        Tensor zero = scalar_tensor(0, x->dtype);
        Tensor safe_log = where(compare(Cmp::Eq, x, zero), zero, log(x));
        gb = grad_for(mul(g[0], mul(r, safe_log)), sb, db);
      }
      return {ga, gb};
    });
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

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

static Tensor minmax(K::BinaryOp op, const char* name, const char* bname, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b, promote(a->dtype, b->dtype), name);
  if (any_requires_grad({&a, &b})) {
    auto node = make_node(bname, {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      // The gradient goes to the input that won; ties split it evenly (as PyTorch).
      Tensor x = n.get(0), y = n.get(1), r = n.get(2);
      DType fd = g[0]->dtype;
      Tensor wx = to_dtype(compare(Cmp::Eq, x, r), fd), wy = to_dtype(compare(Cmp::Eq, y, r), fd);
      Tensor tot = add(wx, wy);
      return {grad_for(mul(g[0], div(wx, tot)), sa, da), grad_for(mul(g[0], div(wy, tot)), sb, db)};
    });
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) { return minmax(K::BinaryOp::Maximum, "maximum", "MaximumBackward", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return minmax(K::BinaryOp::Minimum, "minimum", "MinimumBackward", a, b); }

Tensor atan2(const Tensor& a, const Tensor& b) {
  DType dt = promote(promote(a->dtype, b->dtype), DType::Float32);
  Tensor out = binary_raw(K::BinaryOp::Atan2, a, b, dt, "atan2");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("Atan2Backward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor y = n.get(0), x = n.get(1);
      Tensor den = add(mul(x, x), mul(y, y));
      return {grad_for(mul(g[0], div(x, den)), sa, da), grad_for(neg(mul(g[0], div(y, den))), sb, db)};
    });
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
    set_history(out, node);
  }
  return out;
}

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

Tensor remainder(const Tensor& a, const Tensor& b) {
  if (b->numel > 0) check_int_divisor(b, promote(a->dtype, b->dtype), "remainder");
  Tensor out = binary_raw(K::BinaryOp::Remainder, a, b, promote(a->dtype, b->dtype), "remainder");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("RemainderBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      return {grad_for(g[0], sa, da), grad_for(neg(mul(g[0], floor(div(n.get(0), n.get(1))))), sb, db)};
    });
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
    set_history(out, node);
  }
  return out;
}

// ---- bitwise, gcd, fmod, copysign, nextafter, hypot (issue 13) ----

namespace {
Tensor int_binary(K::BinaryOp op, const Tensor& a, const Tensor& b, const char* name, bool allow_bool) {
  PYDL_CHECK(a && b, TypeError, "[", name, "] expected tensors, got None");
  DType dt = promote(a->dtype, b->dtype);
  PYDL_CHECK(dt == DType::Int64 || (allow_bool && dt == DType::Bool), TypeError, "[", name, "] is only implemented for ",
             allow_bool ? "integer and bool" : "integer", " tensors, got ", dtype_name(a->dtype), " and ", dtype_name(b->dtype));
  return binary_raw(op, a, b, dt, name);
}
}  // namespace

Tensor bitwise_and(const Tensor& a, const Tensor& b) { return int_binary(K::BinaryOp::BitAnd, a, b, "bitwise_and", true); }
Tensor bitwise_or(const Tensor& a, const Tensor& b) { return int_binary(K::BinaryOp::BitOr, a, b, "bitwise_or", true); }
Tensor bitwise_xor(const Tensor& a, const Tensor& b) { return int_binary(K::BinaryOp::BitXor, a, b, "bitwise_xor", true); }
Tensor bitwise_left_shift(const Tensor& a, const Tensor& b) { return int_binary(K::BinaryOp::Shl, a, b, "bitwise_left_shift", false); }
Tensor bitwise_right_shift(const Tensor& a, const Tensor& b) { return int_binary(K::BinaryOp::Shr, a, b, "bitwise_right_shift", false); }
Tensor gcd(const Tensor& a, const Tensor& b) { return int_binary(K::BinaryOp::Gcd, a, b, "gcd", false); }

Tensor nextafter(const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  PYDL_CHECK(is_floating(dt), TypeError, "[nextafter] expected floating tensors, got ", dtype_name(a->dtype), " and ",
             dtype_name(b->dtype));
  return binary_raw(K::BinaryOp::Nextafter, a, b, dt, "nextafter");
}

Tensor fmod(const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  if (b->numel > 0) check_int_divisor(b, dt, "fmod");
  Tensor out = binary_raw(K::BinaryOp::Fmod, a, b, dt, "fmod");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("FmodBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      // fmod(a, b) = a - b * trunc(a / b)
      return {grad_for(g[0], sa, da), grad_for(neg(mul(g[0], trunc(div(n.get(0), n.get(1))))), sb, db)};
    });
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
    set_history(out, node);
  }
  return out;
}

Tensor copysign(const Tensor& a, const Tensor& b) {
  DType dt = promote(promote(a->dtype, b->dtype), DType::Float32);
  Tensor out = binary_raw(K::BinaryOp::Copysign, a, b, dt, "copysign");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("CopysignBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      // d|a| s(b) / da = sign(a) s(b) = sign(a) sign(out), 0 at a == 0; nothing flows to b
      Tensor x = n.get(0), y = n.get(1);
      return {grad_for(mul(g[0], mul(sign(x), sign(y))), sa, da), grad_for(mul_scalar(g[0], 0.0), sb, db)};
    });
    node->saved.emplace_back(a, false);
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
}

Tensor hypot(const Tensor& a, const Tensor& b) {
  DType dt = promote(promote(a->dtype, b->dtype), DType::Float32);
  Tensor out = binary_raw(K::BinaryOp::Hypot, a, b, dt, "hypot");
  if (any_requires_grad({&a, &b})) {
    auto node = make_node("HypotBackward", {a, b}, [sa = a->shape, sb = b->shape, da = a->dtype, db = b->dtype](FunctionNode& n, const TensorList& g) -> TensorList {
      Tensor r = n.get(2);
      return {grad_for(mul(g[0], div(n.get(0), r)), sa, da), grad_for(mul(g[0], div(n.get(1), r)), sb, db)};
    });
    node->saved.emplace_back(a, false);
    node->saved.emplace_back(b, false);
    set_history(out, node);
    node->saved.emplace_back(out, true);
  }
  return out;
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
  Tensor out = empty(a->shape, a->dtype);
  K::clamp(*out, *a, lo.has_value(), lo.value_or(0), hi.has_value(), hi.value_or(0));
  record_unary("ClampBackward", a, out, true, false, [lo, hi](FunctionNode& n, const Tensor& g) {
    Tensor x = n.get(0);
    Tensor m = full(x->shape, 1.0, g->dtype);
    // gradient passes where lo <= x <= hi
    if (lo) m = mul(m, to_dtype(compare(Cmp::Ge, x, scalar_tensor(*lo, x->dtype)), g->dtype));
    if (hi) m = mul(m, to_dtype(compare(Cmp::Le, x, scalar_tensor(*hi, x->dtype)), g->dtype));
    return mul(g, m);
  });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  PYDL_CHECK(cond->dtype == DType::Bool, TypeError, "[where] condition must be a bool tensor, got ", dtype_name(cond->dtype));
  DType dt = promote(a->dtype, b->dtype);
  Shape s = broadcast_shapes(broadcast_shapes(cond->shape, a->shape, "where"), b->shape, "where");
  Tensor out = empty(s, dt);
  K::where(*out, *broadcast_view(cond, s), *broadcast_view(cast_raw(a, dt), s), *broadcast_view(cast_raw(b, dt), s));
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

Tensor compare(Cmp op, const Tensor& a, const Tensor& b) {
  DType dt = promote(a->dtype, b->dtype);
  Shape s = broadcast_shapes(a->shape, b->shape, "compare");
  Tensor out = empty(s, DType::Bool);
  K::compare(static_cast<K::CompareOp>(op), *out, *broadcast_view(cast_raw(a, dt), s), *broadcast_view(cast_raw(b, dt), s));
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
  Tensor out = empty(a->shape, a->dtype);
  K::copy(*out, *a);
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
    K::copy(*self, *result);
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
  return where(full(self->shape, 1.0, DType::Bool), v, clone(self));
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
  K::binary(op, *self, *self, *broadcast_view(cast_raw(other, self->dtype), s));
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
  K::copy(*self, *broadcast_view(src, s));
  self->bump_version();
}

void fill_(const Tensor& self, double value) {
  check_inplace(self, "fill_");
  if (any_requires_grad({&self})) {
    rebase_inplace(self, overwrite(self, scalar_tensor(value, self->dtype)), "fill_");
    return;
  }
  K::fill(*self, value);
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
  K::clamp(*self, *self, lo.has_value(), lo.value_or(0), hi.has_value(), hi.value_or(0));
  self->bump_version();
}

void relu_(const Tensor& self) {
  check_inplace(self, "relu_");
  check_no_internal_overlap(self, "relu_");
  if (any_requires_grad({&self})) {
    rebase_inplace(self, relu(self), "relu_");  // relu saves its output, not self: no clone needed
    return;
  }
  K::unary(K::UnaryOp::Relu, *self, *self);
  self->bump_version();
}

}  // namespace pydl
