#pragma once
// The CUDA kernels, one .cu file per family beside kernels/cpu/<family>.cpp, with the CPU
// kernels' names and signatures (pointers are device pointers). Called through PYDL_KERNEL
// (kernels/dispatch.h) only; each launches on its device's stream and returns without waiting.
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/index.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/rnn.h"
#include "kernels/cpu/scan.h"

namespace pydl::kernels::cuda {

// ---- elementwise.cu ------------------------------------------------------------------
void binary(BinaryOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b);
void unary(UnaryOp op, const TensorImpl& out, const TensorImpl& a);
void compare(CompareOp op, const TensorImpl& out, const TensorImpl& a, const TensorImpl& b);
void clamp(const TensorImpl& out, const TensorImpl& a, bool has_lo, double lo, bool has_hi, double hi);
void where(const TensorImpl& out, const TensorImpl& cond, const TensorImpl& a, const TensorImpl& b);
void copy(const TensorImpl& out, const TensorImpl& a);
void fill(const TensorImpl& out, double value);

// ---- reduce.cu -----------------------------------------------------------------------
void reduce(ReduceOp op, const TensorImpl& out, const TensorImpl& in, int64_t outer, int64_t R, int64_t inner);
void arg_reduce(bool is_max, const TensorImpl* values, const TensorImpl& indices, const TensorImpl& in, int64_t outer,
                int64_t R, int64_t inner);

// ---- gemm.cu: cuBLAS, opened at run time --------------------------------------------
void gemm(DType dt, int64_t batch, int64_t M, int64_t N, int64_t K, const void* A, int64_t a_rs, int64_t a_cs,
          int64_t a_bs, const void* B, int64_t b_rs, int64_t b_cs, int64_t b_bs, void* C, int64_t c_bs, bool accumulate);
/// Where cuBLAS was loaded from ("" when it was not found); loads it on first use.
const char* cublas_library();
/// Extra directories to search for libcublas (the nvidia-cublas wheel's, found by pydl.cuda).
void add_cublas_search_dir(const char* dir);

// ---- index.cu: along a dim, advanced indexing ----------------------------------------
void gather(const TensorImpl& out, const TensorImpl& a, int64_t dim, const TensorImpl& idx);
void scatter(const TensorImpl& self, int64_t dim, const TensorImpl& idx, const TensorImpl& src, bool accumulate);
void index_gather(const TensorImpl& out, const TensorImpl& a, const AdvIndexPlan& plan);
void index_put(const TensorImpl& a, const AdvIndexPlan& plan, const TensorImpl& values, bool accumulate);
void argsort(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner, bool descending);
void one_hot(const TensorImpl& out, const TensorImpl& idx, int64_t num_classes);

// ---- scan.cu -------------------------------------------------------------------------
void cumsum(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner);
template <typename T> void cumprod_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y);
template <typename T> void cumprod_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* g, T* gx);

// ---- nn_act.cu -----------------------------------------------------------------------
template <typename T> void act_forward(Act op, int64_t n, const T* x, T* y, double a, double b);
template <typename T> void act_backward(Act op, int64_t n, const T* g, const T* x, T* gx, double a, double b);
template <typename T> void softmax_forward(int64_t outer, int64_t dim, int64_t inner, const T* x, T* y, bool log);
template <typename T> void softmax_backward(int64_t outer, int64_t dim, int64_t inner, const T* g, const T* y, T* gx, bool log);
template <typename T> void dropout_mask(int64_t n, uint64_t seed, double p, T* m);
template <typename T> void broadcast_rows(int64_t rows, int64_t cols, const T* row, T* y);

// ---- nn_loss.cu ----------------------------------------------------------------------
template <typename T>
void cross_entropy_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                           double ls, T* loss, T* lse, T* wsum_per_elem);
template <typename T>
void cross_entropy_backward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore,
                            double ls, const T* lse, const T* g, int64_t g_stride, double scale, T* gx);
template <typename T>
void nll_forward(int64_t N, int64_t C, int64_t inner, const T* x, const int64_t* t, const T* w, int64_t ignore, T* loss, T* wt);
template <typename T>
void nll_backward(int64_t N, int64_t C, int64_t inner, const int64_t* t, const T* w, int64_t ignore, const T* g,
                  int64_t g_stride, double scale, T* gx);
template <typename T> void point_loss_forward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, T* loss);
template <typename T>
void point_loss_backward(PointLoss op, int64_t n, const T* x, const T* y, const T* pw, double beta, const T* g, T* gx, T* gy);

// ---- nn_conv.cu: im2col + cuBLAS -----------------------------------------------------
template <typename T> void conv2d_forward(const ConvGeom& g, const T* x, const T* w, const T* b, T* y);
template <typename T>
void conv2d_backward(const ConvGeom& g, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb);

// ---- nn_channel.cu -------------------------------------------------------------------
template <typename T> void channel_fill(int64_t N, int64_t C, int64_t P, const T* b, T* y);
template <typename T> void channel_add(int64_t N, int64_t C, int64_t P, const T* b, T* y);
template <typename T> void channel_sum(int64_t N, int64_t C, int64_t P, const T* x, T* s);

