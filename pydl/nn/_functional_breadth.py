"""The rest of torch.nn.functional's activations, losses and distances (issue 13, part B).

Pointwise activations are C++ kernels (pydl._C.<name>, forward and backward fused); losses and
distances are short compositions of pydl ops, each of which runs in C++, so their gradients come
from autograd. Reductions follow PyTorch ('none' | 'mean' | 'sum', plus the legacy size_average /
reduce flags).
"""
import math

from .. import _C
from .._C import Tensor

__all__ = [
    "relu6", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid", "mish", "selu", "selu_", "celu", "celu_", "elu_",
    "leaky_relu_", "softsign", "softshrink", "hardshrink", "tanhshrink", "threshold", "threshold_", "logsigmoid",
    "softmin", "glu", "prelu", "rrelu", "rrelu_", "gumbel_softmax",
    "kl_div", "huber_loss", "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
    "margin_ranking_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss",
    "hinge_embedding_loss", "soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss",
    "cosine_similarity", "pairwise_distance", "normalize", "pdist", "cdist", "bilinear", "channel_shuffle",
    "alpha_dropout", "feature_alpha_dropout", "embedding_bag",
]


def _red(size_average, reduce, reduction):
    from .functional import _reduction
    return _reduction(size_average, reduce, reduction)


def _reduce(loss, reduction, op):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"[{op}] {reduction} is not a valid value for reduction (expected 'none', 'mean' or 'sum')")


def _inplace(x, out):
    """Writes `out` into x (autograd sees x's new value; its version counter is bumped)."""
    return x.copy_(out)


def _src(x):
    """The input an in-place activation reads: a copy when autograd must keep the old value."""
    return x.clone() if x.requires_grad else x


# ---- activations -------------------------------------------------------------------------------

def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(input, min_val, max_val) with zero gradient outside (min_val, max_val)."""
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return _C.hardtanh(input, float(min_val), float(max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _inplace(input, _C.hardtanh(_src(input), float(min_val), float(max_val)))


def relu6(input, inplace=False):
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardswish(input, inplace=False):
    """input * relu6(input + 3) / 6 (MobileNetV3)."""
    return _inplace(input, _C.hardswish(_src(input))) if inplace else _C.hardswish(input)


def hardsigmoid(input, inplace=False):
    """relu6(input + 3) / 6."""
    return _inplace(input, _C.hardsigmoid(_src(input))) if inplace else _C.hardsigmoid(input)


def mish(input, inplace=False):
    """input * tanh(softplus(input))."""
    return _inplace(input, _C.mish(_src(input))) if inplace else _C.mish(input)


def selu(input, inplace=False):
    """scale * elu(input, alpha) with the self-normalising constants."""
    return _inplace(input, _C.selu(_src(input))) if inplace else _C.selu(input)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _inplace(input, _C.celu(_src(input), float(alpha))) if inplace else _C.celu(input, float(alpha))


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def elu_(input, alpha=1.0):
    return _inplace(input, _C.elu(_src(input), float(alpha)))


def leaky_relu_(input, negative_slope=0.01):
    return _inplace(input, _C.leaky_relu(_src(input), float(negative_slope)))


def softsign(input):
    """input / (1 + |input|)."""
    return _C.softsign(input)


def softshrink(input, lambd=0.5):
    """input - lambd above lambd, input + lambd below -lambd, 0 between."""
    return _C.softshrink(input, float(lambd))


def hardshrink(input, lambd=0.5):
    """input where |input| > lambd, else 0."""
    return _C.hardshrink(input, float(lambd))


def tanhshrink(input):
    """input - tanh(input)."""
    return _C.tanhshrink(input)


def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value."""
    if inplace:
        return threshold_(input, threshold, value)
    return _C.threshold(input, float(threshold), float(value))


def threshold_(input, threshold, value):
    return _inplace(input, _C.threshold(_src(input), float(threshold), float(value)))


