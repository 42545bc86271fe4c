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

template <typename T, typename F>
void map(int64_t n, F f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) f(i); });
}
}  // namespace

template <typename T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using CVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// The Eigen columns of kernels/cpu/act_ops.h over each thread's chunk: exp, tanh and erf vectorise.
template <typename T>
void act_forward(Act op, int64_t n, const T* xp, T* yp, double a_, double b_) {
  using namespace act_constants;
  const T a = T(a_), b = T(b_);
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
    CVec<T> x(xp + lo, hi - lo);
    Vec<T> y(yp + lo, hi - lo);
    switch (op) {
#define PYDL_ACT_CASE(N, SY, EY, SG, EG) case Act::N: { EY } break;
      PYDL_ACT_KERNELS(PYDL_ACT_CASE)
#undef PYDL_ACT_CASE
    }
  });
}

template <typename T>
void act_backward(Act op, int64_t n, const T* gp, const T* xp, T* gxp, double a_, double b_) {
  using namespace act_constants;
  const T a = T(a_), b = T(b_);
  parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
    CVec<T> x(xp + lo, hi - lo), g(gp + lo, hi - lo);
    Vec<T> gx(gxp + lo, hi - lo);
    switch (op) {
#define PYDL_ACT_CASE(N, SY, EY, SG, EG) case Act::N: { EG } break;
      PYDL_ACT_KERNELS(PYDL_ACT_CASE)
#undef PYDL_ACT_CASE
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

PYDL_INSTANTIATE_FLOATING(PYDL_NN_ACT_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
