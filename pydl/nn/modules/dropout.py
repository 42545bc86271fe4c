"""Dropout layers, as ``torch.nn.modules.dropout``: Dropout, and the channel-wise Dropout1d/2d/3d."""
from .. import functional as F
from .layers import Dropout, _DropoutNd

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) / (C, L) input with probability p in training."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) input with probability p in training."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of (N, C, D, H, W) / (C, D, H, W) input with probability p in training."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)
