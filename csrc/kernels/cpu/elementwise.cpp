#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/elementwise_ops.h"

#include "kernels/cpu/eigen.h"
#include <unsupported/Eigen/SpecialFunctions>
#include <cmath>
#include <cstring>

#include "kernels/cpu/loops.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {

constexpr int64_t kGrainCheap = 1 << 16;  // add, mul, copy: memory bound
constexpr int64_t kGrainMath = 1 << 13;   // exp, tanh, ...: compute bound

template <typename T>
using VecMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using CVecMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// One function per op so the compiler can vectorise the contiguous loops.
template <typename T, BinaryOp OP>
void binary_run(const std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
  T* o = reinterpret_cast<T*>(p[0]);
  const T* a = reinterpret_cast<const T*>(p[1]);
  const T* b = reinterpret_cast<const T*>(p[2]);
  constexpr int64_t z = sizeof(T);
  if (s[0] == z && s[1] == z && s[2] == z) {
    for (int64_t i = 0; i < n; ++i) o[i] = binary_scalar<T>(OP, a[i], b[i]);
  } else if (s[0] == z && s[1] == z && s[2] == 0) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = binary_scalar<T>(OP, a[i], bv);
  } else if (s[0] == z && s[1] == 0 && s[2] == z) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = binary_scalar<T>(OP, av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<T*>(p[0] + i * s[0]) =
          binary_scalar<T>(OP, *reinterpret_cast<const T*>(p[1] + i * s[1]), *reinterpret_cast<const T*>(p[2] + i * s[2]));
  }
}

template <typename T, BinaryOp OP>
void binary_typed(const TensorImpl& out, const TensorImpl& a, const TensorImpl& b) {
  if (out.numel == 1) {  // fast path: tiny tensors pay no iteration setup
    *out.data<T>() = binary_scalar<T>(OP, *a.data<T>(), *b.data<T>());
    return;
  }
  for_each_run<3>(out.shape, {&out, &a, &b}, OP == BinaryOp::Pow ? kGrainMath : kGrainCheap, binary_run<T, OP>);
}

template <typename T>
void binary_dispatch_op(BinaryOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b) {
  switch (op) {
#define PYDL_BIN(N, ...) case BinaryOp::N: return binary_typed<T, BinaryOp::N>(out, a, b);
    PYDL_BINARY_KERNELS(PYDL_BIN)
#undef PYDL_BIN
  }
}

// Special functions of the unary table through Eigen, one element at a time (integers never reach them:
// the ops compute those in float32).
template <typename T>
T special_erfinv(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    if (x == T(1) || x == T(-1)) return x * T(INFINITY);
    Eigen::Array<T, 1, 1> v;
    v(0) = (x + T(1)) / T(2);
    return v.ndtri()(0) * T(M_SQRT1_2);
  }
  return x;
}
template <typename T>
T special_digamma(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    if (x == T(0)) return T(-INFINITY);
    Eigen::Array<T, 1, 1> v;
    v(0) = x;
    return v.digamma()(0);
  }
  return x;
}
template <typename T>
T special_trigamma(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    Eigen::Array<T, 1, 1> v;
    v(0) = x;
    return Eigen::polygamma(Eigen::Array<T, 1, 1>::Constant(T(1)), v)(0);
  }
  return x;
}

template <typename T>
inline T unary_scalar(UnaryOp op, T x) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (op) { case UnaryOp::Abs: case UnaryOp::Relu: case UnaryOp::Sign: case UnaryOp::Square: return x; default: return x; }
  } else {
    switch (op) {
      PYDL_UNARY_KERNELS(PYDL_UNARY_SCALAR_CASE, PYDL_UNARY_SCALAR_CASE_S)
    }
    return x;
  }
}

// Contiguous float runs go through Eigen's vectorised math (AVX2 exp/log/tanh...).
template <typename T>
bool unary_eigen(UnaryOp op, T* o, const T* a, int64_t n) {
  if constexpr (!std::is_floating_point_v<T>) {
    return false;
  } else {
    VecMap<T> out(o, n);
    CVecMap<T> x(a, n);
    switch (op) {
#define PYDL_VEC_V(N, S, V) case UnaryOp::N: out = V; return true;
#define PYDL_VEC_S(N, S) case UnaryOp::N: return false;
      PYDL_UNARY_KERNELS(PYDL_VEC_V, PYDL_VEC_S)
#undef PYDL_VEC_V
#undef PYDL_VEC_S
    }
    return false;
  }
}

