#include <algorithm>
#include <type_traits>
#include <cmath>
#include <vector>

#include "kernels/cpu/eigen.h"

#include "core/threads.h"
#include "kernels/cpu/nn.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {
template <typename T>
using CArr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<>>;
template <typename T>
using Arr = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<>>;
}  // namespace

namespace {
// Calls f(row_map) with an Eigen map of the C logits of row r: contiguous when inner == 1
// (so Eigen vectorises exp and the reductions), strided otherwise.
template <typename T, typename P, typename F>
inline void with_row(P* base, int64_t C, int64_t inner, int64_t r, const F& f) {
  using A = Eigen::Array<T, Eigen::Dynamic, 1>;
  using MA = std::conditional_t<std::is_const_v<P>, const A, A>;
  if (inner == 1) {
    Eigen::Map<MA> m(base + r * C, C);
    f(m);
  } else {
    int64_t n = r / inner, j = r % inner;
    Eigen::Map<MA, 0, Eigen::InnerStride<>> m(base + n * C * inner + j, C, Eigen::InnerStride<>(inner));
    f(m);
  }
}
}  // namespace

// The shift that keeps exp() in range: the row's max (0 for an all -inf row).
template <typename R>
auto row_shift(const R& xr) {
  auto mx = xr.maxCoeff();
  return (std::isinf(mx) && mx < 0) ? decltype(mx)(0) : mx;
}

template <typename T>
void cross_entropy_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                           double ls, T* loss, T* lse, T* wsum) {
  const int64_t rows = N * inner;
  T wall = 0;
  if (w) for (int64_t c = 0; c < C; ++c) wall += w[c];
  parallel_for(rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(C, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      with_row<T>(x, C, inner, r, [&](const auto& xr) {
        // -log_softmax(x)[c] = (max - x[c]) + log(sum(exp(x - max))): the max never meets the
        // log term before the difference is taken, so the loss is exact at any scale (1e8 logits).
        T mx = row_shift(xr);
        T l = std::log((xr - mx).exp().sum());
        lse[r] = l;
        int64_t tg = t[r];
        if (tg == ignore) { loss[r] = 0; wsum[r] = 0; return; }
        T wt = w ? w[tg] : T(1);
        T v = (T(1) - T(ls)) * wt * ((mx - xr[tg]) + l);
        if (ls > 0) {
          T sm;
          if (w) {
            T dot = 0;
            for (int64_t c = 0; c < C; ++c) dot += w[c] * (mx - xr[c]);
            sm = wall * l + dot;
          } else {
            sm = T(C) * l + (mx - xr).sum();
          }
          v += T(ls) / T(C) * sm;
        }
        loss[r] = v;
        wsum[r] = wt;
      });
    }
  });
}

template <typename T>
void cross_entropy_backward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                            double ls, const T* lse, const T* g, int64_t g_stride, double scale, T* gx) {
  const int64_t rows = N * inner;
  T wall = T(C);
  if (w) { wall = 0; for (int64_t c = 0; c < C; ++c) wall += w[c]; }
  parallel_for(rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(C, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      with_row<T>(x, C, inner, r, [&](const auto& xr) {
        with_row<T>(gx, C, inner, r, [&](auto& gr) {
          int64_t tg = t[r];
          if (tg == ignore) { gr.setZero(); return; }
          T s = g[r * g_stride] * T(scale);
          T wt = w ? w[tg] : T(1);
          // (1-ls) w_t (p - onehot) + ls/C (W p - w)
          T cp = s * ((T(1) - T(ls)) * wt + T(ls) / T(C) * wall);
          gr = ((xr - row_shift(xr)) - lse[r]).exp() * cp;
          if (ls > 0) {
            T k = s * T(ls) / T(C);
            if (w) for (int64_t c = 0; c < C; ++c) gr[c] -= w[c] * k;
            else gr -= k;
          }
          gr[tg] -= s * (T(1) - T(ls)) * wt;
        });
      });
    }
  });
}

template <typename T>
void nll_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore, T* loss, T* wt) {
  parallel_for(N * inner, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t n = r / inner, j = r % inner, tg = t[r];
      if (tg == ignore) { loss[r] = 0; wt[r] = 0; continue; }
      T ww = w ? w[tg] : T(1);
      loss[r] = -ww * x[(n * C + tg) * inner + j];
      wt[r] = ww;
    }
  });
}

