// CUDA runtime queries for the optional CUDA build (PYDL_CUDA=ON). The build must still
// import and run on the CPU on a machine without a GPU: every call tolerates that.
#include <cuda_runtime.h>

#include "core/device.h"
#include "kernels/cuda/device.h"

namespace pydl::cuda {

namespace {
__global__ void fill_kernel(float* p, float v, long long n) {
  long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (i < n) p[i] = v;
}
}  // namespace

bool self_test() {
  if (cuda_device_count() == 0) return false;
  float* d = nullptr;
  const long long n = 1 << 10;
  if (cudaMalloc(&d, n * sizeof(float)) != cudaSuccess) return false;
  fill_kernel<<<(n + 255) / 256, 256>>>(d, 3.0f, n);
  float h[4] = {0, 0, 0, 0};
  bool ok = cudaMemcpy(h, d + n - 4, sizeof(h), cudaMemcpyDeviceToHost) == cudaSuccess && h[3] == 3.0f;
  cudaFree(d);
  return ok;
}

}  // namespace pydl::cuda
