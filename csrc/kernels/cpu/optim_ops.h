#pragma once
// The per-element update of each fused optimizer step, PyTorch's formulas (torch/optim/*.py,
// _single_tensor_*) in the parameter's dtype T, shared by kernels/cpu/nn_optim.cpp (one `omp simd`
// loop per variant) and its CUDA mirror kernels/cuda/nn_optim.cu (one thread per element), so both
// devices compute the same updates in the same order. Each struct is built on the host from the
// step's hyperparameters; its methods update element i of the parameter and its state in place.
#include <algorithm>
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define PYDL_OPTIM_HD __host__ __device__
#else
#define PYDL_OPTIM_HD
#endif

namespace pydl::kernels {
// Internal linkage: each per-ISA kernel file keeps its own copy, so the linker cannot give
// baseline code one built for AVX-512.
namespace {

/// maximize flips the gradient's sign.
template <typename T>
inline T optim_sign(bool maximize) { return maximize ? T(-1) : T(1); }

/// SGD: d = g + wd p; with momentum the buffer b = mom b + (1 - dampening) d (the first is d itself).
template <typename T>
struct SgdStep {
  T lr, mom, damp1, wd, sg, k;
  bool nesterov;
  SgdStep(double lr_, double mom_, double damp_, double wd_, bool nesterov_, bool maximize)
      : lr(T(lr_)), mom(T(mom_)), damp1(T(1 - damp_)), wd(T(wd_)), sg(optim_sign<T>(maximize)),
        k(nesterov_ ? T(1) + T(mom_) : T(1)), nesterov(nesterov_) {}
  /// No momentum.
  PYDL_OPTIM_HD void plain(int64_t i, T* p, const T* g) const { p[i] -= lr * (sg * g[i] + wd * p[i]); }
  /// The first momentum step: the buffer starts as the gradient.
  PYDL_OPTIM_HD void first(int64_t i, T* p, const T* g, T* buf) const {
    T d = sg * g[i] + wd * p[i];
    buf[i] = d;
    p[i] -= lr * (k * d);
  }
  PYDL_OPTIM_HD void next(int64_t i, T* p, const T* g, T* buf) const {
    T d = sg * g[i] + wd * p[i];
    T m = buf[i] * mom + damp1 * d;
    buf[i] = m;
    p[i] -= lr * (nesterov ? d + mom * m : m);
  }
};

/// What Adam, AdamW, NAdam and RAdam share: the weight decay (L2 into the gradient, or the
/// decoupled shrink of the parameter), then both moments m += (1-b1)(d-m), v = b2 v + (1-b2) d^2.
template <typename T>
struct AdamMoments {
  T w1, b2, w2, sg, l2, shrink;
  AdamMoments(double lr, double b1, double b2_, double wd, bool decoupled, bool maximize)
      : w1(T(1 - b1)), b2(T(b2_)), w2(T(1 - b2_)), sg(optim_sign<T>(maximize)), l2(decoupled ? T(0) : T(wd)),
        shrink(decoupled ? T(1 - lr * wd) : T(1)) {}
  struct Step { T p, d, m, v; };  // decayed parameter, decayed gradient, new moments
  /// Updates m and v in place.
  PYDL_OPTIM_HD Step operator()(T p, T g, T& m, T& v) const {
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

/// Adam / AdamW at step `step` (bias corrections 1 - b^step), optionally AMSGrad's running max of v.
template <typename T>
struct AdamStep {
  AdamMoments<T> mo;
  T step_size, bc2s, eps;
  AdamStep(int64_t step, double lr, double b1, double b2, double eps_, double wd, bool maximize, bool decoupled)
      : mo(lr, b1, b2, wd, decoupled, maximize), step_size(T(lr / (1 - std::pow(b1, double(step))))),
        bc2s(T(std::sqrt(1 - std::pow(b2, double(step))))), eps(T(eps_)) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* m, T* v) const {
    auto s = mo(p[i], g[i], m[i], v[i]);
    p[i] = s.p - step_size * s.m / (std::sqrt(s.v) / bc2s + eps);
  }
  PYDL_OPTIM_HD void amsgrad(int64_t i, T* p, const T* g, T* m, T* v, T* vmax) const {
    auto s = mo(p[i], g[i], m[i], v[i]);
    T vm = vmax[i] > s.v ? vmax[i] : s.v;
    vmax[i] = vm;
    p[i] = s.p - step_size * s.m / (std::sqrt(vm) / bc2s + eps);
  }
};

/// RMSprop: sq = alpha sq + (1 - alpha) d^2; centered subtracts the squared running mean of d;
/// momentum keeps buf = mom buf + d / avg.
template <typename T>
struct RmspropStep {
  T lr, a, a1, eps, wd, mom, sg;
  bool centered, use_mom;
  RmspropStep(double lr_, double alpha, double eps_, double wd_, double mom_, bool centered_, bool maximize)
      : lr(T(lr_)), a(T(alpha)), a1(T(1 - alpha)), eps(T(eps_)), wd(T(wd_)), mom(T(mom_)), sg(optim_sign<T>(maximize)),
        centered(centered_), use_mom(mom_ > 0) {}
  /// Neither centered nor with momentum.
  PYDL_OPTIM_HD void plain(int64_t i, T* p, const T* g, T* sq) const {
    T d = sg * g[i] + wd * p[i];
    T s = sq[i] * a + a1 * d * d;
    sq[i] = s;
    p[i] -= lr * d / (std::sqrt(s) + eps);
  }
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* sq, T* buf, T* gavg) const {
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
    if (use_mom) {
      T bb = buf[i] * mom + d / avg;
      buf[i] = bb;
      p[i] -= lr * bb;
    } else {
      p[i] -= lr * d / avg;
    }
  }
};

/// Adagrad: sum += d^2, with the learning rate decayed by 1 + (step - 1) lr_decay.
template <typename T>
struct AdagradStep {
  T clr, wd, eps, sg;
  AdagradStep(int64_t step, double lr, double lr_decay, double wd_, double eps_, bool maximize)
      : clr(T(lr / (1 + double(step - 1) * lr_decay))), wd(T(wd_)), eps(T(eps_)), sg(optim_sign<T>(maximize)) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* sum) const {
    T d = sg * g[i] + wd * p[i];
    T s = sum[i] + d * d;
    sum[i] = s;
    p[i] -= clr * d / (std::sqrt(s) + eps);
  }
};

/// Adadelta: running averages of d^2 (sq) and of the squared updates (acc).
template <typename T>
struct AdadeltaStep {
  T lr, rho, r1, eps, wd, sg;
  AdadeltaStep(double lr_, double rho_, double eps_, double wd_, bool maximize)
      : lr(T(lr_)), rho(T(rho_)), r1(T(1 - rho_)), eps(T(eps_)), wd(T(wd_)), sg(optim_sign<T>(maximize)) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* sq, T* acc) const {
    T d = sg * g[i] + wd * p[i];
    T s = sq[i] * rho + r1 * d * d;
    sq[i] = s;
    T delta = std::sqrt(acc[i] + eps) / std::sqrt(s + eps) * d;
    acc[i] = acc[i] * rho + r1 * delta * delta;
    p[i] -= lr * delta;
  }
};

