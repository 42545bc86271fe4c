// CUDA mirror of kernels/cpu/nn_optim.cpp's fused optimizer steps (the same update formulas, in the
// same order and precision): one thread per element.
#include <algorithm>
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

template <typename T>
__global__ void sgd_k(int64_t n, T* p, const T* g, T* buf, bool fresh, T lr, T mom, T damp1, T wd, bool nesterov,
                      bool plain, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    T d = sg * g[i] + wd * p[i];
    if (plain) {
      p[i] -= lr * d;
    } else if (fresh) {
      buf[i] = d;
      p[i] -= lr * ((nesterov ? T(1) + mom : T(1)) * d);  // the first buffer is the gradient itself
    } else {
      T m = buf[i] * mom + damp1 * d;
      buf[i] = m;
      p[i] -= lr * (nesterov ? d + mom * m : m);
    }
  }
}

template <typename T>
__global__ void adam_k(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, bool amsgrad, T step_size, T bc2s, T eps, T w1,
                       T b2, T w2, T sg, T l2, T shrink) {
  PYDL_CUDA_LOOP(i, n) {
    T pi = p[i] * shrink;
    T d = sg * g[i] + l2 * pi;
    T mi = m[i] + w1 * (d - m[i]);
    T vi = v[i] * b2 + w2 * d * d;
    m[i] = mi;
    v[i] = vi;
    if (amsgrad) {
      vi = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = vi;
    }
    p[i] = pi - step_size * mi / (sqrt(vi) / bc2s + eps);
  }
}

// The CPU's AdamMoments: weight decay (L2 or decoupled), maximize, and the moment updates.
template <typename T>
struct AdamMoments {
  T w1, b2, w2, sg, l2, shrink;
  AdamMoments(double lr, double b1, double b2_, double wd, bool decoupled, bool maximize)
      : w1(T(1 - b1)), b2(T(b2_)), w2(T(1 - b2_)), sg(maximize ? T(-1) : T(1)), l2(decoupled ? T(0) : T(wd)),
        shrink(decoupled ? T(1 - lr * wd) : T(1)) {}
  struct Step { T p, d, m, v; };
  __device__ Step operator()(T p, T g, T& m, T& v) const {
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

template <typename T>
__global__ void rmsprop_k(int64_t n, T* p, const T* g, T* sq, T* buf, T* gavg, T lr, T a, T a1, T eps, T wd, T mom,
                          bool centered, bool use_mom, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    T d = sg * g[i] + wd * p[i];
    T s = sq[i] * a + a1 * d * d;
    sq[i] = s;
    T avg;
    if (centered) {
      T ga = gavg[i] + a1 * (d - gavg[i]);
      gavg[i] = ga;
      avg = sqrt(s - ga * ga) + eps;
    } else {
      avg = sqrt(s) + eps;
    }
    if (use_mom) {
      T bb = buf[i] * mom + d / avg;
      buf[i] = bb;
      p[i] -= lr * bb;
    } else {
      p[i] -= lr * d / avg;
    }
  }
}

template <typename T>
__global__ void adagrad_k(int64_t n, T* p, const T* g, T* sum, T clr, T wd, T eps, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    T d = sg * g[i] + wd * p[i];
    T s = sum[i] + d * d;
    sum[i] = s;
    p[i] -= clr * d / (sqrt(s) + eps);
  }
}

template <typename T>
__global__ void adadelta_k(int64_t n, T* p, const T* g, T* sq, T* acc, T lr, T rho, T r1, T eps, T wd, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    T d = sg * g[i] + wd * p[i];
    T s = sq[i] * rho + r1 * d * d;
    sq[i] = s;
    T delta = sqrt(acc[i] + eps) / sqrt(s + eps) * d;
    acc[i] = acc[i] * rho + r1 * delta * delta;
    p[i] -= lr * delta;
  }
}

