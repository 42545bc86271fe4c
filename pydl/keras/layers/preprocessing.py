"""Keras's image augmentation layers, active only in training (identity in inference, as
Keras): RandomFlip, RandomRotation, RandomZoom, RandomTranslation. The per-sample affine warp
(bilinear or nearest, fill modes reflect / wrap / nearest / constant, Keras's conventions) is
composed from pydl ops over the whole batch: coordinates from arange, four gathers, weights.
"""
import math

from ... import _C
from .core import Layer

__all__ = ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "affine_transform"]

_F32, _I64 = _C.dtype.float32, _C.dtype.int64


def _uniform(n, lo, hi):
    return _C.rand([n], _F32) * (hi - lo) + lo


def _fill_coords(c, size, mode):
    """Maps source coordinates outside [0, size-1] as Keras's fill modes do (constant is
    handled by masking)."""
    if mode == "reflect":  # d c b a | a b c d | d c b a
        if size == 1:
            return c * 0.0
        period = 2.0 * size
        c = _C.remainder(c, _C.full([], period, _F32))
        return _C.where(c >= size, period - 1.0 - c, c)
    if mode == "wrap":
        return _C.remainder(c, _C.full([], float(size), _F32))
    if mode == "nearest":
        return c.clamp(0.0, size - 1.0)
    return c


def affine_transform(x, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0):
    """Warps images x (N, C, H, W) by per-sample transforms (N, 8) in Keras's convention: output
    (x, y) samples the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k),
    k = c0 x + c1 y + 1."""
    n, c, h, w = x.shape
    ys = _C.arange(0, h, 1, _I64).to(_F32).reshape([1, h, 1]).expand([1, h, w]).reshape([1, h * w])
    xs = _C.arange(0, w, 1, _I64).to(_F32).reshape([1, 1, w]).expand([1, h, w]).reshape([1, h * w])
    t = [_C.select(transform, 1, i).reshape([n, 1]) for i in range(8)]
    k = t[6] * xs + t[7] * ys + 1.0
    sx = (t[0] * xs + t[1] * ys + t[2]) / k
    sy = (t[3] * xs + t[4] * ys + t[5]) / k
    flat = x.reshape([n, c, h * w])

    def sample(iy, ix):
        """Pixels at integer coords (after the fill mode), with a validity mask for constant."""
        valid = None
        if fill_mode == "constant":
            valid = ((ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)).to(_F32)
        else:
            ix, iy = _fill_coords(ix, w, fill_mode), _fill_coords(iy, h, fill_mode)
        ixc, iyc = ix.clamp(0.0, w - 1.0), iy.clamp(0.0, h - 1.0)
        idx = (iyc * w + ixc).to(_I64).reshape([n, 1, h * w]).expand([n, c, h * w])
        vals = flat.gather(2, idx)
        if valid is not None:
            v = valid.reshape([n, 1, h * w])
            vals = vals * v + (1.0 - v) * fill_value
        return vals

    if interpolation == "nearest":
        out = sample(_C.round(sy), _C.round(sx))
    elif interpolation == "bilinear":
        x0, y0 = sx.floor(), sy.floor()
        wx, wy = (sx - x0).reshape([n, 1, h * w]), (sy - y0).reshape([n, 1, h * w])
        out = (sample(y0, x0) * (1 - wx) * (1 - wy) + sample(y0, x0 + 1) * wx * (1 - wy)
               + sample(y0 + 1, x0) * (1 - wx) * wy + sample(y0 + 1, x0 + 1) * wx * wy)
    else:
        raise ValueError(f"[affine_transform] interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    return out.reshape([n, c, h, w])


def _range(factor, layer, what):
    if isinstance(factor, (list, tuple)):
        if len(factor) != 2:
            raise ValueError(f"[{layer}] {what} must be a number or a (lower, upper) pair, got {factor}")
        return float(factor[0]), float(factor[1])
    return -abs(float(factor)), abs(float(factor))


class _Augment(Layer):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 value_range=None, **kwargs):
        super().__init__(**kwargs)
        if fill_mode not in ("reflect", "wrap", "nearest", "constant"):
            raise ValueError(f"[{type(self).__name__}] fill_mode must be reflect, wrap, nearest or constant, got "
                             f"{fill_mode!r}")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"[{type(self).__name__}] interpolation must be 'bilinear' or 'nearest', got "
                             f"{interpolation!r}")
        self.fill_mode, self.interpolation, self.seed, self.fill_value = fill_mode, interpolation, seed, fill_value

    def call(self, x):
        if not self.training:
            return x
        if x.dim() != 4:
            raise ValueError(f"[{self.name}] expects images (N, H, W, C), got shape {tuple(x.shape)}")
        return affine_transform(x, self._transform(x.shape[0], x.shape[2], x.shape[3]), self.interpolation,
                                self.fill_mode, self.fill_value)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "seed": self.seed, "fill_value": self.fill_value, "data_format": "channels_last"}


