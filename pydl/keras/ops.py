"""keras.ops basics on pydl tensors (Keras's layout, as user code in a custom layer's or a
subclassed model's `call` sees it). Called on KerasTensors they record an op layer in the
functional graph, as Keras does for `keras.ops.relu(x)` or `x + y` on symbolic tensors.
"""
import numpy as np

from .. import _C
from .._C import Tensor
from ..nn import functional as F
from .engine import KerasTensor, flatten, is_symbolic
from .layers.core import Layer, as_tensor

__all__ = ["add", "subtract", "multiply", "divide", "negative", "power", "matmul", "relu", "sigmoid", "tanh",
           "softmax", "log_softmax", "gelu", "silu", "exp", "log", "sqrt", "square", "abs", "mean", "sum", "max",
           "min", "argmax", "concatenate", "stack", "reshape", "transpose", "expand_dims", "squeeze", "maximum",
           "minimum", "clip", "where", "cast", "convert_to_tensor", "convert_to_numpy", "shape", "zeros", "ones",
           "zeros_like", "ones_like", "one_hot", "sin", "cos", "erf", "flatten_", "arange", "std", "var", "norm",
           "equal", "greater", "less", "logical_and", "einsum_unsupported"]


class _OpLayer(Layer):
    """An op applied to symbolic tensors inside a functional graph (not saveable in .keras)."""

    def __init__(self, fn, op_name, args, kwargs):
        super().__init__(name=f"{op_name}_{id(self) % 10000}")
        self.fn, self.op_name, self.op_args, self.op_kwargs = fn, op_name, args, kwargs

    def call(self, *tensors):
        it = iter(tensors)
        args = [next(it) if isinstance(a, KerasTensor) else a for a in self.op_args]
        return self.fn(*args, **self.op_kwargs)

    def get_config(self):
        raise ValueError(f"[save] the model applies keras.ops.{self.op_name} to symbolic tensors, which pydl cannot "
                         "save in a .keras file; wrap it in a layer (e.g. keras.layers.Add, Activation, Lambda)")


_OpLayer._internal_layout = False


def _symbolic(name):
    def wrap(fn):
        def op(*args, **kwargs):
            if is_symbolic(args, kwargs):
                if any(isinstance(a, (list, tuple, dict)) and is_symbolic(a) for a in args) or is_symbolic(kwargs):
                    raise NotImplementedError(f"[keras.ops.{name}] on symbolic tensors takes them as positional "
                                              "arguments only; use a layer (Concatenate, ...) for lists")
                layer = _OpLayer(fn, name, args, kwargs)
                kts = [a for a in args if isinstance(a, KerasTensor)]
                shapes = [t.shape[1:] for t in kts]
                layer.built = True
                out = layer._shape_by_running(shapes, args=[_C.zeros([2] + [1 if d is None else d for d in s],
                                                                     _C.dtype.float32) for s in shapes])
                from .engine import Node
                res = KerasTensor((None,) + tuple(out))
                Node(layer, kts, {}, [res])
                return res
            return fn(*args, **kwargs)
        op.__name__ = name
        op.__doc__ = fn.__doc__
        return op
    return wrap


def _t(x):
    return as_tensor(x) if not isinstance(x, (int, float)) else x


def _bin(a, b, fn):
    a, b = _t(a), _t(b)
    if isinstance(a, (int, float)):
        a = _C.full([], float(a), b.dtype)
    return fn(a, b)


@_symbolic("add")
def add(a, b):
    return _bin(a, b, lambda x, y: x + y)


@_symbolic("subtract")
def subtract(a, b):
    return _bin(a, b, lambda x, y: x - y)


@_symbolic("multiply")
def multiply(a, b):
    return _bin(a, b, lambda x, y: x * y)


@_symbolic("divide")
def divide(a, b):
    return _bin(a, b, lambda x, y: x / y)


@_symbolic("negative")
def negative(x):
    return -_t(x)


@_symbolic("power")
def power(x, p):
    return _bin(x, p, lambda a, b: a ** b)


@_symbolic("matmul")
def matmul(a, b):
    return _t(a).matmul(_t(b))


def _unary(name, fn):
    return _symbolic(name)(lambda x, *a, **k: fn(_t(x), *a, **k))


relu = _unary("relu", F.relu)
sigmoid = _unary("sigmoid", F.sigmoid)
tanh = _unary("tanh", F.tanh)
gelu = _unary("gelu", lambda x, approximate=True: F.gelu(x, approximate="tanh" if approximate else "none"))
silu = _unary("silu", F.silu)
exp = _unary("exp", lambda x: x.exp())
log = _unary("log", lambda x: x.log())
sqrt = _unary("sqrt", lambda x: x.sqrt())
square = _unary("square", lambda x: x.square())
abs = _unary("abs", lambda x: x.abs())  # noqa: A001
sin = _unary("sin", lambda x: x.sin())
cos = _unary("cos", lambda x: x.cos())
erf = _unary("erf", lambda x: x.erf())
softmax = _unary("softmax", lambda x, axis=-1: F.softmax(x, dim=axis))
log_softmax = _unary("log_softmax", lambda x, axis=-1: F.log_softmax(x, dim=axis))


