#include "ops/device.h"

#ifdef PYDL_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

namespace pydl {

#ifdef PYDL_WITH_CUDA
bool built_with_cuda() { return true; }
int cuda_device_count() { return cuda::device_count(); }
bool cuda_self_test() { return cuda::self_test(); }
#else
bool built_with_cuda() { return false; }
int cuda_device_count() { return 0; }
bool cuda_self_test() { return false; }
#endif

}  // namespace pydl
