"""Keras's MultiHeadAttention on pydl ops (batched matmuls; weights in Keras's EinsumDense
shapes: query/key/value kernels (dim, heads, key_dim), output kernel (heads, value_dim, dim))."""
import math

import numpy as np

from ... import _C
from ...nn import functional as F
from ...nn.parameter import Parameter
from .core import Layer, _bernoulli_mask, _init_config, _inits

__all__ = ["MultiHeadAttention"]


class _Stub:
    """A weightless sublayer Keras keeps inside MultiHeadAttention (for the .weights.h5 layout)."""

    def __init__(self, name):
        self.name = name

    def _keras_own_vars(self):
        return []

    def _load_keras_own_vars(self, arrays):
        pass

    def _keras_children(self):
        return []


class _Dense:
    """One of the four projections, as Keras's EinsumDense holds it (kernel, bias)."""

    def __init__(self, owner, name, kernel, bias):
        self.owner, self.name, self.kernel, self.bias = owner, name, kernel, bias

    def _keras_own_vars(self):
        return [t.detach().numpy().copy() for t in (self.kernel, self.bias) if t is not None]

    def _load_keras_own_vars(self, arrays):
        self.owner._copy_in([t for t in (self.kernel, self.bias) if t is not None], arrays)

    def _keras_children(self):
        return []


