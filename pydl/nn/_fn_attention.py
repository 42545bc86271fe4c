"""Attention ops of pydl.nn.functional: scaled_dot_product_attention (one fused C++ op) and
multi_head_attention_forward (PyTorch's function, composed of pydl ops around it)."""
import math

from .. import _C

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, fused in C++ (forward and backward).

    Args:
        query, key, value: (..., L, E), (..., S, E), (..., S, Ev); batch dims broadcast.
        attn_mask: bool (True = take part in attention) or float (added to the scores),
            broadcastable to (..., L, S).
        dropout_p: dropout probability on the attention weights (applied whenever > 0, as PyTorch).
        is_causal: query i attends to keys j <= i (cannot be combined with attn_mask).
        scale: defaults to 1 / sqrt(E).
        enable_gqa: repeat the key/value heads (dim -3) to match the query's (grouped-query attention).
    Returns:
        (..., L, Ev).
    """
    return _C.scaled_dot_product_attention(query, key, value, attn_mask, float(dropout_p), bool(is_causal),
                                           None if scale is None else float(scale), bool(enable_gqa))


def _float_mask(mask, name, dtype):
    """PyTorch's _canonical_mask: a bool mask (True = masked out) becomes 0 / -inf of `dtype`."""
    if mask is None:
        return None
    if mask.dtype == _C.dtype.bool:
        return _C.zeros(list(mask.shape), dtype).masked_fill(mask, float("-inf"))
    if not mask.is_floating_point():
        raise TypeError(f"[multi_head_attention_forward] only bool and floating types of {name} are supported, "
                        f"got {mask.dtype}")
    return mask


def _pad_last(mask):
    return None if mask is None else _C.pad(mask, [0, 1], "constant", 0.0)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
                                 bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on sequence-first inputs (L, N, E) / (S, N, E), or unbatched (L, E).

    Follows torch.nn.functional.multi_head_attention_forward: masks where True (bool) are
    masked out; float masks are added. Returns (output (L, N, E), weights or None), weights
    (N, L, S) averaged over heads or (N, H, L, S).
    """
    op = "[multi_head_attention_forward]"
    if query.dim() not in (2, 3):
        raise ValueError(f"{op} expected query of shape (L, E) or (L, N, E), got {tuple(query.shape)}")
    batched = query.dim() == 3
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise ValueError(f"{op} query, key and value must have the same number of dims, got {tuple(query.shape)}, "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"{op} expected query embedding size {embed_dim_to_check}, got {embed_dim}")
    if embed_dim % num_heads:
        raise ValueError(f"{op} embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if tuple(key.shape[:2]) != tuple(value.shape[:2]):
        raise ValueError(f"{op} key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op} need attn_mask if specifying the is_causal hint")
    head_dim = embed_dim // num_heads
    dtype = query.dtype
    key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", dtype)
    # As PyTorch: without a padding mask or weights to return, the is_causal hint replaces attn_mask.
    sdpa_causal = bool(is_causal and key_padding_mask is None and not need_weights)
    attn_mask = None if sdpa_causal else _float_mask(attn_mask, "attn_mask", dtype)
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != (bsz, src_len):
        raise ValueError(f"{op} expected key_padding_mask of shape {(bsz, src_len)}, got {tuple(key_padding_mask.shape)}")

    # input projections
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise ValueError(f"{op} use_separate_proj_weight is False but in_proj_weight is None")
        if query is key and key is value:
            q, k, v = _C.linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        else:
            w = in_proj_weight.chunk(3)
            b = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
            q = _C.linear(query, w[0], b[0])
            if key is value:
                k, v = _C.linear(key, _C.cat([w[1], w[2]], 0), None if b[1] is None else _C.cat([b[1], b[2]], 0)).chunk(2, -1)
            else:
                k, v = _C.linear(key, w[1], b[1]), _C.linear(value, w[2], b[2])
    else:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{op} use_separate_proj_weight is True but q/k/v_proj_weight is None")
        b = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q = _C.linear(query, q_proj_weight, b[0])
        k = _C.linear(key, k_proj_weight, b[1])
        v = _C.linear(value, v_proj_weight, b[2])

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ValueError(f"{op} the shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                 f"{(tgt_len, src_len)}")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise ValueError(f"{op} the shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                 f"{(bsz * num_heads, tgt_len, src_len)}")
        else:
            raise ValueError(f"{op} attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError(f"{op} bias cannot be added to static key/value")
        k = _C.cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = _C.cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise ValueError(f"{op} bias_k and bias_v must both be given or both be None")

    # (L, N, E) -> (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v
    for name, s in (("static_k", static_k), ("static_v", static_v)):
        if s is not None and (s.shape[0] != bsz * num_heads or s.shape[2] != head_dim):
            raise ValueError(f"{op} expected {name} of shape ({bsz * num_heads}, S, {head_dim}), got {tuple(s.shape)}")
    if add_zero_attn:
        zeros = _C.zeros([bsz * num_heads, 1, head_dim], dtype)
        k, v = _C.cat([k, zeros], 1), _C.cat([v, zeros], 1)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = _C.matmul(q * (1.0 / math.sqrt(head_dim)), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = _C.softmax(scores, -1)
        if dropout_p > 0.0:
            weights = _C.dropout(weights, float(dropout_p), True)
        out = _C.matmul(weights, v)  # (N*H, L, hd)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _C.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len) if attn_mask.shape[0] != 1 else attn_mask.unsqueeze(0)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = _C.scaled_dot_product_attention(q, k, v, attn_mask, float(dropout_p), sdpa_causal, None, False)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _C.linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    return out, None
