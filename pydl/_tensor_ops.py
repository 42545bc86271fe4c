"""The everyday torch.* functions and Tensor methods of issue 13 (part B).

Each function parses PyTorch's arguments and calls C++ ops of pydl._C: kernels where one exists
(cumprod, logcumsumexp, cummax, searchsorted, the unary math, bitwise ops, fmod, hypot, ...), or
a short composition of them (einsum as permutes + one batched matmul per pair, unique as sort +
masks + cumsum, diag_embed as one matmul, ...). Autograd runs through the composed ops; nothing
here loops over elements. Their Tensor methods are bound by pydl/_tensor_methods.py.
"""
import builtins
import collections
import math
import operator

import numpy as np

from . import _C
from ._C import Tensor
from ._functional import _values_indices

__all__ = [
    # unary math (C++ kernels) and aliases
    "fix", "polygamma", "mvlgamma", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
    "arctanh", "arctan2", "absolute", "negative", "positive", "sgn", "frac", "sinc", "logit", "deg2rad", "rad2deg",
    "signbit", "i0",
    # binary
    "lcm", "bitwise_not", "logaddexp2", "xlogy", "float_power", "true_divide",
    "divide", "multiply", "subtract", "rsub", "heaviside", "fmax", "fmin", "ldexp", "lerp",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "isclose", "isneginf", "isposinf", "isreal",
    "isin", "clamp_min", "clamp_max", "nan_to_num", "addcmul", "addcdiv", "addmm", "addmv", "addr", "addbmm",
    "baddbmm", "mv", "vdot", "inner", "ger", "kron", "tensordot", "einsum", "cross", "chain_matmul",
    # scans, sorting, searching, counting
    "cumprod", "logcumsumexp", "cummax", "cummin", "msort", "kthvalue", "median", "nanmedian", "quantile",
    "nanquantile", "mode", "searchsorted", "bucketize", "bincount", "histc", "unique", "unique_consecutive",
    "count_nonzero", "aminmax", "nansum", "nanmean", "std_mean", "var_mean", "cov", "corrcoef", "diff",
    "trapezoid", "trapz", "cumulative_trapezoid",
    # shape and layout
    "flip", "fliplr", "flipud", "rot90", "roll", "repeat_interleave", "tile", "movedim", "moveaxis", "swapaxes",
    "swapdims", "ravel", "broadcast_to", "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d",
    "atleast_3d", "hstack", "vstack", "dstack", "column_stack", "row_stack", "concatenate", "tensor_split", "hsplit",
    "vsplit", "dsplit", "split_with_sizes", "unflatten", "meshgrid", "cartesian_prod", "combinations", "block_diag",
    "diag", "diagonal", "diag_embed", "diagflat", "trace", "tril_indices", "triu_indices", "take", "index_add",
    "index_copy", "index_fill", "select", "t", "adjoint", "vander",
    # factories, sampling, misc
    "logspace", "range", "scalar_tensor", "asarray", "bernoulli", "multinomial", "normal", "poisson", "is_floating_point",
    "is_nonzero", "is_same_size", "is_signed", "result_type", "promote_types", "can_cast", "detach", "zero_", "fill",
    "fill_", "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window", "all", "any",
    "softmax", "log_softmax", "dist", "cdist", "pdist", "cosine_similarity", "pairwise_distance", "selu", "celu",
    "rrelu", "threshold", "prelu", "hardshrink", "relu_", "selu_", "celu_", "rrelu_", "threshold_", "dropout",
    "bilinear", "channel_shuffle", "ctc_loss",
    "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "batch_norm", "layer_norm",
    "embedding", "alpha_dropout", "feature_alpha_dropout", "kl_div", "binary_cross_entropy_with_logits",
    "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss", "poisson_nll_loss", "triplet_margin_loss",
    "frexp", "histogram", "unravel_index", "gradient", "select_scatter", "slice_scatter", "diagonal_scatter",
    "masked_scatter", "put", "renorm", "narrow_copy", "seed", "frombuffer", "get_default_device",
]



def _int(v, op):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"[{op}] expected an integer, got {type(v).__name__} {v!r}") from None


def _wrap(dim, n, op):
    if not -max(n, 1) <= dim < max(n, 1):
        raise IndexError(f"[{op}] dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
                         f"but got {dim})")
    return dim % max(n, 1)


def _t(x, like=None):
    """x as a tensor; a Python number becomes a 0-d tensor of like's dtype category (as in binary ops)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float)) and not isinstance(x, bool):
        if like.dtype.is_floating_point:
            return _C.full([], float(x), like.dtype)
        return _C.full([], float(x), _C.dtype.int64 if isinstance(x, int) else _default())
    return _C._to_tensor(x, None)


def _float(x):
    return x if x.dtype.is_floating_point else _C.to_dtype(x, _default())


def _default():
    from ._tensor import get_default_dtype
    return get_default_dtype()


def _i64(*shape_or_vals):
    return _C._to_tensor(list(shape_or_vals), _C.dtype.int64)


def _arange(n):
    return _C.arange(0, n, 1, _C.dtype.int64)


# ---- unary math --------------------------------------------------------------------------------

# (the C++ unary table's ops themselves reach pydl through pydl/_functional.py; these are torch's aliases)
fix = _C.trunc
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = _C.asin, _C.acos, _C.atan, _C.asinh, _C.acosh, _C.atanh
arctan2 = _C.atan2
absolute = _C.abs
negative = _C.neg
sgn = _C.sign


def positive(input):
    if input.dtype == _C.dtype.bool:
        raise TypeError("[positive] the `+` operator, on a bool tensor is not supported.")
    return input


def frac(input):
    """input - trunc(input)."""
    return input - _C.trunc(input)


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0."""
    x = _float(input)
    nz = _C.ne(x, 0)
    safe = _C.where(nz, x, 1.0) * math.pi
    return _C.where(nz, _C.sin(safe) / safe, 1.0)


