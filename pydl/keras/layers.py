"""Keras layers (Keras's names and arguments) built on pydl.nn modules.

Layout: Keras images are channels-last (N, H, W, C). `Sequential` transposes a 4-D input to
channels-first (N, C, H, W) once, at the model input, and every layer works channels-first
inside (so pydl's NCHW convolution kernels run without per-layer transposes); a 4-D output is
transposed back. `Flatten` flattens in Keras's (H, W, C) order, so a Dense kernel after it
holds the same weights as in Keras (and `get_weights` / `set_weights` exchange weights in
Keras's layouts: Dense kernels (in, out), Conv2D kernels (kh, kw, in, out)).

Shapes given to and reported by layers (`input_shape=`, `output_shape`, `summary()`) are
Keras's: channels-last, without the batch dimension.
"""
import math
import re

import numpy as np

from .. import _C
from .. import nn
from ..nn import functional as F
from ..nn import init as _init
from ..autograd import no_grad

__all__ = ["Layer", "InputLayer", "Input", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "MaxPool2D",
           "AvgPool2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "Flatten", "Dropout",
           "BatchNormalization", "Activation", "Reshape", "ReLU", "Softmax"]

_counters = {}


def _unique_name(base):
    n = _counters.get(base, 0)
    _counters[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower().replace("2_d", "2d").replace("1_d", "1d")


def _tuple(v, n, what, layer):
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"[{layer}] {what} must be an int or a tuple of {n} ints, got {v}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


# ---- activations ---------------------------------------------------------------------------

def _softmax(x):
    return F.softmax(x, dim=1 if x.dim() == 4 else -1)  # channels (Keras's last axis) are dim 1 inside


def _log_softmax(x):
    return F.log_softmax(x, dim=1 if x.dim() == 4 else -1)


_ACTIVATIONS = {
    None: None, "linear": None, "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh, "softmax": _softmax,
    "log_softmax": _log_softmax, "elu": F.elu, "gelu": F.gelu, "silu": F.silu, "swish": F.silu,
    "softplus": F.softplus, "leaky_relu": F.leaky_relu,
}


def _activation(spec, layer):
    if callable(spec) and not isinstance(spec, str):
        return spec
    key = spec.lower() if isinstance(spec, str) else spec
    if key not in _ACTIVATIONS:
        raise ValueError(f"[{layer}] unknown activation {spec!r}; known: "
                         f"{', '.join(k for k in _ACTIVATIONS if k)}, or a callable")
    return _ACTIVATIONS[key]


def _activation_name(spec):
    if spec is None:
        return "linear"
    return spec.lower() if isinstance(spec, str) else getattr(spec, "__name__", "custom")


# ---- initialisers -------------------------------------------------------------------------

def _initialise(t, spec, layer, fan=None):
    name = spec.lower() if isinstance(spec, str) else spec
    with no_grad():
        if name == "glorot_uniform":
            _init.xavier_uniform_(t)
        elif name == "glorot_normal":
            _init.xavier_normal_(t)
        elif name == "he_uniform":
            _init.kaiming_uniform_(t, nonlinearity="relu")
        elif name == "he_normal":
            _init.kaiming_normal_(t, nonlinearity="relu")
        elif name == "zeros":
            _init.zeros_(t)
        elif name == "ones":
            _init.ones_(t)
        elif callable(spec):
            spec(t)
        else:
            raise ValueError(f"[{layer}] unknown initializer {spec!r}; known: glorot_uniform, glorot_normal, "
                             "he_uniform, he_normal, zeros, ones, or a callable fn(tensor)")


# ---- base ----------------------------------------------------------------------------------

class Layer(nn.Module):
    """Base of Keras layers: `build(input_shape)` creates the pydl.nn modules once the input
    shape is known (at construction with input_shape=, else at the first call), `call(x)` runs
    on channels-first tensors inside a Sequential, `compute_output_shape` works in Keras shapes.
    """

    _has_activation = False

    def __init__(self, name=None, input_shape=None, input_dim=None, batch_input_shape=None, trainable=True,
                 dtype=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"[{type(self).__name__}] unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        if dtype not in (None, "float32"):
            raise ValueError(f"[{type(self).__name__}] only dtype='float32' is supported, got {dtype!r}")
        self.name = name or _unique_name(_snake(type(self).__name__))
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_dim is not None:
            input_shape = (int(input_dim),)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self.built = False
        self.trainable = trainable
        self.input_shape = None
        self.output_shape = None

    def build(self, input_shape):
        """Creates the layer's parameters for inputs of `input_shape` (Keras shape, no batch)."""
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _build_and_shape(self, input_shape):
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
            if not self.trainable:
                for p in self.parameters():
                    p.requires_grad_(False)
        self.input_shape = input_shape
        self.output_shape = self.compute_output_shape(input_shape)
        return self.output_shape

    def call(self, x):
        raise NotImplementedError

    def forward(self, x):
        return self.call(x)

    def count_params(self):
        """Weights of the layer (parameters and running statistics, like Keras)."""
        n = sum(p.numel() for p in self.parameters())
        n += sum(b.numel() for b in self.buffers() if b.dtype.is_floating_point)
        return int(n)

    def _non_trainable_count(self):
        n = sum(p.numel() for p in self.parameters() if not p.requires_grad)
        n += sum(b.numel() for b in self.buffers() if b.dtype.is_floating_point)
        return int(n)

    def get_weights(self):
        """The layer's weights as NumPy arrays, in Keras's order and layouts."""
        return [p.detach().numpy().copy() for p in self.parameters()]

    def set_weights(self, weights):
        params = list(self.parameters())
        if len(weights) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, [np.asarray(w) for w in weights])

    def _copy_in(self, targets, arrays):
        with no_grad():
            for t, a in zip(targets, arrays):
                if tuple(t.shape) != a.shape:
                    raise ValueError(f"[{self.name}] set_weights: expected shape {tuple(t.shape)}, got {a.shape}")
                t.copy_(_C.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))

    def extra_repr(self):
        return f"name={self.name!r}"

    # the activation applied last; Sequential skips it to fuse softmax / sigmoid into the loss
    def _activate(self, x):
        fn = getattr(self, "_act_fn", None)
        return fn(x) if fn is not None else x

    def _pre_activation(self, x):
        return x

    def _activation_spec(self):
        return getattr(self, "activation", None)


