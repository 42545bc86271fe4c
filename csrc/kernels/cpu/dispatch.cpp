// Run-time ISA dispatch: the one list of the kernel families compiled per instruction set (their
// files are PYDL_ISA_KERNELS in CMakeLists.txt; each defines its functions in
// pydl::kernels::PYDL_ISA_NS, see kernels/cpu/isa.h). Here the public functions the ops call
// (declared in the families' headers) forward to the baseline, avx2 or avx512 copy, picked on the
// first call from active_isa() (CPUID + XGETBV at load, lowered by PYDL_ISA).
#include "core/cpu_features.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/rnn.h"

// X(name, (parameters), (arguments)) for each plain function ...
#define PYDL_ISA_FUNCTIONS(X)                                                                                          \
  /* elementwise.cpp */                                                                                               \
  X(binary, (BinaryOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b), (op, out, a, b))          \
  X(unary, (UnaryOp op, const TensorImpl& out, const TensorImpl& a), (op, out, a))                                     \
  X(compare, (CompareOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b), (op, out, a, b))        \
  X(clamp, (const TensorImpl& out, const TensorImpl& a, bool has_lo, double lo, bool has_hi, double hi),              \
    (out, a, has_lo, lo, has_hi, hi))                                                                                 \
  X(where, (const TensorImpl& out, const TensorImpl& cond, const TensorImpl& a, const TensorImpl& b),                 \
    (out, cond, a, b))                                                                                                \
  X(copy, (const TensorImpl& out, const TensorImpl& a), (out, a))                                                     \
  X(fill, (const TensorImpl& out, double value), (out, value))                                                        \
  /* gemm_eigen.cpp */                                                                                                \
  X(eigen_gemm, (DType dt, int64_t M, int64_t N, int64_t K, const void* A, int64_t a_rs, int64_t a_cs, const void* B, \
                 int64_t b_rs, int64_t b_cs, void* C, int64_t ldc, bool acc, bool serial),                           \
    (dt, M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, acc, serial))                                                 \
  /* reduce.cpp */                                                                                                    \
  X(reduce, (ReduceOp op, const TensorImpl& out, const TensorImpl& in, int64_t outer, int64_t R, int64_t inner),      \
    (op, out, in, outer, R, inner))                                                                                   \
  X(arg_reduce, (bool is_max, const TensorImpl* values, const TensorImpl& indices, const TensorImpl& in,               \
                 int64_t outer, int64_t R, int64_t inner), (is_max, values, indices, in, outer, R, inner))            \
  /* rnn.cpp */                                                                                                       \
  X(rnn_forward, (DType dt, const RnnArgs& a), (dt, a))                                                               \
  X(rnn_backward, (DType dt, const RnnArgs& a, const void* grad_out, const void* grad_hn, const void* grad_cn,        \
                   void* dx, void* dh0, void* dc0, void* dw_ih, void* dw_hh, void* db_ih, void* db_hh),               \
    (dt, a, grad_out, grad_hn, grad_cn, dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh))

