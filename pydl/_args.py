"""Argument parsing shared by pydl's Python API: the default dtype, devices, sizes, dims and int-likes.

Nothing here computes; each helper turns what a PyTorch user passes into what pydl._C takes.
"""
import builtins
import operator

import numpy as np

from . import _C
from ._C import Tensor

__all__ = [
    "get_default_dtype", "set_default_dtype", "device",
]

_default_dtype = [_C.dtype.float32]


def get_default_dtype():
    """The dtype of new floating tensors (float32 unless changed)."""
    return _default_dtype[0]


def set_default_dtype(d):
    """Sets the dtype of new floating tensors (float32 or float64)."""
    d = _C._parse_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"[set_default_dtype] only floating dtypes are supported, got {d}")
    _default_dtype[0] = d


# Device types PyTorch names; "cpu" and (in a CUDA build, on a machine with a GPU) "cuda" hold
# tensors in pydl, the others exist so that programs can build and compare them (placing a tensor
# there raises a clear error).
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "hpu", "privateuseone")


class device:
    """A device: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``, ``device(0)``.

    "cpu" and "cuda" (a PYDL_CUDA=ON build on a machine with a GPU) hold tensors; the other types
    PyTorch names can be built and compared, and moving a tensor there raises RuntimeError.
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
    """The pydl.device `d` names (None stays None); RuntimeError naming `op` unless it can hold tensors here."""
    if d is None:
        return None
    d = device(d)
    if d.type == "cuda":
        _C.check_device("cuda", -1 if d.index is None else d.index, op)
    elif d.type != "cpu":
        raise RuntimeError(f"[{op}] device {d!s} is not available: pydl places tensors on cpu and cuda only")
    return d


def _on(t, dev, non_blocking=False):
    """`t` moved to device `dev` (None: left where it is), a differentiable copy."""
    if dev is None or _device_of(t) == _on_index(dev):
        return t
    index = dev.index
    if index is None and dev.type == "cuda":
        from . import cuda
        index = cuda._current[0]
    return _C.to_device(t, dev.type, -1 if index is None else index, builtins.bool(non_blocking))


def _device_of(t):
    kind, index = _C._device_of(t)
    return _CPU if kind == "cpu" else device(kind, index)


def _on_index(d):
    """`d` with the index a tensor placed there reports: cuda -> cuda:0, cpu stays cpu."""
    return device(d.type, 0) if d.type == "cuda" and d.index is None else d


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


def _dims(dim):
    if dim is None:
        return []
    if isinstance(dim, (int, np.integer, str)) or not hasattr(dim, "__iter__"):
        return [_index(dim, 'dim')]
    return [_index(d, 'dim') for d in dim]
