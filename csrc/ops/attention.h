#pragma once
// Attention ops (pydl.nn.functional.scaled_dot_product_attention).
#include <optional>

#include "ops/ops.h"

namespace pydl {

/// softmax(q k^T * scale + mask) v with optional causal mask and dropout, as one fused kernel.
/// q (..., L, E), k (..., S, E), v (..., S, Ev); batch dims broadcast; attn_mask: bool (true =
/// attend) or float (added), broadcastable to (..., L, S); scale defaults to 1/sqrt(E);
/// enable_gqa repeats the heads (dim -3) of k and v to match q's.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& attn_mask,
                                    double dropout_p, bool is_causal, std::optional<double> scale, bool enable_gqa);

}  // namespace pydl