def logit(input, eps=None):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given."""
    x = _float(input)
    if eps is not None:
        x = _C.clamp(x, float(eps), 1.0 - float(eps))
    return _C.log(x / (1.0 - x))


def deg2rad(input):
    return _float(input) * (math.pi / 180.0)


def rad2deg(input):
    return _float(input) * (180.0 / math.pi)


def signbit(input):
    """True where the sign bit is set (also for -0.0)."""
    if not input.dtype.is_floating_point:
        return _C.lt(input, 0)
    return _C.lt(_C.copysign(_C.full([], 1.0, input.dtype), input), 0)


def polygamma(n, input):
    """The n-th derivative of digamma (n = 0: digamma, n = 1: trigamma)."""
    n = _int(n, "polygamma")
    if n == 0:
        return _C.digamma(input)
    if n == 1:
        return _C.trigamma(input)
    raise NotImplementedError(f"[polygamma] only n = 0 and n = 1 are implemented, got n = {n}")


def mvlgamma(input, p):
    """The multivariate log-gamma of dimension p."""
    p = _int(p, "mvlgamma")
    if p < 1:
        raise ValueError(f"[mvlgamma] p has to be greater than or equal to 1, got {p}")
    x = _float(input)
    if bool(_C.le(x, (p - 1) / 2).any()):
        raise ValueError(f"[mvlgamma] all elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    # sum_i lgamma(x - i/2) over i < p in one broadcast op (a Python loop over a huge p hung)
    half = _C.arange(0.0, float(p), 1.0, x.dtype) * 0.5
    out = _C.sum(_C.lgamma(_C.sub(_C.unsqueeze(x, -1), half)), [-1], False, None)
    return out + p * (p - 1) / 4 * math.log(math.pi)


def i0(input):
    """The modified Bessel function of the first kind, order 0 (power series to 1e-16 relative)."""
    x = _float(input)
    q = (x * x) * 0.25
    term = _C.full([], 1.0, x.dtype) + q * 0
    out = term
    # the terms q^k / k!^2 peak near k = |x| / 2; |x| + 40 of them reach double precision
    top = float(_C.amax(_C.abs(x), [], False).item()) if x.numel() else 0.0
    for k in builtins.range(1, int(min(top, 1e4)) + 40):  # series terms, not elements
        term = term * q / (k * k)
        out = out + term
    return out


# ---- binary ------------------------------------------------------------------------------------

greater, greater_equal, less, less_equal, not_equal = _C.gt, _C.ge, _C.lt, _C.le, _C.ne
multiply = _C.mul
true_divide = _C.div


def bitwise_not(input):
    if input.dtype == _C.dtype.bool:
        return _C.eq(input, False)
    if input.dtype != _C.dtype.int64:
        raise TypeError(f"[bitwise_not] is only implemented for integer and bool tensors, got {input.dtype}")
    return -input - 1


def lcm(input, other):
    """|a * b| / gcd(a, b) (0 when either is 0)."""
    g = _C.gcd(input, other)
    return _C.abs(_C.where(_C.eq(g, 0), 0, _C.floor_divide(input, _C.where(_C.eq(g, 0), 1, g)) * other))


def subtract(input, other, *, alpha=1):
    return _C.sub(input, other if alpha == 1 else other * alpha)


def rsub(input, other, alpha=1):
    """other - alpha * input."""
    return _C.sub(_t(other, input), input if alpha == 1 else input * alpha)


def divide(input, other, *, rounding_mode=None):
    """input / other; rounding_mode 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is None:
        return _C.div(input, other)
    if rounding_mode == "floor":
        return _C.floor_divide(input, other)
    if rounding_mode == "trunc":
        a = input if isinstance(input, Tensor) else _t(input, other)
        b = _t(other, a)
        if a.dtype.is_floating_point or b.dtype.is_floating_point:
            return _C.trunc(_C.div(a, b))
        return _trunc_div_int(a, b)
    raise ValueError(f"[divide] expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                     f"'{rounding_mode}'")


def _trunc_div_int(a, b):
    # a - fmod(a, b) is an exact multiple of b
    return _C.floor_divide(_C.sub(a, _C.fmod(a, b)), b)


def logaddexp2(input, other):
    """log2(2^a + 2^b), computed stably."""
    return _C.logaddexp(_float(input) * math.log(2), _float(_t(other, input)) * math.log(2)) / math.log(2)


def xlogy(input, other):
    """x * log(y), 0 where x == 0 (unless y is NaN)."""
    x = _float(_t(input, other if isinstance(other, Tensor) else None))
    y = _float(_t(other, x))
    zero = _C.logical_and(_C.eq(x, 0), _C.eq(y, y))
    return _C.where(zero, 0.0, x * _C.log(_C.where(zero, 1.0, y)))


def float_power(input, exponent):
    """input ** exponent in float64."""
    a = _C.to_dtype(_t(input, exponent if isinstance(exponent, Tensor) else None), _C.dtype.float64)
    if isinstance(exponent, Tensor):
        return _C.pow(a, _C.to_dtype(exponent, _C.dtype.float64))
    return _C.pow_scalar(a, float(exponent))


def heaviside(input, values):
    """0 where input < 0, values where input == 0, 1 where input > 0."""
    return _C.where(_C.eq(input, 0), values, _C.gt(input, 0).to(values.dtype))


def fmax(input, other):
    """maximum that ignores NaN (NaN only where both are NaN)."""
    return _C.where(_C.ne(input, input), other, _C.where(_C.ne(other, other), input, _C.maximum(input, other)))


def fmin(input, other):
    return _C.where(_C.ne(input, input), other, _C.where(_C.ne(other, other), input, _C.minimum(input, other)))


def ldexp(input, other):
    """input * 2 ** other."""
    return _float(input) * _C.exp2(_float(_t(other, input)))


def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return input + weight * (end - input)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b| elementwise (infinities equal only to themselves)."""
    other = _t(other, input)
    if input.dtype != other.dtype and not (input.dtype.is_floating_point and other.dtype.is_floating_point):
        if input.dtype == _C.dtype.bool or other.dtype == _C.dtype.bool:
            raise TypeError(f"[isclose] {input.dtype} did not match {other.dtype}")
    eq = _C.eq(input, other)
    if not input.dtype.is_floating_point and not other.dtype.is_floating_point:
        if rtol == 0 and atol == 0:
            return eq
        a, b = _C.to_dtype(input, _C.dtype.float64), _C.to_dtype(other, _C.dtype.float64)
    else:
        a, b = input, other
    diff = _C.abs(a - b)
    finite = _C.logical_and(_C.ne(_C.abs(a), math.inf), _C.ne(_C.abs(b), math.inf))
    close = _C.logical_or(eq, _C.logical_and(finite, _C.le(diff, atol + rtol * _C.abs(b))))
    if equal_nan:
        close = _C.logical_or(close, _C.logical_and(_C.ne(a, a), _C.ne(b, b)))
    return close


def isneginf(input):
    return _C.eq(input, -math.inf) if input.dtype.is_floating_point else _C.ne(input, input)


def isposinf(input):
    return _C.eq(input, math.inf) if input.dtype.is_floating_point else _C.ne(input, input)


def isreal(input):
    """All true: pydl has no complex dtypes."""
    return _C.full(list(input.shape), 1.0, _C.dtype.bool)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element is in test_elements (one sort + searchsorted, no Python loop)."""
    e = _t(elements)
    s = _C.reshape(_t(test_elements, e), [-1])
    if s.numel() == 0:
        out = _C.zeros(list(e.shape), _C.dtype.bool)
    else:
        srt = _C.sort(s, 0, False)[0]
        pos = _C.clamp(_C.searchsorted(srt, _C.reshape(e, [-1]), False), 0.0, float(s.numel() - 1))
        out = _C.reshape(_C.eq(_C.index_select(srt, 0, pos), _C.reshape(e, [-1])), list(e.shape))
    return _C.logical_not(out) if invert else out


def clamp_min(input, min):  # noqa: A002
    from ._tensor import clamp
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    from ._tensor import clamp
    return clamp(input, max=max)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf (default: the dtype's max), -inf -> neginf (default: its lowest)."""
    if not input.dtype.is_floating_point:
        return input
    info = np.finfo(np.float32 if input.dtype == _C.dtype.float32 else np.float64)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = _C.where(_C.ne(input, input), float(nan), input)
    out = _C.where(_C.eq(out, math.inf), float(posinf), out)
    return _C.where(_C.eq(out, -math.inf), float(neginf), out)


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * (tensor1 / tensor2)


def _beta_alpha(input, prod, beta, alpha):
    out = prod if alpha == 1 else prod * alpha
    if beta == 0:  # input is ignored (NaN in it does not propagate), as in torch
        return _C.expand(out, _bshape(input.shape, out.shape))
    return (input if beta == 1 else input * beta) + out


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2)."""
    from ._tensor import mm
    return _beta_alpha(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _beta_alpha(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    from ._tensor import outer
    return _beta_alpha(input, outer(vec1, vec2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    from ._tensor import bmm
    return _beta_alpha(input, _C.sum(bmm(batch1, batch2), [0], False, None), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    from ._tensor import bmm
    return _beta_alpha(input, bmm(batch1, batch2), beta, alpha)


def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise ValueError(f"[mv] expected a 2-D matrix and a 1-D vector, got shapes {tuple(input.shape)} and "
                         f"{tuple(vec.shape)}")
    return _C.matmul(input, vec)


def vdot(input, other):
    from ._tensor import dot
    return dot(input, other)


def inner(input, other):
    """Sum over the last dims of input and other: shape input.shape[:-1] + other.shape[:-1]."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


def ger(input, vec2):
    from ._tensor import outer
    return outer(input, vec2)


def kron(input, other):
    """The Kronecker product: out[i*B + j] = a[i] * b[j] along every dim."""
    n = max(input.ndim, other.ndim)
    a = _C.reshape(input, [1] * (n - input.ndim) + list(input.shape))
    b = _C.reshape(other, [1] * (n - other.ndim) + list(other.shape))
    sa, sb = [], []
    for x, y in zip(a.shape, b.shape):
        sa += [x, 1]
        sb += [1, y]
    return _C.reshape(_C.reshape(a, sa) * _C.reshape(b, sb), [x * y for x, y in zip(a.shape, b.shape)])


def tensordot(a, b, dims=2, out=None):
    """Contracts dims of a with dims of b (an int: a's last `dims` with b's first `dims`)."""
    if out is not None:
        raise TypeError("[tensordot] the out= argument is not supported")
    if isinstance(dims, int) or (isinstance(dims, Tensor) and dims.ndim == 0):
        d = int(dims)
        if d < 0:
            raise ValueError(f"[tensordot] expects dims >= 0, but got dims={d}")
        da, db = list(builtins.range(a.ndim - d, a.ndim)), list(builtins.range(d))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise ValueError(f"[tensordot] both dimension lists should have same length, got {da} and {db}")
    da = [_wrap(d, a.ndim, "tensordot") for d in da]
    db = [_wrap(d, b.ndim, "tensordot") for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise ValueError(f"[tensordot] contracted dimensions need to match, but first has size {a.shape[x]} in dim "
                             f"{x} and second has size {b.shape[y]} in dim {y}")
    fa = [d for d in builtins.range(a.ndim) if d not in da]
    fb = [d for d in builtins.range(b.ndim) if d not in db]
    k = int(np.prod([a.shape[d] for d in da])) if da else 1
    am = _C.reshape(_C.permute(a, fa + da), [-1, k])
    bm = _C.reshape(_C.permute(b, db + fb), [k, -1])
    return _C.reshape(_C.matmul(am, bm), [a.shape[d] for d in fa] + [b.shape[d] for d in fb])


def cross(input, other, dim=None):
    """The 3-D cross product along dim (the first dim of size 3 when None)."""
    x, y = _C.expand(input, _bshape(input.shape, other.shape)), _C.expand(other, _bshape(input.shape, other.shape))
    if dim is None:
        dims = [i for i, s in enumerate(x.shape) if s == 3]
        if not dims:
            raise ValueError(f"[cross] no dimension of size 3 in input {tuple(input.shape)}")
        dim = dims[0]
    dim = _wrap(dim, x.ndim, "cross")
    if x.shape[dim] != 3:
        raise ValueError(f"[cross] inputs dimension {dim} must have length 3, got shape {tuple(x.shape)}")
    i1, i2 = _i64(1, 2, 0), _i64(2, 0, 1)
    return (_C.index_select(x, dim, i1) * _C.index_select(y, dim, i2)
            - _C.index_select(x, dim, i2) * _C.index_select(y, dim, i1))


def chain_matmul(*matrices):
    out = matrices[0]
    for m in matrices[1:]:
        out = _C.matmul(out, m)
    return out


def _bshape(a, b):
    from .nn._functional_breadth import _broadcast_shape
    return _broadcast_shape(a, b, "broadcast")


# ---- einsum ----------------------------------------------------------------------------------

def _einsum_parse(eq, operands):
    eq = eq.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"[einsum] the equation has {len(terms)} operands but {len(operands)} tensors were given")
    ell_n = 0
    for term, op in zip(terms, operands):
        if "..." in term:
            ell_n = max(ell_n, op.ndim - (len(term) - 3))
    ell = [chr(0x100 + i) for i in builtins.range(ell_n)]  # private labels for the dims under '...'
    subs = []
    for term, op in zip(terms, operands):
        if "..." in term:
            pre, post = term.split("...")
            k = op.ndim - len(pre) - len(post)
            labels = list(pre) + ell[ell_n - k:] + list(post)
        else:
            labels = list(term)
        if len(labels) != op.ndim:
            raise ValueError(f"[einsum] subscripts '{term}' do not match an operand of {op.ndim} dims "
                             f"{tuple(op.shape)}")
        for c in labels:
            if not (c.isalpha() or ord(c) >= 0x100):
                raise ValueError(f"[einsum] invalid subscript '{c}': only letters are allowed")
        subs.append(labels)
    if rhs is None:
        counts = collections.Counter(c for s in subs for c in s)
        out = ell + sorted(c for c, n in counts.items() if n == 1 and ord(c) < 0x100)
    else:
        if "..." in rhs:
            pre, post = rhs.split("...")
            out = list(pre) + ell + list(post)
        else:
            out = list(rhs)
        known = {c for s in subs for c in s}
        for c in out:
            if c not in known:
                raise ValueError(f"[einsum] output subscript '{c}' does not appear in the inputs")
        if len(set(out)) != len(out):
            raise ValueError(f"[einsum] output subscripts must be unique, got '{rhs}'")
    return subs, out


def _einsum_diag(x, labels):
    """Takes the diagonal of repeated labels in one operand (x * eye, summed over the copy)."""
    while len(set(labels)) != len(labels):
        for i, c in enumerate(labels):
            j = labels.index(c, i + 1) if labels.count(c) > 1 else -1
            if j > 0:
                break
        n = x.shape[i]
        if x.shape[j] != n:
            raise ValueError(f"[einsum] subscript '{c}' is repeated for dims of different sizes {n} and {x.shape[j]}")
        shape = [1] * x.ndim
        shape[i], shape[j] = n, n
        x = _C.sum(x * _C.reshape(_C.eye(n, n, x.dtype), shape), [j], False, None)
        labels = labels[:j] + labels[j + 1:]
    return x, labels


def _einsum_pair(a, la, b, lb, keep):
    """Contracts a (labels la) with b (labels lb), keeping the labels in `keep`; one batched matmul."""
    batch = [c for c in la if c in lb and c in keep]
    contract = [c for c in la if c in lb and c not in keep]
    only_a = [c for c in la if c not in lb]
    only_b = [c for c in lb if c not in la]
    size = {}
    for x, l in ((a, la), (b, lb)):
        for c, s in zip(l, x.shape):
            size[c] = s if size.get(c, 1) == 1 else size[c]
    a = _C.permute(a, [la.index(c) for c in batch + only_a + contract])
    b = _C.permute(b, [lb.index(c) for c in batch + contract + only_b])
    nb = len(batch)
    bs = [size[c] for c in batch]
    a = _C.expand(a, bs + list(a.shape[nb:]))
    b = _C.expand(b, bs + list(b.shape[nb:]))
    m = int(np.prod([size[c] for c in only_a])) if only_a else 1
    k = int(np.prod([size[c] for c in contract])) if contract else 1
    n = int(np.prod([size[c] for c in only_b])) if only_b else 1
    r = _C.matmul(_C.reshape(a, bs + [m, k]), _C.reshape(b, bs + [k, n]))
    return _C.reshape(r, bs + [size[c] for c in only_a] + [size[c] for c in only_b]), batch + only_a + only_b


def einsum(equation, *operands):
    """Einstein summation ('ij,jk->ik', '...' broadcasting, repeated labels for diagonals), contracted left to
    right, each pair as one batched matmul."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError("[einsum] the sublist form is not supported; pass an equation string")
    if not operands:
        raise ValueError("[einsum] must provide at least one operand")
    subs, out = _einsum_parse(equation, operands)
    xs = []
    for x, l in zip(operands, subs):
        x, l = _einsum_diag(x, list(l))
        # labels seen nowhere else and not in the output are summed right away
        others = set(out) | {c for s in subs if s is not l for c in s}
        drop = [i for i, c in enumerate(l) if c not in others and l.count(c) == 1 and sum(c in s for s in subs) == 1]
        if drop:
            x = _C.sum(x, drop, False, None)
            l = [c for i, c in enumerate(l) if i not in drop]
        xs.append((x, l))
    x, l = xs[0]
    for i in builtins.range(1, len(xs)):
        y, m = xs[i]
        later = set(out) | {c for _, s in xs[i + 1:] for c in s}
        x, l = _einsum_pair(x, l, y, m, later)
    extra = [i for i, c in enumerate(l) if c not in out]
    if extra:
        x = _C.sum(x, extra, False, None)
        l = [c for c in l if c in out]
    return _C.permute(x, [l.index(c) for c in out]) if l != out else x


# ---- scans, sorting, searching, counting ---------------------------------------------------------

def cumprod(input, dim, *, dtype=None):
    out = _C.cumprod(input, _int(dim, "cumprod"))
    return out if dtype is None else out.to(dtype)


def logcumsumexp(input, dim):
    return _C.logcumsumexp(_float(input), _int(dim, "logcumsumexp"))


def cummax(input, dim):
    return _values_indices(*_C.cummax(input, _int(dim, "cummax")))


def cummin(input, dim):
    return _values_indices(*_C.cummin(input, _int(dim, "cummin")))


def msort(input):
    return _C.sort(input, 0, False)[0]


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element along dim (1-based) and its index."""
    dim = _wrap(dim, input.ndim, "kthvalue")
    n = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"[kthvalue] k ({k}) is out of range for dimension {dim} of size {n}")
    v, i = _C.sort(input, dim, False)
    if input.ndim == 0:
        return _values_indices(v, i)
    v, i = _C.select(v, dim, k - 1), _C.select(i, dim, k - 1)
    if keepdim:
        v, i = _C.unsqueeze(v, dim), _C.unsqueeze(i, dim)
    return _values_indices(v, i)


