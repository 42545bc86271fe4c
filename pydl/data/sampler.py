"""Samplers (PyTorch's torch/utils/data/sampler.py). Each sampler can also hand the DataLoader
its whole epoch of indices as one NumPy array (`_epoch_indices`), so batching is slicing."""
import numpy as np

from .. import _C

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]


def _randperm(n, generator=None):
    """A permutation of range(n) as an int64 NumPy array, from pydl's seeded RNG
    (or from `generator` if it is a NumPy Generator or has a randperm method)."""
    if generator is not None:
        if isinstance(generator, np.random.Generator):
            return generator.permutation(n).astype(np.int64)
        if hasattr(generator, "randperm"):
            return np.asarray(generator.randperm(n), dtype=np.int64)
    return _C.randperm(int(n), _C.dtype.int64).numpy()


def _randint(high, size, generator=None):
    if isinstance(generator, np.random.Generator):
        return generator.integers(0, high, size=size, dtype=np.int64)
    return _C.randint(0, int(high), [int(size)], _C.dtype.int64).numpy()


class Sampler:
    """Base class: __iter__ yields indices (or lists of indices for batch samplers)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def _epoch_indices(self):
        """All indices of one epoch as an int64 array (the default just runs __iter__)."""
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)

    def _epoch_indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)


class RandomSampler(Sampler):
    """A random permutation (or num_samples draws with replacement), seeded by pydl.manual_seed."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _epoch_indices(self):
        n = len(self.data_source)
        if self.replacement:
            return _randint(n, self.num_samples, self.generator)
        reps = -(-self.num_samples // n)
        return np.concatenate([_randperm(n, self.generator) for _ in range(reps)])[:self.num_samples]

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        self._arr = np.asarray(indices, dtype=np.int64)

    def _epoch_indices(self):
        return self._arr[_randperm(len(self._arr), self.generator)]

    def __iter__(self):
        return iter(self._epoch_indices().tolist())

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter unless drop_last)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _batches(self):
        """The epoch's batches as int64 arrays (slices of one index array)."""
        if hasattr(self.sampler, "_epoch_indices"):
            idx = self.sampler._epoch_indices()
        else:
            idx = np.fromiter(iter(self.sampler), dtype=np.int64)
        n = len(idx)
        end = n - n % self.batch_size if self.drop_last else n
        for i in range(0, end, self.batch_size):
            yield idx[i:i + self.batch_size]

    def __iter__(self):
        for b in self._batches():
            yield b.tolist()

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
