// The GEMM pieces for the baseline ISA (x86-64-v2, SSE4.2, no FMA): a 4x8 tile in 8 of the 16 XMM
// registers. Slower than Eigen's SSE path, but blocked like the AVX engines, so its results do not
// depend on the thread count either.
#define PYDL_GEMM_SSE 1
#define PYDL_GEMM_NS gemm_sse
#define PYDL_GEMM_NAME "baseline"
#define PYDL_GEMM_MR 4
#define PYDL_GEMM_NV 2
#define PYDL_GEMM_MC 96
#define PYDL_GEMM_KC 256
#define PYDL_GEMM_NC 1024
#include "kernels/cpu/gemm_kernel.inc"

namespace pydl::kernels {
const SgemmKernels& sgemm_kernels_baseline() { return gemm_sse::table(); }
}  // namespace pydl::kernels
