"""torch.nn.modules.sparse's path: Embedding (defined in layers.py)."""
from .layers import Embedding  # noqa: F401

__all__ = ["Embedding"]
