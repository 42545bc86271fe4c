// The products pydl's packed engine does not cover (float64 and int64) on Eigen's GEMM, compiled per
// ISA like the other kernel families (kernels/cpu/isa.h): at the baseline's SSE4.2 alone Eigen's
// float64 GEMM ran at a third of its AVX2 speed.
#include "kernels/cpu/gemm.h"

#include "kernels/cpu/eigen.h"

#include "core/error.h"
#include "core/threads.h"
#include "kernels/cpu/isa.h"

namespace pydl::kernels::PYDL_ISA_NS {
namespace {

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
void eigen_one(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B, int64_t b_rs,
               int64_t b_cs, T* C, int64_t ldc, bool acc) {
  Eigen::Map<RowMat<T>, 0, OStride> c(C, M, N, OStride(ldc));
  if (K == 0) { if (!acc) c.setZero(); return; }
  with_map<T>(A, M, K, a_rs, a_cs, [&](const auto& a) {
    with_map<T>(B, K, N, b_rs, b_cs, [&](const auto& b) {
      if (acc) c.noalias() += a * b;
      else c.noalias() = a * b;
    });
  });
}

// Eigen threads one large product itself (with the calling thread's OpenMP setting, which
// get_num_threads keeps in step); small ones, and any inside a parallel region, run on the
// calling thread alone.
template <typename T>
void eigen_typed(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B, int64_t b_rs,
                 int64_t b_cs, T* C, int64_t ldc, bool acc, bool serial) {
  const int nt = get_num_threads();
  if (serial || omp_in_parallel() || nt <= 1 || static_cast<double>(M) * N * K < kGemmSerialWork) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    eigen_one<T>(M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, acc);
    omp_set_num_threads(saved);
  } else {
    eigen_one<T>(M, N, K, A, a_rs, a_cs, B, b_rs, b_cs, C, ldc, acc);
  }
}

}  // namespace

void eigen_gemm(DType dt, int64_t M, int64_t N, int64_t K, const void* A, int64_t a_rs, int64_t a_cs, const void* B,
                int64_t b_rs, int64_t b_cs, void* C, int64_t ldc, bool acc, bool serial) {
  switch (dt) {
    case DType::Float64:
      return eigen_typed<double>(M, N, K, static_cast<const double*>(A), a_rs, a_cs, static_cast<const double*>(B),
                                 b_rs, b_cs, static_cast<double*>(C), ldc, acc, serial);
    case DType::Int64:
      return eigen_typed<int64_t>(M, N, K, static_cast<const int64_t*>(A), a_rs, a_cs, static_cast<const int64_t*>(B),
                                  b_rs, b_cs, static_cast<int64_t*>(C), ldc, acc, serial);
    default:
      throw TypeError(str("[matmul] unsupported dtype ", dtype_name(dt), " for the Eigen product"));
  }
}

}  // namespace pydl::kernels::PYDL_ISA_NS
