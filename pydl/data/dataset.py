"""Datasets (PyTorch's torch/utils/data/dataset.py) with a batch fast path.

A map-style dataset may define `_get_batch(indices)`, taking a NumPy int64 array of indices
and returning the already collated batch; the DataLoader uses it (when no collate_fn is
given) so that a batch is one gather of the backing arrays, not a Python loop over samples.
"""
import bisect
import math
import warnings

import numpy as np

from .. import _C
from .._C import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """A map-style dataset: __getitem__(index) and __len__."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: implement __iter__."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")


def _as_array(t):
    """A NumPy view of a tensor (or an array as is): batches are gathered from it."""
    if isinstance(t, Tensor):
        return t.detach().numpy()
    return np.asarray(t)


def _to_tensor(arr):
    """A batch array as a pydl tensor (dtypes pydl lacks become int64 / float32)."""
    if arr.dtype.kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    return _C.from_numpy(arr if arr.flags.c_contiguous else arr.copy(order="C"))


class TensorDataset(Dataset):
    """Samples are slices along dim 0 of the given tensors (or NumPy arrays)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError("[TensorDataset] Size mismatch between tensors: "
                             + ", ".join(str(tuple(t.shape)) for t in tensors))
        self.tensors = tensors
        self._arrays = [_as_array(t) for t in tensors]

    def __getitem__(self, index):
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"[TensorDataset] index {index} is out of range for a dataset of size {len(self)}")
        return tuple(_C.select(t, 0, index) if isinstance(t, Tensor) else t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _get_batch(self, indices):
        return tuple(_to_tensor(a[indices]) for a in self._arrays)


class Subset(Dataset):
    """The samples of `dataset` at `indices`."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        self._index_array = None

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)

    def __getattr__(self, name):
        if name == "_get_batch" and hasattr(self.__dict__.get("dataset"), "_get_batch"):
            return self._subset_batch
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def _subset_batch(self, indices):
        if self._index_array is None:
            self._index_array = np.asarray(self.indices, dtype=np.int64)
        return self.dataset._get_batch(self._index_array[indices])


class ConcatDataset(Dataset):
    """The concatenation of several datasets."""

    @staticmethod
    def cumsum(sequence):
        r, s = [], 0
        for e in sequence:
            s += len(e)
            r.append(s)
        return r

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise ValueError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]


def random_split(dataset, lengths, generator=None):
    """Splits `dataset` into non-overlapping Subsets of the given lengths (or fractions summing to 1),
    shuffled with pydl's seeded RNG."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(int(math.floor(len(dataset) * frac)))
        remainder = len(dataset) - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    from .sampler import _randperm
    indices = _randperm(sum(lengths), generator).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, indices[offset:offset + length]))
        offset += length
    return out