template <typename T>
void unary_typed(UnaryOp op, const TensorImpl& out, const TensorImpl& a) {
  for_each_run<2>(out.shape, {&out, &a}, kGrainMath, [&](const std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
    T* o = reinterpret_cast<T*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      if (unary_eigen<T>(op, o, x, n)) return;
      for (int64_t i = 0; i < n; ++i) o[i] = unary_scalar<T>(op, x[i]);
      return;
    }
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<T*>(p[0] + i * s[0]) = unary_scalar<T>(op, *reinterpret_cast<const T*>(p[1] + i * s[1]));
  });
}

template <typename To, typename From>
void copy_typed(const TensorImpl& out, const TensorImpl& a) {
  for_each_run<2>(out.shape, {&out, &a}, kGrainCheap, [](const std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
    if constexpr (std::is_same_v<To, From>) {
      if (s[0] == sizeof(To) && s[1] == sizeof(From)) { std::memcpy(p[0], p[1], n * sizeof(To)); return; }
    }
    for (int64_t i = 0; i < n; ++i) {
      From v = *reinterpret_cast<const From*>(p[1] + i * s[1]);
      if constexpr (std::is_same_v<To, bool>) *reinterpret_cast<To*>(p[0] + i * s[0]) = v != From(0);
      else *reinterpret_cast<To*>(p[0] + i * s[0]) = static_cast<To>(v);
    }
  });
}

}  // namespace

void binary(BinaryOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b) {
  PYDL_DISPATCH_ALL(out.dtype, "binary", [&] { binary_dispatch_op<scalar_t>(op, out, a, b); });
}

void unary(UnaryOp op, const TensorImpl& out, const TensorImpl& a) {
  PYDL_DISPATCH_ALL(out.dtype, "unary", [&] { unary_typed<scalar_t>(op, out, a); });
}

void compare(CompareOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b) {
  PYDL_DISPATCH_ALL(a.dtype, "compare", [&] {
    for_each_run<3>(out.shape, {&out, &a, &b}, kGrainCheap, [&](const std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<bool*>(p[0] + i * s[0]) = compare_scalar<scalar_t>(
            op, *reinterpret_cast<const scalar_t*>(p[1] + i * s[1]), *reinterpret_cast<const scalar_t*>(p[2] + i * s[2]));
    });
  });
}

void clamp(const TensorImpl& out, const TensorImpl& a, bool has_lo, double lo, bool has_hi, double hi) {
  PYDL_DISPATCH_NUMERIC(out.dtype, "clamp", [&] {
    const scalar_t l = has_lo ? static_cast<scalar_t>(lo) : scalar_t(0), h = has_hi ? static_cast<scalar_t>(hi) : scalar_t(0);
    for_each_run<2>(out.shape, {&out, &a}, kGrainCheap, [&](const std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        scalar_t v = *reinterpret_cast<const scalar_t*>(p[1] + i * s[1]);
        if (v == v) {  // NaN stays NaN
          if (has_lo && v < l) v = l;
          if (has_hi && v > h) v = h;
        }
        *reinterpret_cast<scalar_t*>(p[0] + i * s[0]) = v;
      }
    });
  });
}

void where(const TensorImpl& out, const TensorImpl& cond, const TensorImpl& a, const TensorImpl& b) {
  PYDL_DISPATCH_ALL(out.dtype, "where", [&] {
    for_each_run<4>(out.shape, {&out, &cond, &a, &b}, kGrainCheap, [](const std::array<char*, 4>& p, const std::array<int64_t, 4>& s, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<scalar_t*>(p[0] + i * s[0]) = *reinterpret_cast<const bool*>(p[1] + i * s[1])
                                                            ? *reinterpret_cast<const scalar_t*>(p[2] + i * s[2])
                                                            : *reinterpret_cast<const scalar_t*>(p[3] + i * s[3]);
    });
  });
}

void copy(const TensorImpl& out, const TensorImpl& a) {
  PYDL_DISPATCH_ALL(out.dtype, "copy", [&] {
    using To = scalar_t;
    PYDL_DISPATCH_ALL(a.dtype, "copy", [&] { copy_typed<To, scalar_t>(out, a); });
  });
}

void fill(const TensorImpl& out, double value) {
  PYDL_DISPATCH_ALL(out.dtype, "fill", [&] {
    const scalar_t v = static_cast<scalar_t>(value);
    for_each_run<1>(out.shape, {&out}, kGrainCheap, [v](const std::array<char*, 1>& p, const std::array<int64_t, 1>& s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) *reinterpret_cast<scalar_t*>(p[0] + i * s[0]) = v;
    });
  });
}

}  // namespace pydl::kernels::PYDL_ISA_NS
