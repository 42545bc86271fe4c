// Fused optimizer updates: one pass over each parameter, the per-element formulas of
// kernels/cpu/optim_ops.h (PyTorch's, computed in the parameter's dtype).
#include <cmath>

#include "core/threads.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/optim_ops.h"

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

/// f(i) for every i in [0, n), split across threads (loops with branches that do not vectorise).
template <typename F>
void serial_for(int64_t n, const F& f) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) { for (int64_t i = b; i < e; ++i) f(i); });
}
}  // namespace

template <typename T>
void sgd_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict buf, bool fresh, double lr, double mom,
              double damp, double wd, bool nesterov, bool maximize) {
  const SgdStep<T> op(lr, mom, damp, wd, nesterov, maximize);
  if (mom == 0) simd_for(n, [&](int64_t i) { op.plain(i, p, g); });
  else if (fresh) simd_for(n, [&](int64_t i) { op.first(i, p, g, buf); });
  else simd_for(n, [&](int64_t i) { op.next(i, p, g, buf); });
}

template <typename T>
void adam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, T* __restrict vmax,
               int64_t step, double lr, double b1, double b2, double eps, double wd, bool amsgrad, bool maximize,
               bool decoupled) {
  const AdamStep<T> op(step, lr, b1, b2, eps, wd, maximize, decoupled);
  if (amsgrad) simd_for(n, [&](int64_t i) { op.amsgrad(i, p, g, m, v, vmax); });
  else simd_for(n, [&](int64_t i) { op(i, p, g, m, v); });
}

template <typename T>
void rmsprop_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict buf, T* __restrict gavg,
                  double lr, double alpha, double eps, double wd, double mom, bool centered, bool maximize) {
  const RmspropStep<T> op(lr, alpha, eps, wd, mom, centered, maximize);
  if (!centered && mom <= 0) simd_for(n, [&](int64_t i) { op.plain(i, p, g, sq); });
  else serial_for(n, [&](int64_t i) { op(i, p, g, sq, buf, gavg); });
}

template <typename T>
void adagrad_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict sum, int64_t step, double lr,
                  double lr_decay, double wd, double eps, bool maximize) {
  const AdagradStep<T> op(step, lr, lr_decay, wd, eps, maximize);
  simd_for(n, [&](int64_t i) { op(i, p, g, sum); });
}

template <typename T>
void adadelta_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict sq, T* __restrict acc, double lr,
                   double rho, double eps, double wd, bool maximize) {
  const AdadeltaStep<T> op(lr, rho, eps, wd, maximize);
  simd_for(n, [&](int64_t i) { op(i, p, g, sq, acc); });
}

template <typename T>
void nadam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, double lr,
                double b1, double b2, double eps, double wd, bool decoupled, bool maximize, double bc2, double c_grad,
                double c_avg) {
  const NadamStep<T> op(lr, b1, b2, eps, wd, decoupled, maximize, bc2, c_grad, c_avg);
  simd_for(n, [&](int64_t i) { op(i, p, g, m, v); });
}

template <typename T>
void radam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, double lr,
                double b1, double b2, double eps, double wd, bool decoupled, bool maximize, double bc1, double bc2,
                double rect) {
  const RadamStep<T> op(lr, b1, b2, eps, wd, decoupled, maximize, bc1, bc2, rect);
  if (op.rectified) simd_for(n, [&](int64_t i) { op.with_variance(i, p, g, m, v); });
  else simd_for(n, [&](int64_t i) { op.momentum_only(i, p, g, m, v); });
}

template <typename T>
void adamax_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict u, double lr,
                 double b1, double b2, double eps, double wd, bool maximize, double bc1) {
  const AdamaxStep<T> op(lr, b1, b2, eps, wd, maximize, bc1);
  simd_for(n, [&](int64_t i) { op(i, p, g, m, u); });
}

template <typename T>
void asgd_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict ax, double eta, double mu, double lambd,
               double wd, bool maximize) {
  const AsgdStep<T> op(eta, mu, lambd, wd, maximize);
  simd_for(n, [&](int64_t i) { op(i, p, g, ax); });
}

template <typename T>
void rprop_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict prev, T* __restrict ss,
                double etaminus, double etaplus, double smin, double smax, bool maximize) {
  const RpropStep<T> op(etaminus, etaplus, smin, smax, maximize);
  serial_for(n, [&](int64_t i) { op(i, p, g, prev, ss); });
}

template <typename T>
void sparse_adam_step(int64_t n, T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, double lr,
                      double b1, double b2, double eps, double bc1, double bc2, bool maximize) {
  const SparseAdamStep<T> op(lr, b1, b2, eps, bc1, bc2, maximize);
  serial_for(n, [&](int64_t i) { op(i, p, g, m, v); });
}

PYDL_INSTANTIATE_FLOATING(PYDL_NN_OPTIM_FNS)

}  // namespace pydl::kernels::PYDL_ISA_NS
