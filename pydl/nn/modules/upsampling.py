"""torch.nn.modules.upsampling's path: upsampling layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport

reexport(globals(), ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"])