/// NAdam; c_grad and c_avg fold the mu products and the bias correction of m (from the caller).
template <typename T>
struct NadamStep {
  AdamMoments<T> mo;
  T eps, ibc2, c_grad, c_avg;
  NadamStep(double lr, double b1, double b2, double eps_, double wd, bool decoupled, bool maximize, double bc2,
            double c_grad_, double c_avg_)
      : mo(lr, b1, b2, wd, decoupled, maximize), eps(T(eps_)), ibc2(T(1 / bc2)), c_grad(T(c_grad_)), c_avg(T(c_avg_)) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* m, T* v) const {
    auto s = mo(p[i], g[i], m[i], v[i]);
    T den = std::sqrt(s.v * ibc2) + eps;
    p[i] = s.p + c_grad * s.d / den + c_avg * s.m / den;
  }
};

/// RAdam; rect < 0: the variance is not yet tractable and the step is momentum only.
template <typename T>
struct RadamStep {
  AdamMoments<T> mo;
  T eps, lr, ibc1, k;
  bool rectified;
  RadamStep(double lr_, double b1, double b2, double eps_, double wd, bool decoupled, bool maximize, double bc1,
            double bc2, double rect)
      : mo(lr_, b1, b2, wd, decoupled, maximize), eps(T(eps_)), lr(T(lr_)), ibc1(T(1 / bc1)),
        k(T(lr_ * std::sqrt(bc2) * std::max(rect, 0.0))), rectified(rect >= 0) {}
  PYDL_OPTIM_HD void with_variance(int64_t i, T* p, const T* g, T* m, T* v) const {
    auto s = mo(p[i], g[i], m[i], v[i]);
    p[i] = s.p - s.m * ibc1 * k / (std::sqrt(s.v) + eps);
  }
  PYDL_OPTIM_HD void momentum_only(int64_t i, T* p, const T* g, T* m, T* v) const {
    auto s = mo(p[i], g[i], m[i], v[i]);
    p[i] = s.p - s.m * ibc1 * lr;
  }
};

