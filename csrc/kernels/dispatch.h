#pragma once
// The one place a kernel is chosen by device: PYDL_KERNEL(dev, NAME, args...) calls
// kernels::cuda::NAME(args...) for a CUDA device and kernels::NAME(args...) otherwise. The CUDA
// kernels (kernels/cuda/<family>.cu) carry the CPU kernels' names and signatures, with device
// pointers, and launch on the current device, which the macro sets to DEV. The arguments are
// evaluated inside a CudaKernelScope, so taking data pointers of CUDA tensors there is allowed;
// anywhere else it raises (an op without a CUDA kernel).
#include "core/device.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/nn.h"
#include "kernels/cpu/reduce.h"

#ifdef PYDL_WITH_CUDA
#include "kernels/cuda/kernels.h"
#define PYDL_KERNEL(DEV, NAME, ...)                                                             \
  ((DEV).is_cuda() ? (::pydl::CudaKernelScope{}, ::pydl::cuda_set_device((DEV).index),         \
                      ::pydl::kernels::cuda::NAME(__VA_ARGS__))                                \
                   : ::pydl::kernels::NAME(__VA_ARGS__))
#else
#define PYDL_KERNEL(DEV, NAME, ...) ((void)(DEV), ::pydl::kernels::NAME(__VA_ARGS__))
#endif
