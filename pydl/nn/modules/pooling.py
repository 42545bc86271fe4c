"""torch.nn.modules.pooling's path: the pooling layers (defined in layers.py)."""
from .layers import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d  # noqa: F401

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]
