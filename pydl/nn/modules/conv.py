"""torch.nn.modules.conv's path: the convolution layers (defined in layers.py)."""
from .layers import _ConvNd, Conv1d, Conv2d  # noqa: F401

__all__ = ["Conv1d", "Conv2d"]
