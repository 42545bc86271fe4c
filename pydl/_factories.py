"""Factories: new tensors from data, sizes, ranges and random draws (pydl.tensor, zeros, arange, randn, ...),
and the legacy typed constructors (pydl.FloatTensor, ...)."""
import builtins

import numpy as np

from . import _C
from ._C import Tensor
from ._args import _check_device, _default_dtype, _dt, _finish, _index, _on, _shape
from ._size import Size

__all__ = [
    "tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn", "randint",
    "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like",
    "is_tensor", "numel", "empty_cache", "Size", "FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor",
]


def empty_cache():
    """Returns the allocator's cached blocks to the system."""
    _C.empty_cache()


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays, tensors).

    Python floats become float32, ints int64, bools bool; NumPy arrays keep their dtype.
    """
    device = _check_device(device, "tensor")
    if isinstance(data, Tensor):
        t = _C._to_tensor(data.detach(), None if dtype is None else _dt(dtype))
    else:
        t = _C._to_tensor(data, None if dtype is None else _dt(dtype))
        if dtype is None and t.dtype == _C.dtype.float32 and _default_dtype[0] != _C.dtype.float32 \
                and not isinstance(data, np.ndarray):
            t = _C.to_dtype(t, _default_dtype[0])
    return _finish(_on(t, device), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but returns `data` itself (or shares a NumPy array's memory) when possible."""
    device = _check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if device is not None and device.type != "cpu":
        return tensor(data, dtype=dtype, device=device)
    if isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64, np.int64, np.bool_) \
            and (dtype is None or _dt(dtype) == _C._parse_dtype(data.dtype)) and all(s >= 0 for s in data.strides):
        return _C.from_numpy(data)
    return tensor(data, dtype=dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given size."""
    device = _check_device(device, "zeros")
    return _finish(_on(_C.zeros(_shape(size), _dt(dtype)), device), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size."""
    device = _check_device(device, "ones")
    return _finish(_on(_C.full(_shape(size), 1.0, _dt(dtype)), device), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size filled with `fill_value` (dtype inferred from it)."""
    device = _check_device(device, "full")
    if dtype is None:
        dtype = _C.dtype.bool if isinstance(fill_value, builtins.bool) else (
            _C.dtype.int64 if isinstance(fill_value, (int, np.integer)) else _default_dtype[0])
    fill = int(fill_value) if isinstance(fill_value, (int, np.integer)) else float(fill_value)  # ints stay exact
    return _finish(_on(_C.full(_shape((size,)) if not isinstance(size, int) else [size], fill, _dt(dtype)), device), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size."""
    device = _check_device(device, "empty")
    return _finish(_on(_C.empty(_shape(size), _dt(dtype)), device), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 when all arguments are ints."""
    device = _check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, float) for v in (start, end, step))
        dtype = _C.dtype.int64 if ints else _default_dtype[0]
    return _finish(_on(_C.arange(float(start), float(end), float(step), _dt(dtype)), device), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive."""
    device = _check_device(device, "linspace")
    return _finish(_on(_C.linspace(float(start), float(end), int(steps), _dt(dtype)), device), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The n x m identity matrix."""
    device = _check_device(device, "eye")
    return _finish(_on(_C.eye(int(n), int(n if m is None else m), _dt(dtype)), device), requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform [0, 1) samples (seeded by pydl.manual_seed)."""
    device = _check_device(device, "rand")
    return _finish(_on(_C.rand(_shape(size), _dt(dtype)), device), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples (seeded by pydl.manual_seed)."""
    device = _check_device(device, "randn")
    return _finish(_on(_C.randn(_shape(size), _dt(dtype)), device), requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, generator=None):
    """Integers uniform in [low, high)."""
    device = _check_device(device, "randint")
    if high is None or (size is None and not isinstance(high, (int, np.integer))):
        low, high, size = 0, low, size if high is None else high  # randint(high, size)
    if size is None:
        raise TypeError("[randint] missing required argument 'size'")
    return _on(_C.randint(int(low), int(high), _shape((size,)), _dt(dtype, _C.dtype.int64)), device)


def randperm(n, dtype=None, device=None, generator=None):
    """A random permutation of 0..n-1."""
    device = _check_device(device, "randperm")
    return _on(_C.randperm(int(n), _dt(dtype, _C.dtype.int64)), device)


def zeros_like(t, dtype=None, requires_grad=False, device=None, **kw):
    return zeros(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device or t.device)


def ones_like(t, dtype=None, requires_grad=False, device=None, **kw):
    return ones(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device or t.device)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None, **kw):
    return full(tuple(t.shape), fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad, device=device or t.device)


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