def _axes(axis):
    return None if axis is None else (tuple(axis) if isinstance(axis, (list, tuple)) else axis)


def _reduce(method):
    def fn(x, axis=None, keepdims=False):
        x = _t(x)
        ax = _axes(axis)
        if ax is None:
            ax = tuple(range(x.dim()))
        return getattr(x, method)(ax, keepdim=keepdims)
    return fn


mean = _unary("mean", _reduce("mean"))
sum = _unary("sum", _reduce("sum"))  # noqa: A001
max = _unary("max", _reduce("amax"))  # noqa: A001
min = _unary("min", _reduce("amin"))  # noqa: A001
std = _unary("std", lambda x, axis=None, keepdims=False: x.std(_axes(axis) if axis is not None else tuple(
    range(x.dim())), unbiased=False, keepdim=keepdims))
var = _unary("var", lambda x, axis=None, keepdims=False: x.var(_axes(axis) if axis is not None else tuple(
    range(x.dim())), unbiased=False, keepdim=keepdims))
argmax = _unary("argmax", lambda x, axis=-1, keepdims=False: x.argmax(axis, keepdim=keepdims))
norm = _unary("norm", lambda x, ord=None, axis=None, keepdims=False: x.square().sum(
    _axes(axis) if axis is not None else tuple(range(x.dim())), keepdim=keepdims).sqrt())


def concatenate(xs, axis=0):
    """Concatenates tensors along axis (Keras's layout)."""
    if is_symbolic(xs):
        from .layers import Concatenate
        return Concatenate(axis=axis)(list(xs))
    return _C.cat([_t(x) for x in xs], axis)


def stack(xs, axis=0):
    return _C.stack([_t(x) for x in xs], axis)


reshape = _unary("reshape", lambda x, newshape: x.reshape([int(d) for d in newshape]))
transpose = _unary("transpose", lambda x, axes=None: x.permute(*(axes if axes is not None else
                                                                  range(x.dim() - 1, -1, -1))))
expand_dims = _unary("expand_dims", lambda x, axis: x.unsqueeze(axis))
squeeze = _unary("squeeze", lambda x, axis=None: x.squeeze() if axis is None else x.squeeze(axis))
clip = _unary("clip", lambda x, x_min, x_max: x.clamp(x_min, x_max))
cast = _unary("cast", lambda x, dtype: x.to(_C._parse_dtype(str(dtype).replace("int32", "int64"))))
flatten_ = _unary("flatten", lambda x: x.reshape([-1]))
one_hot = _unary("one_hot", lambda x, num_classes: F.one_hot(x.to(_C.dtype.int64), int(num_classes)).to(
    _C.dtype.float32))


@_symbolic("maximum")
def maximum(a, b):
    return _bin(a, b, lambda x, y: _C.maximum(x, y) if isinstance(y, Tensor) else x.clamp(min=y))


@_symbolic("minimum")
def minimum(a, b):
    return _bin(a, b, lambda x, y: _C.minimum(x, y) if isinstance(y, Tensor) else x.clamp(max=y))


def where(cond, x, y):
    return _C.where(_t(cond), _t(x), _t(y))


@_symbolic("equal")
def equal(a, b):
    return _bin(a, b, lambda x, y: x == y)


@_symbolic("greater")
def greater(a, b):
    return _bin(a, b, lambda x, y: x > y)


@_symbolic("less")
def less(a, b):
    return _bin(a, b, lambda x, y: x < y)


def logical_and(a, b):
    return _C.logical_and(_t(a), _t(b))


def convert_to_tensor(x, dtype=None):
    t = as_tensor(x)
    return t if dtype is None else cast(t, dtype)


def convert_to_numpy(x):
    return x.detach().numpy().copy() if isinstance(x, Tensor) else np.asarray(x)


def shape(x):
    return tuple(x.shape)


def zeros(shape, dtype="float32"):
    return _C.zeros([int(d) for d in shape], _C._parse_dtype(dtype.replace("int32", "int64")))


def ones(shape, dtype="float32"):
    return _C.full([int(d) for d in shape], 1.0, _C._parse_dtype(dtype.replace("int32", "int64")))


def zeros_like(x):
    return _C.zeros(list(x.shape), x.dtype)


def ones_like(x):
    return _C.full(list(x.shape), 1.0, x.dtype)


def arange(start, stop=None, step=1, dtype="int64"):
    if stop is None:
        start, stop = 0, start
    return _C.arange(start, stop, step, _C._parse_dtype(dtype.replace("int32", "int64")))


def einsum_unsupported(*a, **k):
    raise NotImplementedError("[keras.ops.einsum] is not supported by pydl.keras yet")


def _getitem(x, idx):
    """x[idx] on a symbolic tensor: an op layer."""
    layer = _symbolic("getitem")(lambda t: t[idx])
    return layer(x)


__all__ = [n for n in __all__ if n not in ("flatten_", "einsum_unsupported")]
