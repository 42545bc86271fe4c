"""Keras merge layers (Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot)
and the shape / element-wise layers (Permute, RepeatVector, Lambda, LeakyReLU, ELU, PReLU,
Rescaling, LayerNormalization, Embedding)."""
import numpy as np

from ... import _C
from ...nn import functional as F
from ...nn.parameter import Parameter
from .core import Layer, _init_config, _inits, internal_axis, to_internal, to_keras

__all__ = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot", "concatenate",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "dot", "Permute", "RepeatVector",
           "Lambda", "LeakyReLU", "ELU", "PReLU", "Rescaling", "LayerNormalization", "Embedding", "Identity"]


class _Merge(Layer):
    """Merges a list of same-shaped inputs (broadcasting like Keras)."""

    def _check(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"[{type(self).__name__}] expects a list of at least 2 inputs, got {input_shape}")

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        rank = max(len(s) for s in input_shape)
        out = []
        for i in range(rank):
            dims = {s[i - rank + len(s)] for s in input_shape if i - rank + len(s) >= 0} - {1}
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"[{self.name}] inputs of shapes {[(None,) + tuple(s) for s in input_shape]} cannot "
                                 "be merged")
            out.append(known.pop() if known else (None if None in dims else 1))
        return tuple(out)

    def call(self, inputs):
        ranks = {x.dim() for x in inputs}
        if len(ranks) > 1 and 4 in ranks:  # different ranks broadcast in Keras's layout
            out = self._merge([to_keras(x) for x in inputs])
            return to_internal(out)
        return self._merge(inputs)


class Add(_Merge):
    """Sum of the inputs."""

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """inputs[0] - inputs[1]."""

    def _check(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"[Subtract] expects a list of exactly 2 inputs, got {input_shape}")

    def _merge(self, xs):
        return xs[0] - xs[1]


class Multiply(_Merge):
    """Element-wise product of the inputs."""

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Average(Add):
    """Mean of the inputs."""

    def _merge(self, xs):
        return super()._merge(xs) * (1.0 / len(xs))


class Maximum(_Merge):
    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = _C.maximum(out, x)
        return out


class Minimum(_Merge):
    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = _C.minimum(out, x)
        return out