template <typename T>
void nll_backward(int64_t N, int64_t C, int64_t inner, const int64_t* t, const T* w, int64_t ignore, const T* g,
                  int64_t g_stride, double scale, T* gx) {
  std::fill(gx, gx + N * C * inner, T(0));
  parallel_for(N * inner, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t n = r / inner, j = r % inner, tg = t[r];
      if (tg == ignore) continue;
      T ww = w ? w[tg] : T(1);
      gx[(n * C + tg) * inner + j] = -ww * g[r * g_stride] * T(scale);
    }
  });
}

namespace {
template <typename T> inline T softplus(T v) { return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v))); }
}  // namespace

template <typename T>
void point_loss_forward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta_, T* loss) {
  const T beta = T(beta_);
  parallel_for(n, 1 << 13, [&](int64_t b, int64_t e) {
    switch (op) {
      case PointLoss::MSE: for (int64_t i = b; i < e; ++i) { T d = x[i] - y[i]; loss[i] = d * d; } break;
      case PointLoss::L1: for (int64_t i = b; i < e; ++i) loss[i] = std::abs(x[i] - y[i]); break;
      case PointLoss::SmoothL1:
        for (int64_t i = b; i < e; ++i) {
          T d = std::abs(x[i] - y[i]);
          loss[i] = d < beta ? T(0.5) * d * d / beta : d - T(0.5) * beta;
        }
        break;
      case PointLoss::BCE:
        for (int64_t i = b; i < e; ++i) {
          T lx = std::max(std::log(x[i]), T(-100)), l1x = std::max(std::log1p(-x[i]), T(-100));
          loss[i] = -(y[i] * lx + (T(1) - y[i]) * l1x);
        }
        break;
      case PointLoss::BCEWithLogits:
        for (int64_t i = b; i < e; ++i) {
          T lw = pw ? T(1) + (pw[i] - T(1)) * y[i] : T(1);
          loss[i] = (T(1) - y[i]) * x[i] + lw * softplus(-x[i]);
        }
        break;
    }
  });
}

template <typename T>
void point_loss_backward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta_, const T* g, T* gx, T* gy) {
  const T beta = T(beta_);
  parallel_for(n, 1 << 13, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T dx = 0, dy = 0;
      switch (op) {
        case PointLoss::MSE: dx = T(2) * (x[i] - y[i]); dy = -dx; break;
        case PointLoss::L1: { T d = x[i] - y[i]; dx = T((d > 0) - (d < 0)); dy = -dx; break; }
        case PointLoss::SmoothL1: {
          T d = x[i] - y[i];
          dx = std::abs(d) < beta ? d / beta : T((d > 0) - (d < 0));
          dy = -dx;
          break;
        }
        case PointLoss::BCE: {
          const T eps = T(1e-12);
          dx = (x[i] - y[i]) / std::max((T(1) - x[i]) * x[i], eps);
          dy = std::max(std::log1p(-x[i]), T(-100)) - std::max(std::log(x[i]), T(-100));
          break;
        }
        case PointLoss::BCEWithLogits: {
          T s = T(1) / (T(1) + std::exp(-x[i]));  // sigmoid(x)
          T lw = pw ? T(1) + (pw[i] - T(1)) * y[i] : T(1);
          dx = (T(1) - y[i]) - lw * (T(1) - s);
          dy = -x[i] + (pw ? pw[i] - T(1) : T(0)) * softplus(-x[i]);
          break;
        }
      }
      if (gx) gx[i] = g[i] * dx;
      if (gy) gy[i] = g[i] * dy;
    }
  });
}

#define INST(T)                                                                                                       \
  template void cross_entropy_forward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, const T*, int64_t, double, \
                                         T*, T*, T*);                                                                 \
  template void cross_entropy_backward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, const T*, int64_t,       \
                                          double, const T*, const T*, int64_t, double, T*);                           \
  template void nll_forward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, const T*, int64_t, T*, T*);          \
  template void nll_backward<T>(int64_t, int64_t, int64_t, const int64_t*, const T*, int64_t, const T*, int64_t, double, \
                                T*);                                                                                  \
  template void point_loss_forward<T>(PointLoss, int64_t, const T*, const T*, const T*, double, T*);                   \
  template void point_loss_backward<T>(PointLoss, int64_t, const T*, const T*, const T*, double, const T*, T*, T*);
INST(float)
INST(double)

}  // namespace pydl::kernels::PYDL_ISA_NS
