"""DistributedSampler: each rank reads its own share of the dataset (torch's index sets exactly)."""
import math

import numpy as np

from .. import _C
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Indices rank, rank + num_replicas, ... of one (shuffled) epoch, so the ranks together read
    every sample once. The shuffle is PyTorch's (randperm of a generator seeded with seed + epoch),
    so for the same arguments each rank gets the same indices as under torch's DistributedSampler.

    Args:
        dataset: anything with len().
        num_replicas: number of ranks (the default group's size if None).
        rank: this rank (the default group's rank if None).
        shuffle: shuffle each epoch (call set_epoch(e) before each epoch to change the order).
        seed: the shuffle seed; must be the same on every rank.
        drop_last: drop the tail that does not split evenly; otherwise pad by repeating indices.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("[DistributedSampler] num_replicas and rank default to the process group's, but "
                                   "it is not initialized: call pydl.distributed.init_process_group('mpi') first or "
                                   "pass num_replicas and rank")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"[DistributedSampler] num_replicas must be a positive int, got {num_replicas!r}")
        if not isinstance(rank, int) or rank >= num_replicas or rank < 0:
            raise ValueError(f"[DistributedSampler] Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _epoch_indices(self):
        n = len(self.dataset)
        if self.shuffle:
            idx = _C.randperm_mt19937(n, (self.seed + self.epoch) & 0xFFFFFFFFFFFFFFFF).numpy()
        else:
            idx = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            pad = self.total_size - n
            if pad > 0:
                idx = np.concatenate([idx, np.tile(idx, math.ceil(pad / n))[:pad]]) if n else idx
        else:
            idx = idx[:self.total_size]
        return idx[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the epoch, which seeds the shuffle: call it at the start of every epoch."""
        self.epoch = epoch
