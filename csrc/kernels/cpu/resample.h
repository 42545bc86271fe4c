#pragma once
// Raw compute for resampling: interpolation (upsample) and im2col / col2im (unfold / fold,
// conv3d). Spatial geometry is always 3-D: 1-D and 2-D problems use leading dims of size 1.
// Each template is instantiated for float and double in resample.cpp.
#include <cstdint>
#include <vector>

#include "kernels/cpu/instantiate.h"

namespace pydl::kernels {

enum class Interp { Nearest, NearestExact, Linear, Cubic };

/// Per spatial dim: input and output sizes and the user's scale factor (<= 0: none, use in/out).
struct InterpGeom {
  int64_t NC;
  int64_t in[3], out[3];
  double scale[3];
  Interp mode;
  bool align_corners;
  bool antialias = false;  // linear / cubic: widen the filter by the downscale factor (PyTorch's antialias=True)
};
/// The source taps of each spatial dim d: output o reads input idx[d][o * taps[d] + t] with
/// weight w[d][o * taps[d] + t] (PyTorch's coordinate rules; built on the host for both devices).
template <typename T>
struct InterpTaps {
  int64_t taps[3];
  std::vector<int64_t> idx[3];
  std::vector<T> w[3];
};
template <typename T> InterpTaps<T> interp_taps(const InterpGeom& g);
/// y (NC, out...) = interpolation of x (NC, in...) with PyTorch's coordinate rules.
template <typename T> void interp_forward(const InterpGeom& g, const T* x, T* y);
/// gx (NC, in...) = adjoint of interp_forward applied to gy (gx zeroed here).
template <typename T> void interp_backward(const InterpGeom& g, const T* gy, T* gx);

/// Sliding blocks of a (N, C, in...) volume: kernel k, stride s, zero padding p, dilation d;
/// out = the number of blocks per dim. Columns are (N, C * k0*k1*k2, out0*out1*out2).
struct ColGeom {
  int64_t N, C;
  int64_t in[3], k[3], s[3], p[3], d[3], out[3];
};
/// cols = im2col(x).
template <typename T> void im2col(const ColGeom& g, const T* x, T* cols);
/// x = col2im(cols): sums the columns back into the volume (x zeroed here).
template <typename T> void col2im(const ColGeom& g, const T* cols, T* x);
/// The kernels resample.cpp and kernels/cuda/resample.cu both instantiate (PYDL_INSTANTIATE_FLOATING).
#define PYDL_RESAMPLE_FNS(X) X(interp_forward) X(interp_backward) X(im2col) X(col2im)

}  // namespace pydl::kernels
