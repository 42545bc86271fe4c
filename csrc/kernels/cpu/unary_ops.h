#pragma once
// The unary kernels, one line each: V(Name, scalar math on x, Eigen array math on x) for ops with
// a vectorised contiguous form, S(Name, scalar math on x) for the others. Generates the UnaryOp
// enum and both switches of kernels/cpu/elementwise.cpp (a .cu mirror would reuse the scalar column).
#define PYDL_UNARY_KERNELS(V, S)                                   \
  V(Neg, -x, -x)                                                   \
  V(Abs, x < 0 ? -x : x, x.abs())                                  \
  V(Exp, std::exp(x), x.exp())                                     \
  V(Log, std::log(x), x.log())                                     \
  V(Log1p, std::log1p(x), x.log1p())                               \
  V(Expm1, std::expm1(x), x.expm1())                               \
  V(Sqrt, std::sqrt(x), x.sqrt())                                  \
  V(Rsqrt, T(1) / std::sqrt(x), x.rsqrt())                         \
  V(Sin, std::sin(x), x.sin())                                     \
  V(Cos, std::cos(x), x.cos())                                     \
  V(Tanh, std::tanh(x), x.tanh())                                  \
  V(Sigmoid, T(1) / (T(1) + std::exp(-x)), x.logistic())           \
  V(Relu, x > 0 ? x : T(0), x.max(T(0)))                           \
  S(Sign, static_cast<T>((x > 0) - (x < 0)))                       \
  V(Reciprocal, T(1) / x, x.inverse())                             \
  V(Floor, std::floor(x), x.floor())                               \
  V(Ceil, std::ceil(x), x.ceil())                                  \
  S(Round, std::nearbyint(x))                                      \
  S(Erf, std::erf(x))                                              \
  V(Square, x * x, x.square()) \
  S(Tan, std::tan(x))                                              \
  S(Asin, std::asin(x))                                            \
  S(Acos, std::acos(x))                                            \
  S(Atan, std::atan(x))                                            \
  S(Sinh, std::sinh(x))                                            \
  S(Cosh, std::cosh(x))                                            \
  S(Asinh, std::asinh(x))                                          \
  S(Acosh, std::acosh(x))                                          \
  S(Atanh, std::atanh(x))                                          \
  S(Log2, std::log2(x))                                            \
  S(Log10, std::log10(x))                                          \
  S(Exp2, std::exp2(x))                                            \
  S(Trunc, std::trunc(x))                                          \
  S(Erfc, std::erfc(x))                                            \
  S(Lgamma, std::lgamma(x))                                        \
  S(Erfinv, special_erfinv(x))                                     \
  S(Digamma, special_digamma(x))                                   \
  S(Trigamma, special_trigamma(x)) \
  S(Ndtr, T(0.5) * std::erfc(-x * T(0.70710678118654752440)))
