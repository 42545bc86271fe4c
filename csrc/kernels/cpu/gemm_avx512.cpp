// The GEMM pieces for AVX-512 (compiled with -mavx512f/bw/dq/vl): a 6x64 tile, 24 of the 32 ZMM registers.
#define PYDL_GEMM_AVX512 1
#define PYDL_GEMM_NS gemm_avx512
#define PYDL_GEMM_NAME "avx512"
#define PYDL_GEMM_MR 6
#define PYDL_GEMM_NV 4
#define PYDL_GEMM_MC 96
#define PYDL_GEMM_KC 256
#define PYDL_GEMM_NC 512
#include "kernels/cpu/gemm_kernel.inc"

namespace pydl::kernels {
const SgemmKernels& sgemm_kernels_avx512() { return gemm_avx512::table(); }
}  // namespace pydl::kernels
