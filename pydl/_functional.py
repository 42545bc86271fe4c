"""Functional forms: pydl.add, sum, max, cat, reshape, ... parse PyTorch's arguments and call one op of pydl._C.

The elementwise ops come straight from the C++ tables (pydl._C._unary_ops, _binary_ops), the reductions by their
argument form (pydl._C._reductions).
"""
import builtins
import collections

import numpy as np

from . import _C
from ._C import Tensor
from ._args import _default_dtype, _dims, _dt, _index

__all__ = [
    "clamp", "clip", "matmul", "mm", "bmm", "max", "min", "cat", "concat", "stack", "split", "chunk", "reshape", "flatten", "transpose",
    "permute", "squeeze", "unsqueeze", "allclose", "equal", "clone", "logical_not", "outer", "dot", "unbind",
    "isnan", "isinf", "isfinite", "narrow", "tril", "triu", "norm",
]

_values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _out(result, out, op):
    """``result`` written into ``out`` (PyTorch's out= argument), or ``result`` when out is None."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"[{op}] out= must be a Tensor, got {type(out).__name__}")
    if tuple(out.shape) != tuple(result.shape) or out.dtype != result.dtype:
        raise ValueError(f"[{op}] out= has shape {tuple(out.shape)} and dtype {out.dtype}, but the result has shape "
                         f"{tuple(result.shape)} and dtype {result.dtype}")
    return _C.copy_(out, result)


# The elementwise ops come from the C++ tables (csrc/ops/unary_ops.h, binary_ops.h) by name; a Python
# definition below (add's alpha, round's decimals, pow of a scalar exponent) takes the name over.
globals().update({_name: getattr(_C, _name) for _name in _C._unary_ops + _C._binary_ops})
__all__ += _C._unary_ops + _C._binary_ops


def _reduction(name, form):
    """pydl.<name> for a reduction of csrc/ops/reduce_ops.h: torch's arguments of its form, parsed here and passed
    to pydl._C.<name>, looked up at each call (ONNX tracing swaps it)."""
    if form == "Correction":
        def reduction(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
            if isinstance(dim, builtins.bool):  # var(x, False): the old `unbiased` positional form
                dim, unbiased = None, dim
            if correction is None:
                correction = 1.0 if unbiased in (None, True) else 0.0
            return getattr(_C, name)(input, _dims(dim), float(correction), keepdim)
    else:
        dims, takes_dtype = (_dims if form.startswith("Dims") else (lambda d: d)), form.endswith("Dtype")

        def reduction(input, dim=None, keepdim=False, dtype=None):
            if dtype is not None and not takes_dtype:
                raise TypeError(f"[{name}] got an unexpected keyword argument 'dtype'")
            return getattr(_C, name)(input, dims(dim), keepdim, *((_dtype(dtype),) if takes_dtype else ()))
    reduction.__name__ = reduction.__qualname__ = name
    reduction.__doc__ = f"torch.{name}: the {form} form of csrc/ops/reduce_ops.h."
    return reduction


def _dtype(dtype):
    return None if dtype is None else _dt(dtype)


globals().update({_name: _reduction(_name, _form) for _name, _form in _C._reductions})
__all__ += tuple(_name for _name, _ in _C._reductions)


def add(input, other, alpha=1, *, out=None):
    return _out(_C.add(input, other if alpha == 1 else other * alpha), out, "add")


def sub(input, other, alpha=1, *, out=None):
    return _out(_C.sub(input, other if alpha == 1 else other * alpha), out, "sub")


def mul(input, other, *, out=None):
    return _out(_C.mul(input, other), out, "mul")


def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        from ._tensor_ops import divide  # 'floor' / 'trunc' rounding
        return _out(divide(input, other, rounding_mode=rounding_mode), out, "div")
    return _out(_C.div(input, other), out, "div")


def round(input, decimals=0):  # noqa: A001
    if decimals:
        s = 10.0 ** decimals
        return _C.round(input * s) / s
    return _C.round(input)


def logical_not(input):
    return _C.eq(input.bool(), False)


def isnan(input):
    return _C.ne(input, input)


def isinf(input):
    return _C.eq(_C.abs(input), float("inf"))


def isfinite(input):
    return logical_not(_C.logical_or(isnan(input), isinf(input)))


def pow(input, exponent):  # noqa: A001
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        return _C.pow_scalar(input, float(exponent))
    return _C.pow(input, exponent)


def clamp(input, min=None, max=None):  # noqa: A002
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = _C.maximum(out, min)
        if max is not None:
            out = _C.minimum(out, max)
        return out
    if not input.dtype.is_floating_point and any(isinstance(v, float) for v in (min, max)):
        input = _C.to_dtype(input, _default_dtype[0])  # int tensor, float bound -> float, like torch
    return _C.clamp(input, None if min is None else float(min), None if max is None else float(max))


clip = clamp


def matmul(input, other, *, out=None):
    return _out(_C.matmul(input, other), out, "matmul")


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"[mm] expected 2-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return _C.matmul(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise ValueError(f"[bmm] expected 3-D tensors, got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise ValueError(f"[bmm] batch sizes differ: {tuple(input.shape)} and {tuple(mat2.shape)}")
    return _C.matmul(input, mat2)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(f"[dot] 1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return _C.matmul(input, other)


def outer(input, vec2):
    return _C.mul(_C.unsqueeze(input, 1), _C.unsqueeze(vec2, 0))


def _max_min(name, elementwise, whole, along):
    """pydl.max / pydl.min: of all elements (x), (values, indices) along a dim (x, dim), elementwise (x, other)."""
    def max_min(input, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return getattr(_C, elementwise)(input, dim)
        if dim is None:
            return getattr(_C, whole)(input, [], False)
        return _values_indices(*getattr(_C, along)(input, _index(dim, name), keepdim))
    max_min.__name__ = max_min.__qualname__ = name
    max_min.__doc__ = f"{name}(x): the {'largest' if name == 'max' else 'smallest'} value; {name}(x, dim): " \
        f"(values, indices); {name}(x, other): elementwise."
    return max_min


max = _max_min("max", "maximum", "amax", "max_dim")  # noqa: A001
min = _max_min("min", "minimum", "amin", "min_dim")  # noqa: A001


def cat(tensors, dim=0):
    return _C.cat(list(tensors), dim)


concat = cat


def stack(tensors, dim=0):
    return _C.stack(list(tensors), dim)


def split(tensor, split_size_or_sections, dim=0):
    if isinstance(split_size_or_sections, (int, np.integer)):
        return tuple(_C.split_size(tensor, int(split_size_or_sections), dim))
    return tuple(_C.split(tensor, [_index(s, 'split') for s in split_size_or_sections], dim))


def chunk(input, chunks, dim=0):
    return tuple(_C.chunk(input, int(chunks), dim))


def unbind(input, dim=0):
    return tuple(_C.select(input, dim, i) for i in range(input.shape[dim]))


def reshape(input, shape):
    return _C.reshape(input, [_index(s, 'shape') for s in shape])


def flatten(input, start_dim=0, end_dim=-1):
    return _C.flatten(input, start_dim, end_dim)


def transpose(input, dim0, dim1):
    return _C.transpose(input, dim0, dim1)


def permute(input, dims):
    return _C.permute(input, [_index(d, 'permute') for d in dims])


def squeeze(input, dim=None):
    return _C.squeeze(input, None if dim is None else _dims(dim))


def unsqueeze(input, dim):
    return _C.unsqueeze(input, dim)


def clone(input):
    return _C.clone(input)


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False):
    return builtins.bool(np.allclose(input.detach().numpy(), np.asarray(other.detach().numpy() if isinstance(other, Tensor) else other),
                                     rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    return tuple(input.shape) == tuple(other.shape) and builtins.bool(_C.eq(input, other).all())


def narrow(input, dim, start, length):
    """A view of ``input`` along ``dim`` from ``start`` (may be negative) for ``length`` entries."""
    if input.ndim == 0:
        raise IndexError("[narrow] cannot be applied to a 0-dim tensor")
    d = _index(dim, "narrow")
    if not -input.ndim <= d < input.ndim:
        raise IndexError(f"[narrow] dim {d} is out of range for a tensor of {input.ndim} dims")
    size = input.shape[d]
    start, length = _index(start, "narrow"), _index(length, "narrow")
    if not -size <= start <= size:
        raise IndexError(f"[narrow] start {start} is out of range for dimension {d} of size {size}")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise IndexError(f"[narrow] start ({start}) + length ({length}) exceeds dimension size ({size})")
    return _C.slice(input, d, start, start + length, 1)


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (entries j - i <= diagonal), the rest 0."""
    return _C.tril(input, _index(diagonal, "tril"))


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (entries j - i >= diagonal), the rest 0."""
    return _C.triu(input, _index(diagonal, "triu"))


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """``torch.norm``: the p-norm over ``dim`` (all elements when None); "fro" is the 2-norm.

    Args:
        input: a floating tensor.
        p: "fro" (default), a number (2, 1, inf, -inf, 0, any p) or "nuc" (not supported: it needs an SVD).
        dim: an int, a tuple of ints, or None.
        keepdim: keep the reduced dims as size 1.
        dtype: convert ``input`` to this dtype first.
    """
    from . import linalg
    if out is not None:
        raise NotImplementedError("[norm] the out= argument is not supported")
    if isinstance(p, str):
        if p == "fro":
            return linalg.vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == "nuc":
            return linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
        raise ValueError(f"[norm] p must be 'fro', 'nuc' or a number, got {p!r}")
    return linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)
