#pragma once
// pydl's packed float32 GEMM: the per-ISA pieces (packing and register-blocked macro kernel,
// compiled once per instruction set in gemm_<isa>.cpp) that the driver in gemm.cpp blocks
// and threads. The driver is compiled for the baseline ISA; only these pieces use AVX.
#include <cstdint>

namespace pydl::kernels {

/// One instruction set's GEMM pieces. Packed A: panels of `mr` rows, k-major (mr values per k).
/// Packed B: panels of `nr` columns, k-major (nr values per k); the last panel is only as wide as the
/// vectors its columns need (zero-padded to a whole vector).
struct SgemmKernels {
  const char* isa;
  int mr, nr;          // register tile
  int mc, kc, nc;      // cache blocks: A block rows, depth, B panel columns
  /// Packs rows [0, m) x depth [0, k) of A (element (i, p) at a[i*rs + p*cs]) into dst.
  void (*pack_a)(int64_t m, int64_t k, const float* a, int64_t rs, int64_t cs, float* dst);
  /// Packs depth [0, k) x columns [0, n) of B (element (p, j) at b[p*rs + j*cs]) into dst.
  void (*pack_b)(int64_t k, int64_t n, const float* b, int64_t rs, int64_t cs, float* dst);
  /// C (m, n) (+)= A (m, k) B (k, n), C rows ldc apart. A: packed (a_rs, a_cs ignored) or
  /// direct with element (i, p) at a[i*a_rs + p*a_cs]. B: row p of column panel j at
  /// b + j*b_ps + p*ldb, nr contiguous values (packed: b_ps = k*nr, ldb = nr; direct
  /// row-major B: b_ps = nr, ldb = its row stride, edge columns read with masks).
  void (*block)(int64_t m, int64_t n, int64_t k, const float* a, bool a_packed, int64_t a_rs, int64_t a_cs,
                const float* b, int64_t b_ps, int64_t ldb, float* c, int64_t ldc, bool acc);
  /// Runs `iters` steps of independent FMA chains; returns the flops done (the peak probe).
  double (*fma_loop)(int64_t iters);
};

/// The baseline (SSE4.2), AVX2+FMA and AVX-512 pieces (call only where the CPU has that ISA).
const SgemmKernels& sgemm_kernels_baseline();
const SgemmKernels& sgemm_kernels_avx2();
const SgemmKernels& sgemm_kernels_avx512();

}  // namespace pydl::kernels
