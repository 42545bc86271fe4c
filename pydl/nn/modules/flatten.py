"""torch.nn.modules.flatten's path: Flatten and Unflatten (defined in layers.py)."""
from .layers import Flatten, Unflatten  # noqa: F401

__all__ = ["Flatten", "Unflatten"]
