#pragma once
// The binary elementwise ops (NumPy broadcasting), one line each:
//   X(name, kernel, result, saves, grad_a, grad_b) for differentiable ops, N(name, kernel, result) for the others;
//   kernel: the kernels::BinaryOp it runs (kernels/cpu/binary_ops.h);
//   result: the result dtype with its argument checks, binary_result_<result> in elementwise.cpp;
//   saves:  (a, b, out): which tensors backward reads, as conditions on ra / rb (a / b requires grad);
//   grad_a, grad_b: each input's gradient from the incoming gradient `g`, the saved `a`, `b` and the result `r`,
//           written with ops (so they differentiate again); they are summed back to the input's shape.
// Generates the declarations (ops.h), the definitions (elementwise.cpp), the bindings and pydl._C._binary_ops,
// from which pydl and Tensor take their functions and methods.
#define PYDL_BINARY_OPS(X, N)                                                                                 \
  X(add, Add, Promote, (0, 0, 0), g, g)                                                                       \
  X(sub, Sub, NoBools, (0, 0, 0), g, neg(g))                                                                  \
  X(mul, Mul, Promote, (rb, ra, 0), mul(g, b), mul(g, a))                                                     \
  X(div, Div, Float, (rb, 1, 0), div(g, b), neg(div(mul(g, a), mul(b, b))))  /* d(a/b)/db = -a / b^2 */       \
  X(pow, Pow, Pow, (1, 1, 1), mul(g, mul(b, pow(a, sub(b, scalar_tensor(1, b->dtype))))), mul(g, mul(r, log0(a)))) \
  X(maximum, Maximum, Promote, (1, 1, 1), tie_share(g, a, b, r), tie_share(g, b, a, r))                       \
  X(minimum, Minimum, Promote, (1, 1, 1), tie_share(g, a, b, r), tie_share(g, b, a, r))                       \
  X(atan2, Atan2, Float, (1, 1, 0), mul(g, div(b, add(mul(b, b), mul(a, a)))), neg(mul(g, div(a, add(mul(b, b), mul(a, a)))))) \
  X(remainder, Remainder, Divisor, (1, 1, 0), g, neg(mul(g, floor(div(a, b)))))                              \
  X(fmod, Fmod, Divisor, (1, 1, 0), g, neg(mul(g, trunc(div(a, b)))))  /* a - b * trunc(a / b) */            \
  X(copysign, Copysign, Float, (1, 0, 1), mul(g, mul(sign(a), sign(r))), mul_scalar(g, 0.0))                  \
  X(hypot, Hypot, Float, (1, 1, 1), mul(g, div(a, r)), mul(g, div(b, r)))                                     \
  X(logaddexp, Logaddexp, Float, (1, 1, 1), mul(g, exp(sub(a, r))), mul(g, exp(sub(b, r))))                  \
  N(bitwise_and, BitAnd, IntOrBool)                                                                           \
  N(bitwise_or, BitOr, IntOrBool)                                                                             \
  N(bitwise_xor, BitXor, IntOrBool)                                                                           \
  N(bitwise_left_shift, Shl, Int)                                                                             \
  N(bitwise_right_shift, Shr, Int)                                                                            \
  N(gcd, Gcd, Int)                                                                                            \
  N(nextafter, Nextafter, Floating)

// The comparisons, X(name, kernel): bool results, no gradient; Tensor's __name__ operators too.
#define PYDL_COMPARE_OPS(X) X(eq, Eq) X(ne, Ne) X(lt, Lt) X(le, Le) X(gt, Gt) X(ge, Ge)
