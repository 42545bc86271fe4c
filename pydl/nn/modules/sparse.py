"""torch.nn.modules.sparse's path: sparse layers pydl has (defined in layers.py and its other files)."""
from ._reexport import reexport

reexport(globals(), ["Embedding", "EmbeddingBag"])
