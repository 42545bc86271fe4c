"""torch.nn.modules.flatten's path: flatten layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport

reexport(globals(), ["Flatten", "Unflatten"])
