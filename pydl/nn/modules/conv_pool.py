"""Convolution and pooling layers beyond Conv1d/2d and MaxPool2d/AvgPool2d: Conv3d,
ConvTranspose1d/2d (with output_size), 1-D pools, adaptive pools, MaxUnpool, LPPool."""
from .. import functional as F
from .layers import _ConvBase, _ConvNd, _ntuple
from .module import Module

__all__ = ["Conv3d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d", "MaxUnpool2d", "LPPool1d", "LPPool2d"]


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W); weight (out_channels, in_channels/groups, kD, kH, kW)."""

    _n, _name, _fn = 3, "Conv3d", staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvBase):
    _n, _name, _fn = 2, "ConvTranspose2d", staticmethod(F.conv_transpose2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        tup = _ntuple(self._n, self._name)
        if padding_mode != "zeros":
            raise ValueError(f'[{self._name}] only "zeros" padding mode is supported, got {padding_mode!r}')
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"[{self._name}] in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = tup(kernel_size)
        self.stride = tup(stride)
        self.padding = tup(padding)
        self.dilation = tup(dilation)
        self.output_padding = tup(output_padding)
        self.transposed = True
        self.groups = groups
        self.padding_mode = padding_mode
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(f"[{self._name}] output_padding {self.output_padding} must be smaller than either "
                                 f"stride {self.stride} or dilation {self.dilation}")
        self._init_parameters((in_channels, out_channels // groups, *self.kernel_size), bias, dtype)

    def _output_padding(self, input, output_size):
        """PyTorch's rule: the output_padding that gives output_size (checked against the valid range)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        batched = input.dim() == n + 2
        size = [int(v) for v in output_size]
        if len(size) == n + (2 if batched else 1):
            size = size[-n:]
        if len(size) != n:
            raise ValueError(f"[{self._name}] output_size must have {n} or {n + (2 if batched else 1)} elements, "
                             f"got {len(size)}")
        spatial = [int(v) for v in input.shape[-n:]]
        lo = [(i - 1) * s - 2 * p + d * (k - 1) + 1
              for i, s, p, d, k in zip(spatial, self.stride, self.padding, self.dilation, self.kernel_size)]
        hi = [m + s - 1 for m, s in zip(lo, self.stride)]
        if any(not a <= v <= b for v, a, b in zip(size, lo, hi)):
            raise ValueError(f"[{self._name}] requested an output size of {size}, but valid sizes range from {lo} to "
                             f"{hi} (for an input of {spatial})")
        return tuple(v - a for v, a in zip(size, lo))

    def forward(self, input, output_size=None):
        op = self._output_padding(input, output_size)
        return self._fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution over (N, C_in, L); weight (in_channels, out_channels/groups, k)."""

    _n, _name, _fn = 1, "ConvTranspose1d", staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution over (N, C_in, H, W); weight (in_channels, out_channels/groups, kH, kW)."""

    _n, _name, _fn = 2, "ConvTranspose2d", staticmethod(F.conv_transpose2d)


class MaxPool1d(Module):
    """Max pooling over the last dim of (N, C, L)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                            return_indices=self.return_indices)

    def extra_repr(self):
        return ("kernel_size={kernel_size}, stride={stride}, padding={padding}, dilation={dilation}, "
                "ceil_mode={ceil_mode}".format(**self.__dict__))


class AvgPool1d(Module):
    """Mean pooling over the last dim of (N, C, L)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveMaxPool1d):
    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding

    def forward(self, input, indices, output_size=None):
        fn = F.max_unpool1d if self._n == 1 else F.max_unpool2d
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d (takes its indices)."""

    _n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d (takes its indices)."""

    _n = 2


class _LPPoolNd(Module):
    _n = 2

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        fn = F.lp_pool1d if self._n == 1 else F.lp_pool2d
        return fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return "norm_type={norm_type}, kernel_size={kernel_size}, stride={stride}, ceil_mode={ceil_mode}".format(
            **self.__dict__)


class LPPool1d(_LPPoolNd):
    """Power-average pooling over (N, C, L)."""

    _n = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling over (N, C, H, W)."""

    _n = 2
