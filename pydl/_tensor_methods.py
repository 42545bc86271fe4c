"""The registry of Tensor methods bound in Python, in one place.

Tensor's methods come from two tables: the C++ one, csrc/python/init_tensor_methods.cpp (operators, the
elementwise ops, attributes, conversions, indexing; named by `pydl._C._tensor_methods`), and this module's:

- `_METHODS`: name -> function (or property), the methods whose argument parsing lives in Python (to, view,
  reshape, repeat, backward, ...), the functional forms that are methods too (sum, max, clamp, index_select,
  sort, ...) and the in-place forms that no rule below gives;
- by rule, from a function of pydl/_tensor_ops.py or pydl (`_FUNCTION_METHODS`): Tensor.<name> calls it with
  self first; each name of `_UNARY_INPLACE` / `_BINARY_INPLACE` also gets Tensor.<name>_ = copy_(<name>(self,
  ...)), and each of `_CMP_INPLACE` a <name>_ that casts the bool result back to self's dtype.

`_install_tensor_methods()` attaches the table in one loop, each function wrapped by `op_errors` (its errors
name the op), and gives the in-place methods of `_TORCH_INPLACE` their pydl.<name>_ functions. An entry of one
table never replaces a method of the other.
"""
import builtins
import inspect
import math

import numpy as np

from . import _C
from ._C import Tensor
from ._errors import op_errors
from ._args import _CPU, _check_device, _device_of, _dims, _dt, _index, _on, _on_index, device
from ._factories import _LEGACY_NAMES, _LegacyTensorType, empty, full, ones, tensor, zeros
from ._functional import *  # noqa: F401,F403  (sum, max, clamp, ...: Tensor methods too)
from ._functional import round  # noqa: A004
from ._repr import _repr, _tensor_deepcopy, _tensor_reduce_ex
from . import _indexing as _ix, _tensor_ops
from ._tensor_ops import (_arange, _index_along, _wrap, bitwise_not, clamp_max, clamp_min, diagonal_scatter, frexp,
                          histogram, index_copy, index_fill, lerp, masked_scatter, mvlgamma, narrow_copy, polygamma, put,
                          relu_, renorm, select_scatter, slice_scatter, split_with_sizes)


