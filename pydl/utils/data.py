"""pydl.utils.data: the same objects as pydl.data (PyTorch scripts import torch.utils.data)."""
from ..data import *  # noqa: F401,F403
from ..data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,  # noqa: F401
                    Sampler, SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate,
                    default_convert, get_worker_info, random_split)
from ..data import datasets, transforms  # noqa: F401
import sys as _sys  # noqa: E402

from ..data import distributed  # noqa: F401,E402

# `from torch.utils.data.distributed import DistributedSampler` becomes this module path
_sys.modules[__name__ + ".distributed"] = distributed
