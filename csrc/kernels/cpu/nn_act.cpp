#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/eigen.h"
#include <unsupported/Eigen/SpecialFunctions>

#include "core/rng.h"
#include "core/threads.h"
#include "kernels/cpu/nn.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {
constexpr int64_t kGrain = 1 << 13;
constexpr double kSqrt2Pi = 0.7978845608028654;  // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1/sqrt(2 pi)
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

template <typename T, typename F>
void map(int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) f(i); });
}
}  // namespace

template <typename T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using CVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// Eigen array expressions over each thread's chunk: exp, tanh and erf vectorise.
template <typename T>
void act_forward(Act op, int64_t n, const T* xp, T* yp, double a_, double b_) {
  const T a = T(a_), b = T(b_);
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
    CVec<T> x(xp + lo, hi - lo);
    Vec<T> y(yp + lo, hi - lo);
    switch (op) {
      case Act::LeakyRelu: y = (x > T(0)).select(x, x * a); break;
      case Act::Elu: y = (x > T(0)).select(x, a * (x.exp() - T(1))); break;
      case Act::Gelu: y = T(0.5) * x * (T(1) + (x * T(kInvSqrt2)).erf()); break;
      case Act::GeluTanh: y = T(0.5) * x * (T(1) + (T(kSqrt2Pi) * (x + T(0.044715) * x.cube())).tanh()); break;
      case Act::Silu: y = x / (T(1) + (-x).exp()); break;
      case Act::Softplus:  // a = beta, b = threshold
        y = (x * a > b).select(x, (T(1) + (x * a).exp()).log() / a);
        break;
      case Act::Hardtanh: y = x.max(a).min(b); break;
      case Act::Hardswish: y = x * (x + T(3)).max(T(0)).min(T(6)) / T(6); break;
      case Act::Hardsigmoid: y = (x / T(6) + T(0.5)).max(T(0)).min(T(1)); break;
      case Act::Mish: y = x * (x > T(20)).select(x, x.exp().log1p()).tanh(); break;
      case Act::Selu: y = T(kSeluScale) * (x > T(0)).select(x, T(kSeluAlpha) * (x.exp() - T(1))); break;
      case Act::Celu: y = (x > T(0)).select(x, a * ((x / a).exp() - T(1))); break;
      case Act::Softsign: y = x / (T(1) + x.abs()); break;
      case Act::Softshrink: y = (x > a).select(x - a, (x < -a).select(x + a, T(0))); break;
      case Act::Hardshrink: y = (x.abs() > a).select(x, T(0)); break;
      case Act::Tanhshrink: y = x - x.tanh(); break;
      case Act::Threshold: y = (x > a).select(x, b); break;
      case Act::LogSigmoid: y = x.min(T(0)) - (-x.abs()).exp().log1p(); break;
    }
  });
}

template <typename T>
void act_backward(Act op, int64_t n, const T* gp, const T* xp, T* gxp, double a_, double b_) {
  const T a = T(a_), b = T(b_);
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
    CVec<T> x(xp + lo, hi - lo), g(gp + lo, hi - lo);
    Vec<T> gx(gxp + lo, hi - lo);
    switch (op) {
      case Act::LeakyRelu: gx = (x > T(0)).select(g, g * a); break;
      case Act::Elu: gx = (x > T(0)).select(g, g * a * x.exp()); break;
      case Act::Gelu:
        gx = g * (T(0.5) * (T(1) + (x * T(kInvSqrt2)).erf()) + x * T(kInvSqrt2Pi) * (T(-0.5) * x.square()).exp());
        break;
      case Act::GeluTanh: {
        auto t = (T(kSqrt2Pi) * (x + T(0.044715) * x.cube())).tanh().eval();
        gx = g * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t.square()) * T(kSqrt2Pi) * (T(1) + T(3 * 0.044715) * x.square()));
        break;
      }
      case Act::Silu: {
        auto sg = (T(1) / (T(1) + (-x).exp())).eval();
        gx = g * sg * (T(1) + x * (T(1) - sg));
        break;
      }
      case Act::Softplus: gx = (x * a > b).select(g, g / (T(1) + (-x * a).exp())); break;
      case Act::Hardtanh: gx = ((x > a) && (x < b)).select(g, T(0)); break;
      case Act::Hardswish: gx = (x < T(-3)).select(T(0), (x <= T(3)).select(g * (x / T(3) + T(0.5)), g)); break;
      case Act::Hardsigmoid: gx = ((x > T(-3)) && (x < T(3))).select(g / T(6), T(0)); break;
      case Act::Mish: {
        auto t = (x > T(20)).select(x, x.exp().log1p()).tanh().eval();
        gx = g * (t + x * (T(1) / (T(1) + (-x).exp())) * (T(1) - t.square()));
        break;
      }
      case Act::Selu: gx = (x > T(0)).select(g * T(kSeluScale), g * T(kSeluScale * kSeluAlpha) * x.exp()); break;
      case Act::Celu: gx = (x > T(0)).select(g, g * (x / a).exp()); break;
      case Act::Softsign: gx = g / (T(1) + x.abs()).square(); break;
      case Act::Softshrink: case Act::Hardshrink: gx = (x.abs() > a).select(g, T(0)); break;
      case Act::Tanhshrink: gx = g * x.tanh().square(); break;
      case Act::Threshold: gx = (x > a).select(g, T(0)); break;
      case Act::LogSigmoid: gx = g / (T(1) + x.exp()); break;
    }
  });
}

