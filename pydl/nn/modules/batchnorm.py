"""torch.nn.modules.batchnorm's path: the batch-norm layers (defined in layers.py)."""
from .layers import BatchNorm1d, BatchNorm2d, _NormBase  # noqa: F401

_BatchNorm = _NormBase  # PyTorch's base of the BatchNormNd classes, which subclasses check against

__all__ = ["BatchNorm1d", "BatchNorm2d"]
