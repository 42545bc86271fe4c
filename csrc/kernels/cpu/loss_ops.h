#pragma once
// The pointwise losses, one line each: X(Name, statements setting l = f(x, y), statements setting
// dx = df/dx and dy = df/dy), with scalar type T, beta (SmoothL1), and for BCEWithLogits the
// pos_weight p where has_pw. Generates the PointLoss switches of kernels/cpu/nn_loss.cpp and
// kernels/cuda/nn_loss.cu, so both devices compute the same formulas (NaN included).
#include <cmath>

// softplus(v) = max(v, 0) + log1p(exp(-|v|)), without overflow; max(-100, log v) of BCE
#define PYDL_LOSS_SOFTPLUS(v) (((v) < T(0) ? T(0) : (v)) + std::log1p(std::exp(-std::fabs(v))))
#define PYDL_LOSS_CLAMP100(v) ((v) < T(-100) ? T(-100) : (v))

#define PYDL_POINT_LOSS_KERNELS(X)                                                                    \
  X(MSE, T d = x - y; l = d * d;, dx = T(2) * (x - y); dy = -dx;)                                    \
  X(L1, l = std::fabs(x - y);, T d = x - y; dx = T((d > 0) - (d < 0)); dy = -dx;)                    \
  X(SmoothL1, T d = std::fabs(x - y); l = d < beta ? T(0.5) * d * d / beta : d - T(0.5) * beta;,      \
    T d = x - y; dx = std::fabs(d) < beta ? d / beta : T((d > 0) - (d < 0)); dy = -dx;)              \
  X(BCE, T lx = std::log(x); T l1x = std::log1p(-x);                                                 \
    l = -(y * PYDL_LOSS_CLAMP100(lx) + (T(1) - y) * PYDL_LOSS_CLAMP100(l1x));,                        \
    T den = (T(1) - x) * x; const T eps = T(1e-12); T lx = std::log(x); T l1x = std::log1p(-x);      \
    dx = (x - y) / (den < eps ? eps : den); dy = PYDL_LOSS_CLAMP100(l1x) - PYDL_LOSS_CLAMP100(lx);)  \
  X(BCEWithLogits, T lw = has_pw ? T(1) + (p - T(1)) * y : T(1); T nx = -x;                          \
    l = (T(1) - y) * x + lw * PYDL_LOSS_SOFTPLUS(nx);,                                               \
    T s = T(1) / (T(1) + std::exp(-x)); T lw = has_pw ? T(1) + (p - T(1)) * y : T(1); T nx = -x;     \
    dx = (T(1) - y) - lw * (T(1) - s); dy = -x + (has_pw ? p - T(1) : T(0)) * PYDL_LOSS_SOFTPLUS(nx);)

#if defined(__CUDACC__)
#define PYDL_LOSS_HD __host__ __device__
#else
#define PYDL_LOSS_HD
#endif

namespace pydl::kernels {
#define PYDL_LOSS_ENUM(N, ...) N,
enum class PointLoss { PYDL_POINT_LOSS_KERNELS(PYDL_LOSS_ENUM) };
#undef PYDL_LOSS_ENUM

// dx, dy of loss `op` at one element: the backward of both devices (the forward keeps one loop
// per loss on the CPU, so the simple ones vectorise). static: each per-ISA kernel file keeps its
// own copy, so the linker cannot give baseline code one built for AVX-512.
template <typename T>
static PYDL_LOSS_HD inline void point_loss_grad_at(PointLoss op, T x, T y, T p, bool has_pw, T beta, T& dx, T& dy) {
  (void)p, (void)has_pw, (void)beta;
  dx = T(0), dy = T(0);
  switch (op) {
#define PYDL_LOSS_CASE(N, SL, SG) case PointLoss::N: { SG } break;
    PYDL_POINT_LOSS_KERNELS(PYDL_LOSS_CASE)
#undef PYDL_LOSS_CASE
  }
}
}  // namespace pydl::kernels
