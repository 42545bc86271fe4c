"""Keras convolution, pooling, padding and resizing layers beyond Conv2D (channels-last outside,
channels-first inside; 1-D layers work on (batch, steps, channels) and run as height-1 2-D ops).
"""
import numpy as np

from ... import _C
from ... import nn
from ...nn import functional as F
from ...nn.parameter import Parameter
from .core import (Layer, _Conv, _GlobalPool, _Pool, _check_format, _check_image, _check_padding, _check_seq,
                   _float_input, _init_config, _inits, _out_size, _same_pads, _tuple)

__all__ = ["Conv1D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D", "UpSampling2D", "ZeroPadding2D",
           "Cropping2D", "MaxPooling1D", "AveragePooling1D", "MaxPool1D", "AvgPool1D", "GlobalAveragePooling1D",
           "GlobalMaxPooling1D", "GlobalAvgPool1D", "GlobalMaxPool1D"]


def _params(*shapes):
    return [Parameter(_C.zeros(list(s), _C.dtype.float32)) for s in shapes]


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); padding 'valid', 'same' or 'causal'."""

    _rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, **kwargs)
        self.groups = int(groups)

    def build(self, input_shape):
        _check_seq(input_shape, "Conv1D")
        cin, k = input_shape[-1], self.kernel_size[0]
        if cin % self.groups or self.filters % self.groups:
            raise ValueError(f"[Conv1D] input channels ({cin}) and filters ({self.filters}) must be divisible by "
                             f"groups ({self.groups})")
        self.kernel, = _params((self.filters, cin // self.groups, 1, k))
        if self.use_bias:
            self.bias, = _params((self.filters,))
        self._init_weights([(self.kernel_initializer, (k, cin // self.groups, self.filters))]
                           + ([(self.bias_initializer, (self.filters,))] if self.use_bias else []))
        self._pads = [0, 0] + self._pads_for(input_shape[:1])

    def compute_output_shape(self, input_shape):
        _check_seq(input_shape, "Conv1D")
        return self._spatial_out(input_shape[:1]) + (self.filters,)

    def _pre_activation(self, x):
        x = _float_input(x).transpose(1, 2).unsqueeze(2)  # (N, T, C) -> (N, C, 1, T)
        y = _C.conv2d(x, self.kernel, self.bias if self.use_bias else None, [1, self.strides[0]], self._pads,
                      [1, self.dilation_rate[0]], self.groups)
        return y.squeeze(2).transpose(1, 2).contiguous()

    def get_weights(self):
        w = [self.kernel.detach().numpy()[:, :, 0, :].transpose(2, 1, 0).copy()]  # (O, I, 1, k) -> (k, I, O)
        return w + ([self.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        arrays = [np.asarray(weights[0]).transpose(2, 1, 0)[:, :, None, :]] + [np.asarray(w) for w in weights[1:]]
        params = [self.kernel] + ([self.bias] if self.use_bias else [])
        if len(arrays) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, arrays)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution (the adjoint of Conv2D): upsamples by `strides`.

    padding='same' gives height * stride outputs with TensorFlow's cropping (the extra row and
    column of an odd total are cropped at the bottom / right).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, **kwargs)
        if output_padding is not None:
            raise NotImplementedError("[Conv2DTranspose] output_padding is not supported")
        if self.dilation_rate != (1, 1):
            raise NotImplementedError("[Conv2DTranspose] dilation_rate > 1 is not supported")
        self.output_padding = None

    def build(self, input_shape):
        _check_image(input_shape, "Conv2DTranspose")
        cin = input_shape[-1]
        kh, kw = self.kernel_size
        self.kernel, = _params((cin, self.filters, kh, kw))
        if self.use_bias:
            self.bias, = _params((self.filters,))
        self._init_weights([(self.kernel_initializer, (kh, kw, self.filters, cin))]
                           + ([(self.bias_initializer, (self.filters,))] if self.use_bias else []))
        # per dim: op padding p, output_padding op, and an extra crop at the end
        self._geom = []
        for k, s in zip(self.kernel_size, self.strides):
            if self.padding == "valid":
                self._geom.append((0, max(s - k, 0), 0))
            elif k >= s:
                total = k - s
                self._geom.append((total // 2, 0, total % 2))
            else:
                self._geom.append((0, s - k, 0))

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, "Conv2DTranspose")
        out = []
        for size, k, s in zip(input_shape[:2], self.kernel_size, self.strides):
            if size is None:
                out.append(None)
            elif self.padding == "same":
                out.append(size * s)
            else:
                out.append(size * s + max(k - s, 0))
        return tuple(out) + (self.filters,)

    def _pre_activation(self, x):
        (ph, oph, ch), (pw, opw, cw) = self._geom
        y = _C.conv_transpose2d(_float_input(x), self.kernel, self.bias if self.use_bias else None,
                                list(self.strides), [ph, pw], [oph, opw], 1, [1, 1])
        if ch or cw:
            y = y[:, :, :y.shape[2] - ch, :y.shape[3] - cw].contiguous()
        return y

    def get_weights(self):
        w = [self.kernel.detach().numpy().transpose(2, 3, 1, 0).copy()]  # (I, O, kh, kw) -> (kh, kw, O, I)
        return w + ([self.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        arrays = [np.asarray(weights[0]).transpose(3, 2, 0, 1)] + [np.asarray(w) for w in weights[1:]]
        params = [self.kernel] + ([self.bias] if self.use_bias else [])
        if len(arrays) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, arrays)

    def get_config(self):
        return {**super().get_config(), "output_padding": None}


def _depthwise_to_op(k):
    """Keras depthwise kernel (kh, kw, C, M) -> the grouped conv's (C*M, 1, kh, kw)."""
    kh, kw, c, m = k.shape
    return k.reshape(kh, kw, c * m).transpose(2, 0, 1)[:, None]


