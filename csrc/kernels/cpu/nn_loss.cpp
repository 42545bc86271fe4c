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

template <typename T>
void point_loss_forward(PointLoss op, int64_t n, const T* xp, const T* yp, const T* pw, double beta_, T* loss) {
  const T beta = T(beta_);
  const bool has_pw = pw != nullptr;
  parallel_for(n, 1 << 13, [&](int64_t b, int64_t e) {
    switch (op) {  // one loop per loss, so the simple ones vectorise
#define PYDL_LOSS_CASE(N, SL, SG)                          \
  case PointLoss::N:                                       \
    for (int64_t i = b; i < e; ++i) {                      \
      const T x = xp[i], y = yp[i], p = has_pw ? pw[i] : T(0); \
      (void)p; /* pos_weight: BCEWithLogits only */       \
      T l;                                                 \
      SL                                                   \
      loss[i] = l;                                         \
    }                                                      \
    break;
      PYDL_POINT_LOSS_KERNELS(PYDL_LOSS_CASE)
#undef PYDL_LOSS_CASE
    }
  });
}

template <typename T>
void point_loss_backward(PointLoss op, int64_t n, const T* xp, const T* yp, const T* pw, double beta_, const T* g, T* gx,
                         T* gy) {
  const T beta = T(beta_);
  const bool has_pw = pw != nullptr;
  parallel_for(n, 1 << 13, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T dx, dy;
      point_loss_grad_at(op, xp[i], yp[i], has_pw ? pw[i] : T(0), has_pw, beta, dx, dy);
      if (gx) gx[i] = g[i] * dx;
      if (gy) gy[i] = g[i] * dy;
    }
  });
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_LOSS_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
