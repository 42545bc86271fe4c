#pragma once

namespace pydl::cuda {

/// Runs a trivial kernel and reads it back; false when no device can run it.
bool self_test();

}  // namespace pydl::cuda
