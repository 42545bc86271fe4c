#pragma once
#include <cmath>
// The binary kernels, one line each: X(Name, statements returning op(a, b) for the scalar type T),
// with kBool<T> / kFloat<T> / kInt<T> to pick a dtype's branch (the integer-only ops are refused
// for floats by the ops, whose branch returns `a`). Generates the BinaryOp enum and the kernel
// switches of kernels/cpu/elementwise.cpp; kernels/cuda/elementwise.cu runs the same
// column (the helpers: kernels/cpu/elementwise_ops.h).
#define PYDL_BINARY_KERNELS(X)                                                                              \
  X(Add, if constexpr (kBool<T>) return a || b; else return a + b;)                                         \
  X(Sub, return a - b;)                                                                                     \
  X(Mul, if constexpr (kBool<T>) return a && b; else return a * b;)                                         \
  X(Div, return div_(a, b);)                                                                                \
  X(Pow, return pow_(a, b);)                                                                                \
  X(Maximum, if constexpr (kFloat<T>) return (a != a || a > b) ? a : b; else return a > b ? a : b;)         \
  X(Minimum, if constexpr (kFloat<T>) return (a != a || a < b) ? a : b; else return a < b ? a : b;)         \
  X(Atan2, return static_cast<T>(std::atan2(double(a), double(b)));)                                        \
  X(Remainder, return remainder_(a, b);)                                                                    \
  X(BitAnd, if constexpr (!kFloat<T>) return a & b; else return a;)                                         \
  X(BitOr, if constexpr (!kFloat<T>) return a | b; else return a;)                                          \
  X(BitXor, if constexpr (!kFloat<T>) return a ^ b; else return a;)                                         \
  X(Shl, if constexpr (kInt<T>) return (b < 0 || b >= 64) ? 0 : static_cast<T>(static_cast<uint64_t>(a) << b); else return a;) \
  X(Shr, if constexpr (kInt<T>) return (b < 0 || b >= 64) ? (a < 0 ? -1 : 0) : a >> b; else return a;)     \
  X(Gcd, return gcd_(a, b);)                                                                                \
  X(Fmod, return fmod_(a, b);)                                                                              \
  X(Copysign, if constexpr (kFloat<T>) return std::copysign(a, b); else return a;)                          \
  X(Nextafter, if constexpr (kFloat<T>) return std::nextafter(a, b); else return a;)                        \
  X(Logaddexp, if constexpr (kFloat<T>) return logaddexp(a, b); else return a;)                           \
  X(Hypot, if constexpr (kFloat<T>) return std::hypot(a, b); else return a;)

// The comparisons: X(Name, C++ operator). Generates the CompareOp enum and its switch.
#define PYDL_COMPARE_KERNELS(X) X(Eq, ==) X(Ne, !=) X(Lt, <) X(Le, <=) X(Gt, >) X(Ge, >=)

#if defined(__CUDACC__)
#define PYDL_BINARY_HD __host__ __device__
#else
#define PYDL_BINARY_HD
#endif

namespace pydl::kernels {
/// log(exp(a) + exp(b)) without overflow (logaddexp, and logcumsumexp's running sum). static: each
/// per-ISA kernel file keeps its own copy.
template <typename T>
static PYDL_BINARY_HD inline T logaddexp(T a, T b) {
  if (a == b) return a + T(M_LN2);  // also +-inf
  T mx = a > b ? a : b, mn = a > b ? b : a;
  return mx + std::log1p(std::exp(mn - mx));
}
}  // namespace pydl::kernels
