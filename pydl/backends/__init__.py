"""pydl.backends: backend queries and flags, as ``torch.backends`` (mps, cudnn, cuda)."""
from . import cuda, cudnn, mps  # noqa: F401
