"""Image transforms (torchvision.transforms names), vectorised over whole batches.

Every transform works on one sample (`t(img)`) and, through `_batch(x, pil)`, on a whole batch
as one NumPy computation: random parameters are drawn for all samples at once (from pydl's
seeded RNG) and applied with fancy indexing, so datasets can transform a DataLoader batch
without a Python loop over its samples.

Layouts: a "PIL-like" image is a uint8 (H, W) or (H, W, C) array (what datasets return without
ToTensor); a tensor image is float (C, H, W). Batched: (N, H, W[, C]) and (N, C, H, W).
"""
import numbers

import numpy as np

from .. import _C
from .._C import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "CenterCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "RandomAffine", "Lambda", "InterpolationMode"]


class InterpolationMode:
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _uniform(n, lo, hi):
    return lo + (hi - lo) * _C.rand([int(n)], _C.dtype.float64).numpy()


def _randint(high, n):
    return _C.randint(0, int(high), [int(n)], _C.dtype.int64).numpy()


def _to_nchw(x, pil):
    if not pil:
        return x
    return x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)


def _from_nchw(y, pil, ndim):
    if not pil:
        return y
    return y[:, 0] if ndim == 3 else np.ascontiguousarray(y.transpose(0, 2, 3, 1))


def _batchable(t):
    return getattr(t, "_batchable", hasattr(t, "_batch"))


class _Transform:
    """Single-sample __call__ built on the batch implementation."""

    _batchable = True

    def __call__(self, img):
        if isinstance(img, Tensor):
            x, pil = img.detach().numpy()[None], False
        else:
            x = np.asarray(img)
            pil = True
            x = x[None]
        y, pil_out = self._batch(x, pil)
        y = y[0]
        if pil_out:
            return y
        return _C.from_numpy(np.ascontiguousarray(y))

    def _batch(self, x, pil):
        raise NotImplementedError

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class Compose:
    """Applies transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def _batchable(self):
        return all(_batchable(t) for t in self.transforms)

    def _batch(self, x, pil):
        for t in self.transforms:
            x, pil = t._batch(x, pil)
        return x, pil

    def __repr__(self):
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({body}\n)"


class ToTensor(_Transform):
    """uint8 (H, W[, C]) in [0, 255] -> float32 (C, H, W) in [0, 1]; float arrays are only transposed."""

    def _batch(self, x, pil):
        if not pil:
            return x, False
        y = _to_nchw(x, True)
        if y.dtype == np.uint8:
            y = np.multiply(y, np.float32(1.0 / 255.0), dtype=np.float32)  # one pass, no uint8 -> float copy
        else:
            y = np.ascontiguousarray(y, dtype=np.float32)
        return y, False


class Normalize(_Transform):
    """(x - mean[c]) / std[c] per channel of a float tensor image."""

    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace
        s = np.asarray(std, dtype=np.float64).reshape(-1)
        if np.any(s == 0):
            raise ValueError(f"std evaluated to zero after conversion to float32, leading to division by zero: {std}")
        self._mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self._std = s

    def _batch(self, x, pil):
        if pil:
            raise TypeError("[Normalize] expects a tensor image (C, H, W); put ToTensor() before Normalize")
        dt = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        m = self._mean.astype(dt)[None, :, None, None]
        s = self._std.astype(dt)[None, :, None, None]
        return (x - m) / s, False

    def __repr__(self):
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


def _pad_nchw(x, padding, fill, mode):
    left, top, right, bottom = padding
    widths = ((0, 0), (0, 0), (top, bottom), (left, right))
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=fill)
    return np.pad(x, widths, mode={"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[mode])


def _parse_padding(padding):
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return (p, p, p, p)
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return (padding[0], padding[1], padding[0], padding[1])
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def _size2(size, name):
    if isinstance(size, numbers.Number):
        return (int(size), int(size))
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return (size[0], size[0])
    if len(size) != 2:
        raise ValueError(f"[{name}] please provide only two dimensions (h, w) for size.")
    return size


class RandomCrop(_Transform):
    """A random (h, w) crop of each image, after optional padding."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _size2(size, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    def _batch(self, x, pil):
        ndim = x.ndim
        y = _to_nchw(x, pil)
        if self.padding is not None:
            y = _pad_nchw(y, _parse_padding(self.padding), self.fill, self.padding_mode)
        h, w = self.size
        H, W = y.shape[2], y.shape[3]
        if self.pad_if_needed and (H < h or W < w):
            ph, pw = max(0, h - H), max(0, w - W)
            y = _pad_nchw(y, (pw, ph, pw, ph), self.fill, self.padding_mode)
            H, W = y.shape[2], y.shape[3]
        if H < h or W < w:
            raise ValueError(f"[RandomCrop] required crop size {(h, w)} is larger than input image size {(H, W)}")
        n = y.shape[0]
        i = _randint(H - h + 1, n)
        j = _randint(W - w + 1, n)
        windows = np.lib.stride_tricks.sliding_window_view(y, (h, w), axis=(2, 3))  # (N, C, H-h+1, W-w+1, h, w)
        out = windows[np.arange(n), :, i, j]  # (N, C, h, w)
        return _from_nchw(np.ascontiguousarray(out), pil, ndim), pil

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class CenterCrop(_Transform):
    def __init__(self, size):
        self.size = _size2(size, "CenterCrop")

    def _batch(self, x, pil):
        ndim = x.ndim
        y = _to_nchw(x, pil)
        h, w = self.size
        H, W = y.shape[2], y.shape[3]
        if H < h or W < w:
            pt, pl = max(0, (h - H) // 2), max(0, (w - W) // 2)
            y = _pad_nchw(y, (pl, pt, max(0, w - W - pl), max(0, h - H - pt)), 0, "constant")
            H, W = y.shape[2], y.shape[3]
        top = int(round((H - h) / 2.0))
        left = int(round((W - w) / 2.0))
        return _from_nchw(np.ascontiguousarray(y[:, :, top:top + h, left:left + w]), pil, ndim), pil

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size})"


