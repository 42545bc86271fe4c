#pragma once
// The unary elementwise ops, one line each: X(name, kernel, result, saves, gradient) where
//   kernel:   the kernels::UnaryOp it runs (kernels/cpu/unary_ops.h);
//   result:   Float (integer and bool inputs compute in float32, like PyTorch) or Keep (the input's dtype);
//   saves:    In (the input), Out (the result) or None: that tensor is `s` in the gradient;
//   gradient: the input's gradient from the incoming gradient `g`, written with ops (so it differentiates again).
// Generates the declarations (ops.h), the definitions (elementwise.cpp), the bindings and pydl._C._unary_ops,
// from which pydl and Tensor take their functions and methods.
#define PYDL_UNARY_OPS(X)                                                                              \
  X(abs, Abs, Keep, In, mul(g, sign(s)))                                                                \
  X(exp, Exp, Float, Out, mul(g, s))                                                                    \
  X(log, Log, Float, In, div(g, s))                                                                     \
  X(log1p, Log1p, Float, In, div(g, add_scalar(s, 1.0)))                                                \
  X(expm1, Expm1, Float, Out, mul(g, add_scalar(s, 1.0)))                                               \
  X(sqrt, Sqrt, Float, Out, div(g, mul_scalar(s, 2.0)))                                                 \
  X(rsqrt, Rsqrt, Float, Out, mul(g, mul_scalar(mul(s, mul(s, s)), -0.5)))                              \
  X(sin, Sin, Float, In, mul(g, cos(s)))                                                                \
  X(cos, Cos, Float, In, neg(mul(g, sin(s))))                                                           \
  X(tanh, Tanh, Float, Out, mul(g, sub(scalar_tensor(1, s->dtype), mul(s, s))))                         \
  X(sigmoid, Sigmoid, Float, Out, mul(g, mul(s, sub(scalar_tensor(1, s->dtype), s))))                   \
  X(relu, Relu, Keep, Out, mul(g, to_dtype(compare(Cmp::Gt, s, scalar_tensor(0, s->dtype)), g->dtype))) \
  X(sign, Sign, Keep, None, mul_scalar(g, 0.0))                                                         \
  X(reciprocal, Reciprocal, Float, Out, neg(mul(g, mul(s, s))))                                         \
  X(square, Square, Keep, In, mul(g, mul_scalar(s, 2.0)))                                               \
  X(floor, Floor, Keep, None, mul_scalar(g, 0.0))                                                       \
  X(ceil, Ceil, Keep, None, mul_scalar(g, 0.0))                                                         \
  X(round, Round, Keep, None, mul_scalar(g, 0.0))                                                       \
  X(erf, Erf, Float, In, mul(g, mul_scalar(exp(neg(mul(s, s))), 1.1283791670955126))) \
  X(tan, Tan, Float, Out, mul(g, add_scalar(mul(s, s), 1.0)))                                           \
  X(asin, Asin, Float, In, div(g, sqrt(add_scalar(neg(mul(s, s)), 1.0))))                               \
  X(acos, Acos, Float, In, neg(div(g, sqrt(add_scalar(neg(mul(s, s)), 1.0)))))                          \
  X(atan, Atan, Float, In, div(g, add_scalar(mul(s, s), 1.0)))                                          \
  X(sinh, Sinh, Float, In, mul(g, cosh(s)))                                                             \
  X(cosh, Cosh, Float, In, mul(g, sinh(s)))                                                             \
  X(asinh, Asinh, Float, In, div(g, sqrt(add_scalar(mul(s, s), 1.0))))                                  \
  X(acosh, Acosh, Float, In, div(g, sqrt(mul(add_scalar(s, -1.0), add_scalar(s, 1.0)))))                \
  X(atanh, Atanh, Float, In, div(g, add_scalar(neg(mul(s, s)), 1.0)))                                   \
  X(log2, Log2, Float, In, div(g, mul_scalar(s, M_LN2)))                                                \
  X(log10, Log10, Float, In, div(g, mul_scalar(s, M_LN10)))                                             \
  X(exp2, Exp2, Float, Out, mul(g, mul_scalar(s, M_LN2)))                                               \
  X(trunc, Trunc, Keep, None, mul_scalar(g, 0.0))                                                       \
  X(erfc, Erfc, Float, In, mul(g, mul_scalar(exp(neg(mul(s, s))), -1.1283791670955126)))                \
  X(erfinv, Erfinv, Float, Out, mul(g, mul_scalar(exp(mul(s, s)), 0.886226925452758)))                  \
  X(lgamma, Lgamma, Float, In, mul(g, digamma(s)))                                                      \
  X(digamma, Digamma, Float, In, mul(g, trigamma(s))) \
  X(ndtr, Ndtr, Float, In, mul(g, mul_scalar(exp(mul_scalar(mul(s, s), -0.5)), 0.3989422804014327)))
