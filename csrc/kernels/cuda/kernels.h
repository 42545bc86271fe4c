#pragma once
// The CUDA kernels, one .cu file per family beside kernels/cpu/<family>.cpp, with the CPU
// kernels' names and signatures (pointers are device pointers). Called through PYDL_KERNEL
// (kernels/dispatch.h) only; each launches on its device's stream and returns without waiting.
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/index.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/resample.h"
#include "kernels/cpu/rnn.h"
#include "kernels/cpu/scan.h"

namespace pydl::kernels::cuda {

// ---- elementwise.cu ------------------------------------------------------------------
#include "kernels/cpu/elementwise_kernels.inc"

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
int64_t count_nonzero(const TensorImpl& a);  ///< brings the count back to the host (waits for the stream)
void nonzero(const TensorImpl& out, const TensorImpl& a);

// ---- scan.cu -------------------------------------------------------------------------
void cumsum(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner);
template <typename T> void cumprod_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y);
template <typename T> void cumprod_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* g, T* gx);
template <typename T>
void logcumsumexp_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y);
template <typename T>
void logcumsumexp_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* y, const T* g, T* gx);
template <typename T>
void cummax_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y, int64_t* idx, bool is_max);
template <typename T>
void searchsorted(int64_t rows, int64_t M, int64_t K, const T* s, int64_t s_stride, const T* v, int64_t* out, bool right);

// ---- resample.cu ---------------------------------------------------------------------
template <typename T> void interp_forward(const InterpGeom& g, const T* x, T* y);
template <typename T> void interp_backward(const InterpGeom& g, const T* gy, T* gx);
template <typename T> void im2col(const ColGeom& g, const T* x, T* cols);
template <typename T> void col2im(const ColGeom& g, const T* cols, T* x);

// ---- attention.cu: cuBLAS GEMMs and row kernels ----------------------------------------
template <typename T> void sdpa_forward(const AttnGeom& g, const T* q, const T* k, const T* v, T* out, T* P);
template <typename T>
void sdpa_backward(const AttnGeom& g, const T* q, const T* k, const T* v, const T* P, const T* gout, T* gq, T* gk, T* gv,
                   T* gs);

// ---- nn_ctc.cu: one block per sample ---------------------------------------------------
template <typename T>
void ctc_forward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                 const int64_t* il, int64_t blank, int64_t S2, T* loss, T* alpha);
template <typename T>
void ctc_backward(int64_t Tn, int64_t N, int64_t C, const T* lp, const int64_t* tg, const int64_t* off, const int64_t* tl,
                  const int64_t* il, int64_t blank, int64_t S2, const T* loss, const T* alpha, const T* g, bool zero_inf,
                  T* gx);

// ---- rnn.cu: cuBLAS per step, the gate math as one kernel per step ----------------------
void rnn_forward(DType dt, const RnnArgs& a);
void rnn_backward(DType dt, const RnnArgs& a, const void* grad_out, const void* grad_hn, const void* grad_cn,
                  void* dx, void* dh0, void* dc0, void* dw_ih, void* dw_hh, void* db_ih, void* db_hh);

// ---- nn_act, nn_loss, nn_conv (im2col + cuBLAS), nn_channel, nn_pool, nn_norm, nn_optim,
// nn_index .cu: the CPU's declarations (with the CPU's documentation) ------------------
#include "kernels/cpu/nn_kernels.inc"

}  // namespace pydl::kernels::cuda
