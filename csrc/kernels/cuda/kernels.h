#pragma once
// The CUDA kernels, one .cu file per family beside kernels/cpu/<family>.cpp, with the CPU
// kernels' names and signatures (pointers are device pointers). Called through PYDL_KERNEL
// (kernels/dispatch.h) only; each launches on its device's stream and returns without waiting.
#include <cstdint>

#include "core/tensor.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/reduce.h"

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

// ---- nn_act.cu -----------------------------------------------------------------------
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

// ---- nn_optim.cu ---------------------------------------------------------------------
template <typename T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, bool fresh, double lr, double momentum, double dampening, double wd,
              bool nesterov, bool maximize);
template <typename T>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, T* vmax, int64_t step, double lr, double b1, double b2, double eps,
               double wd, bool amsgrad, bool maximize, bool decoupled);

}  // namespace pydl::kernels::cuda
