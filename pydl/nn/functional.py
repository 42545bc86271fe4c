"""pydl.nn.functional: neural-network ops with PyTorch signatures, each one call into the C++ core.

Functions here only parse arguments (PyTorch defaults, ints or tuples, strings) and call
a single op of ``pydl._C``; all numerics run in C++.
"""
import builtins

from .. import _C
from .._C import Tensor

__all__ = [
    "linear", "relu", "relu_", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softplus", "softmax",
    "log_softmax", "dropout", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
    "adaptive_avg_pool2d", "batch_norm", "layer_norm", "embedding", "pad", "one_hot", "max_pool1d", "avg_pool1d",
]


def _reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _pair(v, name, n=2):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise ValueError(f"[{name}] expected an int or a tuple of {n} ints, got {v}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


# ---- linear and activations -------------------------------------------------------------

def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, over the last dim of input (one fused GEMM)."""
    return _C.linear(input, weight, bias)


def relu(input, inplace=False):
    """max(input, 0); inplace=True overwrites input (its version counter moves) and returns it."""
    return _C.relu_(input) if inplace else _C.relu(input)


def relu_(input):
    """relu in place: overwrites input and returns it."""
    return _C.relu_(input)


def _inplace_act(fn, input, *args):
    """Overwrites `input` with fn(input, *args) and returns it (inplace=True of ops whose backward
    reads their input: that input is a clone when autograd records, so the write cannot spoil it)."""
    src = input.clone() if input.requires_grad and _C.is_grad_enabled() else input
    return input.copy_(fn(src, *args))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input if input > 0 else negative_slope * input; inplace=True overwrites input."""
    if inplace:
        return _inplace_act(_C.leaky_relu, input, float(negative_slope))
    return _C.leaky_relu(input, float(negative_slope))


def elu(input, alpha=1.0, inplace=False):
    """input if input > 0 else alpha * (exp(input) - 1); inplace=True overwrites input."""
    if inplace:
        return _inplace_act(_C.elu, input, float(alpha))
    return _C.elu(input, float(alpha))


def gelu(input, approximate="none"):
    """Gaussian error linear unit; approximate='tanh' uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"[gelu] approximate must be 'none' or 'tanh', got {approximate!r}")
    return _C.gelu(input, approximate == "tanh")


def silu(input, inplace=False):
    """input * sigmoid(input); inplace=True overwrites input."""
    return _inplace_act(_C.silu, input) if inplace else _C.silu(input)


def sigmoid(input):
    """1 / (1 + exp(-input))."""
    return _C.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent."""
    return _C.tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, linear where beta * input > threshold."""
    return _C.softplus(input, float(beta), float(threshold))


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim (numerically stable)."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim(input.dim())
    return _C.softmax(input, int(dim))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim (numerically stable)."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim(input.dim())
    return _C.log_softmax(input, int(dim))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes elements with probability p and scales the rest by 1/(1-p); identity when not training.
    inplace=True overwrites input."""
    if inplace and training and p > 0:
        return _inplace_act(_C.dropout, input, float(p), True)
    return _C.dropout(input, float(p), bool(training))


# ---- losses --------------------------------------------------------------------------------

def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """Fused log_softmax + nll_loss over logits (N, C, d...) with int64 class targets (N, d...),
    or -sum(target * log_softmax(input)) over dim 1 for class-probability targets of input's shape."""
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        return _cross_entropy_probs(input, target, weight, _reduction(size_average, reduce, reduction),
                                    float(label_smoothing))
    return _C.cross_entropy(input, target, weight, _reduction(size_average, reduce, reduction), int(ignore_index),
                            float(label_smoothing))


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"[cross_entropy] class-probability target of shape {tuple(target.shape)} must match input "
                         f"{tuple(input.shape)}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"[cross_entropy] label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    cdim = 1 if input.dim() > 1 else 0
    c = input.shape[cdim]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / c
    terms = target * _C.log_softmax(input, cdim)
    if weight is not None:
        terms = terms * _C.reshape(weight, [c] + [1] * (input.dim() - cdim - 1))
    loss = -_C.sum(terms, [cdim], False, None)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities (N, C, d...) at int64 class targets."""
    return _C.nll_loss(input, target, weight, _reduction(size_average, reduce, reduction), int(ignore_index))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, reduced."""
    out = _C.mse_loss(input, target, "none" if weight is not None else _reduction(size_average, reduce, reduction))
    return _weighted(out, weight, _reduction(size_average, reduce, reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, reduced."""
    out = _C.l1_loss(input, target, "none" if weight is not None else _reduction(size_average, reduce, reduction))
    return _weighted(out, weight, _reduction(size_average, reduce, reduction))


def _weighted(out, weight, reduction):
    if weight is None:
        return out
    out = out * weight
    if reduction == "none":
        return out
    return out.sum() if reduction == "sum" else out.mean()


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Huber-like loss: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    return _C.smooth_l1_loss(input, target, _reduction(size_average, reduce, reduction), float(beta))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(y log x + (1 - y) log(1 - x)) with logs clamped at -100."""
    return _C.binary_cross_entropy(input, target, weight, _reduction(size_average, reduce, reduction))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one numerically stable op."""
    return _C.binary_cross_entropy_with_logits(input, target, weight, pos_weight,
                                               _reduction(size_average, reduce, reduction))


# ---- convolution and pooling ---------------------------------------------------------------

def _conv_padding(padding, weight, stride, dilation, n, name):
    """(top, bottom, left, right) padding for conv2d (n=2) from int / tuple / 'same' / 'valid'."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"[{name}] invalid padding string {padding!r}, should be one of 'valid', 'same'")
        if any(s != 1 for s in stride):
            raise ValueError(f"[{name}] padding='same' is not supported for strided convolutions")
        ks = tuple(weight.shape[2:])
        pads = []
        for k, d in zip(ks, dilation):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    p = _pair(padding, name, n)
    out = []
    for v in p:
        out += [v, v]
    return tuple(out)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of input (N, C, H, W) with weight (O, C/groups, kh, kw)."""
    stride, dilation = _pair(stride, "conv2d"), _pair(dilation, "conv2d")
    pad = _conv_padding(padding, weight, stride, dilation, 2, "conv2d")
    return _C.conv2d(input, weight, bias, list(stride), list(pad), list(dilation), int(groups))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of input (N, C, L) with weight (O, C/groups, k), run as a conv2d of height 1."""
    stride, dilation = _pair(stride, "conv1d", 1)[0], _pair(dilation, "conv1d", 1)[0]
    if isinstance(padding, str):
        if padding == "valid":
            pad = (0, 0)
        elif padding == "same":
            if stride != 1:
                raise ValueError("[conv1d] padding='same' is not supported for strided convolutions")
            total = dilation * (weight.shape[-1] - 1)
            pad = (total // 2, total - total // 2)
        else:
            raise ValueError(f"[conv1d] invalid padding string {padding!r}, should be one of 'valid', 'same'")
    else:
        p = _pair(padding, "conv1d", 1)[0]
        pad = (p, p)
    if input.dim() not in (2, 3):
        raise ValueError(f"[conv1d] expected 2-D or 3-D input, got shape {tuple(input.shape)}")
    if weight.dim() != 3:
        raise ValueError(f"[conv1d] expected 3-D weight (out, in/groups, k), got shape {tuple(weight.shape)}")
    unbatched = input.dim() == 2
    x = input.unsqueeze(0) if unbatched else input
    out = _C.conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, [1, stride], [0, 0, pad[0], pad[1]], [1, dilation],
                    int(groups)).squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input); weight (C, O/groups, kh, kw)."""
    return _C.conv_transpose2d(input, weight, bias, list(_pair(stride, "conv_transpose2d")),
                               list(_pair(padding, "conv_transpose2d")), list(_pair(output_padding, "conv_transpose2d")),
                               int(groups), list(_pair(dilation, "conv_transpose2d")))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kernel windows; return_indices gives flat indices into each H*W plane."""
    k = _pair(kernel_size, "max_pool2d")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else _pair(stride, "max_pool2d")
    out, idx = _C.max_pool2d(input, list(k), list(s), list(_pair(padding, "max_pool2d")),
                             list(_pair(dilation, "max_pool2d")), bool(ceil_mode))
    return (out, idx) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over the last dim of (N, C, L), via max_pool2d."""
    k = _pair(kernel_size, "max_pool1d", 1)[0]
    s = k if stride is None else _pair(stride, "max_pool1d", 1)[0]
    out, idx = _C.max_pool2d(input.unsqueeze(-2), [1, k], [1, s], [0, _pair(padding, "max_pool1d", 1)[0]],
                             [1, _pair(dilation, "max_pool1d", 1)[0]], bool(ceil_mode))
    out, idx = out.squeeze(-2), idx.squeeze(-2)
    return (out, idx) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean over kernel windows."""
    k = _pair(kernel_size, "avg_pool2d")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else _pair(stride, "avg_pool2d")
    return _C.avg_pool2d(input, list(k), list(s), list(_pair(padding, "avg_pool2d")), bool(ceil_mode),
                         bool(count_include_pad), divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean pooling over the last dim of (N, C, L), via avg_pool2d."""
    k = _pair(kernel_size, "avg_pool1d", 1)[0]
    s = k if stride is None else _pair(stride, "avg_pool1d", 1)[0]
    return _C.avg_pool2d(input.unsqueeze(-2), [1, k], [1, s], [0, _pair(padding, "avg_pool1d", 1)[0]], bool(ceil_mode),
                         bool(count_include_pad), None).squeeze(-2)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (None keeps that input dim)."""
    if isinstance(output_size, (tuple, list)):
        osz = [input.shape[-2 + i] if v is None else int(v) for i, v in enumerate(output_size)]
    else:
        osz = [int(output_size)] * 2
    return _C.adaptive_avg_pool2d(input, osz)


# ---- normalisation, embedding, padding -------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    """Batch normalisation over dim 1; in training, updates running stats in place (unbiased var)."""
    return _C.batch_norm(input, running_mean, running_var, weight, bias, bool(training),
                         0.0 if momentum is None else float(momentum), float(eps))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalises over the trailing normalized_shape dims."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    return _C.layer_norm(input, [int(v) for v in normalized_shape], weight, bias, float(eps))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of weight at int64 indices; padding_idx rows get no gradient."""
    if padding_idx is not None:
        n = weight.shape[0]
        if padding_idx < 0:
            padding_idx += n
        if not 0 <= padding_idx < n:
            raise ValueError(f"[embedding] padding_idx must be within num_embeddings ({n})")
    if max_norm is not None:
        raise NotImplementedError("[embedding] max_norm is not supported")
    return _C.embedding(weight, input, padding_idx)


def pad(input, pad, mode="constant", value=None):
    """Pads trailing dims: pad = (last_left, last_right, 2nd_last_left, ...)."""
    if len(pad) % 2:
        raise ValueError(f"[pad] padding length must be divisible by 2, got {len(pad)}")
    return _C.pad(input, [int(p) for p in pad], mode, 0.0 if value is None else float(value))


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a trailing dim of num_classes (inferred as max+1 when -1)."""
    return _C.one_hot(tensor, int(num_classes))


# ---- issue 13 part B: the rest of the activations, losses and distances ----
from ._functional_breadth import *  # noqa: E402,F401,F403
from ._functional_breadth import __all__ as _breadth_all  # noqa: E402

__all__ += _breadth_all
# ---- attention, more normalisation, resampling, conv3d and pools: in their own files ----------
from ._fn_attention import *  # noqa: E402,F401,F403
from ._fn_norm import *  # noqa: E402,F401,F403
from ._fn_spatial import *  # noqa: E402,F401,F403
from . import _fn_attention, _fn_norm, _fn_spatial  # noqa: E402

__all__ += _fn_attention.__all__ + _fn_norm.__all__ + _fn_spatial.__all__


# ---- channel dropout (issue 12) --------------------------------------------------------------

def _feature_dropout(input, p, training, inplace, name, batched_ndim):
    """Zeroes whole channels: one Bernoulli(1-p) draw per (sample, channel), scaled by 1/(1-p)."""
    if p < 0 or p > 1:
        raise ValueError(f"[{name}] dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ValueError(f"[{name}] expected a {batched_ndim - 1}-D (unbatched) or {batched_ndim}-D (batched) input, "
                         f"got shape {tuple(input.shape)}")
    if not training or p == 0:
        return input
    lead = input.ndim - (batched_ndim - 2)  # (N, C) or (C,)
    mask = _C.empty(list(input.shape[:lead]) + [1] * (input.ndim - lead), input.dtype)
    _C.bernoulli_(mask, 1.0 - float(p))
    if p < 1:
        mask = _C.div(mask, 1.0 - float(p))
    return _C.mul_(input, mask) if inplace else _C.mul(input, mask)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p, scaling the rest by 1/(1-p)."""
    return _feature_dropout(input, p, training, inplace, "dropout1d", 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) input (a 3-D input is (N, C, L), as PyTorch) with probability p.

    A 2-D (N, C) input has no spatial dims: each entry is a channel (plain dropout), with
    PyTorch's deprecation warning.
    """
    if input.ndim == 2:
        import warnings
        warnings.warn("dropout2d: Received a 2-D input to dropout2d, which is deprecated and will result in an error "
                      "in a future release. To retain the behavior and silence this warning, please use dropout "
                      "instead.", UserWarning, stacklevel=2)
        return _feature_dropout(input, p, training, inplace, "dropout2d", 2)
    if input.ndim == 3:
        return _feature_dropout(input, p, training, inplace, "dropout2d", 3)
    return _feature_dropout(input, p, training, inplace, "dropout2d", 4)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    return _feature_dropout(input, p, training, inplace, "dropout3d", 5)


__all__ += ["dropout1d", "dropout2d", "dropout3d"]
