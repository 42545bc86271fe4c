// CUDA mirror of kernels/cpu/elementwise.cpp: the same names, operands already broadcast to the
// output's shape (stride-0 views), any strides.
#include <cmath>
#include <type_traits>

#include "kernels/cpu/elementwise_ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__device__ T special_erfinv(T x) { return static_cast<T>(::erfinv(static_cast<double>(x))); }
// Host code refuses Digamma and Trigamma before a launch (no CUDA kernel for them yet).
template <typename T>
__device__ T special_digamma(T x) { return x; }
template <typename T>
__device__ T special_trigamma(T x) { return x; }

template <typename T>
__device__ T unary_d(UnaryOp op, T x) {
  if constexpr (std::is_same_v<T, bool>) {
    return x;
  } else {
    switch (op) {
      PYDL_UNARY_KERNELS(PYDL_UNARY_SCALAR_CASE, PYDL_UNARY_SCALAR_CASE_S)
    }
    return x;
  }
}

template <typename T>
__global__ void binary_k(BinaryOp op, Indexer<3> ix, int64_t n) {
  PYDL_CUDA_LOOP(i, n) {
    char* p[3];
    ix.offsets(i, p);
    *reinterpret_cast<T*>(p[0]) = binary_scalar<T>(op, *reinterpret_cast<const T*>(p[1]), *reinterpret_cast<const T*>(p[2]));
  }
}

template <typename T>
__global__ void unary_k(UnaryOp op, Indexer<2> ix, int64_t n) {
  PYDL_CUDA_LOOP(i, n) {
    char* p[2];
    ix.offsets(i, p);
    *reinterpret_cast<T*>(p[0]) = unary_d<T>(op, *reinterpret_cast<const T*>(p[1]));
  }
}

template <typename T>
__global__ void compare_k(CompareOp op, Indexer<3> ix, int64_t n) {
  PYDL_CUDA_LOOP(i, n) {
    char* p[3];
    ix.offsets(i, p);
    *reinterpret_cast<bool*>(p[0]) = compare_scalar<T>(op, *reinterpret_cast<const T*>(p[1]), *reinterpret_cast<const T*>(p[2]));
  }
}

template <typename T>
__global__ void clamp_k(Indexer<2> ix, int64_t n, bool has_lo, T lo, bool has_hi, T hi) {
  PYDL_CUDA_LOOP(i, n) {
    char* p[2];
    ix.offsets(i, p);
    T v = *reinterpret_cast<const T*>(p[1]);
    if (v == v) {  // NaN stays NaN
      if (has_lo && v < lo) v = lo;
      if (has_hi && v > hi) v = hi;
    }
    *reinterpret_cast<T*>(p[0]) = v;
  }
}

template <typename T>
__global__ void where_k(Indexer<4> ix, int64_t n) {
  PYDL_CUDA_LOOP(i, n) {
    char* p[4];
    ix.offsets(i, p);
    *reinterpret_cast<T*>(p[0]) =
        *reinterpret_cast<const bool*>(p[1]) ? *reinterpret_cast<const T*>(p[2]) : *reinterpret_cast<const T*>(p[3]);
  }
}

template <typename To, typename From>
__global__ void copy_k(Indexer<2> ix, int64_t n) {
  PYDL_CUDA_LOOP(i, n) {
    char* p[2];
    ix.offsets(i, p);
    From v = *reinterpret_cast<const From*>(p[1]);
    if constexpr (std::is_same_v<To, bool>) *reinterpret_cast<To*>(p[0]) = v != From(0);
    else *reinterpret_cast<To*>(p[0]) = static_cast<To>(v);
  }
}

template <typename T>
__global__ void fill_k(Indexer<1> ix, int64_t n, T v) {
  PYDL_CUDA_LOOP(i, n) {
    char* p[1];
    ix.offsets(i, p);
    *reinterpret_cast<T*>(p[0]) = v;
  }
}

}  // namespace

void binary(BinaryOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b) {
  if (out.numel == 0) return;
  auto ix = make_indexer<3>({&out, &a, &b}, "binary");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(out.dtype, "binary", [&] { binary_k<scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(op, ix, out.numel); });
  check_launch("binary");
}

void unary(UnaryOp op, const TensorImpl& out, const TensorImpl& a) {
  PYDL_CHECK(op != UnaryOp::Digamma && op != UnaryOp::Trigamma, RuntimeError,
             "[digamma] has no CUDA kernel yet; compute it on the CPU (.cpu())");
  if (out.numel == 0) return;
  auto ix = make_indexer<2>({&out, &a}, "unary");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(out.dtype, "unary", [&] { unary_k<scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(op, ix, out.numel); });
  check_launch("unary");
}

void compare(CompareOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b) {
  if (out.numel == 0) return;
  auto ix = make_indexer<3>({&out, &a, &b}, "compare");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(a.dtype, "compare", [&] { compare_k<scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(op, ix, out.numel); });
  check_launch("compare");
}

void clamp(const TensorImpl& out, const TensorImpl& a, bool has_lo, double lo, bool has_hi, double hi) {
  if (out.numel == 0) return;
  auto ix = make_indexer<2>({&out, &a}, "clamp");
  auto s = stream_of(out);
  PYDL_DISPATCH_NUMERIC(out.dtype, "clamp", [&] {
    clamp_k<scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(ix, out.numel, has_lo, static_cast<scalar_t>(lo), has_hi,
                                                                 static_cast<scalar_t>(hi));
  });
  check_launch("clamp");
}

void where(const TensorImpl& out, const TensorImpl& cond, const TensorImpl& a, const TensorImpl& b) {
  if (out.numel == 0) return;
  auto ix = make_indexer<4>({&out, &cond, &a, &b}, "where");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(out.dtype, "where", [&] { where_k<scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(ix, out.numel); });
  check_launch("where");
}

void copy(const TensorImpl& out, const TensorImpl& a) {
  if (out.numel == 0) return;
  auto ix = make_indexer<2>({&out, &a}, "copy");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(out.dtype, "copy", [&] {
    using To = scalar_t;
    PYDL_DISPATCH_ALL(a.dtype, "copy", [&] { copy_k<To, scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(ix, out.numel); });
  });
  check_launch("copy");
}

void fill(const TensorImpl& out, double value) {
  if (out.numel == 0) return;
  auto ix = make_indexer<1>({&out}, "fill");
  auto s = stream_of(out);
  PYDL_DISPATCH_ALL(out.dtype, "fill", [&] {
    fill_k<scalar_t><<<blocks_for(out.numel), kThreads, 0, s>>>(ix, out.numel, static_cast<scalar_t>(value));
  });
  check_launch("fill");
}

}  // namespace pydl::kernels::cuda
