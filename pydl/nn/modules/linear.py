"""torch.nn.modules.linear's path: linear layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport

reexport(globals(), ["Identity", "Linear", "Bilinear", "LazyLinear"])
