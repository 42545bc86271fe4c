#include "kernels/cpu/gemm.h"

#include <Eigen/Core>

#include "core/threads.h"

namespace pydl::kernels {
namespace {

constexpr double kSerialWork = 1 << 21;  // M*N*K below which one thread is faster

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ColMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using OStride = Eigen::OuterStride<>;

// Calls f with an Eigen map of the (rows, cols) operand at p: row-major when its
// column stride is 1, else column-major (its row stride is then 1).
template <typename T, typename F>
void with_map(const T* p, int64_t rows, int64_t cols, int64_t rs, int64_t cs, const F& f) {
  if (cs == 1) {
    Eigen::Map<const RowMat<T>, 0, OStride> m(p, rows, cols, OStride(rs));
    f(m);
  } else {
    Eigen::Map<const ColMat<T>, 0, OStride> m(p, rows, cols, OStride(cs));
    f(m);
  }
}

template <typename T>
void gemm_one(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B, int64_t b_rs,
              int64_t b_cs, T* C, bool acc) {
  Eigen::Map<RowMat<T>> c(C, M, N);
  if (K == 0) { if (!acc) c.setZero(); return; }
  with_map<T>(A, M, K, a_rs, a_cs, [&](const auto& a) {
    with_map<T>(B, K, N, b_rs, b_cs, [&](const auto& b) {
      if (acc) c.noalias() += a * b;
      else c.noalias() = a * b;
    });
  });
}

template <typename T>
void gemm_typed(int64_t batch, int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, int64_t a_bs,
                const T* B, int64_t b_rs, int64_t b_cs, int64_t b_bs, T* C, int64_t c_bs, bool acc) {
  if (batch == 1) {
    // Eigen parallelises one large product itself; below ~128^3 the threads' start-up
    // costs more than they save, so run on the calling thread alone.
    if (static_cast<double>(M) * N * K < kSerialWork) {
      int saved = omp_get_max_threads();
      omp_set_num_threads(1);
      gemm_one<T>(M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, acc);
      omp_set_num_threads(saved);
    } else {
      gemm_one<T>(M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, acc);
    }
    return;
  }
  // Many products: one per thread at a time (Eigen runs single-threaded inside a parallel region).
  parallel_for(batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t i = b0; i < b1; ++i)
      gemm_one<T>(M, N, K, A + i * a_bs, a_rs, a_cs, B + i * b_bs, b_rs, b_cs, C + i * c_bs, acc);
  });
}

}  // namespace

void gemm(DType dt, int64_t batch, int64_t M, int64_t N, int64_t K, const void* A, int64_t a_rs, int64_t a_cs,
          int64_t a_bs, const void* B, int64_t b_rs, int64_t b_cs, int64_t b_bs, void* C, int64_t c_bs, bool acc) {
  switch (dt) {
    case DType::Float32:
      return gemm_typed<float>(batch, M, N, K, static_cast<const float*>(A), a_rs, a_cs, a_bs, static_cast<const float*>(B),
                               b_rs, b_cs, b_bs, static_cast<float*>(C), c_bs, acc);
    case DType::Float64:
      return gemm_typed<double>(batch, M, N, K, static_cast<const double*>(A), a_rs, a_cs, a_bs,
                                static_cast<const double*>(B), b_rs, b_cs, b_bs, static_cast<double*>(C), c_bs, acc);
    case DType::Int64:
      return gemm_typed<int64_t>(batch, M, N, K, static_cast<const int64_t*>(A), a_rs, a_cs, a_bs,
                                 static_cast<const int64_t*>(B), b_rs, b_cs, b_bs, static_cast<int64_t*>(C), c_bs, acc);
    default:
      throw TypeError(str("[matmul] unsupported dtype ", dtype_name(dt)));
  }
}

}  // namespace pydl::kernels
