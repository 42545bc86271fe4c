"""Normalisation ops of pydl.nn.functional beyond batch/layer norm, each a few fused pydl ops:
group_norm and instance_norm run the C++ layer/batch-norm kernels on a reshaped input."""
from .. import _C
from ..autograd import no_grad

__all__ = ["group_norm", "instance_norm", "rms_norm", "local_response_norm"]


def _channel_view(t, ndim):
    """A per-channel vector (C,) shaped (1, C, 1, ...) to broadcast over an ndim-D input."""
    return t.reshape([1, -1] + [1] * (ndim - 2))


def _affine(y, weight, bias):
    if weight is not None:
        y = y * _channel_view(weight, y.dim())
    if bias is not None:
        y = y + _channel_view(bias, y.dim())
    return y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalises each group of C / num_groups channels of input (N, C, *) over the group's
    channels and positions, then applies the per-channel weight and bias."""
    if input.dim() < 2:
        raise ValueError(f"[group_norm] expected an input of at least 2 dims (N, C, *), got {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"[group_norm] expected the number of channels ({c}) to be divisible by num_groups "
                         f"({num_groups}), input {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"[group_norm] {name} of shape {tuple(t.shape)} should have {c} elements (one per channel)")
    grouped = input.reshape(n, num_groups, -1)
    y = _C.layer_norm(grouped, [grouped.shape[-1]], None, None, float(eps)).reshape(list(input.shape))
    return _affine(y, weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Normalises each (sample, channel) of input (N, C, *) over its positions; with running
    stats, updates them in place (averaged over the batch), as PyTorch does."""
    if input.dim() < 3:
        raise ValueError(f"[instance_norm] expected an input of at least 3 dims (N, C, *), got {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("[instance_norm] expected running_mean and running_var when use_input_stats=False")
        return _C.batch_norm(input, running_mean, running_var, weight, bias, False, 0.0, float(eps))
    # PyTorch's formulation: batch norm of (1, N*C, *) with the per-channel tensors repeated N times.
    rep = lambda t: None if t is None else t.repeat(n)  # noqa: E731
    rm, rv = rep(running_mean), rep(running_var)
    if rm is not None:
        rm, rv = rm.detach(), rv.detach()
    x = input.reshape([1, n * c] + list(input.shape[2:]))
    if x.numel() // max(n * c, 1) <= 1:
        raise ValueError(f"[instance_norm] expected more than 1 spatial element when training, got input "
                         f"{tuple(input.shape)}")
    y = _C.batch_norm(x, rm, rv, rep(weight), rep(bias), True, float(momentum), float(eps))
    if running_mean is not None:
        with no_grad():
            running_mean.copy_(rm.reshape(n, c).mean(0))
            running_var.copy_(rv.reshape(n, c).mean(0))
    return y.reshape(list(input.shape))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the trailing normalized_shape dims) + eps) * weight; eps defaults
    to the dtype's machine epsilon (as PyTorch)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(normalized_shape)
    if k == 0 or k > input.dim() or tuple(input.shape[input.dim() - k:]) != tuple(normalized_shape):
        raise ValueError(f"[rms_norm] normalized_shape {tuple(normalized_shape)} does not match the trailing dims of "
                         f"input {tuple(input.shape)}")
    if weight is not None and tuple(weight.shape) != tuple(normalized_shape):
        raise ValueError(f"[rms_norm] weight of shape {tuple(weight.shape)} does not match normalized_shape "
                         f"{tuple(normalized_shape)}")
    if eps is None:
        eps = 2.220446049250313e-16 if input.dtype == _C.dtype.float64 else 1.1920928955078125e-07
    dims = list(range(input.dim() - k, input.dim()))
    y = input * _C.rsqrt(_C.mean(_C.square(input), dims, True) + float(eps))
    return y * weight if weight is not None else y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta (PyTorch's formulation)."""
    if input.dim() < 3:
        raise ValueError(f"[local_response_norm] expected 3D or higher dimensionality input (got {input.dim()} dims)")
    if input.numel() == 0:
        return input
    shape = list(input.shape)
    sq = _C.square(input).reshape(shape[0], 1, shape[1], -1)  # channels become the pooled height
    sq = _C.pad(sq, [0, 0, size // 2, (size - 1) // 2], "constant", 0.0)
    div = _C.avg_pool2d(sq, [size, 1], [1, 1], [0, 0], False, True, None).reshape(shape)
    return input / _C.pow_scalar(div * float(alpha) + float(k), float(beta))
