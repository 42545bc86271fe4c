"""Factories, functional forms and Tensor methods whose argument parsing lives in Python.

Everything here parses arguments and calls one op of the compiled core; no numerics.
"""
import builtins
import collections
import operator

import numpy as np

from . import _C
from ._C import Tensor

__all__ = [
    "tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn",
    "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like",
    "randint_like", "add", "sub", "mul", "div", "pow", "clamp", "clip", "maximum", "minimum", "matmul", "mm", "bmm", "sum", "mean", "prod", "max",
    "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "cat", "concat", "stack", "split",
    "chunk", "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "eq", "ne", "lt", "le", "gt",
    "ge", "allclose", "equal", "is_tensor", "numel", "clone", "device", "Size", "atan2", "remainder",
    "logical_and", "logical_or", "logical_xor", "logical_not", "outer", "dot", "unbind", "get_default_dtype",
    "set_default_dtype", "empty_cache", "isnan", "isinf", "isfinite",
]

from ._size import Size  # noqa: E402
_default_dtype = [_C.dtype.float32]
_values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def get_default_dtype():
    """The dtype of new floating tensors (float32 unless changed)."""
    return _default_dtype[0]


def set_default_dtype(d):
    """Sets the dtype of new floating tensors (float32 or float64)."""
    d = _C._parse_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"[set_default_dtype] only floating dtypes are supported, got {d}")
    _default_dtype[0] = d


def empty_cache():
    """Returns the allocator's cached blocks to the system."""
    _C.empty_cache()


# Device types PyTorch names; only "cpu" holds tensors in pydl, the others exist so that programs
# can build and compare them (placing a tensor there raises a clear error).
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "hpu", "privateuseone")


class device:
    """A device: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``, ``device(0)``.

    Only "cpu" holds tensors in pydl; the other types PyTorch names can be built and compared,
    and moving a tensor there raises RuntimeError.
    """

    def __init__(self, type="cpu", index=None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, (int, np.integer)) and not isinstance(type, builtins.bool):
            from . import accelerator
            acc = accelerator.current_accelerator()
            if acc is None:
                raise RuntimeError(f"[device] device({type}) names an accelerator device, and none is available")
            type, index = acc.type, int(type)
        if not isinstance(type, str):
            raise TypeError(f"[device] expected a device string, a device or an int, got {type!r}")
        t = type
        if ":" in t:
            t, _, idx = t.partition(":")
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"[device] invalid device string: '{type}'")
            index = int(idx)
        if t not in _DEVICE_TYPES:
            raise RuntimeError(f"[device] expected one of {', '.join(_DEVICE_TYPES)} device type at start of "
                               f"device string: {type}")
        if index is not None:
            index = _index(index, "device")
            if index < 0:
                raise RuntimeError(f"[device] device index must be non-negative, got {index}")
        self.type, self.index = t, index

    def __eq__(self, other):
        try:
            other = device(other)
        except (RuntimeError, TypeError, ValueError):
            return False
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


_CPU = device("cpu")


def _check_device(d, op):
    if d is None:
        return
    if device(d).type != "cpu":
        raise RuntimeError(f"[{op}] device {d!s} is not available: this pydl build runs on the CPU only")


def _dt(dtype, default=None):
    if dtype is None:
        return default if default is not None else _default_dtype[0]
    return _C._parse_dtype(dtype)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _index(v, op):
    """An int from an int-like (int, np.integer, 0-d int tensor); TypeError for 2.5 or None."""
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"[{op}] expected an integer, got {type(v).__name__} {v!r}") from None


