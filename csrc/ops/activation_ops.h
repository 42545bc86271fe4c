#pragma once
// The elementwise activations, one line each: X(name, Node, params, kernel, a, b, check) where
//   Node:   the backward node's name, NodeBackward;
//   params: the op's parameters after the input `x`, torch's names, each after a comma: (, double alpha);
//   kernel: the kernels::Act it runs (kernels/cpu/nn.h), an expression of the params; a, b: the kernel's two
//           parameters, from params; check: a statement refusing bad params (PYDL_CHECK), or nothing.
// The kernel's fused backward is differentiable again through act_second (activation.cpp).
// Generates the declarations (ops/nn.h), the definitions (activation.cpp) and the bindings pydl._C.<name>.
#define PYDL_ACTIVATIONS(X)                                                                                           \
  X(leaky_relu, LeakyRelu, (, double negative_slope), Act::LeakyRelu, negative_slope, 0, )                            \
  X(elu, Elu, (, double alpha), Act::Elu, alpha, 0, )                                                                 \
  X(gelu, Gelu, (, bool tanh_approx), tanh_approx ? Act::GeluTanh : Act::Gelu, 0, 0, )                                \
  X(silu, Silu, (), Act::Silu, 0, 0, )                                                                                \
  X(softplus, Softplus, (, double beta, double threshold), Act::Softplus, beta, threshold,                            \
    PYDL_CHECK(beta != 0, ValueError, "[softplus] beta must be nonzero"))                                             \
  X(hardtanh, Hardtanh, (, double min_val, double max_val), Act::Hardtanh, min_val, max_val,                          \
    PYDL_CHECK(min_val <= max_val, ValueError, "[hardtanh] min_val (", min_val, ") cannot be greater than max_val (", \
               max_val, ")"))                                                                                         \
  X(hardswish, Hardswish, (), Act::Hardswish, 0, 0, )                                                                 \
  X(hardsigmoid, Hardsigmoid, (), Act::Hardsigmoid, 0, 0, )                                                           \
  X(mish, Mish, (), Act::Mish, 0, 0, )                                                                                \
  X(selu, Selu, (), Act::Selu, 0, 0, )                                                                                \
  X(celu, Celu, (, double alpha), Act::Celu, alpha, 0,                                                                \
    PYDL_CHECK(alpha != 0, ValueError, "[celu] ZeroDivisionError: alpha cannot be 0"))                                \
  X(softsign, Softsign, (), Act::Softsign, 0, 0, )                                                                    \
  X(softshrink, Softshrink, (, double lambd), Act::Softshrink, lambd, 0,                                              \
    PYDL_CHECK(lambd >= 0, ValueError, "[softshrink] lambda must be greater or equal to 0, but found to be ", lambd)) \
  X(hardshrink, Hardshrink, (, double lambd), Act::Hardshrink, lambd, 0, )                                            \
  X(tanhshrink, Tanhshrink, (), Act::Tanhshrink, 0, 0, )                                                              \
  X(threshold, Threshold, (, double threshold, double value), Act::Threshold, threshold, value, ) /* x > threshold ? x : value */ \
  X(logsigmoid, LogSigmoid, (), Act::LogSigmoid, 0, 0, )