def median(input, dim=None, keepdim=False):
    """The lower median (torch's convention); with dim, (values, indices)."""
    if dim is None:
        flat = _C.reshape(input, [-1])
        if flat.numel() == 0:
            return _C.full([], math.nan, input.dtype)
        return _C.select(_C.sort(flat, 0, False)[0], 0, (flat.numel() - 1) // 2)
    dim = _wrap(dim, input.ndim, "median")
    return kthvalue(input, (input.shape[dim] - 1) // 2 + 1 if input.ndim else 1, dim, keepdim)


def nanmedian(input, dim=None, keepdim=False):
    """median ignoring NaN (NaNs sort last; the lower median of the non-NaN values)."""
    if dim is None:
        flat = _C.reshape(input, [-1])
        cnt = int(_C.sum(_C.eq(flat, flat), [], False, None).item())
        if cnt == 0:
            return _C.full([], math.nan, input.dtype)
        return _C.select(_C.sort(flat, 0, False)[0], 0, (cnt - 1) // 2)
    dim = _wrap(dim, input.ndim, "nanmedian")
    v, i = _C.sort(input, dim, False)
    cnt = _C.sum(_C.eq(input, input), [dim], True, None)
    k = _C.clamp(_C.floor_divide(cnt - 1, 2), 0.0, None)
    vv, ii = _C.gather(v, dim, k), _C.gather(i, dim, k)
    if not keepdim:
        vv, ii = _C.squeeze(vv, [dim]), _C.squeeze(ii, [dim])
    return _values_indices(vv, ii)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest among ties) and an index of it."""
    dim = _wrap(dim, input.ndim, "mode")
    x = _C.contiguous(_C.transpose(input, dim, -1)) if input.ndim else _C.reshape(input, [1])
    v, idx = _C.sort(x, -1, False)
    n = v.shape[-1]
    # run lengths: position of each run's start, carried forward
    start = _C.ne(v, _C.cat([_C.slice(v, -1, 0, 1, 1) * 0 + math.nan if v.dtype.is_floating_point else
                             _C.slice(v, -1, 0, 1, 1) - 1, _C.slice(v, -1, 0, n - 1, 1)], -1))
    pos = _C.expand(_arange(n), list(v.shape))
    run_start = _C.cummax(_C.where(start, pos, 0), -1)[0]
    run_len = pos - run_start + 1
    best = _C.argmax(run_len, -1, True)  # the end of the longest (first) run
    vals = _C.squeeze(_C.gather(v, -1, best), [-1])
    ids = _C.squeeze(_C.gather(idx, -1, best), [-1])
    if input.ndim == 0:
        return _values_indices(_C.reshape(vals, []), _C.reshape(ids, []))
    vals, ids = (_C.transpose(_C.unsqueeze(t, -1), dim, -1) for t in (vals, ids)) if keepdim else (vals, ids)
    if keepdim:
        vals, ids = _C.contiguous(vals), _C.contiguous(ids)
    return _values_indices(vals, ids)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """Quantiles along dim (all elements when None) with torch's interpolation modes."""
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, True)


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    op = "nanquantile" if ignore_nan else "quantile"
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"[{op}] interpolation must be one of linear, lower, higher, midpoint or nearest. Got "
                         f"{interpolation}")
    scalar_q = not isinstance(q, Tensor) or q.ndim == 0
    qt = _C.reshape(q.to(input.dtype) if isinstance(q, Tensor) else _C.full([], float(q), input.dtype), [-1])
    if bool(_C.logical_or(_C.lt(qt, 0), _C.gt(qt, 1)).any()):
        raise ValueError(f"[{op}] q values must be in the range [0, 1]")
    x = _C.reshape(input, [-1]) if dim is None else input
    d = 0 if dim is None else _wrap(dim, input.ndim, op)
    x = _C.contiguous(_C.transpose(x, d, -1)) if x.ndim else _C.reshape(x, [1])
    v = _C.sort(x, -1, False)[0]
    n = v.shape[-1]
    valid = _C.sum(_C.eq(x, x), [-1], True, None).to(input.dtype)
    if ignore_nan:
        cnt = valid
    else:
        cnt = _C.full(list(valid.shape), float(n), input.dtype)
    rank = _C.unsqueeze(cnt - 1, -1) * qt  # (..., 1, nq)
    rank = _C.reshape(rank, list(cnt.shape[:-1]) + [qt.shape[0]])
    lo, hi = _C.floor(rank), _C.ceil(rank)
    if interpolation == "lower":
        pick = lo
    elif interpolation == "higher":
        pick = hi
    elif interpolation == "nearest":
        pick = _C.round(rank)
    else:
        pick = None
    clampn = float(max(n - 1, 0))
    if pick is not None:
        out = _C.gather(v, -1, _C.clamp(pick, 0.0, clampn).long())
    else:
        vl = _C.gather(v, -1, _C.clamp(lo, 0.0, clampn).long())
        vh = _C.gather(v, -1, _C.clamp(hi, 0.0, clampn).long())
        out = vl + (vh - vl) * ((rank - lo) if interpolation == "linear" else 0.5)
    if not ignore_nan:
        has_nan = _C.lt(valid, float(n))
        out = _C.where(has_nan, math.nan, out)
    else:
        out = _C.where(_C.eq(cnt, 0), math.nan, out)
    # (..., nq) -> (nq, ...) like torch
    out = _C.permute(out, [out.ndim - 1] + list(builtins.range(out.ndim - 1)))
    if keepdim:
        if dim is None:
            out = _C.reshape(out, [out.shape[0]] + [1] * input.ndim)
        else:
            out = _C.unsqueeze(out, d + 1)
    if scalar_q:
        out = _C.select(out, 0, 0)
    return out


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices where input would be inserted into sorted_sequence's last dim to keep it sorted (C++ binary search)."""
    if out_int32:
        raise TypeError("[searchsorted] out_int32=True is not supported (pydl has no int32 dtype)")
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"[searchsorted] side can only be 'left' or 'right', got '{side}'")
        if right and side == "left":
            raise ValueError("[searchsorted] side and right can't be set to opposites")
        right = side == "right"
    if sorter is not None:
        sorted_sequence = _C.gather(sorted_sequence, -1, sorter)
    scalar = not isinstance(input, Tensor)
    v = _t(input, sorted_sequence) if scalar else input
    if scalar:
        v = _C.reshape(v, [])
    out = _C.searchsorted(sorted_sequence, v, bool(right))
    return out


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """Bucket index of each input value among the 1-D sorted boundaries."""
    if boundaries.ndim != 1:
        raise ValueError(f"[bucketize] boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    """Counts (or sums of weights) of each value of a 1-D non-negative int64 tensor."""
    if input.ndim != 1 or input.dtype != _C.dtype.int64:
        raise ValueError(f"[bincount] expected a 1-D int64 tensor, got {input.dtype} of shape {tuple(input.shape)}")
    if minlength < 0:
        raise ValueError(f"[bincount] minlength should be >= 0, got {minlength}")
    if input.numel() and int(_C.amin(input, [], False).item()) < 0:
        raise ValueError("[bincount] input must contain non-negative values")
    n = max(int(_C.amax(input, [], False).item()) + 1 if input.numel() else 0, minlength)
    if weights is None:
        return _C.scatter_add(_C.zeros([n], _C.dtype.int64), 0, input, _C.full([input.shape[0]], 1.0, _C.dtype.int64))
    if tuple(weights.shape) != tuple(input.shape):
        raise ValueError(f"[bincount] weights {tuple(weights.shape)} must match input {tuple(input.shape)}")
    w = weights if weights.dtype.is_floating_point else _C.to_dtype(weights, _C.dtype.float64)
    return _C.scatter_add(_C.zeros([n], w.dtype), 0, input, w)


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Histogram of equal-width bins over [min, max] (the data's range when both are 0); outside values ignored."""
    if bins <= 0:
        raise ValueError(f"[histc] bins must be > 0, got {bins}")
    x = _C.reshape(input, [-1])
    lo, hi = float(min), float(max)
    if lo == hi and x.numel():
        lo, hi = float(_C.amin(x, [], False).item()), float(_C.amax(x, [], False).item())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"[histc] max must be larger than min, got min={min}, max={max}")
    inside = _C.logical_and(_C.ge(x, lo), _C.le(x, hi))
    idx = _C.clamp(_C.floor((x - lo) * (bins / (hi - lo))), 0.0, float(bins - 1)).long()
    w = inside.to(input.dtype)
    return _C.scatter_add(_C.zeros([bins], input.dtype), 0, idx, w)


