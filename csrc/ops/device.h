#pragma once
// Moving tensors between devices, pinned host memory, and the CUDA self-test.
#include <string>

#include "core/tensor.h"

namespace pydl {

/// `a` on `device` (a copy; `a` itself when already there). Differentiable: the gradient goes
/// back to a's device. RuntimeError "[to] ... no CUDA device is available" without a GPU.
Tensor to_device(const Tensor& a, Device device, bool non_blocking);
/// A contiguous copy of CPU tensor `a` in page-locked host memory (for fast, async copies to a GPU).
Tensor pin_memory(const Tensor& a);
/// Runs a trivial kernel on the GPU and reads it back; false without one (or without CUDA).
bool cuda_self_test();
/// The cuBLAS library the CUDA matmul loaded ("" when none was found or without CUDA).
std::string cublas_library();
/// Adds a directory to search for libcublas before the system's (the nvidia-cublas wheel's).
void add_cublas_search_dir(const std::string& dir);

}  // namespace pydl
