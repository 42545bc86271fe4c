"""torch.nn.modules.instancenorm's path: instancenorm layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport

reexport(globals(), ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"])