def _unique_sorted(flat, return_inverse, return_counts, perm=None):
    n = flat.shape[0]
    if n == 0:
        out = [flat]
        if return_inverse:
            out.append(_C.zeros([0], _C.dtype.int64))
        if return_counts:
            out.append(_C.zeros([0], _C.dtype.int64))
        return out
    first = _C.cat([_C.full([1], 1.0, _C.dtype.bool), _C.ne(_C.slice(flat, 0, 1, n, 1), _C.slice(flat, 0, 0, n - 1, 1))], 0)
    vals = _C.masked_select(flat, first)
    out = [vals]
    if return_inverse:
        gid = _C.cumsum(first.long(), 0) - 1
        out.append(gid if perm is None else _C.scatter(_C.zeros([n], _C.dtype.int64), 0, perm, gid))
    if return_counts:
        starts = _C.reshape(_C.nonzero(first), [-1])
        ends = _C.cat([_C.slice(starts, 0, 1, starts.shape[0], 1), _i64(n)], 0)
        out.append(ends - starts)
    return out


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The sorted unique values (one sort, a mask of run starts, a cumsum for the inverse)."""
    if dim is not None:
        return _unique_dim(input, _wrap(dim, input.ndim, "unique"), return_inverse, return_counts)
    flat = _C.reshape(input, [-1])
    v, perm = _C.sort(flat, 0, False)
    out = _unique_sorted(v, return_inverse, return_counts, perm)
    if return_inverse:
        out[1] = _C.reshape(out[1], list(input.shape))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_dim(input, dim, return_inverse, return_counts):
    # rows along dim compared lexicographically: sort by each column from the last (stable sorts)
    x = _C.reshape(_C.contiguous(_C.transpose(input, 0, dim)), [input.shape[dim], -1])
    n, m = x.shape
    order = _arange(n)
    for c in builtins.range(m - 1, -1, -1):  # columns of the slice, not elements
        col = _C.index_select(_C.select(x, 1, c), 0, order)
        order = _C.index_select(order, 0, _C.sort(col, 0, False)[1])
    xs = _C.index_select(x, 0, order)
    if n:
        diff = _C.amax(_C.ne(_C.slice(xs, 0, 1, n, 1), _C.slice(xs, 0, 0, n - 1, 1)), [1], False) if m else \
            _C.zeros([n - 1], _C.dtype.bool)
        first = _C.cat([_C.full([1], 1.0, _C.dtype.bool), diff], 0)
    else:
        first = _C.zeros([0], _C.dtype.bool)
    rows = _C.reshape(_C.nonzero(first), [-1])
    vals = _C.index_select(xs, 0, rows)
    shape = list(_C.transpose(input, 0, dim).shape)
    shape[0] = rows.shape[0]
    out = [_C.contiguous(_C.transpose(_C.reshape(vals, shape), 0, dim))]
    if return_inverse:
        gid = _C.cumsum(first.long(), 0) - 1
        out.append(_C.scatter(_C.zeros([n], _C.dtype.int64), 0, order, gid))
    if return_counts:
        ends = _C.cat([_C.slice(rows, 0, 1, rows.shape[0], 1), _i64(n)], 0)
        out.append(ends - rows)
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapses runs of equal consecutive values."""
    if dim is not None:
        raise NotImplementedError("[unique_consecutive] dim= is not supported; use unique(dim=...)")
    out = _unique_sorted(_C.reshape(input, [-1]), return_inverse, return_counts)
    if return_inverse:
        out[1] = _C.reshape(out[1], list(input.shape))
    return out[0] if len(out) == 1 else tuple(out)


def count_nonzero(input, dim=None):
    from ._tensor import _dims
    return _C.sum(_C.ne(input, 0), _dims(dim), False, None)


