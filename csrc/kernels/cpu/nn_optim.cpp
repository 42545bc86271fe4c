// Fused optimizer updates: one pass over each parameter, PyTorch's formulas
// (torch/optim/*.py, _single_tensor_*), computed in the parameter's dtype.
#include <algorithm>
#include <cmath>

#include "core/threads.h"
#include "kernels/cpu/nn.h"

#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {
constexpr int64_t kGrain = 1 << 15;

// Loops take __restrict pointers and `omp simd` so they vectorise; option flags are
// hoisted out of the loops (each variant is its own loop).
#define PYDL_SIMD _Pragma("omp simd")

/// f(i) for every i in [0, n): the range split across threads, each piece one `omp simd` loop.
template <typename F>
void simd_for(int64_t n, const F& f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { PYDL_SIMD for (int64_t i = b; i < e; ++i) f(i); });
}

/// What Adam, AdamW, NAdam and RAdam share: the weight decay (L2 into the gradient, or the
/// decoupled shrink of the parameter), then both moments m += (1-b1)(d-m), v = b2 v + (1-b2) d^2.
template <typename T>
struct AdamMoments {
  T w1, b2, w2, sg, l2, shrink;
  AdamMoments(double lr, double b1, double b2_, double wd, bool decoupled, bool maximize)
      : w1(T(1 - b1)), b2(T(b2_)), w2(T(1 - b2_)), sg(maximize ? T(-1) : T(1)), l2(decoupled ? T(0) : T(wd)),
        shrink(decoupled ? T(1 - lr * wd) : T(1)) {}
  struct Step { T p, d, m, v; };  // decayed parameter, decayed gradient, new moments
  /// Updates m and v in place.
  Step operator()(T p, T g, T& m, T& v) const {
    Step s;
    s.p = p * shrink;
    s.d = sg * g + l2 * s.p;
    s.m = m + w1 * (s.d - m);
    s.v = v * b2 + w2 * s.d * s.d;
    m = s.m;
    v = s.v;
    return s;
  }
};
}  // namespace

template <typename T>
void sgd_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict buf, bool fresh, double lr_, double mom_,
              double damp_, double wd_, bool nesterov, bool maximize) {
  const T lr = T(lr_), mom = T(mom_), damp1 = T(1 - damp_), wd = T(wd_), sg = maximize ? T(-1) : T(1);
  if (mom_ == 0) {
    simd_for(n, [&](int64_t i) { p[i] -= lr * (sg * g[i] + wd * p[i]); });
  } else if (fresh) {
    const T k = nesterov ? T(1) + mom : T(1);  // the first buffer is the gradient itself
    simd_for(n, [&](int64_t i) {
      T d = sg * g[i] + wd * p[i];
      buf[i] = d;
      p[i] -= lr * (k * d);
    });
  } else {
    simd_for(n, [&](int64_t i) {
      T d = sg * g[i] + wd * p[i];
      T m = buf[i] * mom + damp1 * d;
      buf[i] = m;
      p[i] -= lr * (nesterov ? d + mom * m : m);
    });
  }
}

template <typename T>
void adam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, T* __restrict vmax,
               int64_t step, double lr, double b1, double b2, double eps_, double wd, bool amsgrad, bool maximize,
               bool decoupled) {
  const double bc1 = 1 - std::pow(b1, double(step)), bc2 = 1 - std::pow(b2, double(step));
  const T step_size = T(lr / bc1), bc2s = T(std::sqrt(bc2)), eps = T(eps_);
  const AdamMoments<T> mo(lr, b1, b2, wd, decoupled, maximize);
  if (amsgrad) {
    simd_for(n, [&](int64_t i) {
      auto s = mo(p[i], g[i], m[i], v[i]);
      T vm = vmax[i] > s.v ? vmax[i] : s.v;
      vmax[i] = vm;
      p[i] = s.p - step_size * s.m / (std::sqrt(vm) / bc2s + eps);
    });
  } else {
    simd_for(n, [&](int64_t i) {
      auto s = mo(p[i], g[i], m[i], v[i]);
      p[i] = s.p - step_size * s.m / (std::sqrt(s.v) / bc2s + eps);
    });
  }
}

