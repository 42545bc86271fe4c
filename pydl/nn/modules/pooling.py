"""torch.nn.modules.pooling's path: pooling layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport

reexport(globals(), ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool2d", "LPPool1d", "LPPool2d", "FractionalMaxPool2d"])