class InputLayer(Layer):
    """Declares the input shape (Keras shape without the batch dimension)."""

    def __init__(self, shape=None, batch_size=None, name=None, input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("[Input] needs shape=(...) (without the batch dimension)")
        super().__init__(name=name or _unique_name("input"), input_shape=tuple(shape), **kwargs)
        self.shape = (batch_size,) + tuple(shape)

    def call(self, x):
        return x


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs):
    """An input declaration for Sequential: Sequential([Input(shape=(28, 28, 1)), Conv2D(...), ...])."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype, **kwargs)


def _to_channels_last(x):
    return x.permute(0, 2, 3, 1)


def _to_channels_first(x):
    return x.permute(0, 3, 1, 2).contiguous()


# ---- core layers ---------------------------------------------------------------------------

class Dense(Layer):
    """y = activation(x @ kernel + bias) over the last axis.

    Args:
        units: output features.
        activation: a name ('relu', 'softmax', 'sigmoid', 'tanh', ...), a callable or None.
        use_bias: add a bias.
        kernel_initializer, bias_initializer: 'glorot_uniform' and 'zeros' by default (Keras's).
    """

    _has_activation = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0:
            raise ValueError(f"[Dense] units must be a positive integer, got {units}")
        self.units = int(units)
        self.activation = activation
        self._act_fn = _activation(activation, "Dense")
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def build(self, input_shape):
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ValueError(f"[Dense] the last dimension of the input must be known, got shape {input_shape}")
        self.linear = nn.Linear(input_shape[-1], self.units, bias=self.use_bias)
        _initialise(self.linear.weight, self.kernel_initializer, "Dense")
        if self.use_bias:
            _initialise(self.linear.bias, self.bias_initializer, "Dense")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _pre_activation(self, x):
        if x.dim() == 4:  # an image: Dense acts on channels, Keras's last axis
            return _to_channels_first(self.linear(_to_channels_last(x)))
        return self.linear(x)

    def call(self, x):
        return self._activate(self._pre_activation(x))

    def get_weights(self):
        w = [self.linear.weight.detach().numpy().T.copy()]
        return w + ([self.linear.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        arrays = [np.asarray(weights[0]).T] + [np.asarray(w) for w in weights[1:]]
        params = [self.linear.weight] + ([self.linear.bias] if self.use_bias else [])
        if len(arrays) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, arrays)


def _same_pads(size, k, s, d=1):
    """Keras/TensorFlow 'same' padding: (before, after), the extra one after."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _out_size(size, k, s, padding, d=1):
    if size is None:
        return None
    if padding == "same":
        return -(-size // s)
    return (size - d * (k - 1) - 1) // s + 1


def _check_padding(padding, layer):
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same"):
        raise ValueError(f"[{layer}] padding must be 'valid' or 'same', got {padding!r}")
    return p


def _check_format(data_format, layer):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"[{layer}] only data_format='channels_last' is supported (inputs are (N, H, W, C)), "
                         f"got {data_format!r}")


def _check_image(input_shape, layer):
    if len(input_shape) != 3:
        raise ValueError(f"[{layer}] expected images of shape (height, width, channels) (plus the batch dimension), "
                         f"got an input of shape {(None,) + tuple(input_shape)}; reshape grey images to "
                         "(N, H, W, 1)")


class Conv2D(Layer):
    """2-D convolution over channels-last images.

    Args:
        filters: output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same' (TensorFlow's: the extra row/column goes at the bottom/right).
        activation, use_bias, kernel_initializer, bias_initializer: as Dense.
        dilation_rate: int or tuple.
    """

    _has_activation = True

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 groups=1, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, "Conv2D")
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, 2, "kernel_size", "Conv2D")
        self.strides = _tuple(strides, 2, "strides", "Conv2D")
        self.dilation_rate = _tuple(dilation_rate, 2, "dilation_rate", "Conv2D")
        self.padding = _check_padding(padding, "Conv2D")
        self.activation = activation
        self._act_fn = _activation(activation, "Conv2D")
        self.use_bias = use_bias
        self.groups = int(groups)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def build(self, input_shape):
        _check_image(input_shape, "Conv2D")
        cin = input_shape[-1]
        if cin % self.groups or self.filters % self.groups:
            raise ValueError(f"[Conv2D] input channels ({cin}) and filters ({self.filters}) must be divisible by "
                             f"groups ({self.groups})")
        self.conv = nn.Conv2d(cin, self.filters, self.kernel_size, stride=self.strides, dilation=self.dilation_rate,
                              groups=self.groups, bias=self.use_bias)
        _initialise(self.conv.weight, self.kernel_initializer, "Conv2D")
        if self.use_bias:
            _initialise(self.conv.bias, self.bias_initializer, "Conv2D")
        self._pads = [0, 0, 0, 0]
        if self.padding == "same":
            h, w = input_shape[0], input_shape[1]
            (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
            self._pads = list(_same_pads(h, kh, sh, dh) + _same_pads(w, kw, sw, dw))

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, "Conv2D")
        h, w, _ = input_shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        out = (_out_size(h, kh, sh, self.padding, dh), _out_size(w, kw, sw, self.padding, dw), self.filters)
        if any(v is not None and v <= 0 for v in out[:2]):
            raise ValueError(f"[{self.name}] the input {(None,) + tuple(input_shape)} is too small for a "
                             f"{self.kernel_size} kernel with padding='valid' (output would be {(None,) + out})")
        return out

    def _pre_activation(self, x):
        if x.dim() != 4:
            raise ValueError(f"[{self.name}] expected a 4-D input (N, H, W, C), got shape {tuple(x.shape)}")
        c = self.conv
        return _C.conv2d(x, c.weight, c.bias, list(self.strides), self._pads, list(self.dilation_rate), self.groups)

    def call(self, x):
        return self._activate(self._pre_activation(x))

    def get_weights(self):
        w = [self.conv.weight.detach().numpy().transpose(2, 3, 1, 0).copy()]  # (O, I, kh, kw) -> (kh, kw, I, O)
        return w + ([self.conv.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        arrays = [np.asarray(weights[0]).transpose(3, 2, 0, 1)] + [np.asarray(w) for w in weights[1:]]
        params = [self.conv.weight] + ([self.conv.bias] if self.use_bias else [])
        if len(arrays) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, arrays)


class _Pool2D(Layer):
    _avg = False

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, type(self).__name__)
        self.pool_size = _tuple(pool_size, 2, "pool_size", type(self).__name__)
        self.strides = self.pool_size if strides is None else _tuple(strides, 2, "strides", type(self).__name__)
        self.padding = _check_padding(padding, type(self).__name__)

    def build(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        self._pad, self._ceil = (0, 0), False
        if self.padding == "same":
            pads, ceil = [], False
            for size, k, s in zip(input_shape[:2], self.pool_size, self.strides):
                before, after = _same_pads(size, k, s)
                if after not in (before, before + 1) or (after != before and
                                                         -(-(size + 2 * before - k) // s) + 1 != -(-size // s)):
                    raise NotImplementedError(f"[{self.name}] padding='same' with pool {self.pool_size} and "
                                              f"strides {self.strides} on {input_shape} is not supported")
                ceil = ceil or after != before
                pads.append(before)
            self._pad, self._ceil = tuple(pads), ceil

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        h, w, c = input_shape
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        out = (_out_size(h, kh, sh, self.padding), _out_size(w, kw, sw, self.padding), c)
        if any(v is not None and v <= 0 for v in out[:2]):
            raise ValueError(f"[{self.name}] the input {(None,) + tuple(input_shape)} is smaller than the pool "
                             f"{self.pool_size}")
        return out

    def call(self, x):
        if self._avg:
            return F.avg_pool2d(x, self.pool_size, self.strides, self._pad, ceil_mode=self._ceil,
                                count_include_pad=False)
        return F.max_pool2d(x, self.pool_size, self.strides, self._pad, ceil_mode=self._ceil)


class MaxPooling2D(_Pool2D):
    """Max over pool_size windows (strides default to pool_size; padding 'valid' or 'same')."""


class AveragePooling2D(_Pool2D):
    """Mean over pool_size windows (padding is left out of the mean, like Keras)."""

    _avg = True


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D


class GlobalAveragePooling2D(Layer):
    """Mean over height and width: (N, H, W, C) -> (N, C) (or (N, 1, 1, C) with keepdims)."""

    _fn = "mean"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, type(self).__name__)
        self.keepdims = keepdims

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        return (1, 1, input_shape[-1]) if self.keepdims else (input_shape[-1],)

    def call(self, x):
        out = x.mean((2, 3)) if self._fn == "mean" else x.amax((2, 3))
        return out.reshape(list(out.shape) + [1, 1]) if self.keepdims else out


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    """Max over height and width."""

    _fn = "max"


GlobalAvgPool2D = GlobalAveragePooling2D


class Flatten(Layer):
    """Flattens all but the batch dimension, in Keras's channels-last order."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, "Flatten")

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape):
            return (None,)
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def call(self, x):
        if x.dim() == 4:  # channels-first inside: flatten as (H, W, C) like Keras
            x = _to_channels_last(x)
        return x.reshape([x.shape[0], -1])


class Reshape(Layer):
    """Reshapes to target_shape (Keras shape without the batch dimension; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"[Reshape] at most one dimension may be -1, got {self.target_shape}")

    def compute_output_shape(self, input_shape):
        if -1 not in self.target_shape:
            if None not in input_shape and int(np.prod(input_shape)) != int(np.prod(self.target_shape)):
                raise ValueError(f"[{self.name}] cannot reshape {(None,) + tuple(input_shape)} to "
                                 f"{(None,) + self.target_shape}: total sizes differ")
            return self.target_shape
        if None in input_shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        total = int(np.prod(input_shape))
        if known == 0 or total % known:
            raise ValueError(f"[{self.name}] cannot reshape {(None,) + tuple(input_shape)} to "
                             f"{(None,) + self.target_shape}")
        return tuple(total // known if d == -1 else d for d in self.target_shape)

    def call(self, x):
        if x.dim() == 4:
            x = _to_channels_last(x)
        out = x.reshape([x.shape[0]] + list(self.target_shape))
        return _to_channels_first(out) if out.dim() == 4 else out


class Dropout(Layer):
    """Zeroes inputs with probability `rate` in training (scaling the rest by 1/(1-rate))."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"[Dropout] rate must be in [0, 1), got {rate}")
        if noise_shape is not None:
            raise NotImplementedError("[Dropout] noise_shape is not supported")
        self.rate = float(rate)

    def call(self, x):
        return F.dropout(x, self.rate, self.training)


class BatchNormalization(Layer):
    """Batch normalisation over the channel axis (Keras's last axis).

    Keras's momentum m (moving = m * moving + (1 - m) * batch) maps to pydl's 1 - m.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1,):
            raise NotImplementedError(f"[BatchNormalization] only axis=-1 (channels) is supported, got {axis}")
        if not (center and scale):
            raise NotImplementedError("[BatchNormalization] center=False / scale=False are not supported")
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, input_shape):
        c = input_shape[-1]
        cls = nn.BatchNorm2d if len(input_shape) == 3 else nn.BatchNorm1d
        self.bn = cls(c, eps=self.epsilon, momentum=1.0 - self.momentum)

    def call(self, x):
        if x.dim() == 3:  # (N, T, F): normalise F, which BatchNorm1d wants at dim 1
            return self.bn(x.transpose(1, 2).contiguous()).transpose(1, 2)
        return self.bn(x)

    def get_weights(self):
        b = self.bn
        return [t.detach().numpy().copy() for t in (b.weight, b.bias, b.running_mean, b.running_var)]

    def set_weights(self, weights):
        b = self.bn
        self._copy_in([b.weight, b.bias, b.running_mean, b.running_var], [np.asarray(w) for w in weights])


class Activation(Layer):
    """Applies an activation ('relu', 'softmax', ...) element-wise (softmax over channels)."""

    _has_activation = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation
        self._act_fn = _activation(activation, "Activation")

    def call(self, x):
        return self._activate(x)


class ReLU(Activation):
    def __init__(self, **kwargs):
        super().__init__("relu", **kwargs)


class Softmax(Activation):
    def __init__(self, axis=-1, **kwargs):
        if axis != -1:
            raise NotImplementedError("[Softmax] only axis=-1 is supported")
        super().__init__("softmax", **kwargs)


# ---- recurrent layers (over pydl.nn.RNN / LSTM / GRU, batch-first) -----------------------------

class _Recurrent(Layer):
    """Keras recurrent layer over a (N, timesteps, features) input.

    Keras's initialisers: glorot_uniform input kernel, orthogonal recurrent kernel, zero biases
    (and a forget-gate bias of 1 for LSTM, unit_forget_bias). pydl.nn's cells keep two bias
    vectors (input and recurrent, as PyTorch), so an LSTM / SimpleRNN counts `gates * units`
    more parameters than Keras's (a GRU counts the same as Keras's reset_after=True GRU).
    """

    _mode = None
    _gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, dropout=0.0, recurrent_dropout=0.0, unroll=False,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 **kwargs):
        cls = type(self).__name__
        extra = {k: kwargs.pop(k) for k in ("recurrent_activation", "unit_forget_bias", "reset_after")
                 if k in kwargs}
        super().__init__(**kwargs)
        if not hasattr(nn, self._mode):
            raise NotImplementedError(f"[{cls}] needs pydl.nn.{self._mode}, which this build of pydl does not have")
        if return_state or go_backwards or stateful or dropout or recurrent_dropout:
            raise NotImplementedError(f"[{cls}] return_state, go_backwards, stateful and dropout are not supported")
        if kernel_initializer != "glorot_uniform" or recurrent_initializer != "orthogonal" \
                or bias_initializer != "zeros":
            raise NotImplementedError(f"[{cls}] only the default initializers are supported")
        if extra.get("recurrent_activation", "sigmoid") != "sigmoid" or extra.get("reset_after", True) is not True:
            raise NotImplementedError(f"[{cls}] only recurrent_activation='sigmoid' and reset_after=True are "
                                      "supported (pydl.nn's cells)")
        if activation != "tanh" and not (self._mode == "RNN" and activation == "relu"):
            raise NotImplementedError(f"[{cls}] activation={activation!r} is not supported (tanh"
                                      + (" or relu" if self._mode == "RNN" else "") + ")")
        self.units = int(units)
        self.activation = activation
        self.use_bias = use_bias
        self.return_sequences = return_sequences
        self.unit_forget_bias = extra.get("unit_forget_bias", True)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"[{type(self).__name__}] expected inputs of shape (batch, timesteps, features), got "
                             f"{(None,) + tuple(input_shape)}")
        kw = {"nonlinearity": self.activation} if self._mode == "RNN" else {}
        self.rnn = getattr(nn, self._mode)(input_shape[-1], self.units, 1, bias=self.use_bias, batch_first=True, **kw)
        u = self.units
        with no_grad():
            for name, p in self.rnn.named_parameters():
                if name.startswith("weight_ih"):
                    _init.xavier_uniform_(p)
                elif name.startswith("weight_hh"):
                    _init.orthogonal_(p)
                else:
                    b = np.zeros(tuple(p.shape), np.float32)
                    if self._mode == "LSTM" and self.unit_forget_bias and name.startswith("bias_ih"):
                        b[u:2 * u] = 1.0  # gates (i, f, g, o): Keras's unit_forget_bias
                    p.copy_(_C.from_numpy(b))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    def call(self, x):
        if x.dim() != 3:
            raise ValueError(f"[{self.name}] expected a 3-D input (batch, timesteps, features), got shape "
                             f"{tuple(x.shape)}")
        out, _ = self.rnn(x)
        return out if self.return_sequences else _C.select(out, 1, out.shape[1] - 1)


class SimpleRNN(_Recurrent):
    """Fully connected RNN: h_t = tanh(W x_t + U h_{t-1} + b)."""

    _mode = "RNN"


class LSTM(_Recurrent):
    """Long short-term memory layer (Hochreiter and Schmidhuber)."""

    _mode = "LSTM"


class GRU(_Recurrent):
    """Gated recurrent unit (reset_after=True, Keras's default, which is PyTorch's formulation)."""

    _mode = "GRU"


__all__ += ["SimpleRNN", "LSTM", "GRU"]