/// Adamax: u = max(b2 u, |d| + eps).
template <typename T>
struct AdamaxStep {
  T w1, b2, eps, wd, clr, sg;
  AdamaxStep(double lr, double b1, double b2_, double eps_, double wd_, bool maximize, double bc1)
      : w1(T(1 - b1)), b2(T(b2_)), eps(T(eps_)), wd(T(wd_)), clr(T(lr / bc1)), sg(optim_sign<T>(maximize)) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* m, T* u) const {
    T d = sg * g[i] + wd * p[i];
    T mi = m[i] + w1 * (d - m[i]);
    T a = std::abs(d) + eps, ub = u[i] * b2;
    T ui = ub > a ? ub : a;
    m[i] = mi;
    u[i] = ui;
    p[i] -= clr * mi / ui;
  }
};

/// ASGD: p = (1 - lambd eta) p - eta d; ax averages p with weight mu (ax = p while mu is 1).
template <typename T>
struct AsgdStep {
  T eta, mu, shrink, wd, sg;
  bool average;
  AsgdStep(double eta_, double mu_, double lambd, double wd_, bool maximize)
      : eta(T(eta_)), mu(T(mu_)), shrink(T(1 - lambd * eta_)), wd(T(wd_)), sg(optim_sign<T>(maximize)),
        average(mu_ != 1) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* ax) const {
    T d = sg * g[i] + wd * p[i];
    T pi = p[i] * shrink - eta * d;
    p[i] = pi;
    ax[i] = average ? ax[i] + (pi - ax[i]) * mu : pi;
  }
};

/// Rprop: the step size grows by etaplus while the gradient keeps its sign, shrinks by etaminus
/// when it flips (and that step is skipped), clamped to [smin, smax].
template <typename T>
struct RpropStep {
  T em, ep, smin, smax, sg;
  RpropStep(double etaminus, double etaplus, double smin_, double smax_, bool maximize)
      : em(T(etaminus)), ep(T(etaplus)), smin(T(smin_)), smax(T(smax_)), sg(optim_sign<T>(maximize)) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* prev, T* ss) const {
    T d = sg * g[i];
    T pr = d * prev[i];
    T f = pr > T(0) ? ep : pr < T(0) ? em : T(1);
    T s = std::min(std::max(ss[i] * f, smin), smax);
    ss[i] = s;
    if (f == em) d = T(0);  // a sign change: skip this step (torch compares with etaminus too)
    p[i] -= T((d > T(0)) - (d < T(0))) * s;
    prev[i] = d;
  }
};

/// SparseAdam's dense fallback: Adam on the entries whose gradient is nonzero.
template <typename T>
struct SparseAdamStep {
  T w1, w2, eps, step, sg;
  SparseAdamStep(double lr, double b1, double b2, double eps_, double bc1, double bc2, bool maximize)
      : w1(T(1 - b1)), w2(T(1 - b2)), eps(T(eps_)), step(T(lr * std::sqrt(bc2) / bc1)), sg(optim_sign<T>(maximize)) {}
  PYDL_OPTIM_HD void operator()(int64_t i, T* p, const T* g, T* m, T* v) const {
    if (g[i] == T(0)) return;  // absent from a sparse gradient
    T d = sg * g[i];
    T mi = m[i] + (d - m[i]) * w1;
    T vi = v[i] + (d * d - v[i]) * w2;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step * mi / (std::sqrt(vi) + eps);
  }
};

}  // namespace
}  // namespace pydl::kernels