def aminmax(input, *, dim=None, keepdim=False):
    mm = collections.namedtuple("aminmax", ["min", "max"])
    d = [] if dim is None else [dim]
    return mm(_C.amin(input, d, keepdim), _C.amax(input, d, keepdim))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from ._tensor import sum as _sum
    x = _C.where(_C.ne(input, input), 0.0, input) if input.dtype.is_floating_point else input
    return _sum(x, dim, keepdim, dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from ._tensor import _dims
    x = input if dtype is None else input.to(dtype)
    ok = _C.eq(x, x)
    return _C.sum(_C.where(ok, x, 0.0), _dims(dim), keepdim, None) / _C.sum(ok, _dims(dim), keepdim, None).to(x.dtype)


def std_mean(input, dim=None, *, correction=1, keepdim=False):
    from ._tensor import mean, std
    return std(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


def var_mean(input, dim=None, *, correction=1, keepdim=False):
    from ._tensor import mean, var
    return var(input, dim, keepdim=keepdim, correction=correction), mean(input, dim, keepdim)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) of a 2-D input whose columns are observations."""
    if input.ndim > 2:
        raise ValueError(f"[cov] expected input to have two or fewer dimensions but got an input with {input.ndim}")
    x = _C.reshape(input, [1, -1]) if input.ndim < 2 else input
    x = _float(x)
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        avg = _C.mean(x, [1], True)
        norm = n - correction
    else:
        wsum = _C.sum(w, [], False, None)
        avg = _C.sum(x * w, [1], True, None) / wsum
        if correction == 0:
            norm = wsum
        elif aweights is None:
            norm = wsum - correction
        else:
            norm = wsum - correction * _C.sum(w * aweights.to(x.dtype), [], False, None) / wsum
    xm = x - avg
    xw = xm if w is None else xm * w
    c = _C.matmul(xw, _C.transpose(xm, 0, 1)) / (norm if isinstance(norm, Tensor) else builtins.max(norm, 0))
    return _C.reshape(c, []) if input.ndim < 2 else c


def corrcoef(input):
    """Pearson correlation coefficients of the rows, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = _C.sqrt(_C.select(_C.reshape(c, [-1]), 0, 0) * 0 + diagonal(c))
    c = c / _C.unsqueeze(d, 1) / _C.unsqueeze(d, 0)
    return _C.clamp(c, -1.0, 1.0)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along dim (prepend/append joined first)."""
    dim = _wrap(dim, input.ndim, "diff")
    x = input
    if prepend is not None or append is not None:
        parts = ([prepend] if prepend is not None else []) + [x] + ([append] if append is not None else [])
        x = _C.cat(parts, dim)
    for _ in builtins.range(n):  # the order of the difference, not elements
        m = x.shape[dim]
        if m == 0:
            break
        a, b = _C.slice(x, dim, 1, m, 1), _C.slice(x, dim, 0, m - 1, 1)
        x = _C.logical_xor(a, b) if x.dtype == _C.dtype.bool else a - b
    return x


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along dim (spacing dx, or sample points x)."""
    dim = _wrap(dim, y.ndim, "trapezoid")
    m = y.shape[dim]
    if m == 0:
        return _C.sum(y, [dim], False, None)
    mid = (_C.slice(y, dim, 1, m, 1) + _C.slice(y, dim, 0, m - 1, 1)) * 0.5
    if x is not None:
        dxs = diff(x, dim=-1 if x.ndim == 1 else dim)
        if x.ndim == 1:
            shape = [1] * y.ndim
            shape[dim] = m - 1
            dxs = _C.reshape(dxs, shape)
        return _C.sum(mid * dxs, [dim], False, None)
    return _C.sum(mid, [dim], False, None) * (1.0 if dx is None else dx)


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    dim = _wrap(dim, y.ndim, "cumulative_trapezoid")
    m = y.shape[dim]
    mid = (_C.slice(y, dim, 1, m, 1) + _C.slice(y, dim, 0, m - 1, 1)) * 0.5
    if x is not None:
        dxs = diff(x, dim=-1 if x.ndim == 1 else dim)
        if x.ndim == 1:
            shape = [1] * y.ndim
            shape[dim] = m - 1
            dxs = _C.reshape(dxs, shape)
        mid = mid * dxs
    elif dx is not None:
        mid = mid * dx
    return _C.cumsum(mid, dim)


# ---- shape and layout -------------------------------------------------------------------------------

def _dimlist(dims, n, op):
    dims = [dims] if isinstance(dims, int) else list(dims)
    return [_wrap(_int(d, op), n, op) for d in dims]


def flip(input, dims):
    """Reverses the order along each of dims (a copy, like torch)."""
    x = input
    for d in _dimlist(dims, input.ndim, "flip"):
        n = x.shape[d] if x.ndim else 1
        if x.ndim:
            x = _C.index_select(x, d, _C.arange(n - 1, -1, -1, _C.dtype.int64))
    return x


def fliplr(input):
    if input.ndim < 2:
        raise ValueError("[fliplr] input must be >= 2-d")
    return flip(input, [1])


def flipud(input):
    if input.ndim < 1:
        raise ValueError("[flipud] input must be >= 1-d")
    return flip(input, [0])


def rot90(input, k=1, dims=(0, 1)):
    """Rotates by 90 degrees k times in the plane of dims (from the first towards the second)."""
    if len(dims) != 2:
        raise ValueError(f"[rot90] expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise ValueError(f"[rot90] expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _dimlist(dims, input.ndim, "rot90")
    if d0 == d1:
        raise ValueError(f"[rot90] expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return _C.transpose(flip(input, [d1]), d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return flip(_C.transpose(input, d0, d1), [d1])
    return _C.clone(input)


def roll(input, shifts, dims=None):
    """Rolls elements along dims by shifts (the flattened tensor when dims is None)."""
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise ValueError("[roll] shifts must be a single int when dims is None")
        s = shifts if isinstance(shifts, int) else shifts[0]
        return _C.reshape(roll(_C.reshape(input, [-1]), s, 0), list(input.shape))
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    dims = _dimlist(dims, input.ndim, "roll")
    if len(shifts) != len(dims):
        raise ValueError(f"[roll] shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    x = input
    for s, d in zip(shifts, dims):
        n = x.shape[d]
        if n:
            x = _C.index_select(x, d, _C.remainder(_arange(n) - s, n))
    return x


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeats each element (along dim, or of the flattened input) `repeats` times (an int or one count each)."""
    if repeats is None:  # repeat_interleave(repeats): indices 0..n-1 repeated
        counts = input
        return repeat_interleave(_arange(counts.shape[0]), counts)
    x = _C.reshape(input, [-1]) if dim is None else input
    d = 0 if dim is None else _wrap(dim, x.ndim, "repeat_interleave")
    if isinstance(repeats, int) or (isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.ndim == 0):
        r = int(repeats)
        if r < 0:
            raise ValueError(f"[repeat_interleave] repeats can not be negative, got {r}")
        shape = list(x.shape)
        e = _C.unsqueeze(x, d + 1)
        tgt = shape[:d + 1] + [r] + shape[d + 1:]
        return _C.reshape(_C.expand(e, tgt), shape[:d] + [shape[d] * r] + shape[d + 1:])
    reps = repeats.long()
    if reps.ndim != 1 or (reps.shape[0] != x.shape[d] and reps.shape[0] != 1):
        raise ValueError(f"[repeat_interleave] repeats must have the same size as input along dim, but got "
                         f"repeats.size(0) = {reps.shape[0]} and input.size({d}) = {x.shape[d]}")
    if reps.shape[0] == 1:
        return repeat_interleave(x, int(reps.item()), d)
    if reps.numel() and int(_C.amin(reps, [], False).item()) < 0:
        raise ValueError("[repeat_interleave] repeats can not be negative")
    ends = _C.cumsum(reps, 0)
    total = int(_C.select(ends, 0, ends.shape[0] - 1).item()) if ends.shape[0] else 0
    idx = _C.searchsorted(ends, _arange(total), True)  # the source index of each output position
    return _C.index_select(x, d, idx)


def tile(input, dims):
    from ._tensor_methods import _repeat
    dims = list(dims) if not isinstance(dims, int) else [dims]
    if len(dims) < input.ndim:
        dims = [1] * (input.ndim - len(dims)) + dims
    return _repeat(input, *dims)


def movedim(input, source, destination):
    src = _dimlist(source, input.ndim, "movedim")
    dst = _dimlist(destination, input.ndim, "movedim")
    if len(src) != len(dst):
        raise ValueError(f"[movedim] Invalid source or destination dims: source ({src} dims) should contain the same "
                         f"number of dims as destination ({dst} dims)")
    order = [d for d in builtins.range(input.ndim) if d not in src]
    perm = [None] * input.ndim
    for s, t in zip(src, dst):
        perm[t] = s
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    return _C.permute(input, perm)


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    return _C.transpose(input, axis0, axis1)


swapdims = swapaxes


def ravel(input):
    return _C.reshape(input, [-1])


def broadcast_shapes(*shapes):
    out = []
    for s in shapes:
        s = [s] if isinstance(s, int) else list(s)
        out = _bshape(out, s)
    from ._tensor import Size
    return Size(out)


def broadcast_to(input, size):
    return _C.expand(input, [_int(s, "broadcast_to") for s in size])


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = list(broadcast_shapes(*[t.shape for t in tensors]))
    return tuple(_C.expand(t, shape) for t in tensors)


def atleast_1d(*tensors):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [_C.reshape(t, [1]) if t.ndim == 0 else t for t in ts]
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_2d(*tensors):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = [_C.reshape(t, [1, -1]) if t.ndim < 2 else t for t in ts]
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def atleast_3d(*tensors):
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors

    def f(t):
        if t.ndim == 0:
            return _C.reshape(t, [1, 1, 1])
        if t.ndim == 1:
            return _C.reshape(t, [1, -1, 1])
        if t.ndim == 2:
            return _C.unsqueeze(t, 2)
        return t
    out = [f(t) for t in ts]
    return out[0] if len(out) == 1 and not isinstance(tensors[0], (list, tuple)) else tuple(out)


def hstack(tensors):
    ts = atleast_1d(list(tensors))
    return _C.cat(list(ts), 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    return _C.cat(list(atleast_2d(list(tensors))), 0)


row_stack = vstack


def dstack(tensors):
    return _C.cat(list(atleast_3d(list(tensors))), 2)


def column_stack(tensors):
    ts = [_C.reshape(t, [-1, 1]) if t.ndim <= 1 else t for t in tensors]
    return _C.cat(ts, 1)


def concatenate(tensors, axis=0):
    return _C.cat(list(tensors), axis)


def tensor_split(input, indices_or_sections, dim=0):
    """Splits into n nearly equal parts (an int) or at the given indices."""
    d = _wrap(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise ValueError(f"[tensor_split] number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        bounds = list(np.cumsum([0] + sizes))
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i), 0), n) for i in indices_or_sections] + [n]
    return tuple(_C.slice(input, d, int(a), builtins.max(int(a), int(b)), 1) for a, b in zip(bounds[:-1], bounds[1:]))


def _split_at(input, s, d, op):
    if isinstance(s, int) and input.shape[d] % s:
        raise ValueError(f"[{op}] torch.{op} attempted to split along dimension {d}, but the size of the dimension "
                         f"{input.shape[d]} is not divisible by the split_size {s}!")
    return tensor_split(input, s, d)


def hsplit(input, sections):
    return _split_at(input, sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input, sections):
    if input.ndim < 2:
        raise ValueError(f"[vsplit] requires a tensor with at least 2 dimension, but got a tensor with {input.ndim}")
    return _split_at(input, sections, 0, "vsplit")


def dsplit(input, sections):
    if input.ndim < 3:
        raise ValueError(f"[dsplit] requires a tensor with at least 3 dimension, but got a tensor with {input.ndim}")
    return _split_at(input, sections, 2, "dsplit")


def split_with_sizes(input, split_sizes, dim=0):
    return tuple(_C.split(input, [int(s) for s in split_sizes], dim))


def unflatten(input, dim, sizes):
    d = _wrap(dim, input.ndim, "unflatten")
    sizes = list(sizes)
    shape = list(input.shape)
    return _C.reshape(input, shape[:d] + sizes + shape[d + 1:])


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors ('ij' by default, like torch; 'xy' swaps the first two)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"[meshgrid] indexing must be one of 'xy' or 'ij', got {indexing!r}")
    ts = [_C.reshape(t, [-1]) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = [t.shape[0] for t in ts]
    out = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[i] = shape[i]
        out.append(_C.expand(_C.reshape(t, s), shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    grids = meshgrid(*tensors, indexing="ij")
    if len(grids) == 1:
        return grids[0]
    return _C.stack([_C.reshape(g, [-1]) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """Length-r combinations of the elements of a 1-D tensor (rows in lexicographic order of positions)."""
    if input.ndim != 1:
        raise ValueError(f"[combinations] expect a 1D vector, but got shape {tuple(input.shape)}")
    n = input.shape[0]
    if r == 0:
        return _C.zeros([0], input.dtype)
    grids = meshgrid(*([_arange(n)] * r), indexing="ij")
    keep = None
    for a, b in zip(grids[:-1], grids[1:]):
        ok = _C.le(a, b) if with_replacement else _C.lt(a, b)
        keep = ok if keep is None else _C.logical_and(keep, ok)
    if keep is None:
        return _C.clone(input)
    idx = _C.nonzero(keep)  # (k, r), lexicographic
    return _C.reshape(_C.index_select(input, 0, _C.reshape(idx, [-1])), [idx.shape[0], r])


def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors."""
    ts = [_C.reshape(t, [1, 1]) if t.ndim == 0 else (_C.reshape(t, [1, -1]) if t.ndim == 1 else t) for t in tensors]
    if builtins.any(t.ndim != 2 for t in ts):
        raise ValueError("[block_diag] input tensors must have 2 or fewer dimensions")
    if not ts:
        return _C.zeros([0, 0], _default())
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = promote_types(dt, t.dtype)
    cols = builtins.sum(t.shape[1] for t in ts)
    rows, c0 = [], 0
    for t in ts:  # one padded row block per input tensor
        h, w = t.shape
        rows.append(_C.pad(t.to(dt), [c0, cols - c0 - w], "constant", 0.0))
        c0 += w
    return _C.cat(rows, 0)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, as the last dim (a copy that carries gradients)."""
    if input.ndim < 2:
        raise ValueError(f"[diagonal] expected a tensor of at least 2 dims, got shape {tuple(input.shape)}")
    d1, d2 = _wrap(dim1, input.ndim, "diagonal"), _wrap(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"[diagonal] diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = _C.permute(input, [d for d in builtins.range(input.ndim) if d not in (d1, d2)] + [d1, d2])
    n, m = x.shape[-2], x.shape[-1]
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = builtins.max(0, builtins.min(n - r0, m - c0))
    rows = _C.arange(r0, r0 + length, 1, _C.dtype.int64)
    cols = _C.arange(c0, c0 + length, 1, _C.dtype.int64)
    return x[(Ellipsis, rows, cols)]


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Batched diagonal matrices whose diagonal (offset) is the last dim of input (one matmul with a one-hot)."""
    n = input.shape[-1]
    m = n + abs(offset)
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    flat = _C.arange(0, n, 1, _C.dtype.int64) * (m + 1) + (r0 * m + c0)
    sel = _C.scatter(_C.zeros([n, m * m], input.dtype if input.dtype.is_floating_point else _C.dtype.float64), 1,
                     _C.unsqueeze(flat, 1), 1.0)
    x = input if input.dtype.is_floating_point else input.to(sel.dtype)
    out = _C.reshape(_C.matmul(x, sel), list(input.shape[:-1]) + [m, m])
    if not input.dtype.is_floating_point:
        out = out.to(input.dtype)
    nd = out.ndim
    d1, d2 = _wrap(dim1, nd, "diag_embed"), _wrap(dim2, nd, "diag_embed")
    if (d1, d2) != (nd - 2, nd - 1):
        rest = iter(builtins.range(nd - 2))
        perm = []
        for i in builtins.range(nd):
            perm.append(nd - 2 if i == d1 else nd - 1 if i == d2 else next(rest))
        out = _C.permute(out, perm)
    return out


def diag(input, diagonal=0):
    """1-D input: the square matrix with input on the given diagonal; 2-D input: that diagonal."""
    if input.ndim == 1:
        return diag_embed(input, diagonal)
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise ValueError(f"[diag] expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def diagflat(input, offset=0):
    return diag_embed(_C.reshape(input, [-1]), offset)


def trace(input):
    if input.ndim != 2:
        raise ValueError(f"[trace] expected a matrix, but got tensor with dim {input.ndim}")
    return _C.sum(diagonal(input), [], False, None)


def _tri_indices(row, col, offset, lower):
    r = _C.unsqueeze(_arange(row), 1)
    c = _C.unsqueeze(_arange(col), 0)
    mask = _C.le(c - r, offset) if lower else _C.ge(c - r, offset)
    return _C.contiguous(_C.transpose(_C.nonzero(mask), 0, 1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """(2, k) indices of the lower triangle (on and below the offset diagonal), row-major."""
    return _tri_indices(row, col, offset, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, False)


def take(input, index):
    """input.flatten()[index]."""
    n = input.numel()
    idx = _C.remainder(index, n) if n else index
    if index.numel() and (int(_C.amax(index, [], False).item()) >= n or int(_C.amin(index, [], False).item()) < -n):
        raise IndexError(f"[take] index out of range for tensor of {n} elements")
    return _C.reshape(_C.index_select(_C.reshape(input, [-1]), 0, _C.reshape(idx, [-1])), list(index.shape))


def _index_along(input, dim, index, src_shape):
    d = _wrap(dim, input.ndim, "index")
    shape = [1] * len(src_shape)
    if len(src_shape):
        shape[d] = index.shape[0] if index.ndim else 1
    return d, _C.expand(_C.reshape(index, shape), list(src_shape))


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source added at `index` along dim (repeated indices accumulate)."""
    d, idx = _index_along(input, dim, index, source.shape)
    return _C.scatter_add(input, d, idx, source if alpha == 1 else source * alpha)


def index_copy(input, dim, index, source):
    d, idx = _index_along(input, dim, index, source.shape)
    return _C.scatter(input, d, idx, source)


def index_fill(input, dim, index, value):
    d = _wrap(dim, input.ndim, "index_fill")
    n = input.shape[d] if input.ndim else 1
    hit = _C.gt(_C.scatter_add(_C.zeros([n], _C.dtype.int64), 0, _C.remainder(_C.reshape(index, [-1]), n),
                               _C.full([index.numel()], 1.0, _C.dtype.int64)), 0)
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = n
    return _C.masked_fill(input, _C.reshape(hit, shape), value)


def select(input, dim, index):
    return _C.select(input, dim, index)


def t(input):
    if input.ndim > 2:
        raise ValueError(f"[t] expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return _C.transpose(input, 0, 1) if input.ndim == 2 else input


def adjoint(input):
    return _C.transpose(input, -2, -1)


def vander(x, N=None, increasing=False):  # noqa: N803
    n = x.shape[0] if N is None else N
    p = _C.arange(0, n, 1, _C.dtype.int64)
    if not increasing:
        p = flip(p, [0])
    xf = x if x.dtype.is_floating_point else x
    return _C.pow(_C.unsqueeze(xf, 1), _C.unsqueeze(p, 0))


# ---- factories, sampling, misc ---------------------------------------------------------------------

def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    from ._tensor import _dt, _finish
    return _finish(_C.pow(_C.full([], float(base), _C.dtype.float64),
                          _C.linspace(float(start), float(end), int(steps), _C.dtype.float64)).to(_dt(dtype)),
                   requires_grad)


def range(start=0, end=None, step=1, dtype=None, device=None, requires_grad=False):  # noqa: A001
    """Values from start to end inclusive by step (deprecated in torch; arange excludes end)."""
    from ._tensor import _dt, _finish
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    return _finish(_C.arange(float(start), float(start + (n - 0.5) * step), float(step), _dt(dtype)), requires_grad)


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    from ._tensor import _dt, _finish
    return _finish(_C.full([], float(s), _dt(dtype)), requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    from ._tensor import as_tensor, tensor
    if copy:
        out = tensor(obj, dtype=dtype)
    else:
        out = as_tensor(obj, dtype=dtype)
    return out.requires_grad_(True) if requires_grad else out


def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (or p), else 0."""
    prob = input if p is None else _C.full(list(input.shape), float(p), input.dtype)
    u = _C.uniform_(_C.empty(list(input.shape), input.dtype), 0.0, 1.0)
    return _C.lt(u, prob).to(input.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Samples category indices from the rows of input (non-negative weights)."""
    w = _float(input)
    if w.ndim not in (1, 2):
        raise ValueError(f"[multinomial] prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    if bool(_C.lt(w, 0).any()) or bool(_C.ne(w, w).any()):
        raise ValueError("[multinomial] probability tensor contains either `inf`, `nan` or element < 0")
    x = _C.unsqueeze(w, 0) if w.ndim == 1 else w
    n = x.shape[1]
    if x.numel() == 0 or bool(_C.le(_C.sum(x, [1], False, None), 0).any()):
        raise ValueError("[multinomial] invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > n:
        raise ValueError(f"[multinomial] cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                         f"({num_samples} > {n})")
    if replacement:
        cdf = _C.cumsum(x, 1)
        tot = _C.slice(cdf, 1, n - 1, n, 1)
        u = _C.uniform_(_C.empty([x.shape[0], num_samples], x.dtype), 0.0, 1.0) * tot
        out = _C.clamp(_C.searchsorted(cdf, u, True), 0.0, float(n - 1))
    else:
        # Gumbel top-k: k samples without replacement in proportion to the weights
        u = _C.uniform_(_C.empty(list(x.shape), x.dtype), 1e-20, 1.0)
        keys = _C.where(_C.gt(x, 0), _C.log(_C.where(_C.gt(x, 0), x, 1.0)), -math.inf) - _C.log(-_C.log(u))
        out = _C.topk(keys, int(num_samples), 1, True)[1]
    return _C.select(out, 0, 0) if w.ndim == 1 else out


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(mean, std^2): tensors broadcast, or floats with a size."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean if isinstance(mean, Tensor) else _t(float(mean), std)
        s = std if isinstance(std, Tensor) else _t(float(std), m)
        shape = _bshape(m.shape, s.shape)
        z = _C.normal_(_C.empty(shape, m.dtype if m.dtype.is_floating_point else s.dtype), 0.0, 1.0)
        return m + s * z
    from ._tensor import _dt, _finish
    if size is None:
        raise TypeError("[normal] with float mean and std, size= is required")
    return _finish(_C.normal_(_C.empty(list(size), _dt(dtype)), float(mean), float(std)), requires_grad)


def poisson(input, generator=None):
    """Poisson samples with rates `input` (inversion by sequential search, vectorised over elements)."""
    lam = _float(input)
    u = _C.uniform_(_C.empty(list(lam.shape), lam.dtype), 0.0, 1.0)
    # count how many cumulative probabilities lie below u; the search runs for max(rate) + 10 sqrt(max) + 20 terms
    mx = float(_C.amax(lam, [], False).item()) if lam.numel() else 0.0
    terms = int(mx + 10 * math.sqrt(mx) + 20)
    p = _C.exp(-lam)
    cdf = p
    k = _C.zeros(list(lam.shape), lam.dtype)
    for i in builtins.range(1, terms + 1):  # terms of the series, not elements
        k = k + _C.gt(u, cdf).to(lam.dtype)
        p = p * lam / i
        cdf = cdf + p
    return k


def is_floating_point(input):
    return input.dtype.is_floating_point


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError(f"[is_nonzero] Boolean value of Tensor with {'no values' if input.numel() == 0 else 'more than one value'} is ambiguous")
    return builtins.bool(input.item())


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    return input.dtype != _C.dtype.bool


def result_type(tensor1, tensor2):
    """The dtype a binary op of the two would produce."""
    a = tensor1 if isinstance(tensor1, Tensor) else _t(tensor1, tensor2 if isinstance(tensor2, Tensor) else None)
    b = _t(tensor2, a)
    return _C.add(_C.reshape(a, [-1])[:1], _C.reshape(b, [-1])[:1]).dtype


_RANK = {"bool": 0, "int64": 1, "float32": 2, "float64": 3}


def promote_types(type1, type2):
    a, b = _C._parse_dtype(type1), _C._parse_dtype(type2)
    return a if _RANK[str(a).split(".")[-1]] >= _RANK[str(b).split(".")[-1]] else b


def can_cast(from_, to):
    a, b = _C._parse_dtype(from_), _C._parse_dtype(to)
    ra, rb = _RANK[str(a).split(".")[-1]], _RANK[str(b).split(".")[-1]]
    # torch forbids float -> integral and non-bool -> bool
    if a.is_floating_point and not b.is_floating_point:
        return False
    if b == _C.dtype.bool and a != _C.dtype.bool:
        return False
    return ra <= rb or (a.is_floating_point and b.is_floating_point)


def detach(input):
    return input.detach()


def zero_(input):
    return _C.zero_(input)


def fill(input, value):
    """A new tensor of input's shape and dtype filled with value."""
    return _C.full(list(input.shape), float(value), input.dtype)


def fill_(input, value):
    return _C.fill_(input, float(value))


def _window(n, periodic, dtype, f):
    from ._tensor import _dt
    if n == 0:
        return _C.zeros([0], _dt(dtype))
    if n == 1:
        return _C.full([1], 1.0, _dt(dtype))
    m = n if periodic else n - 1
    k = _C.arange(0, n, 1, _C.dtype.float64)
    return f(k, m).to(_dt(dtype))


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window(window_length, periodic, dtype, lambda k, m: 0.5 - 0.5 * _C.cos(k * (2 * math.pi / m)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    return _window(window_length, periodic, dtype, lambda k, m: alpha - beta * _C.cos(k * (2 * math.pi / m)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window(window_length, periodic, dtype, lambda k, m: 0.42 - 0.5 * _C.cos(k * (2 * math.pi / m))
                   + 0.08 * _C.cos(k * (4 * math.pi / m)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window(window_length, periodic, dtype, lambda k, m: 1.0 - _C.abs(k * (2.0 / m) - 1.0))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    def f(k, m):
        r = k * (2.0 / m) - 1.0
        return i0(beta * _C.sqrt(_C.clamp(1.0 - r * r, 0.0, None))) / float(i0(_C.full([], beta, _C.dtype.float64)))
    return _window(window_length, periodic, dtype, f)


def all(input, dim=None, keepdim=False):  # noqa: A001
    return input.all(dim, keepdim) if dim is not None else input.all()


def any(input, dim=None, keepdim=False):  # noqa: A001
    return input.any(dim, keepdim) if dim is not None else input.any()


def softmax(input, dim, dtype=None):
    from .nn.functional import softmax as f
    return f(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    from .nn.functional import log_softmax as f
    return f(input, dim, dtype=dtype)


def dist(input, other, p=2):
    """||input - other||_p over all elements."""
    from .nn._functional_breadth import _vector_norm
    d = input - other
    return _vector_norm(d, p, list(builtins.range(d.ndim)))


def dropout(input, p, train):
    return _C.dropout(input, float(p), builtins.bool(train))


def _nn(name):
    def f(*args, **kwargs):
        from .nn import functional as F
        return getattr(F, name)(*args, **kwargs)
    f.__name__ = name
    f.__doc__ = f"torch.{name}: the same as pydl.nn.functional.{name}."
    return f


(cdist, pdist, cosine_similarity, pairwise_distance, selu, celu, rrelu, threshold, prelu, hardshrink, selu_, celu_,
 rrelu_, threshold_, bilinear, channel_shuffle) = (
    _nn(n) for n in ("cdist", "pdist", "cosine_similarity", "pairwise_distance", "selu", "celu", "rrelu", "threshold",
                     "prelu", "hardshrink", "selu_", "celu_", "rrelu_", "threshold_", "bilinear", "channel_shuffle"))


def relu_(input):
    return input.copy_(_C.relu(input.clone() if input.requires_grad else input))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    """torch.ctc_loss: reduction as an int (0 none, 1 mean, 2 sum)."""
    from .nn.functional import ctc_loss as f
    red = {0: "none", 1: "mean", 2: "sum"}.get(reduction, reduction)
    return f(log_probs, targets, input_lengths, target_lengths, blank, red, zero_infinity)


# ---- torch.* forms with torch's own signatures, the in-place functions and the *_copy variants ----

def _reduction_name(r, op):
    """torch.*'s int reduction (these forms default to 0, 'none', as torch's do)."""
    if isinstance(r, str):
        return r
    try:
        return {0: "none", 1: "mean", 2: "sum"}[r]
    except KeyError:
        raise ValueError(f"[{op}] reduction must be 0 (none), 1 (mean) or 2 (sum), got {r}") from None


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    from .nn.functional import conv1d as f
    return f(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    from .nn.functional import conv2d as f
    return f(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    from .nn.functional import conv_transpose2d as f
    return f(input, weight, bias, stride, padding, output_padding, groups, dilation)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    from .nn.functional import max_pool1d as f
    return f(input, kernel_size, stride if stride != () else None, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    from .nn.functional import max_pool2d as f
    return f(input, kernel_size, stride if stride != () else None, padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    from .nn.functional import avg_pool1d as f
    return f(input, kernel_size, stride if stride != () else None, padding, ceil_mode, count_include_pad)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """torch.batch_norm: note the order (weight, bias before the running statistics)."""
    from .nn.functional import batch_norm as f
    return f(input, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    from .nn.functional import layer_norm as f
    return f(input, normalized_shape, weight, bias, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """torch.embedding(weight, indices): note the order; padding_idx -1 means none."""
    return _C.embedding(weight, indices, None if padding_idx is None or padding_idx < 0 else int(padding_idx))


def alpha_dropout(input, p, train):
    from .nn.functional import alpha_dropout as f
    return f(input, p, train)


def feature_alpha_dropout(input, p, train):
    from .nn.functional import feature_alpha_dropout as f
    return f(input, p, train)


def kl_div(input, target, reduction=0, log_target=False):
    from .nn.functional import kl_div as f
    return f(input, target, reduction=_reduction_name(reduction, "kl_div"), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    from .nn.functional import binary_cross_entropy_with_logits as f
    return f(input, target, weight, reduction=_reduction_name(reduction, "binary_cross_entropy_with_logits"),
             pos_weight=pos_weight)


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    from .nn.functional import hinge_embedding_loss as f
    return f(input, target, margin, reduction=_reduction_name(reduction, "hinge_embedding_loss"))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    from .nn.functional import margin_ranking_loss as f
    return f(input1, input2, target, margin, reduction=_reduction_name(reduction, "margin_ranking_loss"))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    from .nn.functional import cosine_embedding_loss as f
    return f(input1, input2, target, margin, reduction=_reduction_name(reduction, "cosine_embedding_loss"))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    from .nn.functional import poisson_nll_loss as f
    return f(input, target, log_input, full, eps=eps, reduction=_reduction_name(reduction, "poisson_nll_loss"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, reduction=0):
    from .nn.functional import triplet_margin_loss as f
    return f(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction_name(reduction, "triplet_margin_loss"))


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2**exponent and 0.5 <= |mantissa| < 1 (exponent int64)."""
    if not input.dtype.is_floating_point:
        raise TypeError(f"[frexp] expected a floating tensor, got {input.dtype}")
    x = input.detach()
    finite_nz = _C.logical_and(_C.ne(x, 0), _C.lt(_C.abs(x), math.inf))  # also False for NaN
    ax = _C.where(finite_nz, _C.abs(x), 1.0)
    e = _C.floor(_C.log2(ax)) + 1.0
    m = x / _C.exp2(e)  # powers of two scale exactly
    # log2 may round across a power of two: one correction step either way
    big, small = _C.ge(_C.abs(m), 1.0), _C.lt(_C.abs(m), 0.5)
    m = _C.where(big, m * 0.5, _C.where(small, m * 2.0, m))
    e = e + big.to(e.dtype) - small.to(e.dtype)
    return _C.where(finite_nz, m, x), _C.where(finite_nz, e, 0.0).long()


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges) with equal-width bins over range (the data's range by default)."""
    x = _C.reshape(input, [-1])
    if isinstance(bins, Tensor):
        edges = bins.to(input.dtype)
        idx = _C.searchsorted(edges, x, True) - 1
        nb = edges.shape[0] - 1
        last = _C.eq(x, _C.select(edges, 0, nb))
        idx = _C.where(last, nb - 1, idx)
        inside = _C.logical_and(_C.ge(idx, 0), _C.lt(idx, nb))
    else:
        lo, hi = (float(range[0]), float(range[1])) if range is not None else (
            (float(_C.amin(x, [], False).item()), float(_C.amax(x, [], False).item())) if x.numel() else (0.0, 1.0))
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        nb = int(bins)
        edges = _C.linspace(lo, hi, nb + 1, input.dtype)
        inside = _C.logical_and(_C.ge(x, lo), _C.le(x, hi))
        idx = _C.clamp(_C.floor((x - lo) * (nb / (hi - lo))), 0.0, float(nb - 1)).long()
    w = inside.to(input.dtype) if weight is None else inside.to(input.dtype) * _C.reshape(weight, [-1])
    hist = _C.scatter_add(_C.zeros([nb], input.dtype), 0, _C.clamp(idx, 0.0, float(max(nb - 1, 0))), w)
    if density:
        hist = hist / (_C.sum(hist, [], False, None) * (_C.slice(edges, 0, 1, nb + 1, 1) - _C.slice(edges, 0, 0, nb, 1)))
    return hist, edges


def unravel_index(indices, shape):
    """Flat indices -> a tuple of coordinate tensors for `shape` (row-major)."""
    idx = indices if isinstance(indices, Tensor) else _C._to_tensor(indices, _C.dtype.int64)
    if idx.dtype != _C.dtype.int64:
        raise TypeError(f"[unravel_index] expected an integer indices tensor, got {idx.dtype}")
    shape = [shape] if isinstance(shape, int) else list(shape)
    n = int(np.prod(shape)) if shape else 1
    if idx.numel() and (int(_C.amax(idx, [], False).item()) >= n or int(_C.amin(idx, [], False).item()) < -n):
        raise IndexError(f"[unravel_index] index out of bounds for shape {tuple(shape)}")
    idx = _C.remainder(idx, n) if n else idx
    out = []
    for s in reversed(shape):  # one step per dim of the shape
        out.append(_C.remainder(idx, s))
        idx = _C.floor_divide(idx, s)
    return tuple(reversed(out))


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences inside, one-sided (edge_order 1) at the ends, along each dim (NumPy's gradient)."""
    if edge_order != 1:
        raise NotImplementedError("[gradient] only edge_order=1 is supported")
    dims = list(builtins.range(input.ndim)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    sp = spacing if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    out = []
    for d, h in zip(dims, sp):
        d = _wrap(d, input.ndim, "gradient")
        n = input.shape[d]
        if n < 2:
            raise ValueError(f"[gradient] each dimension needs at least 2 samples, dim {d} has {n}")
        h = float(h.item()) if isinstance(h, Tensor) else float(h)
        x = _float(input)
        first = (_C.slice(x, d, 1, 2, 1) - _C.slice(x, d, 0, 1, 1)) / h
        last = (_C.slice(x, d, n - 1, n, 1) - _C.slice(x, d, n - 2, n - 1, 1)) / h
        parts = [first]
        if n > 2:
            parts.append((_C.slice(x, d, 2, n, 1) - _C.slice(x, d, 0, n - 2, 1)) / (2 * h))
        parts.append(last)
        out.append(_C.cat(parts, d))
    return tuple(out)


def select_scatter(input, src, dim, index):
    """A copy of input with src written into input.select(dim, index)."""
    d = _wrap(dim, input.ndim, "select_scatter")
    out = _C.clone(input)
    out[(slice(None),) * d + (index,)] = src
    return out


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    d = _wrap(dim, input.ndim, "slice_scatter")
    out = _C.clone(input)
    out[(slice(None),) * d + (slice(start, end, step),)] = src
    return out


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with src written on its diagonal(offset, dim1, dim2)."""
    d1, d2 = _wrap(dim1, input.ndim, "diagonal_scatter"), _wrap(dim2, input.ndim, "diagonal_scatter")
    n, m = input.shape[d1], input.shape[d2]
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    length = builtins.max(0, builtins.min(n - r0, m - c0))
    perm = [d for d in builtins.range(input.ndim) if d not in (d1, d2)] + [d1, d2]
    out = _C.clone(_C.permute(input, perm))  # a fresh tensor (not a view) to write into
    out[(Ellipsis, _C.arange(r0, r0 + length, 1, _C.dtype.int64), _C.arange(c0, c0 + length, 1, _C.dtype.int64))] = src
    inv = [perm.index(i) for i in builtins.range(input.ndim)]
    return _C.contiguous(_C.permute(out, inv))


def masked_scatter(input, mask, source):
    """A copy of input with the first mask.sum() elements of source written where mask is true (row-major)."""
    m = _C.expand(mask, _bshape(mask.shape, input.shape)) if tuple(mask.shape) != tuple(input.shape) else mask
    k = int(_C.sum(m, [], False, None).item())
    if source.numel() < k:
        raise ValueError(f"[masked_scatter] source has {source.numel()} elements but the mask selects {k}")
    out = _C.clone(_C.expand(input, list(m.shape)))
    out[m] = _C.slice(_C.reshape(source, [-1]), 0, 0, k, 1)
    return out


def put(input, index, source, accumulate=False):
    """A copy of input with source written (or added) at the flat positions index."""
    flat = _C.reshape(_C.clone(input), [-1])
    n = flat.shape[0]
    out = _C.index_put(flat, (_C.remainder(_C.reshape(index, [-1]), n),), _C.reshape(source, [-1]), builtins.bool(accumulate))
    return _C.reshape(out, list(input.shape))


def renorm(input, p, dim, maxnorm):
    """Each slice along dim rescaled to p-norm at most maxnorm."""
    from .nn._functional_breadth import _vector_norm
    d = _wrap(dim, input.ndim, "renorm")
    others = [i for i in builtins.range(input.ndim) if i != d]
    norm = _vector_norm(input, p, others, True)
    factor = _C.where(_C.gt(norm, maxnorm), maxnorm / (norm + 1e-7), 1.0)
    return input * factor


def narrow_copy(input, dim, start, length):
    return _C.contiguous(_C.clone(_C.slice(input, dim, start, start + length, 1)))


def seed():
    """Seeds the generator from the OS's entropy and returns the seed (like torch.seed)."""
    import os
    s = int.from_bytes(os.urandom(8), "little") & ((1 << 63) - 1)
    _C.manual_seed(s)
    return s


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor sharing memory with a Python buffer (bytes, bytearray, memoryview, array)."""
    arr = np.frombuffer(buffer, dtype=np.dtype(str(_C._parse_dtype(dtype)).split(".")[-1]), count=count,
                        offset=offset)
    t = _C.from_numpy(arr) if arr.flags.writeable else _C._to_tensor(arr, None)
    return t.requires_grad_(True) if requires_grad else t


def get_default_device():
    from ._tensor import device
    return device("cpu")


def _copy_variant(fn, name):
    def f(*args, **kwargs):
        out = fn(*args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(_C.clone(o) for o in out)
        return _C.clone(out)
    f.__name__ = name
    f.__doc__ = f"torch.{name}: like {name[:-5]}, but returns a new tensor (never a view)."
    return f


def _install_torch_functions():
    """torch.<name>_ functions that are not Tensor methods and torch.<view op>_copy variants on the pydl namespace
    (the pydl.<name>_ of Tensor's in-place methods come with them: pydl/_tensor_methods.py)."""
    import pydl
    pydl.index_put_ = lambda input, indices, values, accumulate=False: input.index_put_(indices, values, accumulate)
    pydl.dropout_ = lambda input, p, train: input.copy_(_C.dropout(input.clone() if input.requires_grad else input,
                                                                   float(p), builtins.bool(train)))
    pydl.alpha_dropout_ = lambda input, p, train: pydl.nn.functional.alpha_dropout(input, p, train, True)
    pydl.feature_alpha_dropout_ = lambda input, p, train: pydl.nn.functional.feature_alpha_dropout(input, p, train, True)
    views = {"expand": lambda x, size: _C.expand(x, list(size)), "permute": lambda x, dims: _C.permute(x, list(dims)),
             "select": select, "slice": lambda x, dim=0, start=None, end=None, step=1: _C.slice(x, dim, start, end, step),
             "squeeze": lambda x, dim=None: pydl.squeeze(x, dim), "unsqueeze": _C.unsqueeze, "t": t,
             "transpose": _C.transpose, "view": lambda x, size: _C.view(x, list(size)),
             "diagonal": diagonal, "detach": lambda x: x.detach(), "alias": lambda x: x, "unbind": pydl.unbind,
             "split": pydl.split, "split_with_sizes": split_with_sizes}
    for name, fn in views.items():
        setattr(pydl, name + "_copy", _copy_variant(fn, name + "_copy"))