class RandomHorizontalFlip(_Transform):
    """Mirrors each image left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def _batch(self, x, pil):
        ndim = x.ndim
        y = _to_nchw(x, pil)
        flip = _C.rand([y.shape[0]], _C.dtype.float64).numpy() < self.p
        out = y.copy()
        out[flip] = y[flip][..., ::-1]
        return _from_nchw(out, pil, ndim), pil

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirrors each image top-bottom with probability p."""

    def _batch(self, x, pil):
        ndim = x.ndim
        y = _to_nchw(x, pil)
        flip = _C.rand([y.shape[0]], _C.dtype.float64).numpy() < self.p
        out = y.copy()
        out[flip] = y[flip][..., ::-1, :]
        return _from_nchw(out, pil, ndim), pil


def _inverse_affine(center, angle, translate, scale, shear):
    """torchvision's _get_inverse_affine_matrix, vectorised over samples: returns (N, 6)."""
    rot = np.radians(angle)
    sx, sy = np.radians(shear[0]), np.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = np.cos(rot - sy) / np.cos(sy)
    b = -np.cos(rot - sy) * np.tan(sx) / np.cos(sy) - np.sin(rot)
    c = np.sin(rot - sy) / np.cos(sy)
    d = -np.sin(rot - sy) * np.tan(sx) / np.cos(sy) + np.cos(rot)
    m = np.stack([d, -b, np.zeros_like(a), -c, a, np.zeros_like(a)], axis=1) / np.asarray(scale)[:, None]
    m[:, 2] += m[:, 0] * (-cx - tx) + m[:, 1] * (-cy - ty)
    m[:, 5] += m[:, 3] * (-cx - tx) + m[:, 4] * (-cy - ty)
    m[:, 2] += cx
    m[:, 5] += cy
    return m


