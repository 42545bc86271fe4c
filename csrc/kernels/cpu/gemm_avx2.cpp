// The GEMM pieces for AVX2+FMA (compiled with -mavx2 -mfma): a 6x16 tile, 12 of the 16 YMM registers.
#define PYDL_GEMM_NS gemm_avx2
#define PYDL_GEMM_NAME "avx2"
#define PYDL_GEMM_MR 6
#define PYDL_GEMM_NV 2
#define PYDL_GEMM_MC 96
#define PYDL_GEMM_KC 256
#define PYDL_GEMM_NC 1024
#include "kernels/cpu/gemm_kernel.inc"

namespace pydl::kernels {
const SgemmKernels& sgemm_kernels_avx2() { return gemm_avx2::table(); }
}  // namespace pydl::kernels