template <typename T>
void rmsprop_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict buf, T* __restrict gavg,
                  double lr_, double alpha_, double eps_, double wd_, double mom_, bool centered, bool maximize) {
  const T lr = T(lr_), a = T(alpha_), a1 = T(1 - alpha_), eps = T(eps_), wd = T(wd_), mom = T(mom_);
  const T sg = maximize ? T(-1) : T(1);
  if (!centered && mom_ <= 0) {
    simd_for(n, [&](int64_t i) {
      T d = sg * g[i] + wd * p[i];
      T s = sq[i] * a + a1 * d * d;
      sq[i] = s;
      p[i] -= lr * d / (std::sqrt(s) + eps);
    });
    return;
  }
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T d = sg * g[i] + wd * p[i];
      T s = sq[i] * a + a1 * d * d;
      sq[i] = s;
      T avg;
      if (centered) {
        T ga = gavg[i] + a1 * (d - gavg[i]);
        gavg[i] = ga;
        avg = std::sqrt(s - ga * ga) + eps;
      } else {
        avg = std::sqrt(s) + eps;
      }
      if (mom_ > 0) {
        T bb = buf[i] * mom + d / avg;
        buf[i] = bb;
        p[i] -= lr * bb;
      } else {
        p[i] -= lr * d / avg;
      }
    }
  });
}

template <typename T>
void adagrad_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict sum, int64_t step, double lr,
                  double lr_decay, double wd_, double eps_, bool maximize) {
  const T clr = T(lr / (1 + double(step - 1) * lr_decay)), wd = T(wd_), eps = T(eps_), sg = maximize ? T(-1) : T(1);
  simd_for(n, [&](int64_t i) {
    T d = sg * g[i] + wd * p[i];
    T s = sum[i] + d * d;
    sum[i] = s;
    p[i] -= clr * d / (std::sqrt(s) + eps);
  });
}

template <typename T>
void adadelta_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict acc, double lr_,
                   double rho_, double eps_, double wd_, bool maximize) {
  const T lr = T(lr_), rho = T(rho_), r1 = T(1 - rho_), eps = T(eps_), wd = T(wd_), sg = maximize ? T(-1) : T(1);
  simd_for(n, [&](int64_t i) {
    T d = sg * g[i] + wd * p[i];
    T s = sq[i] * rho + r1 * d * d;
    sq[i] = s;
    T delta = std::sqrt(acc[i] + eps) / std::sqrt(s + eps) * d;
    acc[i] = acc[i] * rho + r1 * delta * delta;
    p[i] -= lr * delta;
  });
}

// ---- NAdam, RAdam, Adamax, ASGD, Rprop, SparseAdam (torch/optim/*.py, _single_tensor_*) ----
template <typename T>
void nadam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, double lr,
                double b1, double b2, double eps_, double wd, bool decoupled, bool maximize, double bc2, double c_grad_,
                double c_avg_) {
  const AdamMoments<T> mo(lr, b1, b2, wd, decoupled, maximize);
  const T eps = T(eps_), ibc2 = T(1 / bc2), c_grad = T(c_grad_), c_avg = T(c_avg_);
  simd_for(n, [&](int64_t i) {
    auto s = mo(p[i], g[i], m[i], v[i]);
    T den = std::sqrt(s.v * ibc2) + eps;
    p[i] = s.p + c_grad * s.d / den + c_avg * s.m / den;
  });
}

template <typename T>
void radam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, double lr_,
                double b1, double b2, double eps_, double wd, bool decoupled, bool maximize, double bc1, double bc2,
                double rect) {
  const AdamMoments<T> mo(lr_, b1, b2, wd, decoupled, maximize);
  const T eps = T(eps_), lr = T(lr_), ibc1 = T(1 / bc1), k = T(lr_ * std::sqrt(bc2) * std::max(rect, 0.0));
  if (rect >= 0) {
    simd_for(n, [&](int64_t i) {
      auto s = mo(p[i], g[i], m[i], v[i]);
      p[i] = s.p - s.m * ibc1 * k / (std::sqrt(s.v) + eps);
    });
  } else {
    simd_for(n, [&](int64_t i) {
      auto s = mo(p[i], g[i], m[i], v[i]);
      p[i] = s.p - s.m * ibc1 * lr;
    });
  }
}

