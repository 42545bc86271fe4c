// CUDA mirror of kernels/cpu/nn_optim.cpp's fused optimizer steps: one thread per element, the
// per-element updates of kernels/cpu/optim_ops.h (the same formulas, order and precision).
#include "kernels/cpu/optim_ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

/// Runs f(i) for every element i of [0, n) on the current stream; `what` names the kernel in errors.
template <typename F>
__global__ void each_k(int64_t n, F f) {
  PYDL_CUDA_LOOP(i, n) f(i);
}
template <typename F>
void launch_each(int64_t n, const F& f, const char* what) {
  if (n == 0) return;
  each_k<<<blocks_for(n), kThreads, 0, current_stream()>>>(n, f);
  check_launch(what);
}

// The device functors: one optim_ops.h step and the operands it updates (device pointers).
template <typename T>
struct Sgd {
  SgdStep<T> op;
  T *p, *buf;
  const T* g;
  bool plain, fresh;
  __device__ void operator()(int64_t i) const {
    if (plain) op.plain(i, p, g);
    else if (fresh) op.first(i, p, g, buf);
    else op.next(i, p, g, buf);
  }
};
template <typename T>
struct Adam {
  AdamStep<T> op;
  T *p, *m, *v, *vmax;
  const T* g;
  bool amsgrad;
  __device__ void operator()(int64_t i) const {
    if (amsgrad) op.amsgrad(i, p, g, m, v, vmax);
    else op(i, p, g, m, v);
  }
};
template <typename T>
struct Radam {
  RadamStep<T> op;
  T *p, *m, *v;
  const T* g;
  __device__ void operator()(int64_t i) const {
    if (op.rectified) op.with_variance(i, p, g, m, v);
    else op.momentum_only(i, p, g, m, v);
  }
};
/// A step whose operator() takes (i, p, g, s1, s2) / (i, p, g, s1): its state arrays s1, s2.
template <typename Op, typename T>
struct Plain2 {
  Op op;
  T *p, *s1, *s2;
  const T* g;
  __device__ void operator()(int64_t i) const { op(i, p, g, s1, s2); }
};
template <typename Op, typename T>
struct Plain1 {
  Op op;
  T *p, *s1;
  const T* g;
  __device__ void operator()(int64_t i) const { op(i, p, g, s1); }
};
template <typename T>
struct Rmsprop {
  RmspropStep<T> op;
  T *p, *sq, *buf, *gavg;
  const T* g;
  __device__ void operator()(int64_t i) const { op(i, p, g, sq, buf, gavg); }
};

}  // namespace

template <typename T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, bool fresh, double lr, double momentum, double dampening, double wd,
              bool nesterov, bool maximize) {
  launch_each(n, Sgd<T>{SgdStep<T>(lr, momentum, dampening, wd, nesterov, maximize), p, buf, g, momentum == 0, fresh},
              "sgd_step");
}

template <typename T>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, int64_t step, double lr, double b1, double b2, double eps,
               double wd, bool amsgrad, bool maximize, bool decoupled) {
  launch_each(n, Adam<T>{AdamStep<T>(step, lr, b1, b2, eps, wd, maximize, decoupled), p, m, v, vmax, g, amsgrad},
              "adam_step");
}

template <typename T>
void rmsprop_step(int64_t n, T* p, const T* g, T* sq, T* buf, T* gavg, double lr, double alpha, double eps, double wd,
                  double momentum, bool centered, bool maximize) {
  launch_each(n, Rmsprop<T>{RmspropStep<T>(lr, alpha, eps, wd, momentum, centered, maximize), p, sq, buf, gavg, g},
              "rmsprop_step");
}

template <typename T>
void adagrad_step(int64_t n, T* p, const T* g, T* sum, int64_t step, double lr, double lr_decay, double wd, double eps,
                  bool maximize) {
  launch_each(n, Plain1<AdagradStep<T>, T>{AdagradStep<T>(step, lr, lr_decay, wd, eps, maximize), p, sum, g},
              "adagrad_step");
}

template <typename T>
void adadelta_step(int64_t n, T* p, const T* g, T* sq, T* acc, double lr, double rho, double eps, double wd, bool maximize) {
  launch_each(n, Plain2<AdadeltaStep<T>, T>{AdadeltaStep<T>(lr, rho, eps, wd, maximize), p, sq, acc, g},
              "adadelta_step");
}

template <typename T>
void nadam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc2, double c_grad, double c_avg) {
  launch_each(n,
              Plain2<NadamStep<T>, T>{NadamStep<T>(lr, b1, b2, eps, wd, decoupled, maximize, bc2, c_grad, c_avg), p, m,
                                      v, g},
              "nadam_step");
}

template <typename T>
void radam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc1, double bc2, double rect) {
  launch_each(n, Radam<T>{RadamStep<T>(lr, b1, b2, eps, wd, decoupled, maximize, bc1, bc2, rect), p, m, v, g},
              "radam_step");
}

template <typename T>
void adamax_step(int64_t n, T* p, const T* g, T* m, T* u, double lr, double b1, double b2, double eps, double wd,
                 bool maximize, double bc1) {
  launch_each(n, Plain2<AdamaxStep<T>, T>{AdamaxStep<T>(lr, b1, b2, eps, wd, maximize, bc1), p, m, u, g},
              "adamax_step");
}

template <typename T>
void asgd_step(int64_t n, T* p, const T* g, T* ax, double eta, double mu, double lambd, double wd, bool maximize) {
  launch_each(n, Plain1<AsgdStep<T>, T>{AsgdStep<T>(eta, mu, lambd, wd, maximize), p, ax, g}, "asgd_step");
}

template <typename T>
void rprop_step(int64_t n, T* p, const T* g, T* prev, T* step_size, double etaminus, double etaplus, double smin,
                double smax, bool maximize) {
  launch_each(n, Plain2<RpropStep<T>, T>{RpropStep<T>(etaminus, etaplus, smin, smax, maximize), p, prev, step_size, g},
              "rprop_step");
}

template <typename T>
void sparse_adam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double bc1,
                      double bc2, bool maximize) {
  launch_each(n, Plain2<SparseAdamStep<T>, T>{SparseAdamStep<T>(lr, b1, b2, eps, bc1, bc2, maximize), p, m, v, g},
              "sparse_adam_step");
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_OPTIM_FNS)

}  // namespace pydl::kernels::cuda
