#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Core>

#include "core/threads.h"
#include "kernels/cpu/nn.h"

namespace pydl::kernels {
namespace {
constexpr int64_t kGrain = 1 << 13;
constexpr double kSqrt2Pi = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1/sqrt(2 pi)

template <typename T, typename F>
void map(int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) f(i); });
}
}  // namespace

template <typename T>
void act_forward(Act op, int64_t n, const T* x, T* y, double a_, double b_) {
  const T a = T(a_), b = T(b_);
  switch (op) {
    case Act::LeakyRelu: map<T>(n, [&](int64_t i) { T v = x[i]; y[i] = v > 0 ? v : v * a; }); break;
    case Act::Elu: map<T>(n, [&](int64_t i) { T v = x[i]; y[i] = v > 0 ? v : a * std::expm1(v); }); break;
    case Act::Gelu: map<T>(n, [&](int64_t i) { T v = x[i]; y[i] = T(0.5) * v * (T(1) + std::erf(v * T(kInvSqrt2))); }); break;
    case Act::GeluTanh:
      map<T>(n, [&](int64_t i) {
        T v = x[i];
        y[i] = T(0.5) * v * (T(1) + std::tanh(T(kSqrt2Pi) * (v + T(0.044715) * v * v * v)));
      });
      break;
    case Act::Silu: map<T>(n, [&](int64_t i) { T v = x[i]; y[i] = v / (T(1) + std::exp(-v)); }); break;
    case Act::Softplus:  // a = beta, b = threshold
      map<T>(n, [&](int64_t i) { T v = x[i] * a; y[i] = v > b ? x[i] : std::log1p(std::exp(v)) / a; });
      break;
  }
}

template <typename T>
void act_backward(Act op, int64_t n, const T* g, const T* x, T* gx, double a_, double b_) {
  const T a = T(a_), b = T(b_);
  switch (op) {
    case Act::LeakyRelu: map<T>(n, [&](int64_t i) { gx[i] = x[i] > 0 ? g[i] : g[i] * a; }); break;
    case Act::Elu: map<T>(n, [&](int64_t i) { gx[i] = x[i] > 0 ? g[i] : g[i] * a * std::exp(x[i]); }); break;
    case Act::Gelu:
      map<T>(n, [&](int64_t i) {
        T v = x[i];
        T cdf = T(0.5) * (T(1) + std::erf(v * T(kInvSqrt2)));
        T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * v * v);
        gx[i] = g[i] * (cdf + v * pdf);
      });
      break;
    case Act::GeluTanh:
      map<T>(n, [&](int64_t i) {
        T v = x[i];
        T t = std::tanh(T(kSqrt2Pi) * (v + T(0.044715) * v * v * v));
        T dinner = T(kSqrt2Pi) * (T(1) + T(3 * 0.044715) * v * v);
        gx[i] = g[i] * (T(0.5) * (T(1) + t) + T(0.5) * v * (T(1) - t * t) * dinner);
      });
      break;
    case Act::Silu:
      map<T>(n, [&](int64_t i) {
        T s = T(1) / (T(1) + std::exp(-x[i]));
        gx[i] = g[i] * s * (T(1) + x[i] * (T(1) - s));
      });
      break;
    case Act::Softplus:
      map<T>(n, [&](int64_t i) {
        T v = x[i] * a;
        gx[i] = v > b ? g[i] : g[i] / (T(1) + std::exp(-v));
      });
      break;
  }
}

template <typename T>
void softmax_forward(int64_t outer, int64_t dim, int64_t inner, const T* x, T* y, bool log) {
  if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, 4096 / std::max<int64_t>(dim, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* xr = x + o * dim;
        T* yr = y + o * dim;
        T mx = -INFINITY;
        for (int64_t i = 0; i < dim; ++i) mx = std::max(mx, xr[i]);
        if (std::isinf(mx) && mx < 0) mx = 0;
        T s = 0;
        if (log) {
          for (int64_t i = 0; i < dim; ++i) s += std::exp(xr[i] - mx);
          T l = mx + std::log(s);
          for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] - l;
        } else {
          for (int64_t i = 0; i < dim; ++i) { T v = std::exp(xr[i] - mx); yr[i] = v; s += v; }
          T inv = T(1) / s;
          for (int64_t i = 0; i < dim; ++i) yr[i] *= inv;
        }
      }
    });
    return;
  }
  // (outer, dim, inner): work on whole inner rows so the loops run over contiguous memory.
  parallel_for(outer, 1, [&](int64_t b, int64_t e) {
    std::vector<T> mx(inner), s(inner);
    for (int64_t o = b; o < e; ++o) {
      const T* xo = x + o * dim * inner;
      T* yo = y + o * dim * inner;
      std::fill(mx.begin(), mx.end(), T(-INFINITY));
      std::fill(s.begin(), s.end(), T(0));
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t i = 0; i < inner; ++i) mx[i] = std::max(mx[i], xo[d * inner + i]);
      for (int64_t i = 0; i < inner; ++i) if (std::isinf(mx[i]) && mx[i] < 0) mx[i] = 0;
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t i = 0; i < inner; ++i) {
          T v = std::exp(xo[d * inner + i] - mx[i]);
          s[i] += v;
          if (!log) yo[d * inner + i] = v;
        }
      if (log) {
        for (int64_t i = 0; i < inner; ++i) s[i] = mx[i] + std::log(s[i]);
        for (int64_t d = 0; d < dim; ++d)
          for (int64_t i = 0; i < inner; ++i) yo[d * inner + i] = xo[d * inner + i] - s[i];
      } else {
        for (int64_t i = 0; i < inner; ++i) s[i] = T(1) / s[i];
        for (int64_t d = 0; d < dim; ++d)
          for (int64_t i = 0; i < inner; ++i) yo[d * inner + i] *= s[i];
      }
    }
  });
}

template <typename T>
void softmax_backward(int64_t outer, int64_t dim, int64_t inner, const T* g, const T* y, T* gx, bool log) {
  // softmax: gx = y * (g - sum(g*y));  log_softmax: gx = g - exp(y) * sum(g)
  parallel_for(outer, inner == 1 ? std::max<int64_t>(1, 4096 / std::max<int64_t>(dim, 1)) : 1, [&](int64_t b, int64_t e) {
    std::vector<T> s(inner);
    for (int64_t o = b; o < e; ++o) {
      const T* go = g + o * dim * inner;
      const T* yo = y + o * dim * inner;
      T* xo = gx + o * dim * inner;
      std::fill(s.begin(), s.end(), T(0));
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t i = 0; i < inner; ++i) s[i] += log ? go[d * inner + i] : go[d * inner + i] * yo[d * inner + i];
      for (int64_t d = 0; d < dim; ++d)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t k = d * inner + i;
          xo[k] = log ? go[k] - std::exp(yo[k]) * s[i] : yo[k] * (go[k] - s[i]);
        }
    }
  });
}

#define INST(T)                                                                                   \
  template void act_forward<T>(Act, int64_t, const T*, T*, double, double);                       \
  template void act_backward<T>(Act, int64_t, const T*, const T*, T*, double, double);            \
  template void softmax_forward<T>(int64_t, int64_t, int64_t, const T*, T*, bool);                \
  template void softmax_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, T*, bool);
INST(float)
INST(double)

}  // namespace pydl::kernels
