"""torch.nn.modules.pixelshuffle's path: pixelshuffle layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport

reexport(globals(), ["PixelShuffle", "PixelUnshuffle"])
