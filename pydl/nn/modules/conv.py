"""torch.nn.modules.conv's path: conv layers pydl has (defined in layers.py and its other files)."""
from .layers import _ConvNd  # noqa: F401
from ._reexport import reexport

reexport(globals(), ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"])