def _depthwise_from_op(w, c):
    cm, _, kh, kw = w.shape
    return w[:, 0].transpose(1, 2, 0).reshape(kh, kw, c, cm // c)


class DepthwiseConv2D(_Conv):
    """Depthwise 2-D convolution: each input channel convolved with depth_multiplier filters."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, depthwise_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         depthwise_initializer, bias_initializer, kernel_regularizer=depthwise_regularizer,
                         kernel_constraint=depthwise_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)

    def build(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        c, m = input_shape[-1], self.depth_multiplier
        kh, kw = self.kernel_size
        self._cin = c
        self.depthwise_kernel, = _params((c * m, 1, kh, kw))
        if self.use_bias:
            self.bias, = _params((c * m,))
        self._init_weights([(self.kernel_initializer, (kh, kw, c, m))]
                           + ([(self.bias_initializer, (c * m,))] if self.use_bias else []))
        self._pads = self._pads_for(input_shape[:2])

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        return self._spatial_out(input_shape[:2]) + (input_shape[-1] * self.depth_multiplier,)

    def _pre_activation(self, x):
        return _C.conv2d(_float_input(x), self.depthwise_kernel, self.bias if self.use_bias else None,
                         list(self.strides), self._pads, list(self.dilation_rate), self._cin)

    def get_weights(self):
        w = [_depthwise_from_op(self.depthwise_kernel.detach().numpy(), self._cin).copy()]
        return w + ([self.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        arrays = [_depthwise_to_op(np.asarray(weights[0]))] + [np.asarray(w) for w in weights[1:]]
        params = [self.depthwise_kernel] + ([self.bias] if self.use_bias else [])
        if len(arrays) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, arrays)

    def get_config(self):
        cfg = super().get_config()
        cfg.pop("filters")
        cfg["depthwise_initializer"] = cfg.pop("kernel_initializer")
        cfg["depthwise_regularizer"] = cfg.pop("kernel_regularizer")
        return {**cfg, "depth_multiplier": self.depth_multiplier}


class SeparableConv2D(DepthwiseConv2D):
    """Depthwise convolution followed by a 1x1 (pointwise) convolution to `filters` channels."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", pointwise_regularizer=None,
                 pointwise_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, **kwargs)
        if pointwise_constraint is not None:
            raise NotImplementedError("[SeparableConv2D] constraints are not supported")
        if pointwise_regularizer is not None:
            from .. import regularizers as _regs
            self._regularizers["pointwise"] = _regs.get(pointwise_regularizer, "SeparableConv2D")
        self.filters = int(filters)
        self.pointwise_initializer = _inits.get(pointwise_initializer, "SeparableConv2D")

    def build(self, input_shape):
        _check_image(input_shape, "SeparableConv2D")
        c, m = input_shape[-1], self.depth_multiplier
        kh, kw = self.kernel_size
        self._cin = c
        self.depthwise_kernel, self.pointwise_kernel = _params((c * m, 1, kh, kw), (self.filters, c * m, 1, 1))
        if self.use_bias:
            self.bias, = _params((self.filters,))
        self._init_weights([(self.kernel_initializer, (kh, kw, c, m)),
                            (self.pointwise_initializer, (1, 1, c * m, self.filters))]
                           + ([(self.bias_initializer, (self.filters,))] if self.use_bias else []))
        self._pads = self._pads_for(input_shape[:2])

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, "SeparableConv2D")
        return self._spatial_out(input_shape[:2]) + (self.filters,)

    def _pre_activation(self, x):
        y = _C.conv2d(_float_input(x), self.depthwise_kernel, None, list(self.strides), self._pads,
                      list(self.dilation_rate), self._cin)
        return _C.conv2d(y, self.pointwise_kernel, self.bias if self.use_bias else None, [1, 1], [0, 0, 0, 0],
                         [1, 1], 1)

    def get_weights(self):
        w = [_depthwise_from_op(self.depthwise_kernel.detach().numpy(), self._cin).copy(),
             self.pointwise_kernel.detach().numpy().transpose(2, 3, 1, 0).copy()]
        return w + ([self.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        if len(weights) != 2 + self.use_bias:
            raise ValueError(f"[{self.name}] set_weights expected {2 + self.use_bias} arrays, got {len(weights)}")
        arrays = [_depthwise_to_op(np.asarray(weights[0])), np.asarray(weights[1]).transpose(3, 2, 0, 1)] + [
            np.asarray(w) for w in weights[2:]]
        params = [self.depthwise_kernel, self.pointwise_kernel] + ([self.bias] if self.use_bias else [])
        self._copy_in(params, arrays)

    def get_config(self):
        cfg = super().get_config()
        return {**cfg, "filters": self.filters, "pointwise_initializer": _init_config(self.pointwise_initializer),
                **self._reg_config("pointwise")}

    def _reg_target(self, key):
        if key == "pointwise":
            return self._parameters.get("pointwise_kernel") if self.built else None
        return super()._reg_target(key)




class UpSampling2D(Layer):
    """Repeats rows and columns: (N, H, W, C) -> (N, H*sh, W*sw, C) (nearest; composed from a
    broadcast view and a reshape, whose backward sums each block)."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, "UpSampling2D")
        self.size = _tuple(size, 2, "size", "UpSampling2D")
        if interpolation != "nearest":
            raise NotImplementedError(f"[UpSampling2D] only interpolation='nearest' is supported, got "
                                      f"{interpolation!r}")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, "UpSampling2D")
        h, w, c = input_shape
        sh, sw = self.size
        return (None if h is None else h * sh, None if w is None else w * sw, c)

    def call(self, x):
        n, c, h, w = x.shape
        sh, sw = self.size
        y = x.reshape([n, c, h, 1, w, 1]).expand([n, c, h, sh, w, sw])
        return y.reshape([n, c, h * sh, w * sw])

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": "channels_last",
                "interpolation": self.interpolation}


def _pairs(spec, layer, what):
    """Keras's int | (a, b) | ((top, bottom), (left, right)) -> ((top, bottom), (left, right))."""
    if isinstance(spec, int):
        return (spec, spec), (spec, spec)
    spec = tuple(spec)
    if len(spec) == 2 and all(isinstance(v, int) for v in spec):
        return (spec[0], spec[0]), (spec[1], spec[1])
    if len(spec) == 2 and all(isinstance(v, (tuple, list)) and len(v) == 2 for v in spec):
        return tuple(int(a) for a in spec[0]), tuple(int(a) for a in spec[1])
    raise ValueError(f"[{layer}] {what} must be an int, (rows, cols) or ((top, bottom), (left, right)), got {spec}")


class ZeroPadding2D(Layer):
    """Pads rows and columns with zeros."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, "ZeroPadding2D")
        self.padding = _pairs(padding, "ZeroPadding2D", "padding")

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, "ZeroPadding2D")
        (t, b), (l, r) = self.padding
        h, w, c = input_shape
        return (None if h is None else h + t + b, None if w is None else w + l + r, c)

    def call(self, x):
        (t, b), (l, r) = self.padding
        return F.pad(x, (l, r, t, b))

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding], "data_format": "channels_last"}


class Cropping2D(Layer):
    """Crops rows and columns."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, "Cropping2D")
        self.cropping = _pairs(cropping, "Cropping2D", "cropping")

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, "Cropping2D")
        (t, b), (l, r) = self.cropping
        h, w, c = input_shape
        out = (None if h is None else h - t - b, None if w is None else w - l - r, c)
        if any(v is not None and v <= 0 for v in out[:2]):
            raise ValueError(f"[{self.name}] cropping {self.cropping} removes all of {(None,) + tuple(input_shape)}")
        return out

    def call(self, x):
        (t, b), (l, r) = self.cropping
        return x[:, :, t:x.shape[2] - b, l:x.shape[3] - r].contiguous()

    def get_config(self):
        return {**super().get_config(), "cropping": [list(p) for p in self.cropping], "data_format": "channels_last"}


class _Pool1D(_Pool):
    _rank = 1

    def build(self, input_shape):
        _check_seq(input_shape, type(self).__name__)
        self._pads = [0, 0]
        if self.padding == "same":
            self._pads = list(_same_pads(input_shape[0], self.pool_size[0], self.strides[0]))

    def compute_output_shape(self, input_shape):
        _check_seq(input_shape, type(self).__name__)
        return (_out_size(input_shape[0], self.pool_size[0], self.strides[0], self.padding), input_shape[1])

    def call(self, x):
        y = x.transpose(1, 2)  # (N, T, C) -> (N, C, T)
        k, s = self.pool_size[0], self.strides[0]
        if self._pads != [0, 0]:
            lo, hi = self._pads
            if self._avg:
                ones = F.pad(_C.full([1, 1, y.shape[2]], 1.0, y.dtype), (lo, hi))
                y = F.avg_pool1d(F.pad(y, (lo, hi)), k, s) / F.avg_pool1d(ones, k, s)
            else:
                y = F.max_pool1d(F.pad(y, (lo, hi), value=float("-inf")), k, s)
        else:
            y = F.avg_pool1d(y, k, s) if self._avg else F.max_pool1d(y, k, s)
        return y.transpose(1, 2).contiguous()


class MaxPooling1D(_Pool1D):
    """Max over windows of steps."""


class AveragePooling1D(_Pool1D):
    """Mean over windows of steps (padding left out of the mean)."""

    _avg = True


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D


class GlobalAveragePooling1D(_GlobalPool):
    """Mean over steps: (N, T, C) -> (N, C) (or (N, 1, C) with keepdims)."""

    def compute_output_shape(self, input_shape):
        _check_seq(input_shape, type(self).__name__)
        return (1, input_shape[-1]) if self.keepdims else (input_shape[-1],)

    def call(self, x, mask=None):
        return x.mean(1, keepdim=self.keepdims) if self._fn == "mean" else x.amax(1, keepdim=self.keepdims)


class GlobalMaxPooling1D(GlobalAveragePooling1D):
    """Max over steps."""

    _fn = "max"


GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D


def _pair1(spec, layer, what):
    if isinstance(spec, int):
        return int(spec), int(spec)
    spec = tuple(spec)
    if len(spec) != 2:
        raise ValueError(f"[{layer}] {what} must be an int or a (before, after) pair, got {spec}")
    return int(spec[0]), int(spec[1])


class UpSampling1D(Layer):
    """Repeats each step `size` times: (N, T, C) -> (N, T*size, C)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def compute_output_shape(self, input_shape):
        _check_seq(input_shape, "UpSampling1D")
        t, c = input_shape
        return (None if t is None else t * self.size, c)

    def call(self, x):
        n, t, c = x.shape
        return x.reshape([n, t, 1, c]).expand([n, t, self.size, c]).reshape([n, t * self.size, c])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class ZeroPadding1D(Layer):
    """Pads steps with zeros at the start and the end."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pair1(padding, "ZeroPadding1D", "padding")

    def compute_output_shape(self, input_shape):
        _check_seq(input_shape, "ZeroPadding1D")
        t, c = input_shape
        return (None if t is None else t + sum(self.padding), c)

    def call(self, x):
        return F.pad(x, (0, 0) + self.padding)

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding), "data_format": "channels_last"}


class Cropping1D(Layer):
    """Crops steps at the start and the end."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pair1(cropping, "Cropping1D", "cropping")

    def compute_output_shape(self, input_shape):
        _check_seq(input_shape, "Cropping1D")
        t, c = input_shape
        out = None if t is None else t - sum(self.cropping)
        if out is not None and out <= 0:
            raise ValueError(f"[{self.name}] cropping {self.cropping} removes all of {(None,) + tuple(input_shape)}")
        return (out, c)

    def call(self, x):
        a, b = self.cropping
        return x[:, a:x.shape[1] - b].contiguous()

    def get_config(self):
        return {**super().get_config(), "cropping": list(self.cropping)}


__all__ += ["UpSampling1D", "ZeroPadding1D", "Cropping1D"]