// ... and for each template of kernels/cpu/nn.h (T = float and double).
#define PYDL_ISA_TEMPLATES(X)                                                                                          \
  /* attention.cpp */                                                                                                 \
  X(sdpa_forward, (const AttnGeom& g, const T* q, const T* k, const T* v, T* out, T* P), (g, q, k, v, out, P))        \
  X(sdpa_backward, (const AttnGeom& g, const T* q, const T* k, const T* v, const T* P, const T* gout, T* gq, T* gk,   \
                    T* gv, T* gs), (g, q, k, v, P, gout, gq, gk, gv, gs))                                             \
  /* nn_act.cpp */                                                                                                    \
  X(act_forward, (Act op, int64_t n, const T* x, T* y, double a, double b), (op, n, x, y, a, b))                      \
  X(act_backward, (Act op, int64_t n, const T* g, const T* x, T* gx, double a, double b), (op, n, g, x, gx, a, b))    \
  X(softmax_forward, (int64_t outer, int64_t dim, int64_t inner, const T* x, T* y, bool log),                         \
    (outer, dim, inner, x, y, log))                                                                                   \
  X(softmax_backward, (int64_t outer, int64_t dim, int64_t inner, const T* g, const T* y, T* gx, bool log),           \
    (outer, dim, inner, g, y, gx, log))                                                                               \
  X(dropout_mask, (int64_t n, uint64_t seed, double p, T* m), (n, seed, p, m))                                        \
  X(broadcast_rows, (int64_t rows, int64_t cols, const T* row, T* y), (rows, cols, row, y))                           \
  /* nn_loss.cpp */                                                                                                   \
  X(cross_entropy_forward, (int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w,              \
                            int64_t ignore, double ls, T* loss, T* lse, T* wsum), (N, C, inner, x, t, w, ignore, ls, loss, lse, wsum)) \
  X(cross_entropy_backward, (int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w,             \
                             int64_t ignore, double ls, const T* lse, const T* g, int64_t g_stride, double scale, T* gx), \
    (N, C, inner, x, t, w, ignore, ls, lse, g, g_stride, scale, gx))                                                  \
  X(nll_forward, (int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,       \
                  T* loss, T* wt), (N, C, inner, x, t, w, ignore, loss, wt))                                          \
  X(nll_backward, (int64_t N, int64_t C, int64_t inner, const int64_t* t, const T* w, int64_t ignore, const T* g,      \
                   int64_t g_stride, double scale, T* gx), (N, C, inner, t, w, ignore, g, g_stride, scale, gx))       \
  X(point_loss_forward, (PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, T* loss),         \
    (op, n, x, y, pw, beta, loss))                                                                                    \
  X(point_loss_backward, (PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, const T* g,      \
                          T* gx, T* gy), (op, n, x, y, pw, beta, g, gx, gy))                                          \
  /* nn_channel.cpp */                                                                                                \
  X(channel_fill, (int64_t N, int64_t C, int64_t P, const T* b, T* y), (N, C, P, b, y))                               \
  X(channel_add, (int64_t N, int64_t C, int64_t P, const T* b, T* y), (N, C, P, b, y))                                \
  X(channel_sum, (int64_t N, int64_t C, int64_t P, const T* x, T* s), (N, C, P, x, s))                                \
  /* nn_conv.cpp */                                                                                                   \
  X(conv2d_forward, (const ConvGeom& g, const T* x, const T* w, const T* b, T* y), (g, x, w, b, y))                   \
  X(conv2d_backward, (const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb),                   \
    (g, x, w, gy, gx, gw, gb))                                                                                        \
  /* nn_pool.cpp */                                                                                                   \
  X(max_pool2d_forward, (const PoolGeom& g, const T* x, T* y, int64_t* idx), (g, x, y, idx))                          \
  X(max_pool2d_backward, (const PoolGeom& g, const T* gy, const int64_t* idx, T* gx), (g, gy, idx, gx))               \
  X(avg_pool2d_forward, (const PoolGeom& g, const T* x, T* y, bool cip, int64_t divisor), (g, x, y, cip, divisor))    \
  X(avg_pool2d_backward, (const PoolGeom& g, const T* gy, T* gx, bool cip, int64_t divisor),                          \
    (g, gy, gx, cip, divisor))                                                                                        \
  X(adaptive_avg_pool2d_forward, (int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y),        \
    (NC, H, W, OH, OW, x, y))                                                                                         \
  X(adaptive_avg_pool2d_backward, (int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx),     \
    (NC, H, W, OH, OW, gy, gx))                                                                                       \
  X(adaptive_max_pool2d_forward,                                                                                      \
    (int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y, int64_t* idx),                       \
    (NC, H, W, OH, OW, x, y, idx))                                                                                    \
  /* nn_norm.cpp */                                                                                                   \
  X(bn_stats, (int64_t N, int64_t C, int64_t S, const T* x, double eps, T* mean, T* invstd, T* var),                  \
    (N, C, S, x, eps, mean, invstd, var))                                                                             \
  X(bn_apply, (int64_t N, int64_t C, int64_t S, const T* x, const T* mean, const T* invstd, const T* w, const T* b,   \
               T* y), (N, C, S, x, mean, invstd, w, b, y))                                                            \
  X(bn_backward, (int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const T* mean, const T* invstd,           \
                  const T* w, bool training, T* gx, T* gw, T* gb),                                                    \
    (N, C, S, x, gy, mean, invstd, w, training, gx, gw, gb))                                                          \
  X(bn_update_running, (int64_t C, const T* mean, const T* var, double unbias, double momentum, T* rm, int64_t sm,    \
                        T* rv, int64_t sv), (C, mean, var, unbias, momentum, rm, sm, rv, sv))                         \
  X(bn_running_stats, (int64_t C, const T* rm, int64_t sm, const T* rv, int64_t sv, double eps, T* mean, T* invstd),  \
    (C, rm, sm, rv, sv, eps, mean, invstd))                                                                           \
  X(ln_forward, (int64_t R, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* invstd),     \
    (R, D, x, w, b, eps, y, mean, invstd))                                                                            \
  X(ln_backward, (int64_t R, int64_t D, const T* x, const T* gy, const T* mean, const T* invstd, const T* w, T* gx,   \
                  T* gw, T* gb), (R, D, x, gy, mean, invstd, w, gx, gw, gb))                                          \
  /* nn_optim.cpp */                                                                                                  \
  X(sgd_step, (int64_t n, T* p, const T* g, T* buf, bool fresh, double lr, double mom, double damp, double wd,        \
               bool nesterov, bool maximize), (n, p, g, buf, fresh, lr, mom, damp, wd, nesterov, maximize))           \
  X(adam_step, (int64_t n, T* p, const T* g, T* m, T* v, T* vmax, int64_t step, double lr, double b1, double b2,      \
                double eps, double wd, bool amsgrad, bool maximize, bool decoupled),                                  \
    (n, p, g, m, v, vmax, step, lr, b1, b2, eps, wd, amsgrad, maximize, decoupled))                                   \
  X(rmsprop_step, (int64_t n, T* p, const T* g, T* sq, T* buf, T* gavg, double lr, double alpha, double eps,          \
                   double wd, double mom, bool centered, bool maximize),                                              \
    (n, p, g, sq, buf, gavg, lr, alpha, eps, wd, mom, centered, maximize))                                            \
  X(adagrad_step, (int64_t n, T* p, const T* g, T* sum, int64_t step, double lr, double lr_decay, double wd,          \
                   double eps, bool maximize), (n, p, g, sum, step, lr, lr_decay, wd, eps, maximize))                 \
  X(adadelta_step, (int64_t n, T* p, const T* g, T* sq, T* acc, double lr, double rho, double eps, double wd,         \
                    bool maximize), (n, p, g, sq, acc, lr, rho, eps, wd, maximize))                                   \
  X(nadam_step, (int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,     \
                 bool decoupled, bool maximize, double bc2, double c_grad, double c_avg),                             \
    (n, p, g, m, v, lr, b1, b2, eps, wd, decoupled, maximize, bc2, c_grad, c_avg))                                    \
  X(radam_step, (int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,     \
                 bool decoupled, bool maximize, double bc1, double bc2, double rect),                                 \
    (n, p, g, m, v, lr, b1, b2, eps, wd, decoupled, maximize, bc1, bc2, rect))                                        \
  X(adamax_step, (int64_t n, T* p, const T* g, T* m, T* u, double lr, double b1, double b2, double eps, double wd,    \
                  bool maximize, double bc1), (n, p, g, m, u, lr, b1, b2, eps, wd, maximize, bc1))                    \
  X(asgd_step, (int64_t n, T* p, const T* g, T* ax, double eta, double mu, double lambd, double wd, bool maximize),   \
    (n, p, g, ax, eta, mu, lambd, wd, maximize))                                                                      \
  X(rprop_step, (int64_t n, T* p, const T* g, T* prev, T* step_size, double etaminus, double etaplus, double smin,    \
                 double smax, bool maximize), (n, p, g, prev, step_size, etaminus, etaplus, smin, smax, maximize))    \
  X(sparse_adam_step, (int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps,          \
                       double bc1, double bc2, bool maximize), (n, p, g, m, v, lr, b1, b2, eps, bc1, bc2, maximize))

