"""torch.nn.modules.linear's path: the linear layers (defined in layers.py)."""
from .layers import Identity, Linear  # noqa: F401

__all__ = ["Identity", "Linear"]