def _to(self, *args, **kwargs):
    """to(dtype), to(device), to(device, dtype), to(other), non_blocking=, copy=: a converted copy, or self.

    A copy to or from a CUDA device with ``non_blocking=True`` runs asynchronously when the host
    side is pinned memory (``pin_memory()``); ``pydl.cuda.synchronize()`` waits for it.
    """
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    non_blocking = kwargs.pop("non_blocking", False)
    copy = kwargs.pop("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, device)) or (isinstance(a, int) and not isinstance(a, builtins.bool)):
            dev = a
        elif isinstance(a, builtins.bool):
            non_blocking = a
        elif a is not None:
            dtype = a
    dev = _check_device(dev, "to")
    out = self if dev is None or _device_of(self) == _on_index(dev) else _on(self, dev, non_blocking)
    out = out if dtype is None else _C.to_dtype(out, _dt(dtype))
    return _C.clone(out) if copy and out is self else out


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    """A copy on CUDA device `device` (an index, a string or a device; None: the current one)."""
    d = globals()["device"]
    dev = d("cuda") if device is None else d("cuda", device) if isinstance(device, int) else d(device)
    return _on(self, _check_device(dev, "cuda"), non_blocking)


def _ints(args, op):
    """f(2, 3) or f((2, 3)): the ints of a size / dims argument given either way."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        args = tuple(args[0])
    return [_index(a, op) for a in args]


def _view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (_C.dtype, type, np.dtype, str)):
        raise NotImplementedError("[view] reinterpreting as another dtype is not supported; use .to(dtype)")
    return _C.view(self, _ints(shape, "shape"))


def _reshape(self, *shape):
    return _C.reshape(self, _ints(shape, "shape"))


def _expand(self, *sizes):
    return _C.expand(self, _ints(sizes, "expand"))


def _permute(self, *dims):
    return _C.permute(self, _ints(dims, "permute"))


def _repeat(self, *sizes):
    sizes = _ints(sizes, "repeat")
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


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """t.type(): the type name ('pydl.FloatTensor'); t.type(dtype or pydl.FloatTensor): converted."""
    if dtype is None:
        return "pydl." + _LEGACY_NAMES[self.dtype]
    if isinstance(dtype, _LegacyTensorType):
        dtype = dtype.dtype
    elif isinstance(dtype, str) and dtype.split(".")[-1] in {v: k for k, v in _LEGACY_NAMES.items()}:
        dtype = {v: k for k, v in _LEGACY_NAMES.items()}[dtype.split(".")[-1]]
    return _to(self, dtype)


def _random_(self, from_=0, to=None, *, generator=None):
    """Fills with integers uniform in [from, to) (to defaults to 2**24 for float32, 2**53 for float64, 2**63-1 for
    int64)."""
    if to is None:
        from_, to = 0, from_ if from_ else None
    if to is None:
        to = {"float32": 2 ** 24, "float64": 2 ** 53, "int64": 2 ** 63 - 1, "bool": 2}[str(self.dtype).split(".")[-1]]
    u = _C.uniform_(_C.empty(list(self.shape), _C.dtype.float64), 0.0, 1.0)
    return self.copy_(_C.floor(u * float(to - from_) + float(from_)).to(self.dtype))


def _sum_to_size(self, *size):
    size = list(size[0]) if len(size) == 1 and not isinstance(size[0], int) else list(size)
    lead = self.ndim - len(size)
    dims = list(builtins.range(lead)) + [lead + i for i, s in enumerate(size) if s == 1 and self.shape[lead + i] != 1]
    out = _C.sum(self, dims, True, None) if dims else self
    return _C.reshape(out, size)


class _HookHandle:
    """What Tensor.register_hook returns: remove() unregisters the hook."""

    def __init__(self, hook_id):
        self.id = hook_id

    def remove(self):
        _C._remove_hook(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _register_hook(self, hook):
    """Runs hook(grad) when the gradient of this tensor is computed; a returned tensor replaces the gradient.

    A hook on a leaf keeps the leaf alive until handle.remove() (it lives on the leaf's accumulator)."""
    if not callable(hook):
        raise TypeError(f"[register_hook] hook must be callable, got {type(hook).__name__}")
    return _HookHandle(_C._register_hook(self, hook))


def _fill_diagonal_(self, fill_value, wrap=False):
    """Writes fill_value on the main diagonal (all dims equal for >2-D; tall matrices restart when wrap)."""
    if self.ndim < 2:
        raise ValueError("[fill_diagonal_] dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise ValueError("[fill_diagonal_] all dimensions of input must be of equal length")
    n = builtins.min(self.shape)
    if self.ndim == 2 and wrap and self.shape[0] > self.shape[1] + 1:
        step = self.shape[1] + 1
        flat = _C.arange(0, self.shape[0] * self.shape[1], step, _C.dtype.int64)
        rows, cols = _C.floor_divide(flat, self.shape[1]), _C.remainder(flat, self.shape[1])
        idx = (rows, cols)
    else:
        idx = tuple(_arange(n) for _ in builtins.range(self.ndim))
    self.index_put_(idx, _C.full([1], float(fill_value), self.dtype))
    return self


def _inplace_of(fn):
    """x.op_(...) = x.copy_(op(x, ...)); autograd and the version counter see one in-place write."""
    def method(self, *args, **kwargs):
        src = self.clone() if self.requires_grad or (self.grad_fn is not None) else self
        return self.copy_(fn(src, *args, **kwargs))
    return method


def _method(fn):
    """A plain function as a method (pybind builtins do not bind as methods)."""
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


# the functions of pydl/_tensor_ops.py or pydl that are methods too; those of the first two lists get an in-place
# form by rule (_inplace_of)
_UNARY_INPLACE = [*_C._unary_ops] + [
    "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "deg2rad", "rad2deg", "fix", "frac",
    "logit", "negative", "sgn", "sinc", "i0", "nan_to_num",
]
_BINARY_INPLACE = [n for n in _C._binary_ops if n not in ("maximum", "minimum")] + [  # torch has no maximum_
    "lcm", "logaddexp2", "xlogy", "float_power", "true_divide",
    "divide", "multiply", "subtract", "heaviside", "fmax", "fmin", "ldexp", "lerp", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "arctan2", "clamp_min", "clamp_max", "addcmul",
    "addcdiv", "addmm", "addmv", "addr", "addbmm", "baddbmm", "index_add", "index_copy", "index_fill", "cumsum",
    "cumprod", "clamp", "clip",
]
_METHODS_ONLY = [
    "isclose", "isneginf", "isposinf", "isreal", "mv", "vdot", "inner", "ger", "kron", "cross", "logcumsumexp",
    "cummax", "cummin", "msort", "kthvalue", "median", "nanmedian", "quantile", "nanquantile", "mode", "bincount",
    "histc", "unique", "unique_consecutive", "count_nonzero", "aminmax", "nansum", "nanmean", "cov", "corrcoef", "diff",
    "flip", "fliplr", "flipud", "rot90", "roll", "repeat_interleave", "tile", "movedim", "moveaxis", "swapaxes",
    "swapdims", "ravel", "broadcast_to", "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "unflatten",
    "diag", "diagonal", "diag_embed", "diagflat", "trace", "take", "select", "adjoint", "dist", "is_nonzero",
    "is_same_size", "is_signed", "softmax", "log_softmax", "bitwise_not", "logical_not", "positive", "signbit",
    "polygamma", "mvlgamma", "prelu", "hardshrink", "bernoulli", "multinomial", "rsub", "outer", "dot", "matmul",
]


_FUNCTION_METHODS = _UNARY_INPLACE + _BINARY_INPLACE + _METHODS_ONLY
# in-place comparisons keep self's dtype: the bool result is cast back
_CMP_INPLACE = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
                "logical_and", "logical_or", "logical_xor"]
# the in-place methods that are torch functions too: pydl.<name>_(input, ...) = input.<name>_(...)
_TORCH_INPLACE = [*_C._unary_ops, "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "deg2rad", "fix",
                  "frac", "gcd", "i0", "lcm", "ldexp", "logit", "nan_to_num", "negative", "rad2deg", "sinc", "xlogy",
                  "clamp", "clamp_min", "clamp_max", "clip", "detach"]


def _cmp_inplace(fn):
    return lambda self, other: self.copy_(fn(self, other).to(self.dtype))


# ---- the table ----

_METHODS = {
    "__repr__": _repr,
    "__str__": _repr,
    "__iter__": _iter,
    "__format__": lambda self, spec: format(self.item(), spec) if self.numel() == 1 and self.ndim == 0 else _repr(self),
    "backward": _backward,
    "to": _to,
    "type": _type,
    "float": lambda self: _C.to_dtype(self, _C.dtype.float32),
    "double": lambda self: _C.to_dtype(self, _C.dtype.float64),
    "long": lambda self: _C.to_dtype(self, _C.dtype.int64),
    "int": lambda self: _C.to_dtype(self, _C.dtype.int64),
    "bool": lambda self: _C.to_dtype(self, _C.dtype.bool),
    "type_as": lambda self, other: _C.to_dtype(self, other.dtype),
    "cpu": lambda self, memory_format=None: _on(self, _CPU),
    "cuda": _cuda,
    "device": property(_device_of),
    "is_cuda": property(lambda self: _C._device_of(self)[0] == "cuda"),
    "pin_memory": lambda self, device=None: _C.pin_memory(self),
    "is_pinned": lambda self, device=None: _C.is_pinned(self),
    "view": _view,
    "view_as": lambda self, other: _C.view(self, list(other.shape)),
    "reshape": _reshape,
    "reshape_as": lambda self, other: _C.reshape(self, list(other.shape)),
    "expand": _expand,
    "expand_as": lambda self, other: _C.expand(self, list(other.shape)),
    "repeat": _repeat,
    "permute": _permute,
    "transpose": lambda self, d0, d1: _C.transpose(self, d0, d1),
    "t": lambda self: _C.transpose(self, 0, 1) if self.ndim == 2 else self,
    "T": property(lambda self: _C.permute(self, list(range(self.ndim))[::-1])),
    "mT": property(lambda self: _C.transpose(self, -2, -1)),
    "flatten": lambda self, start_dim=0, end_dim=-1: _C.flatten(self, start_dim, end_dim),
    "squeeze": lambda self, dim=None: squeeze(self, dim),
    "unsqueeze": lambda self, dim: _C.unsqueeze(self, dim),
    "split": lambda self, s, dim=0: split(self, s, dim),
    "chunk": lambda self, c, dim=0: chunk(self, c, dim),
    "unbind": lambda self, dim=0: unbind(self, dim),
    **{name: globals()[name] for name, _ in _C._reductions},  # sum, mean, ..., logsumexp: csrc/ops/reduce_ops.h
    "max": max,
    "min": min,
    "all": _all,
    "any": _any,
    "matmul": matmul,
    "mm": mm,
    "bmm": bmm,
    "dot": dot,
    "pow": pow,
    "clamp": clamp,
    "clip": clamp,
    "round": round,
    "add": add,
    "sub": sub,
    "logical_not": logical_not,
    "isnan": isnan,
    "isinf": isinf,
    "isfinite": isfinite,
    "add_": lambda self, other, alpha=1: _C.add_(self, other, alpha),
    "sub_": lambda self, other: _C.sub_(self, other),
    "mul_": lambda self, other: _C.mul_(self, other),
    "div_": lambda self, other: _C.div_(self, other),
    "copy_": lambda self, src: _C.copy_(self, src),
    "fill_": lambda self, v: _C.fill_(self, float(v)),
    "zero_": lambda self: _C.zero_(self),
    "clamp_": lambda self, min=None, max=None: _C.clamp_(self, min, max),
    "uniform_": lambda self, a=0.0, b=1.0: _C.uniform_(self, a, b),
    "normal_": lambda self, mean=0.0, std=1.0: _C.normal_(self, mean, std),
    "bernoulli_": lambda self, p=0.5: _C.bernoulli_(self, p),
    "where": lambda self, condition, other: _C.where(condition, self, other),
    "new_zeros": lambda self, *size, dtype=None, **k: zeros(*size, dtype=dtype or self.dtype),
    "new_ones": lambda self, *size, dtype=None, **k: ones(*size, dtype=dtype or self.dtype),
    "new_full": lambda self, size, v, dtype=None, **k: full(size, v, dtype=dtype or self.dtype),
    "new_empty": lambda self, *size, dtype=None, **k: empty(*size, dtype=dtype or self.dtype),
    "new_tensor": lambda self, data, dtype=None, **k: tensor(data, dtype=dtype or self.dtype),
    "__reduce_ex__": _tensor_reduce_ex,
    "__deepcopy__": _tensor_deepcopy,
    "narrow": narrow,
    "tril": tril,
    "triu": triu,
    "tril_": lambda self, diagonal=0: _C.copy_(self, tril(self, diagonal)),
    "triu_": lambda self, diagonal=0: _C.copy_(self, triu(self, diagonal)),
    "norm": norm,
    **{name: getattr(_ix, name) for name in (
        "index_select", "gather", "scatter_add", "scatter", "index_put", "nonzero", "argwhere", "masked_fill",
        "masked_select", "sort", "argsort", "topk", "cumsum", "take_along_dim")},
    **{name: getattr(_ix, "_" + name) for name in ("scatter_", "scatter_add_", "index_put_")},  # pydl/_indexing.py
    "masked_fill_": lambda self, mask, value: _C.masked_fill_(self, mask, value),
    "logical_not_": lambda self: self.copy_(_C.eq(self.bool(), False).to(self.dtype)),
    "bitwise_not_": lambda self: self.copy_(bitwise_not(self)),
    "sigmoid_": _inplace_of(_C.sigmoid),
    "relu_": relu_,
    "clamp_min_": lambda self, min: self.copy_(clamp_min(self.clone() if self.requires_grad else self, min)) \
        if isinstance(min, Tensor) else _C.clamp_(self, min, None),  # noqa: A002
    "clamp_max_": lambda self, max: self.copy_(clamp_max(self.clone() if self.requires_grad else self, max)) \
        if isinstance(max, Tensor) else _C.clamp_(self, None, max),  # noqa: A002
    "clip_": lambda self, min=None, max=None: _C.clamp_(self, min, max),  # noqa: A002
    "cumsum_": lambda self, dim, *, dtype=None: self.copy_(_C.cumsum(self.clone() if self.requires_grad else self, dim)),
    "cumprod_": lambda self, dim, *, dtype=None: self.copy_(_C.cumprod(self.clone() if self.requires_grad else self, dim)),
    "lerp_": lambda self, end, weight: self.copy_(lerp(self.clone() if self.requires_grad else self, end, weight)),
    "addcmul_": lambda self, t1, t2, *, value=1: self.add_(t1 * t2 * value),
    "addcdiv_": lambda self, t1, t2, *, value=1: self.add_(t1 / t2 * value),
    "index_add_": lambda self, dim, index, source, *, alpha=1: _C.scatter_add_(
        self, _wrap(dim, self.ndim, "index_add_"), _index_along(self, dim, index, source.shape)[1],
        source if alpha == 1 else source * alpha),
    "index_fill_": lambda self, dim, index, value: self.copy_(index_fill(self, dim, index, value)),
    "index_copy_": lambda self, dim, index, source: self.copy_(index_copy(self, dim, index, source)),
    "exponential_": lambda self, lambd=1.0, *, generator=None: self.copy_(
        -_C.log1p(-_C.uniform_(_C.empty(list(self.shape), self.dtype), 0.0, 1.0)) / lambd),
    "cauchy_": lambda self, median=0.0, sigma=1.0, *, generator=None: self.copy_(
        median + sigma * _C.tan(math.pi * (_C.uniform_(_C.empty(list(self.shape), self.dtype), 0.0, 1.0) - 0.5))),
    "log_normal_": lambda self, mean=1.0, std=2.0, *, generator=None: self.copy_(
        _C.exp(_C.normal_(_C.empty(list(self.shape), self.dtype), mean, std))),
    "geometric_": lambda self, p, *, generator=None: self.copy_(_C.ceil(
        _C.log1p(-_C.uniform_(_C.empty(list(self.shape), _C.dtype.float64), 0.0, 1.0)) / math.log1p(-p)).to(self.dtype)),
    "random_": _random_,
    "is_cpu": property(lambda self: True),
    "is_inference": lambda self: False,
    "H": property(lambda self: _C.transpose(self, 0, 1) if self.ndim == 2 else self),
    "mH": property(lambda self: _C.transpose(self, -2, -1)),
    "sum_to_size": _sum_to_size,
    # the rest of torch's surface
    "allclose": lambda self, other, rtol=1e-05, atol=1e-08, equal_nan=False: __import__("pydl").allclose(
        self, other, rtol, atol, equal_nan),
    "equal": lambda self, other: __import__("pydl").equal(self, other),
    "unsafe_chunk": lambda self, chunks, dim=0: tuple(_C.chunk(self, int(chunks), dim)),
    "unsafe_split": lambda self, split_size, dim=0: __import__("pydl").split(self, split_size, dim),
    "unsafe_split_with_sizes": lambda self, split_sizes, dim=0: split_with_sizes(self, split_sizes, dim),
    "get_device": lambda self: -1,
    "frexp": frexp, "histogram": lambda self, bins=100, *, range=None, weight=None, density=False: histogram(  # noqa: A002
        self, bins, range=range, weight=weight, density=density),
    "select_scatter": select_scatter, "slice_scatter": slice_scatter, "diagonal_scatter": diagonal_scatter,
    "masked_scatter": masked_scatter, "put": put, "renorm": renorm, "narrow_copy": narrow_copy,
    "masked_scatter_": lambda self, mask, source: self.copy_(masked_scatter(self, mask, source)),
    "put_": lambda self, index, source, accumulate=False: self.copy_(put(self, index, source, accumulate)),
    "renorm_": lambda self, p, dim, maxnorm: self.copy_(renorm(self.clone() if self.requires_grad else self, p, dim,
                                                                  maxnorm)),
    "mvlgamma_": lambda self, p: self.copy_(mvlgamma(self.clone() if self.requires_grad else self, p)),
    "polygamma_": lambda self, n: self.copy_(polygamma(n, self.clone() if self.requires_grad else self)),
    "fill_diagonal_": lambda self, fill_value, wrap=False: _fill_diagonal_(self, fill_value, wrap),
    "register_hook": lambda self, hook: _register_hook(self, hook),
}


def _install_tensor_methods():
    """Attaches the registry to Tensor (and pydl's in-place functions); called once by pydl."""
    import pydl
    g = vars(_tensor_ops)

    def function(name):
        fn = g.get(name)
        return fn if callable(fn) else getattr(pydl, name, None)

    def free(name):  # neither in this table nor a C++ method
        return name not in table and not hasattr(Tensor, name)

    table = dict(_METHODS)
    table.update({name + "_": _cmp_inplace(function(name)) for name in _CMP_INPLACE})
    for name in _FUNCTION_METHODS:
        fn = function(name)
        if fn is None:
            continue
        if free(name):
            table[name] = _method(fn)
        # the in-place form, unless a native one exists (add_, mul_, clamp_, ... write in place in C++)
        if (name in _UNARY_INPLACE or name in _BINARY_INPLACE) and free(name + "_"):
            table[name + "_"] = _inplace_of(fn)
    for name, fn in table.items():
        setattr(Tensor, name, op_errors(fn, name) if inspect.isfunction(fn) else fn)
    for name in _TORCH_INPLACE:
        if not hasattr(pydl, name + "_") and hasattr(Tensor, name + "_"):
            setattr(pydl, name + "_", (lambda n: lambda input, *a, **k: getattr(input, n)(*a, **k))(name + "_"))


def native_methods():
    """The names of Tensor's methods and properties bound in C++ (csrc/python/init_tensor_methods.cpp)."""
    return _C._tensor_methods