def _stack(cols):
    return _C.stack(cols, 1)


class RandomRotation(_Augment):
    """Rotates each image by an angle drawn from factor * [-2pi, 2pi] (or a (lower, upper) pair)."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self._lo, self._hi = _range(factor, "RandomRotation", "factor")

    def _transform(self, n, h, w):
        angle = _uniform(n, self._lo * 2 * math.pi, self._hi * 2 * math.pi)
        return rotation_transform(angle, h, w)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def rotation_transform(angle, h, w):
    """Keras's rotation matrix about the image centre, per angle (N,) in radians."""
    cos, sin = angle.cos(), angle.sin()
    x_off = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) * 0.5
    y_off = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) * 0.5
    zero = cos * 0.0
    return _stack([cos, -sin, x_off, sin, cos, y_off, zero, zero])


class RandomZoom(_Augment):
    """Zooms each image by 1 + a factor drawn from height_factor (and width_factor, else the
    same draw); positive factors zoom out, as Keras."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _range(height_factor, "RandomZoom", "height_factor")
        self._w = None if width_factor is None else _range(width_factor, "RandomZoom", "width_factor")

    def _transform(self, n, h, w):
        zy = 1.0 + _uniform(n, *self._h)
        zx = 1.0 + _uniform(n, *self._w) if self._w is not None else zy
        return zoom_transform(zx, zy, h, w)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


def zoom_transform(zx, zy, h, w):
    zero = zx * 0.0
    return _stack([zx, zero, (1.0 - zx) * ((w - 1) * 0.5), zero, zy, (1.0 - zy) * ((h - 1) * 0.5), zero, zero])


class RandomTranslation(_Augment):
    """Shifts each image by fractions of its height / width drawn from the factors."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _range(height_factor, "RandomTranslation", "height_factor")
        self._w = _range(width_factor, "RandomTranslation", "width_factor")

    def _transform(self, n, h, w):
        dy = _uniform(n, *self._h) * h
        dx = _uniform(n, *self._w) * w
        one, zero = dx * 0.0 + 1.0, dx * 0.0
        return _stack([one, zero, -dx, zero, one, -dy, zero, zero])

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomFlip(Layer):
    """Flips each image left-right and / or up-down with probability 1/2 in training."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"[RandomFlip] mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got "
                             f"{mode!r}")
        self.mode, self.seed = mode, seed

    def call(self, x):
        if not self.training:
            return x
        n = x.shape[0]
        for dim, on in ((3, "horizontal" in self.mode), (2, "vertical" in self.mode)):
            if on:
                size = x.shape[dim]
                flipped = _C.index_select(x, dim, _C.arange(size - 1, -1, -1, _I64))
                m = (_C.rand([n, 1, 1, 1], _F32) < 0.5)
                x = _C.where(m, flipped, x)
        return x

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed, "data_format": "channels_last"}