class MultiHeadAttention(Layer):
    """Multi-head attention: `layer(query, value, key=None, attention_mask=None,
    return_attention_scores=False, use_causal_mask=False)` on (batch, steps, dim) inputs."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, use_gate=False, sliding_window=None, flash_attention=None, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if any(v is not None for v in (kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                                       bias_constraint)):
            raise NotImplementedError("[MultiHeadAttention] regularizers and constraints are not supported")
        if attention_axes not in (None, [1], (1,), 1):
            raise NotImplementedError(f"[MultiHeadAttention] only attention over axis 1 is supported, got "
                                      f"attention_axes={attention_axes}")
        if use_gate or sliding_window is not None:
            raise NotImplementedError("[MultiHeadAttention] use_gate / sliding_window are not supported")
        if isinstance(output_shape, (list, tuple)) and len(output_shape) != 1:
            raise NotImplementedError("[MultiHeadAttention] output_shape must be an int or a 1-tuple")
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self._out_dim = None if output_shape is None else int(
            output_shape[0] if isinstance(output_shape, (list, tuple)) else output_shape)
        self.kernel_initializer = _inits.get(kernel_initializer, "MultiHeadAttention")
        self.bias_initializer = _inits.get(bias_initializer, "MultiHeadAttention")
        self.seed = seed
        self._shapes = None

    def _build_all(self, q_shape, v_shape, k_shape=None):
        if self.built and self._shapes is not None:
            return
        k_shape = k_shape or v_shape
        for s in (q_shape, v_shape, k_shape):
            if len(s) != 2:
                raise ValueError(f"[MultiHeadAttention] expects (batch, steps, dim) inputs, got {(None,) + tuple(s)}")
        h, kd, vd = self.num_heads, self.key_dim, self.value_dim
        dq, dk, dv = q_shape[-1], k_shape[-1], v_shape[-1]
        out = self._out_dim or dq
        shapes = [(dq, h, kd), (h, kd), (dk, h, kd), (h, kd), (dv, h, vd), (h, vd), (h, vd, out), (out,)]
        names = ["query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias",
                 "output_kernel", "output_bias"]
        for name, s in zip(names, shapes):
            if name.endswith("bias") and not self.use_bias:
                continue
            setattr(self, name, Parameter(_C.zeros(list(s), _C.dtype.float32)))
        inits = [(self.kernel_initializer if n.endswith("kernel") else self.bias_initializer, s)
                 for n, s in zip(names, shapes) if self.use_bias or n.endswith("kernel")]
        self._shapes = (tuple(q_shape), tuple(v_shape), tuple(k_shape))
        self.built = True
        self._build_shape = list(self._shapes)
        self._init_weights(inits)
        self.train(self.training)

    def _build_and_shape(self, input_shape):
        # the weights need the value / key shapes too: built at the first call (or symbolic call)
        q = input_shape if isinstance(input_shape, tuple) else input_shape[0]
        return (q[0], self._out_dim or q[-1])

    def _symbolic_shapes(self, args, kwargs):
        q = args[0].shape[1:]
        v = (args[1] if len(args) > 1 else kwargs["value"]).shape[1:]
        key = kwargs.get("key", args[2] if len(args) > 2 else None)
        self._build_all(q, v, None if key is None else key.shape[1:])
        out = (q[0], self._out_dim or q[-1])
        if kwargs.get("return_attention_scores"):
            return [out, (self.num_heads, q[0], (key or (args[1] if len(args) > 1 else kwargs["value"])).shape[1])]
        return out

    @property
    def weights(self):
        names = ["query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias",
                 "output_kernel", "output_bias"]
        return [getattr(self, n) for n in names if n in self._parameters]

    def _proj(self, x, kernel, bias):
        n, t, d = x.shape
        w = kernel.reshape([d, -1])
        y = x.reshape([n * t, d]).matmul(w)
        if bias is not None:
            y = y + bias.reshape([-1])
        return y.reshape([n, t, kernel.shape[1], kernel.shape[2]]).permute(0, 2, 1, 3)  # (N, H, T, k)

    def call(self, query, value=None, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        if value is None:
            raise TypeError("[MultiHeadAttention] needs query and value inputs")
        key = value if key is None else key
        if not self.built or self._shapes is None:
            self._build_all(tuple(query.shape[1:]), tuple(value.shape[1:]), tuple(key.shape[1:]))
        b = self.use_bias
        q = self._proj(query, self.query_kernel, self.query_bias if b else None)
        k = self._proj(key, self.key_kernel, self.key_bias if b else None)
        v = self._proj(value, self.value_kernel, self.value_bias if b else None)
        scores = q.matmul(k.transpose(2, 3)) * (1.0 / math.sqrt(self.key_dim))  # (N, H, T, S)
        mask = None
        if attention_mask is not None:
            mask = attention_mask if attention_mask.dtype == _C.dtype.bool else attention_mask != 0
            mask = mask.unsqueeze(1)
        if use_causal_mask:
            t, s = scores.shape[2], scores.shape[3]
            causal = _C.from_numpy(np.tril(np.ones((t, s), bool)))
            mask = causal if mask is None else _C.logical_and(mask, causal)
        if mask is not None:
            scores = _C.where(mask, scores, _C.full([], -1e9, scores.dtype))
        probs = F.softmax(scores, dim=-1)
        attn = probs
        if self.training and self.dropout:
            attn = probs * _bernoulli_mask(list(probs.shape), 1 - self.dropout)
        ctx = attn.matmul(v).permute(0, 2, 1, 3)  # (N, T, H, vd)
        n, t = ctx.shape[0], ctx.shape[1]
        out = ctx.reshape([n * t, -1]).matmul(self.output_kernel.reshape([-1, self.output_kernel.shape[2]]))
        if b:
            out = out + self.output_bias
        out = out.reshape([n, t, -1])
        return [out, probs] if return_attention_scores else out

    def _keras_own_vars(self):
        return []

    def _load_keras_own_vars(self, arrays):
        pass

    def _keras_children(self):
        b = self.use_bias
        kids = [(f"{n}_dense", _Dense(self, name, getattr(self, f"{n}_kernel"), getattr(self, f"{n}_bias") if b else
                                      None)) for n, name in (("key", "key"), ("output", "attention_output"),
                                                             ("query", "query"), ("value", "value"))]
        return kids + [("_dropout_layer", _Stub("dropout")), ("_softmax", _Stub("softmax"))]

    def _build_config(self):
        if self._shapes is None:
            return None
        q, v, k = self._shapes
        cfg = {"query_shape": [None] + list(q), "value_shape": [None] + list(v)}
        if k != v:
            cfg["key_shape"] = [None] + list(k)
        return {"shapes_dict": cfg}

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self._out_dim, "attention_axes": [1], "use_gate": False, "sliding_window": None,
                "kernel_initializer": _init_config(self.kernel_initializer),
                "bias_initializer": _init_config(self.bias_initializer), "seed": self.seed}