class Concatenate(Layer):
    """Concatenates a list of inputs along `axis` (Keras's axes; -1 is channels)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 1:
            raise ValueError(f"[Concatenate] expects a list of inputs, got {input_shape}")
        rank = len(input_shape[0]) + 1
        if any(len(s) + 1 != rank for s in input_shape):
            raise ValueError(f"[{self.name}] all inputs must have the same rank, got "
                             f"{[(None,) + tuple(s) for s in input_shape]}")
        ax = (self.axis + rank if self.axis < 0 else self.axis) - 1
        if not 0 <= ax < rank - 1:
            raise ValueError(f"[{self.name}] cannot concatenate along axis {self.axis} (the batch axis or out of "
                             "range)")
        out = list(input_shape[0])
        for s in input_shape[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i != ax and a is not None and b is not None and a != b:
                    raise ValueError(f"[{self.name}] a Concatenate layer requires inputs with matching shapes except "
                                     f"for the concatenation axis; got {[(None,) + tuple(s) for s in input_shape]}")
        total = [s[ax] for s in input_shape]
        out[ax] = None if None in total else sum(total)
        return tuple(out)

    def call(self, inputs):
        return _C.cat(list(inputs), internal_axis(self.axis, inputs[0].dim(), self.name))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """Dot products of samples of two inputs along `axes` (normalize: cosine similarity)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = list(axes) if isinstance(axes, (list, tuple)) else [int(axes), int(axes)]
        self.normalize = bool(normalize)

    def compute_output_shape(self, input_shape):
        a, b = input_shape
        if len(a) not in (1, 2) or len(b) != len(a):
            raise NotImplementedError(f"[Dot] supports two inputs of rank 2 or 3, got "
                                      f"{[(None,) + tuple(s) for s in input_shape]}")
        ra = len(a) + 1
        ax = [x + ra if x < 0 else x for x in self.axes]
        if len(a) == 1:
            return (1,)
        keep_a = [a[i - 1] for i in range(1, ra) if i != ax[0]]
        keep_b = [b[i - 1] for i in range(1, ra) if i != ax[1]]
        return tuple(keep_a + keep_b)

    def call(self, inputs):
        a, b = inputs
        if self.normalize:
            a = a / a.square().sum(self.axes[0], keepdim=True).clamp(min=1e-12).sqrt()
            b = b / b.square().sum(self.axes[1], keepdim=True).clamp(min=1e-12).sqrt()
        if a.dim() == 2:
            return (a * b).sum(1, keepdim=True)
        ax = [x + 3 if x < 0 else x for x in self.axes]
        a = a if ax[0] == 2 else a.transpose(1, 2)  # (N, keep, d)
        b = b if ax[1] == 1 else b.transpose(1, 2)  # (N, d, keep)
        return a.matmul(b)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _fn(cls):
    def f(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    f.__name__ = cls.__name__.lower()
    f.__doc__ = f"Functional form of {cls.__name__}."
    return f


concatenate, add, subtract, multiply = _fn(Concatenate), _fn(Add), _fn(Subtract), _fn(Multiply)
average, maximum, minimum = _fn(Average), _fn(Maximum), _fn(Minimum)


def dot(inputs, axes=-1, **kwargs):
    return Dot(axes, **kwargs)(inputs)


class Permute(Layer):
    """Permutes the non-batch axes: dims is a permutation of 1..rank-1 (Keras's)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"[Permute] dims must be a permutation of 1..{len(self.dims)}, got {self.dims}")

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims):
            raise ValueError(f"[{self.name}] dims {self.dims} do not fit inputs {(None,) + tuple(input_shape)}")
        return tuple(input_shape[d - 1] for d in self.dims)

    def call(self, x):
        return to_internal(to_keras(x).permute(0, *self.dims).contiguous())

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """(N, F) -> (N, n, F)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"[RepeatVector] expects (batch, features) inputs, got {(None,) + tuple(input_shape)}")
        return (self.n, input_shape[0])

    def call(self, x):
        return x.unsqueeze(1).expand([x.shape[0], self.n, x.shape[1]]).contiguous()

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Lambda(Layer):
    """Wraps fn(inputs) (Keras's layout, pydl ops / keras.ops); the output shape is found by
    running it once. Not saveable in .keras files (a Python function)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"[Lambda] function must be callable, got {type(function).__name__}")
        self.function = function
        self.arguments = dict(arguments or {})
        self._given_shape = output_shape

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        raise ValueError(f"[save] Lambda layer {self.name!r} holds a Python function, which pydl does not write into "
                         ".keras files; use a custom layer with @register_keras_serializable")


Lambda._internal_layout = False


class LeakyReLU(Layer):
    """x if x > 0 else negative_slope * x (Keras 3's default slope 0.3)."""

    def __init__(self, negative_slope=0.3, alpha=None, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = float(alpha if alpha is not None else negative_slope)

    def call(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, x):
        return F.elu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Leaky ReLU with a learned slope per feature (shared along shared_axes)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        if alpha_regularizer is not None or alpha_constraint is not None:
            raise NotImplementedError("[PReLU] regularizers and constraints are not supported")
        self.alpha_initializer = _inits.get(alpha_initializer, "PReLU")
        self.shared_axes = None if shared_axes is None else [int(a) for a in (
            shared_axes if isinstance(shared_axes, (list, tuple)) else [shared_axes])]

    def build(self, input_shape):
        shape = list(input_shape)
        for a in self.shared_axes or []:
            shape[a - 1] = 1
        self._kshape = tuple(shape)
        self.alpha = Parameter(_C.zeros(shape, _C.dtype.float32))
        self._init_weights([(self.alpha_initializer, self._kshape)])

    def call(self, x):
        k = to_keras(x) if x.dim() == 4 else x
        out = F.relu(k) - self.alpha * F.relu(-k)
        return to_internal(out) if x.dim() == 4 else out

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": _init_config(self.alpha_initializer),
                "shared_axes": self.shared_axes}


class Rescaling(Layer):
    """x * scale + offset (e.g. Rescaling(1/255) for pixels)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(scale, (list, tuple)) or isinstance(offset, (list, tuple)):
            raise NotImplementedError("[Rescaling] per-channel scale / offset are not supported")
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x):
        x = x if x.dtype.is_floating_point else x.to(_C.dtype.float32)
        return x * self.scale + self.offset if self.offset else x * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Identity(Layer):
    def call(self, x):
        return x


class LayerNormalization(Layer):
    """Normalises each sample over `axis` (the last by default), then scales by gamma and
    shifts by beta."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if not isinstance(axis, (list, tuple)) else (list(axis) if len(axis) > 1 else axis[0])
        if isinstance(self.axis, list):
            raise NotImplementedError(f"[LayerNormalization] only one axis is supported, got {axis}")
        if rms_scaling:
            raise NotImplementedError("[LayerNormalization] rms_scaling=True is not supported")
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = _inits.get(beta_initializer, "LayerNormalization")
        self.gamma_initializer = _inits.get(gamma_initializer, "LayerNormalization")

    def build(self, input_shape):
        rank = len(input_shape) + 1
        ax = self.axis + rank if self.axis < 0 else self.axis
        if ax != rank - 1:
            raise NotImplementedError(f"[LayerNormalization] only the last axis is supported, got axis={self.axis}")
        c = input_shape[-1]
        if self.scale:
            self.gamma = Parameter(_C.zeros([c], _C.dtype.float32))
        if self.center:
            self.beta = Parameter(_C.zeros([c], _C.dtype.float32))
        self._init_weights(([(self.gamma_initializer, (c,))] if self.scale else [])
                           + ([(self.beta_initializer, (c,))] if self.center else []))
        self._c = c

    @property
    def weights(self):
        return ([self.gamma] if self.scale else []) + ([self.beta] if self.center else [])

    def call(self, x):
        four = x.dim() == 4
        if four:
            x = x.permute(0, 2, 3, 1)
        y = F.layer_norm(x, (self._c,), self.gamma if self.scale else None, self.beta if self.center else None,
                         self.epsilon)
        return y.permute(0, 3, 1, 2).contiguous() if four else y

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": False, "beta_initializer": _init_config(self.beta_initializer),
                "gamma_initializer": _init_config(self.gamma_initializer)}


class Embedding(Layer):
    """Integer indices (N, ...) -> rows of an (input_dim, output_dim) table."""

    _int_input = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        super().__init__(**kwargs)
        if embeddings_constraint is not None:
            raise NotImplementedError("[Embedding] constraints are not supported")
        self._regularize(embeddings=embeddings_regularizer)
        if mask_zero:
            raise NotImplementedError("[Embedding] mask_zero=True (masking) is not supported by pydl.keras")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        init = "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer
        self.embeddings_initializer = _inits.get(init, "Embedding")
        self.mask_zero = False

    def build(self, input_shape):
        self.embeddings = Parameter(_C.zeros([self.input_dim, self.output_dim], _C.dtype.float32))
        self._init_weights([(self.embeddings_initializer, (self.input_dim, self.output_dim))])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def call(self, x):
        if x.dtype != _C.dtype.int64:
            x = x.to(_C.dtype.int64)
        if x.dim() == 4:
            x = to_keras(x)
        out = F.embedding(x, self.embeddings)
        return to_internal(out) if out.dim() == 4 else out

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": _init_config(self.embeddings_initializer), "mask_zero": False,
                **self._reg_config("embeddings")}