def logsigmoid(input):
    """log(sigmoid(input)), computed stably."""
    return _C.logsigmoid(input)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along dim."""
    from .functional import softmax
    return softmax(-input, dim, dtype=dtype)


def glu(input, dim=-1):
    """a * sigmoid(b) where a, b are the two halves of input along dim."""
    if input.dim() == 0:
        raise ValueError("[glu] glu does not support scalars because halving size must be even")
    n = input.shape[dim]
    if n % 2:
        raise ValueError(f"[glu] halving dimension must be even, but dimension {dim} is size {n}")
    a, b = _C.chunk(input, 2, dim)
    return a * _C.sigmoid(b)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight broadcast over the channel dim (dim 1) or a single value."""
    if weight.dim() != 1:
        raise ValueError(f"[prelu] weight must be 1-D, got shape {tuple(weight.shape)}")
    n = weight.shape[0]
    if n != 1:
        if input.dim() == 0 or (input.shape[1] if input.dim() > 1 else input.shape[0]) != n:
            raise ValueError(f"[prelu] weight of {n} values does not match the channels of input {tuple(input.shape)}")
        if input.dim() > 1:
            weight = _C.reshape(weight, [n] + [1] * (input.dim() - 2))
    return _C.where(_C.gt(input, 0), input, input * weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: a slope drawn from U(lower, upper) per element in training, (lower+upper)/2 otherwise."""
    if not training:
        return (leaky_relu_ if inplace else _C.leaky_relu)(input, (lower + upper) / 2)
    slope = _C.uniform_(_C.empty(list(input.shape), input.dtype), float(lower), float(upper))
    out = _C.where(_C.ge(input, 0), input, input * slope)
    return _inplace(input, out) if inplace else out


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, True)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution; hard=True returns one-hot samples with soft gradients."""
    u = _C.uniform_(_C.empty(list(logits.shape), logits.dtype), 0.0, 1.0)
    gumbels = -_C.log(-_C.log(u + eps) + eps)
    y = _C.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    idx = _C.argmax(y, dim, True)
    y_hard = _C.scatter(_C.zeros(list(logits.shape), logits.dtype), dim, idx, 1.0)
    return y_hard - y.detach() + y


def _alpha_dropout(input, p, training, inplace, feature, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"[{op}] dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if feature and input.dim() < 2:
        raise ValueError(f"[{op}] expected an input of at least 2 dims (N, C, ...), got {tuple(input.shape)}")
    if p == 1:
        out = input * 0.0
        return _inplace(input, out) if inplace else out
    alpha = 1.7580993408473766  # -SELU's negative saturation value, scaled
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    shape = list(input.shape[:2]) + [1] * (input.dim() - 2) if feature else list(input.shape)
    keep = _C.bernoulli_(_C.empty(shape, input.dtype), 1.0 - p)
    # x * keep * a + (keep - 1) * alpha * a + alpha * a * p: keeps SELU's mean and variance
    out = input * (keep * a) + ((keep - 1.0) * (alpha * a) + alpha * a * p)
    return _inplace(input, out) if inplace else out


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps zero mean and unit variance for SELU networks (dropped units take SELU's saturation)."""
    return _alpha_dropout(input, p, training, inplace, False, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (one draw per (N, C))."""
    return _alpha_dropout(input, p, training, inplace, True, "feature_alpha_dropout")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxes of embedding rows per bag: the rows of a 2-D input, or 1-D input cut at offsets."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"[embedding_bag] mode has to be one of sum, mean or max, got {mode!r}")
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError("[embedding_bag] max_norm and scale_grad_by_freq are not supported")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError("[embedding_bag] per_sample_weights is only supported for mode='sum'")
    if input.dtype != _C.dtype.int64:
        raise TypeError(f"[embedding_bag] input must be int64, got {input.dtype}")
    d = weight.shape[1]
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("[embedding_bag] offsets has to be None if input is 2D")
        b, n = input.shape
        flat = _C.reshape(input, [-1])
        bag = _C.reshape(_C.expand(_C.unsqueeze(_C.arange(0, b, 1, _C.dtype.int64), 1), [b, n]), [-1])
    elif input.dim() == 1:
        if offsets is None or offsets.dim() != 1:
            raise ValueError("[embedding_bag] a 1-D input needs 1-D offsets")
        flat = input
        offs = _C.slice(offsets, 0, 0, offsets.shape[0] - 1, 1) if include_last_offset else offsets
        b = offs.shape[0]
        bag = _C.searchsorted(offs, _C.arange(0, flat.shape[0], 1, _C.dtype.int64), True) - 1
    else:
        raise ValueError(f"[embedding_bag] input has to be 1D or 2D, got shape {tuple(input.shape)}")
    rows = _C.embedding(weight, flat, None)
    keep = _C.ne(flat, -1 if padding_idx is None else (padding_idx % weight.shape[0]))
    w = keep.to(weight.dtype)
    if per_sample_weights is not None:
        w = w * _C.reshape(per_sample_weights, [-1])
    if mode == "max":
        if input.dim() != 2:
            raise NotImplementedError("[embedding_bag] mode='max' is supported for 2-D input only")
        masked = _C.where(_C.unsqueeze(keep, 1), rows, -math.inf)
        out = _C.amax(_C.reshape(masked, [b, input.shape[1], d]), [1], False)
        return _C.where(_C.eq(out, -math.inf), 0.0, out)
    idx = _C.expand(_C.unsqueeze(bag, 1), [bag.shape[0], d])
    out = _C.scatter_add(_C.zeros([b, d], weight.dtype), 0, idx, rows * _C.unsqueeze(w, 1))
    if mode == "mean":
        cnt = _C.scatter_add(_C.zeros([b], weight.dtype), 0, bag, keep.to(weight.dtype))
        out = out / _C.unsqueeze(_C.clamp(cnt, 1.0, None), 1)
    return out


# ---- distances ---------------------------------------------------------------------------------

def _broadcast_shape(a, b, op):
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + list(a), [1] * (n - len(b)) + list(b)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError(f"[{op}] shapes {tuple(a)} and {tuple(b)} cannot be broadcast together")
        out.append(max(x, y) if 0 not in (x, y) else 0)
    return out


def _safe_root(s, p):
    """s ** (1/p) with a zero (not NaN) gradient where s == 0, like torch's norm backward."""
    pos = _C.gt(s, 0)
    safe = _C.where(pos, s, 1.0)
    r = _C.sqrt(safe) if p == 2 else _C.pow_scalar(safe, 1.0 / p)
    return _C.where(pos, r, 0.0)


def _vector_norm(x, p, dim, keepdim=False):
    """The p-norm of x over dim (p in (0, inf]); the minimum the distances need."""
    dims = [dim] if isinstance(dim, int) else list(dim)
    p = float(p)
    if p == math.inf:
        return _C.amax(_C.abs(x), dims, keepdim)
    if p == 0:
        return _C.sum(_C.ne(x, 0).to(x.dtype), dims, keepdim, None)
    if p == 1:
        return _C.sum(_C.abs(x), dims, keepdim, None)
    if p == 2:
        return _safe_root(_C.sum(x * x, dims, keepdim, None), 2)
    if p < 0:
        raise ValueError(f"[norm] p must be >= 0, got {p}")
    return _safe_root(_C.sum(_C.pow_scalar(_C.abs(x), p), dims, keepdim, None), p)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along dim (inputs broadcast together)."""
    def clamped_norm(x):
        n = _vector_norm(x, 2, dim, True)
        # torch clamps under no_grad: the value is clamped, the gradient is the norm's
        return n + (_C.clamp(n.detach(), float(eps), None) - n.detach())
    shape = _broadcast_shape(x1.shape, x2.shape, "cosine_similarity")
    x1, x2 = _C.expand(x1, shape), _C.expand(x2, shape)
    return _C.sum((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2)), [dim], False, None)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    nd = max(x1.dim(), x2.dim())
    if nd == 0:
        raise ValueError("[pairwise_distance] expected at least 1-D inputs")
    return _vector_norm(x1 - x2 + eps, p, -1, keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along dim."""
    if out is not None:
        raise TypeError("[normalize] the out= argument is not supported")
    return input / _C.clamp(_vector_norm(input, p, dim, True), float(eps), None)


def pdist(input, p=2):
    """Distances between all pairs of rows of a 2-D input, as the condensed upper triangle (i < j)."""
    if input.dim() != 2:
        raise ValueError(f"[pdist] expected a 2-D input, got shape {tuple(input.shape)}")
    n = input.shape[0]
    idx = _C.nonzero(_C.lt(_C.unsqueeze(_C.arange(0, n, 1, _C.dtype.int64), 1),
                           _C.unsqueeze(_C.arange(0, n, 1, _C.dtype.int64), 0)))
    i, j = _C.select(idx, 1, 0), _C.select(idx, 1, 1)
    return _vector_norm(_C.index_select(input, 0, i) - _C.index_select(input, 0, j), p, 1)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of x1 (..., P, M) and each row of x2 (..., R, M): (..., P, R)."""
    if x1.dim() < 2 or x2.dim() < 2:
        raise ValueError(f"[cdist] expected inputs of at least 2 dims, got {tuple(x1.shape)} and {tuple(x2.shape)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"[cdist] X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                         f"X2: {x2.shape[-1]}")
    return _vector_norm(_C.unsqueeze(x1, -2) - _C.unsqueeze(x2, -3), p, -1)


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T W_o x2 + b_o over the last dims; weight (out, in1, in2)."""
    if weight.dim() != 3:
        raise ValueError(f"[bilinear] weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}")
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1 or input2.shape[-1] != i2:
        raise ValueError(f"[bilinear] inputs {tuple(input1.shape)} and {tuple(input2.shape)} do not match weight "
                         f"{tuple(weight.shape)}")
    lead = list(input1.shape[:-1])
    a = _C.reshape(input1, [-1, i1])
    # (N, in1) x (in1, out*in2) -> (N, out, in2), then dot with x2 over in2
    t = _C.reshape(_C.matmul(a, _C.reshape(_C.permute(weight, [1, 0, 2]), [i1, o * i2])), [-1, o, i2])
    y = _C.sum(t * _C.unsqueeze(_C.reshape(input2, [-1, i2]), 1), [2], False, None)
    if bias is not None:
        y = y + bias
    return _C.reshape(y, lead + [o])


def channel_shuffle(input, groups):
    """Splits the channels (dim 1) into `groups` and interleaves them (ShuffleNet)."""
    if input.dim() < 3:
        raise ValueError(f"[channel_shuffle] expected at least 3-D input, got shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if groups <= 0 or c % groups:
        raise ValueError(f"[channel_shuffle] number of channels ({c}) must be divisible by groups ({groups})")
    rest = list(input.shape[2:])
    x = _C.reshape(input, [n, groups, c // groups] + rest)
    return _C.reshape(_C.contiguous(_C.transpose(x, 1, 2)), [n, c] + rest)


# ---- losses --------------------------------------------------------------------------------------

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target * (log target - input) (0 where target == 0).

    reduction='batchmean' divides the sum by the batch size (the mathematically correct KL)."""
    r = reduction if reduction == "batchmean" else _red(size_average, reduce, reduction)
    if log_target:
        loss = _C.exp(target) * (target - input)
    else:
        pos = _C.gt(target, 0)
        loss = _C.where(pos, target * (_C.log(_C.where(pos, target, 1.0)) - input), 0.0) \
            + _C.where(_C.lt(target, 0), target * float("nan"), 0.0)  # log of a negative target: NaN, like torch
    if r == "batchmean":
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    return _reduce(loss, r, "kl_div")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta) (= delta * smooth_l1 with beta = delta)."""
    if delta <= 0:
        raise ValueError(f"[huber_loss] delta must be positive, got {delta}")
    loss = _C.smooth_l1_loss(input, target, "none", float(delta)) * float(delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "huber_loss")


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1."""
    if input1.dim() not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise ValueError(f"[cosine_embedding_loss] expected 1-D or 2-D inputs of the same shape, got "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    d = input1.dim() - 1
    eps = 1e-12
    prod = _C.sum(input1 * input2, [d], False, None)
    m1 = _C.sum(input1 * input1, [d], False, None) + eps
    m2 = _C.sum(input2 * input2, [d], False, None) + eps
    cos = prod / _C.sqrt(m1 * m2)
    zero = cos * 0.0
    loss = _C.where(_C.eq(target, 1), 1.0 - cos, zero) + _C.where(_C.eq(target, -1), _C.clamp(cos - margin, 0.0, None), zero)
    return _reduce(loss, _red(size_average, reduce, reduction), "cosine_embedding_loss")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm pairwise distance."""
    dims = {anchor.dim(), positive.dim(), negative.dim()}
    if len(dims) != 1 or dims.pop() not in (1, 2):
        raise ValueError(f"[triplet_margin_loss] expected 1-D or 2-D anchor, positive and negative of the same dims, "
                         f"got {tuple(anchor.shape)}, {tuple(positive.shape)}, {tuple(negative.shape)}")
    return triplet_margin_with_distance_loss(
        anchor, positive, negative, distance_function=lambda a, b: pairwise_distance(a, b, p, eps), margin=margin,
        swap=swap, reduction=_red(size_average, reduce, reduction))


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) for any distance function (pairwise_distance by default)."""
    if margin <= 0:
        raise ValueError(f"[triplet_margin_with_distance_loss] margin must be greater than 0, got {margin}")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _C.minimum(d_neg, dist(positive, negative))
    return _reduce(_C.clamp(d_pos - d_neg + margin, 0.0, None), reduction, "triplet_margin_with_distance_loss")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise ValueError(f"[margin_ranking_loss] input1 {tuple(input1.shape)}, input2 {tuple(input2.shape)} and "
                         f"target {tuple(target.shape)} must have the same number of dims")
    loss = _C.clamp(-target * (input1 - input2) + margin, 0.0, None)
    return _reduce(loss, _red(size_average, reduce, reduction), "margin_ranking_loss")


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Mean over classes of the binary logistic loss of each label."""
    loss = -(target * _C.logsigmoid(input) + (1.0 - target) * _C.logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    c = input.shape[-1] if input.dim() else 1
    loss = _C.sum(loss, [input.dim() - 1] if input.dim() else [], False, None) / c
    return _reduce(loss, _red(size_average, reduce, reduction), "multilabel_soft_margin_loss")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target labels j and non-target labels i of max(0, 1 - (x[j] - x[i])) / C.

    target (N, C) int64 holds label indices, ended by the first -1."""
    if input.dim() not in (1, 2) or tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"[multilabel_margin_loss] expected input and target of the same 1-D or 2-D shape, got "
                         f"{tuple(input.shape)} and {tuple(target.shape)}")
    if target.dtype != _C.dtype.int64:
        raise TypeError(f"[multilabel_margin_loss] target must be int64, got {target.dtype}")
    x = _C.unsqueeze(input, 0) if input.dim() == 1 else input
    t = _C.unsqueeze(target, 0) if target.dim() == 1 else target
    c = x.shape[1]
    valid = _C.cumprod(_C.ne(t, -1).long(), 1)  # labels up to the first -1
    is_t = _C.gt(_C.scatter_add(_C.zeros(list(t.shape), _C.dtype.int64), 1, _C.clamp(t, 0.0, None), valid), 0)
    pair = _C.clamp(1.0 - _C.unsqueeze(x, 2) + _C.unsqueeze(x, 1), 0.0, None)  # [n, j, i] = 1 - (x_j - x_i)
    mask = _C.logical_and(_C.unsqueeze(is_t, 2), _C.unsqueeze(_C.eq(is_t, False), 1)).to(x.dtype)
    loss = _C.sum(pair * mask, [1, 2], False, None) / c
    if input.dim() == 1:
        loss = _C.reshape(loss, [])
    return _reduce(loss, _red(size_average, reduce, reduction), "multilabel_margin_loss")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])^p / C (weighted by weight[y])."""
    if p not in (1, 2):
        raise ValueError(f"[multi_margin_loss] only p == 1 and p == 2 are supported, got {p}")
    if input.dim() not in (1, 2):
        raise ValueError(f"[multi_margin_loss] expected 1-D or 2-D input, got shape {tuple(input.shape)}")
    x = _C.unsqueeze(input, 0) if input.dim() == 1 else input
    t = _C.reshape(target, [-1, 1])
    if t.shape[0] != x.shape[0]:
        raise ValueError(f"[multi_margin_loss] target of shape {tuple(target.shape)} does not match input "
                         f"{tuple(input.shape)}")
    c = x.shape[1]
    xy = _C.gather(x, 1, t)
    z = _C.clamp(margin - xy + x, 0.0, None)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _C.unsqueeze(_C.index_select(weight, 0, _C.reshape(t, [-1])), 1)
    not_y = _C.ne(_C.unsqueeze(_C.arange(0, c, 1, _C.dtype.int64), 0), t).to(x.dtype)
    loss = _C.sum(z * not_y, [1], False, None) / c
    if input.dim() == 1:
        loss = _C.reshape(loss, [])
    return _reduce(loss, _red(size_average, reduce, reduction), "multi_margin_loss")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target == 1, max(0, margin - input) where target == -1."""
    zero = input * 0.0
    loss = _C.where(_C.ne(target, 1), _C.clamp(margin - input, 0.0, None), zero) + _C.where(_C.ne(target, -1), input, zero)
    return _reduce(loss, _red(size_average, reduce, reduction), "hinge_embedding_loss")


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input))."""
    return _reduce(_C.softplus(-target * input, 1.0, 20.0), _red(size_average, reduce, reduction), "soft_margin_loss")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target * input (log_input) or input - target * log(input + eps); full adds Stirling's term."""
    if log_input:
        loss = _C.exp(input) - target * input
    else:
        loss = input - target * _C.log(input + eps)
    if full:
        t = target.detach()
        big = _C.gt(t, 1)
        ts = _C.where(big, t, 1.0)
        loss = loss + _C.where(big, ts * _C.log(ts) - ts + 0.5 * _C.log(2 * math.pi * ts), 0.0)
    return _reduce(loss, _red(size_average, reduce, reduction), "poisson_nll_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) when full)."""
    if isinstance(var, (int, float)):
        var = _C.full([1], float(var), input.dtype)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = _C.unsqueeze(var, -1)  # heteroscedastic with one variance per row
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1) and var.numel() != 1:
            raise ValueError(f"[gaussian_nll_loss] var of shape {tuple(var.shape)} does not match input "
                             f"{tuple(input.shape)}")
    if bool(_C.lt(var, 0).any()):
        raise ValueError("[gaussian_nll_loss] var has negative entry/entries")
    # torch clamps under no_grad: the value is clamped, the gradient passes as if it were not
    v = var + (_C.clamp(var.detach(), float(eps), None) - var.detach())
    loss = 0.5 * (_C.log(v) + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def _lengths(v, n, name):
    if isinstance(v, Tensor):
        return v.long()
    t = _C._to_tensor(list(v) if not isinstance(v, int) else [v] * n, _C.dtype.int64)
    return t


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss over log-probs (T, N, C) (C++ alpha/beta recursions).

    'mean' divides each sample's loss by its target length before averaging, like torch."""
    n = log_probs.shape[1] if log_probs.dim() == 3 else 1
    il, tl = _lengths(input_lengths, n, "input_lengths"), _lengths(target_lengths, n, "target_lengths")
    loss = _C.ctc_loss(log_probs, targets, il, tl, int(blank), bool(zero_infinity))
    if reduction == "mean":
        return (loss / _C.clamp(_C.reshape(tl, list(loss.shape)).to(loss.dtype), 1.0, None)).mean()
    return _reduce(loss, reduction, "ctc_loss")
