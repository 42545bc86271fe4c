#pragma once
// Device queries the bindings may ask without knowing which kernels were built.

namespace pydl {

/// True when this build carries the CUDA kernels (PYDL_CUDA=ON).
bool built_with_cuda();
/// Number of visible CUDA devices (0 without a GPU, or in a build without CUDA).
int cuda_device_count();
/// Runs a trivial kernel on the GPU and reads it back; false without one (or without CUDA).
bool cuda_self_test();

}  // namespace pydl
