#pragma once
// The scalar forms of the elementwise kernels, shared by kernels/cpu/elementwise.cpp and its CUDA
// mirror kernels/cuda/elementwise.cu so both devices give the same results (integer edge cases,
// NaN): the helpers of kernels/cpu/binary_ops.h's table, binary_scalar and compare_scalar (one
// switch over each table), and the case macros of the unary switch (each device brings its own
// special functions: Eigen's on the CPU).
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/elementwise.h"

namespace pydl::kernels {
// Internal linkage: each per-ISA kernel file keeps its own copy, so the linker cannot give
// baseline code one built for AVX-512.
namespace {

template <typename T>
PYDL_BINARY_HD inline T pow_(T a, T b) {
  if constexpr (std::is_same_v<T, int64_t>) {
    if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 ? -1 : 1) : 0);
    T r = 1;
    while (b) { if (b & 1) r *= a; a *= a; b >>= 1; }
    return r;
  } else if constexpr (std::is_same_v<T, bool>) {
    return a || !b;
  } else {
    return std::pow(a, b);
  }
}

template <typename T>
constexpr bool kBool = std::is_same_v<T, bool>;
template <typename T>
constexpr bool kInt = std::is_same_v<T, int64_t>;
template <typename T>
constexpr bool kFloat = std::is_floating_point_v<T>;

template <typename T>
PYDL_BINARY_HD inline T div_(T a, T b) {
  if constexpr (kFloat<T>) return a / b;
  else if constexpr (kBool<T>) return b ? a : false;
  // INT64_MIN / -1 traps on x86: wrap around instead, as PyTorch does
  else return b == 0 ? 0 : (b == -1 ? static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a)) : a / b);
}

template <typename T>
PYDL_BINARY_HD inline T remainder_(T a, T b) {
  if constexpr (kFloat<T>) { T r = std::fmod(a, b); return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }
  else if constexpr (kBool<T>) return false;
  else { if (b == 0 || b == -1) return 0; T r = a % b; return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r; }
}

template <typename T>
PYDL_BINARY_HD inline T fmod_(T a, T b) {
  if constexpr (kFloat<T>) return std::fmod(a, b);
  else if constexpr (kBool<T>) return false;
  else return (b == 0 || b == -1) ? 0 : a % b;  // INT64_MIN % -1 traps
}

template <typename T>
PYDL_BINARY_HD inline T gcd_(T a, T b) {
  if constexpr (kInt<T>) {
    uint64_t x = a < 0 ? -static_cast<uint64_t>(a) : a, y = b < 0 ? -static_cast<uint64_t>(b) : b;
    while (y) { uint64_t t = x % y; x = y; y = t; }
    return static_cast<T>(x);
  } else {
    return a;
  }
}

/// op(a, b) for one element (kernels/cpu/binary_ops.h's column).
template <typename T>
PYDL_BINARY_HD inline T binary_scalar(BinaryOp op, T a, T b) {
  switch (op) {
#define PYDL_BIN_CASE(N, ...) case BinaryOp::N: { __VA_ARGS__ }
    PYDL_BINARY_KERNELS(PYDL_BIN_CASE)
#undef PYDL_BIN_CASE
  }
  return a;
}

/// a op b for one element.
template <typename T>
PYDL_BINARY_HD inline bool compare_scalar(CompareOp op, T a, T b) {
  switch (op) {
#define PYDL_CMP_CASE(N, OP) case CompareOp::N: return a OP b;
    PYDL_COMPARE_KERNELS(PYDL_CMP_CASE)
#undef PYDL_CMP_CASE
  }
  return false;
}

}  // namespace
}  // namespace pydl::kernels

// The cases of a switch over UnaryOp returning the scalar form S of each entry of
// PYDL_UNARY_KERNELS(PYDL_UNARY_SCALAR_CASE, PYDL_UNARY_SCALAR_CASE_S).
#define PYDL_UNARY_SCALAR_CASE(N, S, V) case UnaryOp::N: return S;
#define PYDL_UNARY_SCALAR_CASE_S(N, S) case UnaryOp::N: return S;
