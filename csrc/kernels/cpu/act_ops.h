#pragma once
// The activation kernels, one line each, every formula written once per form:
//   X(Name, scalar y, Eigen y, scalar gx, Eigen gx)
// with x, g (upstream gradient), a, b (the op's parameters, see Act in nn.h) and scalar type T.
// The scalar columns are statements returning f(x) / g * f'(x) (kernels/cuda/nn_act.cu runs
// them on the GPU); the Eigen columns assign the arrays y / gx over a chunk
// (kernels/cpu/nn_act.cpp). Both forms follow the same branches, so NaN and the edges agree.
#include <cmath>

namespace pydl::kernels::act_constants {
constexpr double kSqrt2Pi = 0.7978845608028654;     // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1/sqrt(2 pi)
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kGeluC = 0.044715;
}  // namespace pydl::kernels::act_constants

// tanh(sqrt(2/pi) (x + c x^3)) of the tanh-approximated GELU, and tanh(softplus(x)) of Mish
#define PYDL_ACT_GELU_T(x) std::tanh(T(kSqrt2Pi) * ((x) + T(kGeluC) * (x) * (x) * (x)))
#define PYDL_ACT_MISH_T(x) std::tanh((x) > T(20) ? (x) : std::log1p(std::exp(x)))

#define PYDL_ACT_KERNELS(X)                                                                                            \
  X(LeakyRelu, return x > T(0) ? x : x * a;, y = (x > T(0)).select(x, x * a);,                                        \
    return x > T(0) ? g : g * a;, gx = (x > T(0)).select(g, g * a);)                                                  \
  X(Elu, return x > T(0) ? x : a * (std::exp(x) - T(1));, y = (x > T(0)).select(x, a * (x.exp() - T(1)));,            \
    return x > T(0) ? g : g * a * std::exp(x);, gx = (x > T(0)).select(g, g * a * x.exp());)                          \
  X(Gelu, return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2)));,                                                  \
    y = T(0.5) * x * (T(1) + (x * T(kInvSqrt2)).erf());,                                                              \
    return g * (T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2))) + x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x));,    \
    gx = g * (T(0.5) * (T(1) + (x * T(kInvSqrt2)).erf()) + x * T(kInvSqrt2Pi) * (T(-0.5) * x.square()).exp());)      \
  X(GeluTanh, return T(0.5) * x * (T(1) + PYDL_ACT_GELU_T(x));,                                                       \
    y = T(0.5) * x * (T(1) + (T(kSqrt2Pi) * (x + T(kGeluC) * x.cube())).tanh());,                                     \
    T t = PYDL_ACT_GELU_T(x);                                                                                          \
    return g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * T(kSqrt2Pi) * (T(1) + T(3 * kGeluC) * x * x));,  \
    auto t = (T(kSqrt2Pi) * (x + T(kGeluC) * x.cube())).tanh().eval();                                                 \
    gx = g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t.square()) * T(kSqrt2Pi) * (T(1) + T(3 * kGeluC) * x.square()));) \
  X(Silu, return x / (T(1) + std::exp(-x));, y = x / (T(1) + (-x).exp());,                                            \
    T s = T(1) / (T(1) + std::exp(-x));                                                                                \
    return g * s * (T(1) + x * (T(1) - s));,                                                                           \
    auto s = (T(1) / (T(1) + (-x).exp())).eval();                                                                      \
    gx = g * s * (T(1) + x * (T(1) - s));)                                                                             \
  /* a = beta, b = threshold */                                                                                        \
  X(Softplus, return x * a > b ? x : std::log(T(1) + std::exp(x * a)) / a;,                                          \
    y = (x * a > b).select(x, (T(1) + (x * a).exp()).log() / a);,                                                    \
    return x * a > b ? g : g / (T(1) + std::exp(-x * a));, gx = (x * a > b).select(g, g / (T(1) + (-x * a).exp()));) \
  X(Hardtanh, return x < a ? a : (x > b ? b : x);, y = x.max(a).min(b);,                                              \
    return x > a && x < b ? g : T(0);, gx = ((x > a) && (x < b)).select(g, T(0));)                                   \
  X(Hardswish, T r = x + T(3); return x * (r < T(0) ? T(0) : (r > T(6) ? T(6) : r)) / T(6);,                          \
    y = x * (x + T(3)).max(T(0)).min(T(6)) / T(6);,                                                                   \
    return x < T(-3) ? T(0) : (x <= T(3) ? g * (x / T(3) + T(0.5)) : g);,                                            \
    gx = (x < T(-3)).select(T(0), (x <= T(3)).select(g * (x / T(3) + T(0.5)), g));)                                  \
  X(Hardsigmoid, T r = x / T(6) + T(0.5); return r < T(0) ? T(0) : (r > T(1) ? T(1) : r);,                          \
    y = (x / T(6) + T(0.5)).max(T(0)).min(T(1));,                                                                     \
    return x > T(-3) && x < T(3) ? g / T(6) : T(0);, gx = ((x > T(-3)) && (x < T(3))).select(g / T(6), T(0));)       \
  X(Mish, return x * PYDL_ACT_MISH_T(x);, y = x * (x > T(20)).select(x, x.exp().log1p()).tanh();,                     \
    T t = PYDL_ACT_MISH_T(x);                                                                                          \
    return g * (t + x * (T(1) / (T(1) + std::exp(-x))) * (T(1) - t * t));,                                           \
    auto t = (x > T(20)).select(x, x.exp().log1p()).tanh().eval();                                                     \
    gx = g * (t + x * (T(1) / (T(1) + (-x).exp())) * (T(1) - t.square()));)                                          \
  X(Selu, return T(kSeluScale) * (x > T(0) ? x : T(kSeluAlpha) * (std::exp(x) - T(1)));,                             \
    y = T(kSeluScale) * (x > T(0)).select(x, T(kSeluAlpha) * (x.exp() - T(1)));,                                     \
    return x > T(0) ? g * T(kSeluScale) : g * T(kSeluScale * kSeluAlpha) * std::exp(x);,                              \
    gx = (x > T(0)).select(g * T(kSeluScale), g * T(kSeluScale * kSeluAlpha) * x.exp());)                            \
  X(Celu, return x > T(0) ? x : a * (std::exp(x / a) - T(1));, y = (x > T(0)).select(x, a * ((x / a).exp() - T(1)));, \
    return x > T(0) ? g : g * std::exp(x / a);, gx = (x > T(0)).select(g, g * (x / a).exp());)                        \
  X(Softsign, return x / (T(1) + std::fabs(x));, y = x / (T(1) + x.abs());,                                          \
    T d = T(1) + std::fabs(x); return g / (d * d);, gx = g / (T(1) + x.abs()).square();)                             \
  X(Softshrink, return x > a ? x - a : (x < -a ? x + a : T(0));, y = (x > a).select(x - a, (x < -a).select(x + a, T(0)));, \
    return std::fabs(x) > a ? g : T(0);, gx = (x.abs() > a).select(g, T(0));)                                        \
  X(Hardshrink, return std::fabs(x) > a ? x : T(0);, y = (x.abs() > a).select(x, T(0));,                             \
    return std::fabs(x) > a ? g : T(0);, gx = (x.abs() > a).select(g, T(0));)                                        \
  X(Tanhshrink, return x - std::tanh(x);, y = x - x.tanh();,                                                          \
    T t = std::tanh(x); return g * t * t;, gx = g * x.tanh().square();)                                              \
  /* a = threshold, b = value */                                                                                       \
  X(Threshold, return x > a ? x : b;, y = (x > a).select(x, b);, return x > a ? g : T(0);,                           \
    gx = (x > a).select(g, T(0));)                                                                                     \
  X(LogSigmoid, return (x < T(0) ? x : T(0)) - std::log1p(std::exp(-std::fabs(x)));,                                 \
    y = x.min(T(0)) - (-x.abs()).exp().log1p();, return g / (T(1) + std::exp(x));, gx = g / (T(1) + x.exp());)
