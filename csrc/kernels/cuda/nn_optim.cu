// CUDA mirror of kernels/cpu/nn_optim.cpp's fused SGD and Adam steps (the same update formulas).
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

#define INST(T)                                                                                                   \
  template void sgd_step<T>(int64_t, T*, const T*, T*, bool, double, double, double, double, bool, bool);        \
  template void adam_step<T>(int64_t, T*, const T*, T*, T*, T*, int64_t, double, double, double, double, double, \
                             bool, bool, bool);
INST(float)
INST(double)

}  // namespace pydl::kernels::cuda