template <typename T>
__global__ void nadam_k(int64_t n, T* p, const T* g, T* m, T* v, AdamMoments<T> mo, T eps, T ibc2, T c_grad, T c_avg) {
  PYDL_CUDA_LOOP(i, n) {
    auto s = mo(p[i], g[i], m[i], v[i]);
    T den = sqrt(s.v * ibc2) + eps;
    p[i] = s.p + c_grad * s.d / den + c_avg * s.m / den;
  }
}

template <typename T>
__global__ void radam_k(int64_t n, T* p, const T* g, T* m, T* v, AdamMoments<T> mo, T eps, T lr, T ibc1, T k,
                        bool rectified) {
  PYDL_CUDA_LOOP(i, n) {
    auto s = mo(p[i], g[i], m[i], v[i]);
    p[i] = rectified ? s.p - s.m * ibc1 * k / (sqrt(s.v) + eps) : s.p - s.m * ibc1 * lr;
  }
}

template <typename T>
__global__ void adamax_k(int64_t n, T* p, const T* g, T* m, T* u, T w1, T b2, T eps, T wd, T clr, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    T d = sg * g[i] + wd * p[i];
    T mi = m[i] + w1 * (d - m[i]);
    T a = abs(d) + eps, ub = u[i] * b2;
    T ui = ub > a ? ub : a;
    m[i] = mi;
    u[i] = ui;
    p[i] -= clr * mi / ui;
  }
}

template <typename T>
__global__ void asgd_k(int64_t n, T* p, const T* g, T* ax, T eta, T mu, bool mu_is_one, T shrink, T wd, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    T d = sg * g[i] + wd * p[i];
    T pi = p[i] * shrink - eta * d;
    p[i] = pi;
    ax[i] = !mu_is_one ? ax[i] + (pi - ax[i]) * mu : pi;
  }
}

template <typename T>
__global__ void rprop_k(int64_t n, T* p, const T* g, T* prev, T* ss, T em, T ep, T smin, T smax, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    T d = sg * g[i];
    T pr = d * prev[i];
    T f = pr > T(0) ? ep : pr < T(0) ? em : T(1);
    T s = min(max(ss[i] * f, smin), smax);
    ss[i] = s;
    if (f == em) d = T(0);  // a sign change: skip this step (as the CPU, which compares with etaminus)
    p[i] -= T((d > T(0)) - (d < T(0))) * s;
    prev[i] = d;
  }
}

template <typename T>
__global__ void sparse_adam_k(int64_t n, T* p, const T* g, T* m, T* v, T w1, T w2, T eps, T step, T sg) {
  PYDL_CUDA_LOOP(i, n) {
    if (g[i] == T(0)) continue;  // absent from a sparse gradient
    T d = sg * g[i];
    T mi = m[i] + (d - m[i]) * w1;
    T vi = v[i] + (d * d - v[i]) * w2;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step * mi / (sqrt(vi) + eps);
  }
}

}  // namespace

template <typename T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, bool fresh, double lr, double momentum, double dampening, double wd,
              bool nesterov, bool maximize) {
  if (n == 0) return;
  sgd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, buf, fresh, T(lr), T(momentum), T(1 - dampening),
                                                             T(wd), nesterov, momentum == 0, maximize ? T(-1) : T(1));
  check_launch("sgd_step");
}

template <typename T>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, int64_t step, double lr, double b1, double b2, double eps,
               double wd, bool amsgrad, bool maximize, bool decoupled) {
  if (n == 0) return;
  const double bc1 = 1 - std::pow(b1, double(step)), bc2 = 1 - std::pow(b2, double(step));
  adam_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(
      n, p, g, m, v, vmax, amsgrad, T(lr / bc1), T(std::sqrt(bc2)), T(eps), T(1 - b1), T(b2), T(1 - b2),
      maximize ? T(-1) : T(1), decoupled ? T(0) : T(wd), decoupled ? T(1 - lr * wd) : T(1));
  check_launch("adam_step");
}

