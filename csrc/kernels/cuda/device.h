#pragma once

namespace pydl::cuda {

/// Number of visible CUDA devices (0 without a GPU or driver).
int device_count();
/// Runs a trivial kernel and reads it back; false when no device can run it.
bool self_test();

}  // namespace pydl::cuda