def _shape(size):
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        if not hasattr(size[0], "__iter__") or isinstance(size[0], str) or (isinstance(size[0], Tensor) and size[0].ndim == 0):
            return [_index(size[0], "size")]
        return [_index(s, 'size') for s in size[0]]
    return [_index(s, 'size') for s in size]


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays, tensors).

    Python floats become float32, ints int64, bools bool; NumPy arrays keep their dtype.
    """
    _check_device(device, "tensor")
    if isinstance(data, Tensor):
        t = _C._to_tensor(data.detach(), None if dtype is None else _dt(dtype))
    else:
        t = _C._to_tensor(data, None if dtype is None else _dt(dtype))
        if dtype is None and t.dtype == _C.dtype.float32 and _default_dtype[0] != _C.dtype.float32 \
                and not isinstance(data, np.ndarray):
            t = _C.to_dtype(t, _default_dtype[0])
    return _finish(t, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but returns `data` itself (or shares a NumPy array's memory) when possible."""
    _check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64, np.int64, np.bool_) \
            and (dtype is None or _dt(dtype) == _C._parse_dtype(data.dtype)) and all(s >= 0 for s in data.strides):
        return _C.from_numpy(data)
    return tensor(data, dtype=dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given size."""
    _check_device(device, "zeros")
    return _finish(_C.zeros(_shape(size), _dt(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size."""
    _check_device(device, "ones")
    return _finish(_C.full(_shape(size), 1.0, _dt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size filled with `fill_value` (dtype inferred from it)."""
    _check_device(device, "full")
    if dtype is None:
        dtype = _C.dtype.bool if isinstance(fill_value, builtins.bool) else (
            _C.dtype.int64 if isinstance(fill_value, (int, np.integer)) else _default_dtype[0])
    fill = int(fill_value) if isinstance(fill_value, (int, np.integer)) else float(fill_value)  # ints stay exact
    return _finish(_C.full(_shape((size,)) if not isinstance(size, int) else [size], fill, _dt(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size."""
    _check_device(device, "empty")
    return _finish(_C.empty(_shape(size), _dt(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 when all arguments are ints."""
    _check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, float) for v in (start, end, step))
        dtype = _C.dtype.int64 if ints else _default_dtype[0]
    return _finish(_C.arange(float(start), float(end), float(step), _dt(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive."""
    _check_device(device, "linspace")
    return _finish(_C.linspace(float(start), float(end), int(steps), _dt(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix."""
    _check_device(device, "eye")
    return _finish(_C.eye(int(n), int(n if m is None else m), _dt(dtype)), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform [0, 1) samples (seeded by pydl.manual_seed)."""
    _check_device(device, "rand")
    return _finish(_C.rand(_shape(size), _dt(dtype)), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples (seeded by pydl.manual_seed)."""
    _check_device(device, "randn")
    return _finish(_C.randn(_shape(size), _dt(dtype)), requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, generator=None):
    """Integers uniform in [low, high)."""
    _check_device(device, "randint")
    if high is None or (size is None and not isinstance(high, (int, np.integer))):
        low, high, size = 0, low, size if high is None else high  # randint(high, size)
    if size is None:
        raise TypeError("[randint] missing required argument 'size'")
    return _C.randint(int(low), int(high), _shape((size,)), _dt(dtype, _C.dtype.int64))


def randperm(n, dtype=None, device=None, generator=None):
    """A random permutation of 0..n-1."""
    _check_device(device, "randperm")
    return _C.randperm(int(n), _dt(dtype, _C.dtype.int64))


def zeros_like(t, dtype=None, requires_grad=False, **kw):
    return zeros(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False, **kw):
    return ones(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, **kw):
    return full(tuple(t.shape), fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False, **kw):
    return empty(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False, **kw):
    return rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False, **kw):
    return randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None, **kw):
    return randint(low, high, tuple(t.shape), dtype=dtype or t.dtype)


def is_tensor(x):
    return isinstance(x, Tensor)


def numel(t):
    return t.numel()


# ---- functional forms -------------------------------------------------------------------

def _dims(dim):
    if dim is None:
        return []
    if isinstance(dim, (int, np.integer, str)) or not hasattr(dim, "__iter__"):
        return [_index(dim, 'dim')]
    return [_index(d, 'dim') for d in dim]


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


maximum = _C.maximum
minimum = _C.minimum
atan2 = _C.atan2
remainder = _C.remainder
eq, ne, lt, le, gt, ge = _C.eq, _C.ne, _C.lt, _C.le, _C.gt, _C.ge
logical_and, logical_or, logical_xor = _C.logical_and, _C.logical_or, _C.logical_xor
# The unary elementwise ops come from the C++ table (csrc/ops/unary_ops.h) by name; a Python
# definition below (round's decimals) takes the name over.
globals().update({_name: getattr(_C, _name) for _name in _C._unary_ops})
__all__ += _C._unary_ops


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


def sum(input, dim=None, keepdim=False, dtype=None):  # noqa: A001
    return _C.sum(input, _dims(dim), keepdim, None if dtype is None else _dt(dtype))


def mean(input, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return _C.mean(input, _dims(dim), keepdim)


def prod(input, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return _C.prod(input, dim, keepdim)


def amax(input, dim=(), keepdim=False):
    return _C.amax(input, _dims(dim), keepdim)


def amin(input, dim=(), keepdim=False):
    return _C.amin(input, _dims(dim), keepdim)


def max(input, dim=None, keepdim=False):  # noqa: A001
    """max(x): the largest value; max(x, dim): (values, indices); max(x, other): elementwise."""
    if isinstance(dim, Tensor):
        return _C.maximum(input, dim)
    if dim is None:
        return _C.amax(input, [], False)
    return _values_indices(*_C.max_dim(input, _index(dim, 'max'), keepdim))


def min(input, dim=None, keepdim=False):  # noqa: A001
    """min(x): the smallest value; min(x, dim): (values, indices); min(x, other): elementwise."""
    if isinstance(dim, Tensor):
        return _C.minimum(input, dim)
    if dim is None:
        return _C.amin(input, [], False)
    return _values_indices(*_C.min_dim(input, _index(dim, 'min'), keepdim))


def argmax(input, dim=None, keepdim=False):
    return _C.argmax(input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _C.argmin(input, dim, keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased in (None, True) else 0.0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, builtins.bool):  # var(x, False): the old `unbiased` positional form
        dim, unbiased = None, dim
    return _C.var(input, _dims(dim), _correction(unbiased, correction), keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    return _C.std(input, _dims(dim), _correction(unbiased, correction), keepdim)


def logsumexp(input, dim, keepdim=False):
    return _C.logsumexp(input, _dims(dim), keepdim)


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


# ---- Tensor methods ---------------------------------------------------------------------

def _repr(self):
    """Values like PyTorch: tensor([[1., 2.]], requires_grad=True)."""
    arr = self.detach().numpy()
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4, floatmode="fixed")
        edge = arr if arr.size <= 1000 else np.concatenate([arr.flat[:500], arr.flat[arr.size - 500:]])  # what is shown
        fin = edge[np.isfinite(edge)]
        if fin.size and np.all(fin == np.round(fin)) and "e" not in body:  # whole numbers print as "1.", like torch
            body = np.array2string(arr, separator=", ", prefix="tensor(",
                                   formatter={"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)})
    else:
        body = np.array2string(arr, separator=", ", prefix="tensor(")
        if arr.dtype == np.bool_:
            body = body.replace("True", "True").replace("False", "False")
    extras = []
    if arr.dtype == np.float64 and _default_dtype[0] != _C.dtype.float64:
        extras.append("dtype=pydl.float64")
    elif arr.dtype == np.float32 and _default_dtype[0] != _C.dtype.float32:
        extras.append("dtype=pydl.float32")
    if arr.size == 0:
        body = "[]"
        if tuple(self.shape) != (0,):
            extras.insert(0, f"size={tuple(self.shape)}")
        if arr.dtype not in (np.float32, np.int64):
            extras.append(f"dtype={self.dtype}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _to(self, *args, **kwargs):
    """to(dtype), to(device), to(device, dtype), to(other): dtype conversion (a copy) or self."""
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    copy = kwargs.pop("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device)):
            dev = a
        elif a is not None:
            dtype = a
    _check_device(dev, "to")
    out = self if dtype is None else _C.to_dtype(self, _dt(dtype))
    return _C.clone(out) if copy and out is self else out


def _view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        if isinstance(shape[0], (_C.dtype, type, np.dtype, str)):
            raise NotImplementedError("[view] reinterpreting as another dtype is not supported; use .to(dtype)")
        shape = tuple(shape[0])
    return _C.view(self, [_index(s, 'shape') for s in shape])


def _reshape(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    return _C.reshape(self, [_index(s, 'shape') for s in shape])


def _expand(self, *sizes):
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        sizes = tuple(sizes[0])
    return _C.expand(self, [_index(s, 'expand') for s in sizes])


def _permute(self, *dims):
    if len(dims) == 1 and not isinstance(dims[0], (int, np.integer)):
        dims = tuple(dims[0])
    return _C.permute(self, [_index(d, 'permute') for d in dims])


def _repeat(self, *sizes):
    if len(sizes) == 1 and not isinstance(sizes[0], (int, np.integer)):
        sizes = tuple(sizes[0])
    if len(sizes) < self.ndim:
        raise ValueError(f"[repeat] number of dimensions of repeat dims ({len(sizes)}) can not be smaller than the "
                         f"number of dimensions of tensor ({self.ndim})")
    x = _C.reshape(self, [1] * (len(sizes) - self.ndim) + list(self.shape))
    # interleave a new axis of each repeat count before each dim, expand, then merge
    inter, target, final = [], [], []
    for r, s in zip(sizes, x.shape):
        inter += [1, s]
        target += [r, s]
        final.append(r * s)
    return _C.reshape(_C.expand(_C.reshape(x, inter), target), final)


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates d(self)/d(leaf) into each leaf's .grad."""
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        raise NotImplementedError("[backward] the inputs= argument is not supported; use pydl.autograd.grad")
    _C.run_backward([self], [gradient], builtins.bool(retain_graph), builtins.bool(create_graph), [], False)


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (_C.select(self, 0, i) for i in range(self.shape[0]))


def _all(self, dim=None, keepdim=False):
    return _C.amin(self.bool(), _dims(dim), keepdim) if self.numel() else tensor(True)


def _any(self, dim=None, keepdim=False):
    return _C.amax(self.bool(), _dims(dim), keepdim) if self.numel() else tensor(False)


def _install_tensor_methods():
    T = Tensor
    T.__repr__ = _repr
    T.__str__ = _repr
    T.__iter__ = _iter
    T.__format__ = lambda self, spec: format(self.item(), spec) if self.numel() == 1 and self.ndim == 0 else _repr(self)
    T.backward = _backward
    T.to = _to
    T.type = lambda self, dtype=None: str(self.dtype) if dtype is None else _to(self, dtype)
    T.float = lambda self: _C.to_dtype(self, _C.dtype.float32)
    T.double = lambda self: _C.to_dtype(self, _C.dtype.float64)
    T.long = lambda self: _C.to_dtype(self, _C.dtype.int64)
    T.int = lambda self: _C.to_dtype(self, _C.dtype.int64)
    T.bool = lambda self: _C.to_dtype(self, _C.dtype.bool)
    T.type_as = lambda self, other: _C.to_dtype(self, other.dtype)
    T.cpu = lambda self: self
    T.cuda = lambda self, *a, **k: _check_device("cuda", "cuda")
    T.device = property(lambda self: _CPU)
    T.is_cuda = property(lambda self: False)
    T.view = _view
    T.view_as = lambda self, other: _C.view(self, list(other.shape))
    T.reshape = _reshape
    T.reshape_as = lambda self, other: _C.reshape(self, list(other.shape))
    T.expand = _expand
    T.expand_as = lambda self, other: _C.expand(self, list(other.shape))
    T.repeat = _repeat
    T.permute = _permute
    T.transpose = lambda self, d0, d1: _C.transpose(self, d0, d1)
    T.t = lambda self: _C.transpose(self, 0, 1) if self.ndim == 2 else self
    T.T = property(lambda self: _C.permute(self, list(range(self.ndim))[::-1]))
    T.mT = property(lambda self: _C.transpose(self, -2, -1))
    T.flatten = lambda self, start_dim=0, end_dim=-1: _C.flatten(self, start_dim, end_dim)
    T.squeeze = lambda self, dim=None: squeeze(self, dim)
    T.unsqueeze = lambda self, dim: _C.unsqueeze(self, dim)
    T.split = lambda self, s, dim=0: split(self, s, dim)
    T.chunk = lambda self, c, dim=0: chunk(self, c, dim)
    T.unbind = lambda self, dim=0: unbind(self, dim)
    T.sum = sum
    T.mean = mean
    T.prod = prod
    T.max = max
    T.min = min
    T.amax = amax
    T.amin = amin
    T.argmax = argmax
    T.argmin = argmin
    T.var = var
    T.std = std
    T.logsumexp = logsumexp
    T.all = _all
    T.any = _any
    T.matmul = matmul
    T.mm = mm
    T.bmm = bmm
    T.dot = dot
    T.pow = pow
    T.clamp = clamp
    T.clip = clamp
    T.round = round
    T.add = add
    T.sub = sub
    # _C functions are builtins, which do not bind as methods: wrap them
    T.mul = lambda self, other: _C.mul(self, other)
    T.div = lambda self, other: _C.div(self, other)
    T.maximum = lambda self, other: _C.maximum(self, other)
    T.minimum = lambda self, other: _C.minimum(self, other)
    T.eq = lambda self, other: _C.eq(self, other)
    T.ne = lambda self, other: _C.ne(self, other)
    T.lt = lambda self, other: _C.lt(self, other)
    T.le = lambda self, other: _C.le(self, other)
    T.gt = lambda self, other: _C.gt(self, other)
    T.ge = lambda self, other: _C.ge(self, other)
    T.logical_not = logical_not
    T.isnan, T.isinf, T.isfinite = isnan, isinf, isfinite
    T.add_ = lambda self, other, alpha=1: _C.add_(self, other, alpha)
    T.sub_ = lambda self, other: _C.sub_(self, other)
    T.mul_ = lambda self, other: _C.mul_(self, other)
    T.div_ = lambda self, other: _C.div_(self, other)
    T.copy_ = lambda self, src: _C.copy_(self, src)
    T.fill_ = lambda self, v: _C.fill_(self, float(v))
    T.zero_ = lambda self: _C.zero_(self)
    T.clamp_ = lambda self, min=None, max=None: _C.clamp_(self, min, max)
    T.relu_ = lambda self: _C.relu_(self)
    T.uniform_ = lambda self, a=0.0, b=1.0: _C.uniform_(self, a, b)
    T.normal_ = lambda self, mean=0.0, std=1.0: _C.normal_(self, mean, std)
    T.bernoulli_ = lambda self, p=0.5: _C.bernoulli_(self, p)
    T.where = lambda self, condition, other: _C.where(condition, self, other)
    T.new_zeros = lambda self, *size, dtype=None, **k: zeros(*size, dtype=dtype or self.dtype)
    T.new_ones = lambda self, *size, dtype=None, **k: ones(*size, dtype=dtype or self.dtype)
    T.new_full = lambda self, size, v, dtype=None, **k: full(size, v, dtype=dtype or self.dtype)
    T.new_empty = lambda self, *size, dtype=None, **k: empty(*size, dtype=dtype or self.dtype)
    T.new_tensor = lambda self, data, dtype=None, **k: tensor(data, dtype=dtype or self.dtype)


def _rebuild_tensor(array, requires_grad):
    t = _C._to_tensor(array, None)
    return t.requires_grad_(True) if requires_grad else t


def _tensor_reduce_ex(self, proto):
    """Pickling (and copy.copy) store the values as a NumPy array plus requires_grad."""
    return (_rebuild_tensor, (np.array(self.detach().numpy(), copy=True), self.requires_grad))


def _tensor_deepcopy(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    out = _C.clone(self.detach())
    if self.requires_grad:
        out.requires_grad_(True)
    if self.grad is not None:
        out.grad = _C.clone(self.grad)
    memo[id(self)] = out
    return out


Tensor.__reduce_ex__ = _tensor_reduce_ex
Tensor.__deepcopy__ = _tensor_deepcopy


# ---- narrow, tril / triu, norm (issue 12) ----------------------------------------------------

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


class _LegacyTensorType(type):
    """``torch.FloatTensor`` and kin: constructors, and isinstance() checks of a tensor's dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'pydl.{cls.__name__}'>"


def _legacy_type(name, dt):
    def new(cls, *args, device=None):
        _check_device(device, name)
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)) and not isinstance(args[0], Size):
            return tensor(args[0], dtype=dt)  # FloatTensor([1, 2]): the values
        return empty(*args, dtype=dt)  # FloatTensor(2, 3): an uninitialised tensor of that size
    return _LegacyTensorType(name, (), {"__new__": new, "dtype": dt, "__doc__": f"Legacy constructor of {dt} tensors."})


FloatTensor = _legacy_type("FloatTensor", _C.dtype.float32)
DoubleTensor = _legacy_type("DoubleTensor", _C.dtype.float64)
LongTensor = _legacy_type("LongTensor", _C.dtype.int64)
BoolTensor = _legacy_type("BoolTensor", _C.dtype.bool)
_LEGACY_NAMES = {t.dtype: t.__name__ for t in (FloatTensor, DoubleTensor, LongTensor, BoolTensor)}


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """t.type(): the type name ('pydl.FloatTensor'); t.type(dtype or pydl.FloatTensor): converted."""
    if dtype is None:
        return "pydl." + _LEGACY_NAMES[self.dtype]
    if isinstance(dtype, _LegacyTensorType):
        dtype = dtype.dtype
    elif isinstance(dtype, str) and dtype.split(".")[-1] in {v: k for k, v in _LEGACY_NAMES.items()}:
        dtype = {v: k for k, v in _LEGACY_NAMES.items()}[dtype.split(".")[-1]]
    return _to(self, dtype)


__all__ += ["narrow", "tril", "triu", "norm", "FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor"]


def _install_issue12_methods():
    T = Tensor
    T.narrow = narrow
    T.tril = tril
    T.triu = triu
    T.tril_ = lambda self, diagonal=0: _C.copy_(self, tril(self, diagonal))
    T.triu_ = lambda self, diagonal=0: _C.copy_(self, triu(self, diagonal))
    T.norm = norm
    T.type = _type
