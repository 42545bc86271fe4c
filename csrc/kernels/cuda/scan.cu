// CUDA mirror of kernels/cpu/scan.cpp's cumprod / cummax and index.cpp's cumsum: one thread per
// line of the (outer, R, inner) block, running the line functions of kernels/cpu/scan_ops.h that
// the CPU kernels run; searchsorted one thread per value (scan_ops.h's sorted_bound).
#include "kernels/cpu/scan_ops.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

// f(o, R, s) for the line that starts at element o of each (outer, R, inner) block, stride s = inner.
template <typename F>
__global__ void lines_k(int64_t lines, int64_t R, int64_t inner, F f) {
  PYDL_CUDA_LOOP(l, lines) f((l / inner) * R * inner + l % inner, R, inner);
}

template <typename F>
void run_lines(const char* name, int64_t outer, int64_t R, int64_t inner, F f) {
  const int64_t n = outer * inner;
  if (n == 0 || R == 0) return;
  lines_k<<<blocks_for(n), kThreads, 0, current_stream()>>>(n, R, inner, f);
  check_launch(name);
}

template <typename T>
struct CumsumLine {
  const T* x;
  T* y;
  __device__ void operator()(int64_t o, int64_t R, int64_t s) const { cumsum_line(R, s, x + o, y + o); }
};
template <typename T>
struct CumprodLine {
  const T* x;
  T* y;
  __device__ void operator()(int64_t o, int64_t R, int64_t s) const { cumprod_line(R, s, x + o, y + o); }
};
template <typename T>
struct CumprodBackwardLine {
  const T *x, *g;
  T* gx;
  __device__ void operator()(int64_t o, int64_t R, int64_t s) const { cumprod_backward_line(R, s, x + o, g + o, gx + o); }
};

template <typename T>
struct LogcumsumexpLine {
  const T* x;
  T* y;
  __device__ void operator()(int64_t o, int64_t R, int64_t s) const { logcumsumexp_line(R, s, x + o, y + o); }
};
template <typename T>
struct LogcumsumexpBackwardLine {
  const T *x, *y, *g;
  T* gx;
  __device__ void operator()(int64_t o, int64_t R, int64_t s) const {
    logcumsumexp_backward_line(R, s, x + o, y + o, g + o, gx + o);
  }
};

template <typename T>
struct CummaxLine {
  const T* x;
  T* y;
  int64_t* idx;
  bool is_max;
  __device__ void operator()(int64_t o, int64_t R, int64_t s) const { cummax_line(R, s, x + o, y + o, idx + o, is_max); }
};

template <typename T>
__global__ void searchsorted_k(int64_t n, int64_t M, int64_t K, const T* s, int64_t s_stride, const T* v, int64_t* out,
                               bool right) {
  PYDL_CUDA_LOOP(i, n) out[i] = sorted_bound(s + (i / K) * s_stride, M, v[i], right);
}

}  // namespace

void cumsum(const TensorImpl& out, const TensorImpl& a, int64_t outer, int64_t R, int64_t inner) {
  PYDL_DISPATCH_NUMERIC(out.dtype, "cumsum", [&] {
    run_lines("cumsum", outer, R, inner, CumsumLine<scalar_t>{a.data<scalar_t>(), out.data<scalar_t>()});
  });
}

template <typename T>
void cumprod_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y) {
  run_lines("cumprod_forward", outer, R, inner, CumprodLine<T>{x, y});
}

template <typename T>
void cumprod_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* g, T* gx) {
  run_lines("cumprod_backward", outer, R, inner, CumprodBackwardLine<T>{x, g, gx});
}

template <typename T>
void logcumsumexp_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y) {
  run_lines("logcumsumexp_forward", outer, R, inner, LogcumsumexpLine<T>{x, y});
}

template <typename T>
void logcumsumexp_backward(int64_t outer, int64_t R, int64_t inner, const T* x, const T* y, const T* g, T* gx) {
  run_lines("logcumsumexp_backward", outer, R, inner, LogcumsumexpBackwardLine<T>{x, y, g, gx});
}

template <typename T>
void cummax_forward(int64_t outer, int64_t R, int64_t inner, const T* x, T* y, int64_t* idx, bool is_max) {
  run_lines("cummax_forward", outer, R, inner, CummaxLine<T>{x, y, idx, is_max});
}

template <typename T>
void searchsorted(int64_t rows, int64_t M, int64_t K, const T* s, int64_t s_stride, const T* v, int64_t* out, bool right) {
  const int64_t n = rows * K;
  if (n == 0) return;
  searchsorted_k<T><<<blocks_for(n), kThreads, 0, current_stream()>>>(n, M, K, s, s_stride, v, out, right);
  check_launch("searchsorted");
}

#define PYDL_INST(T)                                                                        \
  template void cummax_forward<T>(int64_t, int64_t, int64_t, const T*, T*, int64_t*, bool); \
  template void searchsorted<T>(int64_t, int64_t, int64_t, const T*, int64_t, const T*, int64_t*, bool);
PYDL_INST(float)
PYDL_INST(double)
PYDL_INST(int64_t)
#undef PYDL_INST
#define PYDL_INST(T)                                                          \
  template void logcumsumexp_forward<T>(int64_t, int64_t, int64_t, const T*, T*); \
  template void logcumsumexp_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, T*);
PYDL_INST(float)
PYDL_INST(double)
#undef PYDL_INST
template void cumprod_forward<float>(int64_t, int64_t, int64_t, const float*, float*);
template void cumprod_forward<double>(int64_t, int64_t, int64_t, const double*, double*);
template void cumprod_forward<int64_t>(int64_t, int64_t, int64_t, const int64_t*, int64_t*);
template void cumprod_backward<float>(int64_t, int64_t, int64_t, const float*, const float*, float*);
template void cumprod_backward<double>(int64_t, int64_t, int64_t, const double*, const double*, double*);

}  // namespace pydl::kernels::cuda