template <typename T>
void adamax_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict u, double lr,
                 double b1, double b2_, double eps_, double wd_, bool maximize, double bc1) {
  const T w1 = T(1 - b1), b2 = T(b2_), eps = T(eps_), wd = T(wd_), clr = T(lr / bc1), sg = maximize ? T(-1) : T(1);
  simd_for(n, [&](int64_t i) {
    T d = sg * g[i] + wd * p[i];
    T mi = m[i] + w1 * (d - m[i]);
    T a = std::abs(d) + eps, ub = u[i] * b2;
    T ui = ub > a ? ub : a;
    m[i] = mi;
    u[i] = ui;
    p[i] -= clr * mi / ui;
  });
}

template <typename T>
void asgd_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict ax, double eta_, double mu_,
               double lambd, double wd_, bool maximize) {
  const T eta = T(eta_), mu = T(mu_), shrink = T(1 - lambd * eta_), wd = T(wd_), sg = maximize ? T(-1) : T(1);
  simd_for(n, [&](int64_t i) {
    T d = sg * g[i] + wd * p[i];
    T pi = p[i] * shrink - eta * d;
    p[i] = pi;
    ax[i] = mu_ != 1 ? ax[i] + (pi - ax[i]) * mu : pi;
  });
}

template <typename T>
void rprop_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict prev, T* __restrict ss,
                double etaminus_, double etaplus_, double smin_, double smax_, bool maximize) {
  const T em = T(etaminus_), ep = T(etaplus_), smin = T(smin_), smax = T(smax_), sg = maximize ? T(-1) : T(1);
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T d = sg * g[i];
      T pr = d * prev[i];
      T f = pr > T(0) ? ep : pr < T(0) ? em : T(1);
      T s = std::min(std::max(ss[i] * f, smin), smax);
      ss[i] = s;
      if (f == em) d = T(0);  // a sign change: skip this step (torch compares with etaminus too)
      p[i] -= T((d > T(0)) - (d < T(0))) * s;
      prev[i] = d;
    }
  });
}

template <typename T>
void sparse_adam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, double lr,
                      double b1, double b2, double eps_, double bc1, double bc2, bool maximize) {
  const T w1 = T(1 - b1), w2 = T(1 - b2), eps = T(eps_), step = T(lr * std::sqrt(bc2) / bc1), sg = maximize ? T(-1) : T(1);
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (g[i] == T(0)) continue;  // absent from a sparse gradient
      T d = sg * g[i];
      T mi = m[i] + (d - m[i]) * w1;
      T vi = v[i] + (d * d - v[i]) * w2;
      m[i] = mi;
      v[i] = vi;
      p[i] -= step * mi / (std::sqrt(vi) + eps);
    }
  });
}

#define INST(T)                                                                                                     \
  template void sgd_step<T>(int64_t, T*, const T*, T*, bool, double, double, double, double, bool, bool);           \
  template void adam_step<T>(int64_t, T*, const T*, T*, T*, T*, int64_t, double, double, double, double, double,    \
                             bool, bool, bool);                                                                     \
  template void rmsprop_step<T>(int64_t, T*, const T*, T*, T*, T*, double, double, double, double, double, bool, bool); \
  template void adagrad_step<T>(int64_t, T*, const T*, T*, int64_t, double, double, double, double, bool);          \
  template void adadelta_step<T>(int64_t, T*, const T*, T*, T*, double, double, double, double, bool);             \
  template void nadam_step<T>(int64_t, T*, const T*, T*, T*, double, double, double, double, double, bool, bool,     \
                              double, double, double);                                                              \
  template void radam_step<T>(int64_t, T*, const T*, T*, T*, double, double, double, double, double, bool, bool,     \
                              double, double, double);                                                              \
  template void adamax_step<T>(int64_t, T*, const T*, T*, T*, double, double, double, double, double, bool, double); \
  template void asgd_step<T>(int64_t, T*, const T*, T*, double, double, double, double, bool);                     \
  template void rprop_step<T>(int64_t, T*, const T*, T*, T*, double, double, double, double, bool);                \
  template void sparse_adam_step<T>(int64_t, T*, const T*, T*, T*, double, double, double, double, double, double, bool);
INST(float)
INST(double)

}  // namespace pydl::kernels::PYDL_ISA_NS
