"""Keras initializers: the same names, arguments and serialized form (`get_config`), filling
pydl tensors in Keras's weight layout (fan-in / fan-out computed as Keras does).
"""
import math

import numpy as np

from .. import _C
from ..autograd import no_grad

__all__ = ["Initializer", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal",
           "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal", "get",
           "serialize"]


def _fans(shape):
    """Keras's compute_fans: dense (in, out); conv (*kernel, in, out)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """`init(shape)` -> a float32 NumPy array in Keras's layout; `get_config()` its arguments."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _rng():
    # drawn from pydl's generator so pydl.manual_seed makes Keras models reproducible
    seed = int(_C.randint(0, 2 ** 31 - 1, [1], _C.dtype.int64).item())
    return np.random.default_rng(seed)


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def _gen(self):
        return np.random.default_rng(self.seed) if self.seed is not None else _rng()

    def get_config(self):
        return {"seed": self.seed}


class _VarianceScaling(_Seeded):
    scale, mode, distribution = 1.0, "fan_in", "truncated_normal"

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        g = self._gen()
        if self.distribution == "uniform":
            lim = math.sqrt(3 * var)
            return g.uniform(-lim, lim, shape).astype(np.float32)
        if self.distribution == "untruncated_normal":
            return g.normal(0, math.sqrt(var), shape).astype(np.float32)
        return _truncated(g, 0.0, math.sqrt(var) / 0.87962566103423978, shape)


def _truncated(g, mean, std, shape):
    out = g.normal(0, 1, shape)
    bad = np.abs(out) > 2
    while bad.any():  # resample the tail (vectorised, a few rounds)
        out[bad] = g.normal(0, 1, int(bad.sum()))
        bad = np.abs(out) > 2
    return (mean + std * out).astype(np.float32)


class GlorotUniform(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_VarianceScaling):
    scale, mode, distribution = 2.0, "fan_in", "uniform"


class HeNormal(_VarianceScaling):
    scale, mode, distribution = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_in", "uniform"


class LecunNormal(_VarianceScaling):
    scale, mode, distribution = 1.0, "fan_in", "truncated_normal"


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, np.float32)


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, np.float32)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, np.float32)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_Seeded):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        return self._gen().normal(self.mean, self.stddev, shape).astype(np.float32)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None):
        return _truncated(self._gen(), self.mean, self.stddev, shape)


class RandomUniform(_Seeded):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None):
        return self._gen().uniform(self.minval, self.maxval, shape).astype(np.float32)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class Orthogonal(_Seeded):
    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = float(gain)

    def __call__(self, shape, dtype=None):
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self._gen().normal(0, 1, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(np.float32)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_BY_NAME = {"glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
            "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "zeros": Zeros,
            "ones": Ones, "constant": Constant, "random_normal": RandomNormal, "random_uniform": RandomUniform,
            "truncated_normal": TruncatedNormal, "orthogonal": Orthogonal}
_BY_CLASS = {cls.__name__: cls for cls in _BY_NAME.values()}
_BY_CLASS.update({"Zero": Zeros, "One": Ones, "Identity": None})
zeros, ones = Zeros, Ones


def get(spec, layer="layer"):
    """An Initializer from a name ('glorot_uniform'), a class name ('GlorotUniform'), a Keras
    serialized dict, an Initializer, or a callable fn(shape) -> array."""
    if spec is None:
        return None
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, dict):
        cls = _BY_CLASS.get(spec.get("class_name"))
        if cls is None:
            raise ValueError(f"[{layer}] unknown initializer {spec.get('class_name')!r}; known: "
                             f"{', '.join(sorted(k for k, v in _BY_CLASS.items() if v))}")
        cfg = {k: v for k, v in (spec.get("config") or {}).items() if k not in ("input_axes", "output_axes")}
        return cls(**cfg)
    if isinstance(spec, str):
        cls = _BY_NAME.get(spec.lower()) or _BY_CLASS.get(spec)
        if cls is None:
            raise ValueError(f"[{layer}] unknown initializer {spec!r}; known: {', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(spec, type) and issubclass(spec, Initializer):
        return spec()
    if callable(spec):
        return spec
    raise TypeError(f"[{layer}] an initializer must be a name, an Initializer or a callable, got "
                    f"{type(spec).__name__}")


def serialize(init):
    if init is None:
        return None
    if not isinstance(init, Initializer):
        raise ValueError(f"[save] a custom initializer function {init!r} cannot be serialized; use a "
                         "keras.initializers class")
    return {"module": "keras.initializers", "class_name": type(init).__name__, "config": init.get_config(),
            "registered_name": None}


def fill(tensor, init, keras_shape, to_pydl=None, layer="layer"):
    """Fills `tensor` with `init` drawn in Keras's layout `keras_shape`; `to_pydl(array)` maps it
    to the tensor's layout (e.g. a transpose)."""
    a = np.asarray(get(init, layer)(tuple(keras_shape)), dtype=np.float32)
    if to_pydl is not None:
        a = to_pydl(a)
    with no_grad():
        tensor.copy_(_C.from_numpy(np.ascontiguousarray(a.reshape(tuple(tensor.shape)), dtype=np.float32)))