template <typename T>
void rmsprop_step(int64_t n, T* p, const T* g, T* sq, T* buf, T* gavg, double lr, double alpha, double eps, double wd,
                  double momentum, bool centered, bool maximize) {
  if (n == 0) return;
  rmsprop_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, sq, buf, gavg, T(lr), T(alpha), T(1 - alpha),
                                                                 T(eps), T(wd), T(momentum), centered, momentum > 0,
                                                                 maximize ? T(-1) : T(1));
  check_launch("rmsprop_step");
}

template <typename T>
void adagrad_step(int64_t n, T* p, const T* g, T* sum, int64_t step, double lr, double lr_decay, double wd, double eps,
                  bool maximize) {
  if (n == 0) return;
  adagrad_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, sum, T(lr / (1 + double(step - 1) * lr_decay)),
                                                                 T(wd), T(eps), maximize ? T(-1) : T(1));
  check_launch("adagrad_step");
}

template <typename T>
void adadelta_step(int64_t n, T* p, const T* g, T* sq, T* acc, double lr, double rho, double eps, double wd, bool maximize) {
  if (n == 0) return;
  adadelta_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, sq, acc, T(lr), T(rho), T(1 - rho), T(eps),
                                                                  T(wd), maximize ? T(-1) : T(1));
  check_launch("adadelta_step");
}

template <typename T>
void nadam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc2, double c_grad, double c_avg) {
  if (n == 0) return;
  nadam_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, m, v,
                                                               AdamMoments<T>(lr, b1, b2, wd, decoupled, maximize), T(eps),
                                                               T(1 / bc2), T(c_grad), T(c_avg));
  check_launch("nadam_step");
}

template <typename T>
void radam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc1, double bc2, double rect) {
  if (n == 0) return;
  radam_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(
      n, p, g, m, v, AdamMoments<T>(lr, b1, b2, wd, decoupled, maximize), T(eps), T(lr), T(1 / bc1),
      T(lr * std::sqrt(bc2) * std::max(rect, 0.0)), rect >= 0);
  check_launch("radam_step");
}

template <typename T>
void adamax_step(int64_t n, T* p, const T* g, T* m, T* u, double lr, double b1, double b2, double eps, double wd,
                 bool maximize, double bc1) {
  if (n == 0) return;
  adamax_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, m, u, T(1 - b1), T(b2), T(eps), T(wd),
                                                                T(lr / bc1), maximize ? T(-1) : T(1));
  check_launch("adamax_step");
}

template <typename T>
void asgd_step(int64_t n, T* p, const T* g, T* ax, double eta, double mu, double lambd, double wd, bool maximize) {
  if (n == 0) return;
  asgd_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, ax, T(eta), T(mu), mu == 1, T(1 - lambd * eta),
                                                              T(wd), maximize ? T(-1) : T(1));
  check_launch("asgd_step");
}

template <typename T>
void rprop_step(int64_t n, T* p, const T* g, T* prev, T* step_size, double etaminus, double etaplus, double smin,
                double smax, bool maximize) {
  if (n == 0) return;
  rprop_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, prev, step_size, T(etaminus), T(etaplus), T(smin),
                                                               T(smax), maximize ? T(-1) : T(1));
  check_launch("rprop_step");
}

template <typename T>
void sparse_adam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double bc1,
                      double bc2, bool maximize) {
  if (n == 0) return;
  sparse_adam_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, p, g, m, v, T(1 - b1), T(1 - b2), T(eps),
                                                                     T(lr * std::sqrt(bc2) / bc1), maximize ? T(-1) : T(1));
  check_launch("sparse_adam_step");
}

#define INST(T)                                                                                                   \
  template void sgd_step<T>(int64_t, T*, const T*, T*, bool, double, double, double, double, bool, bool);        \
  template void adam_step<T>(int64_t, T*, const T*, T*, T*, T*, int64_t, double, double, double, double, double, \
                             bool, bool, bool);                                                                   \
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

}  // namespace pydl::kernels::cuda
