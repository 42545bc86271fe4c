"""pydl.data: datasets, samplers and DataLoader (also importable as pydl.utils.data)."""
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split  # noqa: F401
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler  # noqa: F401
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info  # noqa: F401
from . import datasets, transforms  # noqa: F401,E402
from .distributed import DistributedSampler  # noqa: F401,E402
