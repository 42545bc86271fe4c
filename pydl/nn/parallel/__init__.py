"""pydl.nn.parallel: data parallelism across processes (MPI ranks)."""
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]
