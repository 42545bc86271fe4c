// CUDA mirror of kernels/cpu/gemm.h's gemm: cuBLAS, opened with dlopen at first use (from the
// nvidia-cublas wheel's directory that pydl.cuda passes in, or the system's), so the CUDA build
// imports and runs on the CPU where cuBLAS is missing. The few entry points used are declared
// here: the toolkit on the build machine need not ship cuBLAS headers.
#include <dlfcn.h>

#include <mutex>
#include <string>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace pydl::kernels::cuda {
namespace {

using Handle = void*;  // cublasHandle_t
enum Op : int { kN = 0, kT = 1 };  // cublasOperation_t
using CreateFn = int (*)(Handle*);
using SetStreamFn = int (*)(Handle, cudaStream_t);
using SgemmFn = int (*)(Handle, int, int, int, int, int, const float*, const float*, int, long long, const float*, int,
                        long long, const float*, float*, int, long long, int);
using DgemmFn = int (*)(Handle, int, int, int, int, int, const double*, const double*, int, long long, const double*,
                        int, long long, const double*, double*, int, long long, int);

struct Cublas {
  void* lib = nullptr;
  std::string path;
  CreateFn create = nullptr;
  SetStreamFn set_stream = nullptr;
  SgemmFn sgemm = nullptr;
  DgemmFn dgemm = nullptr;
  Handle handles[64] = {};
};

std::mutex g_mu;
std::vector<std::string> g_dirs;

Cublas& cublas() {
  static Cublas c;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> names = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    std::vector<std::string> tries;
    {
      std::lock_guard<std::mutex> l(g_mu);
      for (const auto& d : g_dirs)
        for (const auto& n : names) tries.push_back(d + "/" + n);
    }
    for (const auto& n : names) tries.push_back(n);
    for (const auto& t : tries) {
      c.lib = dlopen(t.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (c.lib) { c.path = t; break; }
    }
    if (!c.lib) return;
    c.create = reinterpret_cast<CreateFn>(dlsym(c.lib, "cublasCreate_v2"));
    c.set_stream = reinterpret_cast<SetStreamFn>(dlsym(c.lib, "cublasSetStream_v2"));
    c.sgemm = reinterpret_cast<SgemmFn>(dlsym(c.lib, "cublasSgemmStridedBatched"));
    c.dgemm = reinterpret_cast<DgemmFn>(dlsym(c.lib, "cublasDgemmStridedBatched"));
    if (!c.create || !c.set_stream || !c.sgemm || !c.dgemm) {
      dlclose(c.lib);
      c = Cublas{};
    }
  });
  PYDL_CHECK(c.lib, RuntimeError, "[matmul] cuBLAS was not found: install the nvidia-cublas wheel (pip install "
             "nvidia-cublas) or the system's CUDA libraries");
  return c;
}

// A column-major operand for cuBLAS from a row-major one of shape (rows, cols) with strides
// (rs, cs): its transpose (N) when rows are contiguous runs, else itself transposed (T).
struct Operand {
  int op;
  int64_t ld;
};
Operand as_colmajor(int64_t rows, int64_t cols, int64_t rs, int64_t cs, const char* which) {
  if (cs == 1 && (rs >= cols || rows == 1)) return {kN, rs >= cols ? (rs > 0 ? rs : 1) : (cols > 0 ? cols : 1)};
  if (rs == 1 && (cs >= rows || cols == 1)) return {kT, cs >= rows ? (cs > 0 ? cs : 1) : (rows > 0 ? rows : 1)};
  throw RuntimeError(str("[matmul] internal: CUDA gemm operand ", which, " needs unit stride in one dim, got strides (",
                         rs, ", ", cs, ")"));
}

}  // namespace

void add_cublas_search_dir(const char* dir) {
  std::lock_guard<std::mutex> l(g_mu);
  g_dirs.emplace_back(dir);
}

const char* cublas_library() {
  try {
    return cublas().path.c_str();
  } catch (const RuntimeError&) {
    return "";
  }
}

// Row-major C (M,N) = A (M,K) B (K,N) is column-major C^T (N,M) = B^T A^T: cuBLAS gets B first.
void gemm(DType dt, int64_t batch, int64_t M, int64_t N, int64_t K, const void* A, int64_t a_rs, int64_t a_cs,
          int64_t a_bs, const void* B, int64_t b_rs, int64_t b_cs, int64_t b_bs, void* C, int64_t c_bs, bool accumulate) {
  if (batch == 0 || M == 0 || N == 0) return;
  int dev = 0;
  cudaGetDevice(&dev);
  if (K == 0) {
    if (!accumulate) cudaMemsetAsync(C, 0, batch * M * N * itemsize(dt), current_stream());
    return;
  }
  Cublas& c = cublas();
  PYDL_CHECK(M < (1ll << 31) && N < (1ll << 31) && K < (1ll << 31) && batch < (1ll << 31), RuntimeError,
             "[matmul] CUDA matrices are limited to 2^31 rows and columns");
  {
    std::lock_guard<std::mutex> l(g_mu);
    if (!c.handles[dev]) PYDL_CHECK(c.create(&c.handles[dev]) == 0, RuntimeError, "[matmul] cublasCreate failed");
  }
  Handle h = c.handles[dev];
  c.set_stream(h, current_stream());
  Operand oa = as_colmajor(M, K, a_rs, a_cs, "A"), ob = as_colmajor(K, N, b_rs, b_cs, "B");
  int st;
  if (dt == DType::Float32) {
    float one = 1.f, beta = accumulate ? 1.f : 0.f;
    st = c.sgemm(h, ob.op, oa.op, int(N), int(M), int(K), &one, static_cast<const float*>(B), int(ob.ld), b_bs,
                 static_cast<const float*>(A), int(oa.ld), a_bs, &beta, static_cast<float*>(C), int(N), c_bs, int(batch));
  } else {
    PYDL_CHECK(dt == DType::Float64, TypeError, "[matmul] CUDA matmul supports float32 and float64, got ", dtype_name(dt));
    double one = 1.0, beta = accumulate ? 1.0 : 0.0;
    st = c.dgemm(h, ob.op, oa.op, int(N), int(M), int(K), &one, static_cast<const double*>(B), int(ob.ld), b_bs,
                 static_cast<const double*>(A), int(oa.ld), a_bs, &beta, static_cast<double*>(C), int(N), c_bs, int(batch));
  }
  PYDL_CHECK(st == 0, RuntimeError, "[matmul] cuBLAS gemm failed with status ", st);
}

}  // namespace pydl::kernels::cuda
