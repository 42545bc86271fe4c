"""What pydl.train.fit does differently on several MPI ranks (after init_process_group).

- the model is wrapped in DistributedDataParallel (gradients averaged; the learning rate is
  left as given: scaling it with the global batch is the user's choice);
- a DataLoader with the default sampler is rebuilt over a DistributedSampler, so each rank
  reads its share of every epoch (set_epoch is called each epoch); validation data is split
  into strided shares without padding, so its metrics are exact;
- loss and metrics are summed over the ranks at the end of each epoch: every rank sees the
  same logs, so callbacks such as EarlyStopping decide the same way everywhere;
- progress bars and printed logs come from rank 0 only; callbacks that write files
  (ModelCheckpoint, CSVLogger) run on rank 0 only while the others wait at a barrier.
"""
import warnings

import numpy as np

from .. import _C


class Ranks:
    """The process group as fit sees it."""

    def __init__(self, dist):
        self.dist = dist
        self.rank = dist.get_rank()
        self.size = dist.get_world_size()

    def wrap(self, model):
        from ..nn.parallel import DistributedDataParallel
        return model if isinstance(model, DistributedDataParallel) else DistributedDataParallel(model)

    def shard(self, loader, train):
        """The loader each rank should read (the same one when it cannot be split safely)."""
        from ..data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler, Subset
        if not isinstance(loader, DataLoader) or loader.batch_size is None:
            if train and self.rank == 0:
                warnings.warn("[fit] the training data is not a DataLoader with a sampler: every rank reads all of "
                              "it (give it a DistributedSampler to split it)", stacklevel=3)
            return loader
        sampler = loader.sampler
        if isinstance(sampler, DistributedSampler):
            return loader
        if type(sampler) not in (RandomSampler, SequentialSampler):
            if train and self.rank == 0:
                warnings.warn(f"[fit] the DataLoader's {type(sampler).__name__} is kept: every rank reads the whole "
                              f"dataset (use a DistributedSampler to split it)", stacklevel=3)
            return loader
        common = dict(batch_size=loader.batch_size, collate_fn=loader.collate_fn, drop_last=loader.drop_last)
        if train:
            seed = [int(_C.randint(0, 2 ** 31 - 1, [1], _C.dtype.int64).item())]
            self.dist.broadcast_object_list(seed, src=0)  # the shuffle must agree across ranks
            shards = DistributedSampler(loader.dataset, self.size, self.rank,
                                        shuffle=isinstance(sampler, RandomSampler), seed=seed[0])
            return DataLoader(loader.dataset, sampler=shards, **common)
        part = Subset(loader.dataset, range(self.rank, len(loader.dataset), self.size))
        return DataLoader(part, **common)

    @staticmethod
    def set_epoch(loader, epoch):
        from ..data import DistributedSampler
        sampler = getattr(loader, "sampler", None)
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)

    def sums(self, *values):
        """The sums over ranks of a few numbers."""
        t = _C.from_numpy(np.array(values, dtype=np.float64))
        self.dist.all_reduce(t)
        return t.tolist()

    def reduce(self, loss_sum, count, metrics):
        for m in metrics:
            m.all_reduce()
        loss_sum, count = self.sums(loss_sum, count)
        return loss_sum, int(count)

    def any(self, flag):
        return bool(self.sums(float(bool(flag)))[0])

    def barrier(self):
        self.dist.barrier()


def ranks():
    """A Ranks when a process group of more than one rank is open, else None."""
    from .. import distributed as dist
    if dist.is_initialized() and dist.get_world_size() > 1:
        return Ranks(dist)
    return None
