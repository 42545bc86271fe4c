"""DataLoader (PyTorch's torch/utils/data/dataloader.py, single process).

Fast path: when no collate_fn is given and the dataset defines `_get_batch(indices)`
(TensorDataset, MNIST, CIFAR10, Subset of those), each batch is one gather of the backing
arrays with one NumPy index array; otherwise samples are fetched one by one and collated
with one stack per field.
"""
import collections
import warnings

import numpy as np

from .. import _C
from .._C import Tensor
from .dataset import IterableDataset, _to_tensor
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


def get_worker_info():
    """Always None: pydl's DataLoader runs in the main process."""
    return None


def default_convert(data):
    """NumPy arrays become tensors (recursively in containers); everything else is kept."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OUS":
        return _to_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()}) if not isinstance(data, dict) \
            else {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


def _pin(data):
    """`data` with its tensors (recursively in containers) copied into pinned host memory."""
    if isinstance(data, Tensor):
        return _C.pin_memory(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: _pin(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_pin(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(_pin(d) for d in data)
    return data


def default_collate(batch):
    """Stacks a list of samples into a batch: tensors and arrays with one stack, numbers into a
    tensor, and tuples / lists / dicts field by field (as PyTorch's default_collate)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _C.stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUS":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                            f"found array of dtype {elem.dtype}")
        return _to_tensor(np.stack(batch))
    if isinstance(elem, np.generic):
        return _to_tensor(np.array(batch))
    if isinstance(elem, bool):
        return _C._to_tensor(np.array(batch, dtype=np.bool_), None)
    if isinstance(elem, float):
        return _C._to_tensor(np.array(batch, dtype=np.float64), None)
    if isinstance(elem, int):
        return _C._to_tensor(np.array(batch, dtype=np.int64), None)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(elem)}")


class DataLoader:
    """Iterates over `dataset` in batches.

    Args:
        dataset: a map-style Dataset (indexable, with len) or an IterableDataset.
        batch_size: samples per batch (None: no batching).
        shuffle: reshuffle every epoch (pydl.manual_seed makes the order reproducible).
        sampler: where indices come from (exclusive with shuffle).
        batch_sampler: yields whole lists of indices (exclusive with batch_size, shuffle, sampler, drop_last).
        num_workers: accepted for compatibility; loading runs in the main process.
        collate_fn: merges a list of samples into a batch (default_collate by default).
        pin_memory: copy each batch's tensors into pinned (page-locked) host memory, so that
            ``.to("cuda", non_blocking=True)`` runs asynchronously. Without a CUDA device it is a
            no-op with a warning, as PyTorch's.
        drop_last: drop the last incomplete batch.
        generator: a NumPy Generator (or an object with randperm) for shuffling; pydl's RNG by default.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                                 "drop_last")
        if sampler is None and not self._is_iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._is_iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._collate_user = collate_fn
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_size is not None or batch_sampler is not None else default_convert)
        if num_workers > 0:
            warnings.warn("pydl's DataLoader loads in the main process; num_workers is ignored", stacklevel=2)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    def _index_batches(self):
        bs = self.batch_sampler
        if isinstance(bs, BatchSampler):
            yield from bs._batches()
        else:
            for b in bs:
                yield np.asarray(b, dtype=np.int64)

    def __iter__(self):
        if not self.pin_memory:
            return self._batches()
        from .. import cuda
        if not cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=2)
            return self._batches()
        return (_pin(b) for b in self._batches())

    def _batches(self):
        ds = self.dataset
        if self._is_iterable:
            yield from self._iter_iterable()
            return
        if not self._auto_collation:
            for i in self.sampler:
                yield self.collate_fn(ds[i])
            return
        fast = self._collate_user is None and hasattr(ds, "_get_batch")
        for idx in self._index_batches():
            if fast:
                yield ds._get_batch(idx)
            elif hasattr(ds, "__getitems__"):
                yield self.collate_fn(ds.__getitems__(idx.tolist()))
            else:
                yield self.collate_fn([ds[i] for i in idx.tolist()])

    def _iter_iterable(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self):
        if self._is_iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)