namespace pydl::kernels {

#define PYDL_DECLARE(name, params, args) void name params;
#define PYDL_DECLARE_T(name, params, args) template <typename T> void name params;
#define PYDL_DECLARE_ISA(ns) \
  namespace ns {             \
  PYDL_ISA_FUNCTIONS(PYDL_DECLARE) PYDL_ISA_TEMPLATES(PYDL_DECLARE_T)   \
  }
PYDL_DECLARE_ISA(baseline)
PYDL_DECLARE_ISA(avx2)
PYDL_DECLARE_ISA(avx512)

namespace {
/// The copy for the active level (the level never changes after the module has loaded).
template <typename F>
F pick(F baseline, F avx2, F avx512) {
  switch (active_isa()) {
    case Isa::AVX512: return avx512;
    case Isa::AVX2: return avx2;
    default: return baseline;
  }
}
}  // namespace

#define PYDL_FORWARD(name, params, args)                                            \
  void name params {                                                                \
    static const auto fn = pick(&baseline::name, &avx2::name, &avx512::name);       \
    fn args;                                                                        \
  }
#define PYDL_FORWARD_T(name, params, args)                                              \
  template <typename T>                                                                 \
  void name params {                                                                    \
    static const auto fn = pick(&baseline::name<T>, &avx2::name<T>, &avx512::name<T>);  \
    fn args;                                                                            \
  }
PYDL_ISA_FUNCTIONS(PYDL_FORWARD)
PYDL_ISA_TEMPLATES(PYDL_FORWARD_T)

#define PYDL_INSTANTIATE(name, params, args) template void name params;
#define T float
PYDL_ISA_TEMPLATES(PYDL_INSTANTIATE)
#undef T
#define T double
PYDL_ISA_TEMPLATES(PYDL_INSTANTIATE)
#undef T

}  // namespace pydl::kernels