template <typename T>
void softmax_forward(int64_t outer, int64_t dim, int64_t inner, const T* x, T* y, bool log) {
  if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, 4096 / std::max<int64_t>(dim, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        CVec<T> xr(x + o * dim, dim);
        Vec<T> yr(y + o * dim, dim);
        T mx = dim ? xr.maxCoeff() : T(0);
        if (std::isinf(mx) && mx < 0) mx = 0;
        if (log) {
          // (x - max) - log(sum): never form max + log(sum), whose rounding at large |x| swamps the log
          yr = (xr - mx) - std::log((xr - mx).exp().sum());
        } else {
          yr = (xr - mx).exp();
          yr *= T(1) / yr.sum();
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
        for (int64_t i = 0; i < inner; ++i) s[i] = std::log(s[i]);
        for (int64_t d = 0; d < dim; ++d)
          for (int64_t i = 0; i < inner; ++i) yo[d * inner + i] = (xo[d * inner + i] - mx[i]) - s[i];
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

template <typename T>
void dropout_mask(int64_t n, uint64_t seed, double p, T* m) {
  if (p >= 1) {
    std::fill(m, m + n, T(0));
    return;
  }
  constexpr int64_t kChunk = 1 << 14;
  const uint32_t threshold = static_cast<uint32_t>(std::min(p * 4294967296.0, 4294967295.0));
  const T scale = T(1.0 / (1.0 - p));
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, 4, [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      uint64_t state = seed ^ (static_cast<uint64_t>(ch) * 0xd1b54a32d192ed03ull);
      const int64_t i1 = std::min(n, (ch + 1) * kChunk);
      for (int64_t i = ch * kChunk; i < i1; i += 2) {
        uint64_t r = splitmix64(state);  // two 32-bit uniforms per draw
        m[i] = static_cast<uint32_t>(r) < threshold ? T(0) : scale;
        if (i + 1 < i1) m[i + 1] = static_cast<uint32_t>(r >> 32) < threshold ? T(0) : scale;
      }
    }
  });
}

template <typename T>
void broadcast_rows(int64_t rows, int64_t cols, const T* row, T* y) {
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::copy(row, row + cols, y + r * cols);
  });
}

#define INST(T)                                                                                   \
  template void act_forward<T>(Act, int64_t, const T*, T*, double, double);                       \
  template void act_backward<T>(Act, int64_t, const T*, const T*, T*, double, double);            \
  template void softmax_forward<T>(int64_t, int64_t, int64_t, const T*, T*, bool);                \
  template void softmax_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, T*, bool);     \
  template void dropout_mask<T>(int64_t, uint64_t, double, T*);                                    \
  template void broadcast_rows<T>(int64_t, int64_t, const T*, T*);
INST(float)
INST(double)

}  // namespace pydl::kernels::PYDL_ISA_NS
