#pragma once
// Resampling ops: interpolate (F.interpolate / nn.Upsample) and im2col / col2im
// (F.unfold / F.fold, conv3d's columns).
#include <string>

#include "ops/ops.h"

namespace pydl {

/// x (N, C, spatial...) with 1-3 spatial dims resized to `size`. mode: nearest | nearest-exact |
/// linear | cubic (bi/tri-linear by the number of dims). scales: the user's scale factor per dim
/// (<= 0: none), used for the coordinate mapping as PyTorch does. antialias (linear / cubic):
/// when downsampling, the filter widens to cover every input pixel (PyTorch's antialias=True).
Tensor interpolate(const Tensor& x, IntList size, std::vector<double> scales, const std::string& mode, bool align_corners,
                   bool antialias = false);
/// Sliding local blocks of x (N, C, spatial...) (1-3 spatial dims, one kernel value per dim):
/// (N, C * prod(kernel), L). Differentiable (its gradient is col2im).
Tensor im2col(const Tensor& x, IntList kernel, IntList dilation, IntList padding, IntList stride);
/// The adjoint of im2col: sums columns (N, C * prod(kernel), L) into (N, C, output_size...).
Tensor col2im(const Tensor& cols, IntList output_size, IntList kernel, IntList dilation, IntList padding, IntList stride);

}  // namespace pydl
