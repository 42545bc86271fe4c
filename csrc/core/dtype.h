#pragma once
#include <cstdint>
#include <string>

namespace pydl {

enum class DType : uint8_t { Bool = 0, Int64 = 1, Float32 = 2, Float64 = 3 };

/// Size in bytes of one element of `t`.
inline size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool: return 1;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}

/// PyTorch-style name: "float32", "int64", ...
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

/// Result dtype of a binary op between two tensors (bool < int64 < float32 < float64).
inline DType promote(DType a, DType b) { return a > b ? a : b; }

template <typename T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };

}  // namespace pydl

// Runs __VA_ARGS__ (a lambda body) with scalar_t bound to the C++ type of DT.
#define PYDL_DISPATCH_CASE(DT, T, ...) \
  case DT: { using scalar_t = T; return __VA_ARGS__(); }

#define PYDL_DISPATCH_ALL(DTYPE, NAME, ...)                                   \
  [&] {                                                                       \
    switch (DTYPE) {                                                          \
      PYDL_DISPATCH_CASE(::pydl::DType::Float32, float, __VA_ARGS__)          \
      PYDL_DISPATCH_CASE(::pydl::DType::Float64, double, __VA_ARGS__)         \
      PYDL_DISPATCH_CASE(::pydl::DType::Int64, int64_t, __VA_ARGS__)          \
      PYDL_DISPATCH_CASE(::pydl::DType::Bool, bool, __VA_ARGS__)              \
    }                                                                         \
    throw ::pydl::TypeError(std::string("[") + NAME + "] unsupported dtype"); \
  }()

#define PYDL_DISPATCH_FLOAT(DTYPE, NAME, ...)                                  \
  [&] {                                                                        \
    switch (DTYPE) {                                                           \
      PYDL_DISPATCH_CASE(::pydl::DType::Float32, float, __VA_ARGS__)           \
      PYDL_DISPATCH_CASE(::pydl::DType::Float64, double, __VA_ARGS__)          \
      default: break;                                                          \
    }                                                                          \
    throw ::pydl::TypeError(std::string("[") + NAME + "] expected a floating " \
                            "dtype (float32 or float64), got " +               \
                            ::pydl::dtype_name(DTYPE));                        \
  }()

#define PYDL_DISPATCH_NUMERIC(DTYPE, NAME, ...)                               \
  [&] {                                                                       \
    switch (DTYPE) {                                                          \
      PYDL_DISPATCH_CASE(::pydl::DType::Float32, float, __VA_ARGS__)          \
      PYDL_DISPATCH_CASE(::pydl::DType::Float64, double, __VA_ARGS__)         \
      PYDL_DISPATCH_CASE(::pydl::DType::Int64, int64_t, __VA_ARGS__)          \
      default: break;                                                         \
    }                                                                         \
    throw ::pydl::TypeError(std::string("[") + NAME + "] not supported for " \
                            "dtype " + ::pydl::dtype_name(DTYPE));            \
  }()
