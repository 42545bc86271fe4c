"""Keras activation functions on pydl tensors (Keras's layout): relu, sigmoid, softmax, ..."""
from ..nn import functional as F
from .layers.core import _ACTIVATIONS, _activation_name  # noqa: F401

__all__ = ["relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "silu", "swish", "softplus", "linear", "get",
           "serialize", "leaky_relu", "relu6", "selu", "hard_sigmoid", "exponential", "log_softmax"]


def _named(name, fn):
    fn.__name__ = name
    return fn


def softmax(x, axis=-1):
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return F.log_softmax(x, dim=axis)


relu = _named("relu", lambda x: F.relu(x))
linear = _named("linear", lambda x: x)
sigmoid, tanh, elu, silu, softplus = (_named(n, _ACTIVATIONS[n]) for n in ("sigmoid", "tanh", "elu", "silu",
                                                                         "softplus"))
swish = silu
gelu, leaky_relu, relu6, selu, hard_sigmoid, exponential = (
    _named(n, _ACTIVATIONS[n]) for n in ("gelu", "leaky_relu", "relu6", "selu", "hard_sigmoid", "exponential"))


def get(identifier):
    """An activation by name (or the callable itself)."""
    if callable(identifier):
        return identifier
    fn = globals().get(identifier) if isinstance(identifier, str) else None
    if fn is None or identifier not in __all__:
        raise ValueError(f"[keras.activations] unknown activation {identifier!r}")
    return fn


def serialize(fn):
    return _activation_name(fn)
