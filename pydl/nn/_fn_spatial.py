"""Resampling, convolution and pooling ops of pydl.nn.functional beyond the basic ones:
interpolate (C++ kernels), pixel_shuffle, unfold / fold (C++ im2col / col2im), conv3d (im2col +
one batched GEMM), conv_transpose1d, adaptive max pools, max_unpool, lp_pool."""
import math

from .. import _C
from .functional import _pair, avg_pool1d, avg_pool2d, pad

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
           "unfold", "fold", "conv3d", "conv_transpose1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d", "lp_pool1d", "lp_pool2d"]

_INTERP_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resizes the spatial dims of input (N, C, L), (N, C, H, W) or (N, C, D, H, W).

    Args:
        size: output spatial size (int or one per dim); or
        scale_factor: multiplier per spatial dim (output = floor(in * scale)).
        mode: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' / 'bicubic' (4-D),
            'trilinear' (5-D) or 'area' (adaptive average pooling, 3-D / 4-D).
        align_corners: for the interpolating modes, map corner pixels' centres onto each other.
        recompute_scale_factor: derive the coordinate mapping from the output size instead of scale_factor.
        antialias: bilinear / bicubic only: when downsampling, average over every input pixel
            under the widened filter (as PyTorch / PIL).
    """
    op = "[interpolate]"
    modes = ("nearest", "nearest-exact", "area") + tuple(_INTERP_DIMS)
    if mode not in modes:
        raise ValueError(f"{op} mode must be one of {modes}, got {mode!r}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(f"{op} align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
        align_corners = False
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if antialias and not (mode in ("bilinear", "bicubic") and dim == 2):
        raise ValueError(f"{op} anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D "
                         f"tensor as input, got mode {mode!r} and input {tuple(input.shape)}")
    if dim < 1 or dim > 3:
        raise ValueError(f"{op} expected a 3-D, 4-D or 5-D input (N, C, spatial...), got {tuple(input.shape)}")
    if mode in _INTERP_DIMS and _INTERP_DIMS[mode] != dim:
        raise NotImplementedError(f"{op} got {dim + 2}D input, but {mode} mode needs {_INTERP_DIMS[mode] + 2}D input")
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op} only one of size or scale_factor should be defined")
    in_sizes = [int(s) for s in input.shape[2:]]
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dim
        if len(sizes) != dim:
            raise ValueError(f"{op} input and output must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {in_sizes} and output size of {size}")
        out = [int(s) for s in sizes]
        scales = []
    elif scale_factor is not None:
        if recompute_scale_factor and size is not None:
            raise ValueError(f"{op} recompute_scale_factor is not meaningful with an explicit size")
        factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dim
        if len(factors) != dim:
            raise ValueError(f"{op} input and scale_factor must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {in_sizes} and scale_factor of {scale_factor}")
        factors = [float(f) for f in factors]
        if any(f <= 0 for f in factors):
            raise ValueError(f"{op} scale_factor must be positive, got {scale_factor}")
        out = [int(math.floor(i * f)) for i, f in zip(in_sizes, factors)]
        scales = [] if recompute_scale_factor or mode == "area" else factors
    else:
        raise ValueError(f"{op} either size or scale_factor should be defined")
    if any(o <= 0 for o in out):
        raise ValueError(f"{op} output size {out} must be positive (input spatial size {in_sizes})")
    if mode == "area":
        if dim == 1:
            return adaptive_avg_pool1d(input, out[0])
        if dim == 2:
            return _C.adaptive_avg_pool2d(input, out)
        raise NotImplementedError(f"{op} mode 'area' supports 3-D and 4-D inputs, got {tuple(input.shape)}")
    kernel_mode = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    return _C.interpolate(input, out, scales, kernel_mode, bool(align_corners), bool(antialias))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (kept for PyTorch code)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate(mode='nearest')."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """interpolate(mode='bilinear', align_corners=True)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise ValueError(f"[pixel_shuffle] expected an input of at least 3 dims, got {tuple(input.shape)}")
    if r <= 0:
        raise ValueError(f"[pixel_shuffle] upscale_factor must be greater than 0, got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"[pixel_shuffle] expected the channel dim ({c}) of input {tuple(input.shape)} to be "
                         f"divisible by the square of upscale_factor ({r * r})")
    n = len(lead)
    x = input.reshape(lead + [c // (r * r), r, r, h, w])
    x = x.permute(list(range(n)) + [n, n + 3, n + 1, n + 4, n + 2])
    return x.reshape(lead + [c // (r * r), h * r, w * r])


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise ValueError(f"[pixel_unshuffle] expected an input of at least 3 dims, got {tuple(input.shape)}")
    if r <= 0:
        raise ValueError(f"[pixel_unshuffle] downscale_factor must be greater than 0, got {r}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"[pixel_unshuffle] expected the height and width ({h}, {w}) of input {tuple(input.shape)} "
                         f"to be divisible by downscale_factor ({r})")
    n = len(lead)
    x = input.reshape(lead + [c, h // r, r, w // r, r])
    x = x.permute(list(range(n)) + [n, n + 2, n + 4, n + 1, n + 3])
    return x.reshape(lead + [c * r * r, h // r, w // r])


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of input (N, C, H, W) or (C, H, W): (N, C * kh * kw, L)."""
    if input.dim() not in (3, 4):
        raise ValueError(f"[unfold] only 3D or 4D input tensors are supported, got {tuple(input.shape)}")
    x = input.unsqueeze(0) if input.dim() == 3 else input
    out = _C.im2col(x, list(_pair(kernel_size, "unfold")), list(_pair(dilation, "unfold")),
                    list(_pair(padding, "unfold")), list(_pair(stride, "unfold")))
    return out.squeeze(0) if input.dim() == 3 else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding local blocks (N, C * kh * kw, L) or (C * kh * kw, L) into (N, C, H, W) (unfold's adjoint)."""
    if input.dim() not in (2, 3):
        raise ValueError(f"[fold] only unbatched (2D) or batched (3D) input tensors are supported, got "
                         f"{tuple(input.shape)}")
    x = input.unsqueeze(0) if input.dim() == 2 else input
    out = _C.col2im(x, list(_pair(output_size, "fold")), list(_pair(kernel_size, "fold")), list(_pair(dilation, "fold")),
                    list(_pair(padding, "fold")), list(_pair(stride, "fold")))
    return out.squeeze(0) if input.dim() == 2 else out


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input (N, C, D, H, W) with weight (O, C/groups, kd, kh, kw): im2col, then
    one batched GEMM per group."""
    op = "[conv3d]"
    if input.dim() not in (4, 5):
        raise ValueError(f"{op} expected 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got {tuple(input.shape)}")
    if weight.dim() != 5:
        raise ValueError(f"{op} expected 5-D weight (out, in/groups, kd, kh, kw), got {tuple(weight.shape)}")
    unbatched = input.dim() == 4
    x = input.unsqueeze(0) if unbatched else input
    n, c = x.shape[0], x.shape[1]
    o, cg = weight.shape[0], weight.shape[1]
    k = [int(v) for v in weight.shape[2:]]
    groups = int(groups)
    if groups <= 0 or o % groups or cg * groups != c:
        raise ValueError(f"{op} input {tuple(x.shape)} has {c} channels but weight {tuple(weight.shape)} with "
                         f"groups={groups} expects {cg * groups} (and out_channels divisible by groups)")
    if bias is not None and tuple(bias.shape) != (o,):
        raise ValueError(f"{op} bias of shape {tuple(bias.shape)} does not match {o} output channels")
    s, d = _pair(stride, "conv3d", 3), _pair(dilation, "conv3d", 3)
    if isinstance(padding, str):
        if padding == "valid":
            p = (0, 0, 0)
        elif padding == "same":
            if any(v != 1 for v in s):
                raise ValueError(f"{op} padding='same' is not supported for strided convolutions")
            totals = [dd * (kk - 1) for dd, kk in zip(d, k)]
            p = tuple(t // 2 for t in totals)
            extra = [t - 2 * (t // 2) for t in totals]  # odd totals: the extra zero goes on the right, as PyTorch
            if any(extra):
                x = pad(x, [extra[2 - i // 2] if i % 2 else 0 for i in range(6)])
        else:
            raise ValueError(f"{op} invalid padding string {padding!r}, should be one of 'valid', 'same'")
    else:
        p = _pair(padding, "conv3d", 3)
    spatial = [int(v) for v in x.shape[2:]]
    out_sz = [(i + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for i, pp, dd, kk, ss in zip(spatial, p, d, k, s)]
    if any(v <= 0 for v in out_sz):
        raise ValueError(f"{op} kernel size {tuple(k)} (dilation {tuple(d)}) can't be greater than the padded input "
                         f"size; input {tuple(x.shape)}, padding {tuple(p)}")
    cols = _C.im2col(x, k, list(d), list(p), list(s))  # (N, C*K, L)
    kk = k[0] * k[1] * k[2]
    w = weight.reshape(groups, o // groups, cg * kk)
    out = _C.matmul(w, cols.reshape(n, groups, cg * kk, -1)).reshape([n, o] + out_sz)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1, 1)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution of (N, C, L) (or (C, L)) with weight (C, O/groups, k), run as a
    conv_transpose2d of height 1."""
    if input.dim() not in (2, 3):
        raise ValueError(f"[conv_transpose1d] expected 2-D or 3-D input, got shape {tuple(input.shape)}")
    if weight.dim() != 3:
        raise ValueError(f"[conv_transpose1d] expected 3-D weight (in, out/groups, k), got {tuple(weight.shape)}")
    one = lambda v: _pair(v, "conv_transpose1d", 1)[0]  # noqa: E731
    x = input.unsqueeze(0) if input.dim() == 2 else input
    out = _C.conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias, [1, one(stride)], [0, one(padding)],
                              [0, one(output_padding)], int(groups), [1, one(dilation)]).squeeze(2)
    return out.squeeze(0) if input.dim() == 2 else out


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) or (C, L) to a fixed length."""
    if input.dim() not in (2, 3):
        raise ValueError(f"[adaptive_avg_pool1d] expected 2-D or 3-D input, got {tuple(input.shape)}")
    return _C.adaptive_avg_pool2d(input.unsqueeze(-2), [1, _pair(output_size, "adaptive_avg_pool1d", 1)[0]]).squeeze(-2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (None keeps that input dim); indices are flat in each H*W plane."""
    if isinstance(output_size, (tuple, list)):
        osz = [input.shape[-2 + i] if v is None else int(v) for i, v in enumerate(output_size)]
    else:
        osz = [int(output_size)] * 2
    out, idx = _C.adaptive_max_pool2d(input, osz)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length; indices into L."""
    if input.dim() not in (2, 3):
        raise ValueError(f"[adaptive_max_pool1d] expected 2-D or 3-D input, got {tuple(input.shape)}")
    out, idx = _C.adaptive_max_pool2d(input.unsqueeze(-2), [1, _pair(output_size, "adaptive_max_pool1d", 1)[0]])
    out, idx = out.squeeze(-2), idx.squeeze(-2)
    return (out, idx) if return_indices else out


def _unpool(input, indices, kernel_size, stride, padding, output_size, n, op):
    """Scatters input into zeros at the flat spatial indices of max_pool{n}d(return_indices=True)."""
    if input.dim() not in (n + 1, n + 2):
        raise ValueError(f"[{op}] expected a {n + 1}-D or {n + 2}-D input, got {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"[{op}] indices of shape {tuple(indices.shape)} must match input {tuple(input.shape)}")
    k = _pair(kernel_size, op, n)
    s = k if stride is None else _pair(stride, op, n)
    p = _pair(padding, op, n)
    spatial = [int(v) for v in input.shape[-n:]]
    default = [(i - 1) * ss - 2 * pp + kk for i, ss, pp, kk in zip(spatial, s, p, k)]
    if output_size is None:
        out = default
    else:
        out = [int(v) for v in (output_size if isinstance(output_size, (list, tuple)) else [output_size])][-n:]
        if len(out) != n:
            raise ValueError(f"[{op}] output_size must have {n} spatial values, got {output_size}")
        for o, dft, ss in zip(out, default, s):
            if not dft - ss < o < dft + ss:
                raise ValueError(f"[{op}] invalid output_size {tuple(out)} (dim should be in the range "
                                 f"{tuple(v - t + 1 for v, t in zip(default, s))} to "
                                 f"{tuple(v + t - 1 for v, t in zip(default, s))})")
    lead = list(input.shape[:-n])
    plane = 1
    for v in out:
        plane *= v
    flat_idx = indices.reshape(lead + [-1])
    if flat_idx.numel() and (int(flat_idx.max().item()) >= plane or int(flat_idx.min().item()) < 0):
        raise IndexError(f"[{op}] found an invalid max index (outside an output plane of {plane} elements)")
    zeros = _C.zeros(lead + [plane], input.dtype)
    return zeros.scatter(-1, flat_idx, input.reshape(lead + [-1])).reshape(lead + out)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: (N, C, L) values placed at their indices, zeros elsewhere."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: (N, C, H, W) values placed at their indices, zeros elsewhere."""
    return _unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def _lp_finish(out, norm_type, area):
    return (_C.sign(out) * _C.relu(_C.abs(out)) * float(area)).pow(1.0 / float(norm_type))


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x^p)^(1/p) on (N, C, L)."""
    k = _pair(kernel_size, "lp_pool1d", 1)[0]
    out = avg_pool1d(input.pow(float(norm_type)), k, stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, k)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x^p)^(1/p) on (N, C, H, W)."""
    kh, kw = _pair(kernel_size, "lp_pool2d")
    out = avg_pool2d(input.pow(float(norm_type)), (kh, kw), stride, 0, ceil_mode)
    return _lp_finish(out, norm_type, kh * kw)
