"""Collectives that autograd differentiates through (torch.distributed.nn's names)."""
from .functional import all_gather, all_reduce  # noqa: F401

__all__ = ["all_gather", "all_reduce"]