def _affine_nchw(y, m, fill):
    """Nearest-neighbour warp of (N, C, H, W) images by inverse matrices m (N, 6) in centred pixel
    coordinates (torchvision's tensor convention); outside pixels get `fill`."""
    n, c, H, W = y.shape
    yc, xc = np.meshgrid(np.arange(H) - (H - 1) / 2.0, np.arange(W) - (W - 1) / 2.0, indexing="ij")
    xc, yc = xc.reshape(1, -1), yc.reshape(1, -1)
    sx = m[:, 0:1] * xc + m[:, 1:2] * yc + m[:, 2:3] + (W - 1) / 2.0
    sy = m[:, 3:4] * xc + m[:, 4:5] * yc + m[:, 5:6] + (H - 1) / 2.0
    xi = np.rint(sx).astype(np.int64)
    yi = np.rint(sy).astype(np.int64)
    valid = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
    flat = np.clip(yi, 0, H - 1) * W + np.clip(xi, 0, W - 1)  # (N, H*W)
    base = (np.arange(n * c, dtype=np.int64) * (H * W)).reshape(n, c, 1)
    out = np.ascontiguousarray(y).reshape(-1)[base + flat[:, None, :]]  # (N, C, H*W)
    out = np.where(valid[:, None, :], out, np.asarray(fill, dtype=y.dtype))
    return out.reshape(n, c, H, W)


def _degrees(degrees, name):
    if isinstance(degrees, numbers.Number):
        if degrees < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return (-float(degrees), float(degrees))
    if len(degrees) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return (float(degrees[0]), float(degrees[1]))


class RandomAffine(_Transform):
    """Random rotation, translation, scale and shear per image (nearest neighbour, fill outside)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        self.degrees = _degrees(degrees, "degrees")
        if translate is not None:
            if len(translate) != 2 or any(not 0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translate should be a sequence of length 2 with values between 0 and 1")
        self.translate = translate
        if scale is not None:
            if len(scale) != 2 or any(s <= 0 for s in scale):
                raise ValueError("scale should be a sequence of length 2 with positive values")
        self.scale = scale
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = (-float(shear), float(shear))
            if len(shear) not in (2, 4):
                raise ValueError("shear should be a number or a sequence of length 2 or 4")
        self.shear = shear
        self.interpolation = interpolation
        self.fill = fill
        self.center = center

    def _params(self, n, H, W):
        angle = _uniform(n, *self.degrees)
        if self.translate is not None:
            max_dx = float(self.translate[0] * W)
            max_dy = float(self.translate[1] * H)
            tx = np.round(_uniform(n, -max_dx, max_dx))
            ty = np.round(_uniform(n, -max_dy, max_dy))
        else:
            tx = ty = np.zeros(n)
        scale = _uniform(n, *self.scale) if self.scale is not None else np.ones(n)
        shx = shy = np.zeros(n)
        if self.shear is not None:
            shx = _uniform(n, self.shear[0], self.shear[1])
            if len(self.shear) == 4:
                shy = _uniform(n, self.shear[2], self.shear[3])
        return angle, (tx, ty), scale, (shx, shy)

    def _center(self, H, W):
        if self.center is None:
            return (0.0, 0.0)
        return (self.center[0] - W * 0.5, self.center[1] - H * 0.5)

    def _batch(self, x, pil):
        ndim = x.ndim
        y = _to_nchw(x, pil)
        n, _, H, W = y.shape
        angle, translate, scale, shear = self._params(n, H, W)
        m = _inverse_affine(self._center(H, W), angle, translate, scale, shear)
        return _from_nchw(_affine_nchw(y, m, self.fill), pil, ndim), pil

    def __repr__(self):
        s = f"{self.__class__.__name__}(degrees={list(self.degrees)}"
        for k in ("translate", "scale", "shear"):
            if getattr(self, k) is not None:
                s += f", {k}={getattr(self, k)}"
        return s + ")"


class RandomRotation(RandomAffine):
    """Rotates each image by an angle drawn from U(-degrees, degrees) (counter-clockwise positive)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        if expand:
            raise NotImplementedError("[RandomRotation] expand=True is not supported")
        super().__init__(degrees, interpolation=interpolation, fill=fill, center=center)
        self.expand = expand

    def _batch(self, x, pil):
        ndim = x.ndim
        y = _to_nchw(x, pil)
        n, _, H, W = y.shape
        angle = _uniform(n, *self.degrees)
        zeros = np.zeros(n)
        m = _inverse_affine(self._center(H, W), -angle, (zeros, zeros), np.ones(n), (zeros, zeros))
        return _from_nchw(_affine_nchw(y, m, self.fill), pil, ndim), pil

    def __repr__(self):
        return f"{self.__class__.__name__}(degrees={list(self.degrees)})"


class Lambda:
    """A user function applied to each sample (not batched)."""

    _batchable = False

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{self.__class__.__name__}()"