// ---- nn_pool.cu ----------------------------------------------------------------------
template <typename T> void max_pool2d_forward(const PoolGeom& g, const T* x, T* y, int64_t* idx);
template <typename T> void max_pool2d_backward(const PoolGeom& g, const T* gy, const int64_t* idx, T* gx);
template <typename T> void avg_pool2d_forward(const PoolGeom& g, const T* x, T* y, bool count_include_pad, int64_t divisor);
template <typename T> void avg_pool2d_backward(const PoolGeom& g, const T* gy, T* gx, bool count_include_pad, int64_t divisor);
template <typename T> void adaptive_avg_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y);
template <typename T> void adaptive_avg_pool2d_backward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* gy, T* gx);
template <typename T>
void adaptive_max_pool2d_forward(int64_t NC, int64_t H, int64_t W, int64_t OH, int64_t OW, const T* x, T* y, int64_t* idx);

// ---- nn_norm.cu ----------------------------------------------------------------------
template <typename T> void bn_stats(int64_t N, int64_t C, int64_t S, const T* x, double eps, T* mean, T* invstd, T* var_biased);
template <typename T>
void bn_apply(int64_t N, int64_t C, int64_t S, const T* x, const T* mean, const T* invstd, const T* w, const T* b, T* y);
template <typename T>
void bn_backward(int64_t N, int64_t C, int64_t S, const T* x, const T* gy, const T* mean, const T* invstd, const T* w,
                 bool training, T* gx, T* gw, T* gb);
template <typename T>
void bn_update_running(int64_t C, const T* mean, const T* var_biased, double unbias, double momentum, T* rm, int64_t sm,
                       T* rv, int64_t sv);
template <typename T>
void bn_running_stats(int64_t C, const T* rm, int64_t sm, const T* rv, int64_t sv, double eps, T* mean, T* invstd);
template <typename T>
void ln_forward(int64_t R, int64_t D, const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* invstd);
template <typename T>
void ln_backward(int64_t R, int64_t D, const T* x, const T* gy, const T* mean, const T* invstd, const T* w, T* gx, T* gw, T* gb);

// ---- nn_index.cu ---------------------------------------------------------------------
template <typename T> void embedding_forward(int64_t n, int64_t D, const T* w, const int64_t* idx, T* out);
template <typename T> void embedding_backward(int64_t n, int64_t V, int64_t D, const T* g, const int64_t* idx, int64_t pad, T* gw);
template <typename T>
void pad_forward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* x, T* y,
                 T value);
template <typename T>
void pad_backward(int64_t outer, const std::vector<int64_t>& in, const std::vector<std::vector<int64_t>>& map, const T* gy, T* gx);

// ---- rnn.cu: cuBLAS per step, the gate math as one kernel per step ----------------------
void rnn_forward(DType dt, const RnnArgs& a);
void rnn_backward(DType dt, const RnnArgs& a, const void* grad_out, const void* grad_hn, const void* grad_cn,
                  void* dx, void* dh0, void* dc0, void* dw_ih, void* dw_hh, void* db_ih, void* db_hh);

// ---- nn_optim.cu ---------------------------------------------------------------------
template <typename T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, bool fresh, double lr, double momentum, double dampening, double wd,
              bool nesterov, bool maximize);
template <typename T>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, int64_t step, double lr, double b1, double b2, double eps,
               double wd, bool amsgrad, bool maximize, bool decoupled);
template <typename T>
void rmsprop_step(int64_t n, T* p, const T* g, T* sq, T* buf, T* gavg, double lr, double alpha, double eps, double wd,
                  double momentum, bool centered, bool maximize);
template <typename T>
void adagrad_step(int64_t n, T* p, const T* g, T* sum, int64_t step, double lr, double lr_decay, double wd, double eps,
                  bool maximize);
template <typename T>
void adadelta_step(int64_t n, T* p, const T* g, T* sq, T* acc, double lr, double rho, double eps, double wd, bool maximize);
template <typename T>
void nadam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc2, double c_grad, double c_avg);
template <typename T>
void radam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double wd,
                bool decoupled, bool maximize, double bc1, double bc2, double rect);
template <typename T>
void adamax_step(int64_t n, T* p, const T* g, T* m, T* u, double lr, double b1, double b2, double eps, double wd,
                 bool maximize, double bc1);
template <typename T>
void asgd_step(int64_t n, T* p, const T* g, T* ax, double eta, double mu, double lambd, double wd, bool maximize);
template <typename T>
void rprop_step(int64_t n, T* p, const T* g, T* prev, T* step_size, double etaminus, double etaplus, double smin,
                double smax, bool maximize);
template <typename T>
void sparse_adam_step(int64_t n, T* p, const T* g, T* m, T* v, double lr, double b1, double b2, double eps, double bc1,
                      double bc2, bool maximize);

}  // namespace pydl::kernels::cuda
