#pragma once
// Raw compute for fused scaled dot-product attention (no autograd). Each template is
// instantiated for float and double in attention.cpp.
#include <cstdint>

#include "kernels/cpu/instantiate.h"

namespace pydl::kernels {

/// One attention problem per batch index b: q (B, L, E), k (B, S, E), v (B, S, Ev), all contiguous.
struct AttnGeom {
  int64_t B, L, S, E, Ev;
  double scale;
  bool causal;          // keep key j for query i only when j <= i
  double p;             // dropout probability (0 = none)
  uint64_t seed;        // dropout stream seed (the same mask is regenerated in backward)
  // Optional mask, read through strides over (B, L, S) (0 strides broadcast):
  const void* mask = nullptr;
  bool mask_is_bool = false;  // bool: true = attend; float: added to the scores
  int64_t mask_sb = 0, mask_sl = 0, mask_ss = 0;
};

/// out (B, L, Ev) = dropout(softmax(q k^T * scale + mask)) v; P (B, L, S) keeps the softmax
/// (before dropout) for backward. Rows whose keys are all masked give zeros (as PyTorch).
template <typename T> void sdpa_forward(const AttnGeom& g, const T* q, const T* k, const T* v, T* out, T* P);
/// Gradients from gout (B, L, Ev) and the saved P; any of gq, gk, gv, gs may be null. gs (B, L, S)
/// receives the gradient of the pre-softmax scores (the gradient of an additive float mask).
template <typename T>
void sdpa_backward(const AttnGeom& g, const T* q, const T* k, const T* v, const T* P, const T* gout, T* gq, T* gk, T* gv,
                   T* gs);
/// The templates above, which attention.cpp and kernels/cuda/attention.cu instantiate (PYDL_INSTANTIATE_FLOATING).
#define PYDL_ATTENTION_FNS(X) X(sdpa_forward) X(sdpa_backward)

}  // namespace pydl::kernels
