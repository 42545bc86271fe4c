#pragma once
#include "core/tensor.h"

namespace pydl::kernels {

/// C (M,N) = A (M,K) @ B (K,N) for `batch` independent products. Each operand is given by
/// base pointer geometry in elements: row stride, col stride (one of them must be 1 for
/// A and B; C is contiguous) and batch stride. `accumulate` adds into C.
void gemm(DType dt, int64_t batch, int64_t M, int64_t N, int64_t K,
          const void* A, int64_t a_rs, int64_t a_cs, int64_t a_bs,
          const void* B, int64_t b_rs, int64_t b_cs, int64_t b_bs,
          void* C, int64_t c_bs, bool accumulate);

/// M*N*K below which a product runs on one thread (about 100^3): a team costs more than it saves.
inline constexpr double kGemmSerialWork = 1 << 20;
/// float32 C (M,N) (+)= A (M,K) @ B (K,N), C rows ldc apart; A and B any strides (element (i,p) of A at
/// A[i*a_rs + p*a_cs]). Runs on pydl's packed engine (its SSE4.2 pieces at the baseline ISA), on the calling
/// thread alone inside a parallel region or when `serial`. Results do not depend on the thread count.
void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* B, int64_t b_rs,
           int64_t b_cs, float* C, int64_t ldc, bool accumulate, bool serial = false);

/// C (M,N) (+)= A (M,K) @ B (K,N) for float (sgemm) and double (Eigen), any strides as in sgemm.
/// The kernels' GEMM (conv, RNN); single-threaded inside a parallel region or when `serial`.
template <typename T>
void gemm_any(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B, int64_t b_rs,
              int64_t b_cs, T* C, int64_t ldc, bool accumulate, bool serial = false);

/// C (M,N) (+)= A (M,K) @ B (K,N) for float64 and int64 on Eigen (compiled per ISA, see
/// kernels/cpu/dispatch.cpp), any strides as in sgemm; threaded unless small, `serial` or inside
/// a parallel region.
void eigen_gemm(DType dt, int64_t M, int64_t N, int64_t K, const void* A, int64_t a_rs, int64_t a_cs, const void* B,
                int64_t b_rs, int64_t b_cs, void* C, int64_t ldc, bool accumulate, bool serial);
/// Floats of the buffer sgemm_pack_a writes for an (M, K) operand.
int64_t sgemm_packed_a_size(int64_t M, int64_t K);
/// Packs A (M, K) (element (i, p) at A[i*a_rs + p*a_cs]) once for many sgemm_packed_a calls: a
/// weight reused across samples or steps (conv, RNN) skips its per-call packing.
void sgemm_pack_a(int64_t M, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, float* dst);
/// C (M,N) (+)= A (M,K) @ B (K,N) on the calling thread, with A packed by sgemm_pack_a; B any strides.
void sgemm_packed_a(int64_t M, int64_t N, int64_t K, const float* Ap, const float* B, int64_t b_rs, int64_t b_cs,
                    float* C, int64_t ldc, bool accumulate);

/// Floats of the buffer sgemm_pack_b writes for a (K, N) operand.
int64_t sgemm_packed_b_size(int64_t K, int64_t N);
/// Packs B (K, N) (element (p, j) at B[p*b_rs + j*b_cs]) once for many sgemm_packed_b calls: a
/// weight reused across batches (Linear) skips its per-call packing.
void sgemm_pack_b(int64_t K, int64_t N, const float* B, int64_t b_rs, int64_t b_cs, float* dst);
/// C (M,N) (+)= A (M,K) @ B (K,N) with B packed by sgemm_pack_b; A any strides; threaded as sgemm.
void sgemm_packed_b(int64_t M, int64_t N, int64_t K, const float* A, int64_t a_rs, int64_t a_cs, const float* Bp,
                    float* C, int64_t ldc, bool accumulate);

/// "avx512", "avx2" or "baseline": the level of the engine sgemm runs on.
const char* sgemm_engine_name();

/// Measured float32 FMA rate (GFLOP/s) of `threads` threads running independent FMA chains with
/// instruction set `isa` ("avx512" or "avx2") for about `seconds`: the machine's peak.
double fma_peak_gflops(const std::string& isa, int threads, double seconds);

}  // namespace pydl::kernels
