"""torch.nn.modules.batchnorm's path: the batch-norm layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport
from .layers import _NormBase

_BatchNorm = _NormBase  # PyTorch's base of the BatchNormNd classes, which subclasses check against

reexport(globals(), ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"])
