import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `from helpers import check`

import pydl  # noqa: E402

# The test machines share 2 cores between many processes: OpenMP teams spin and stall under
# that load (a 3x4 matmul took seconds), so the suite runs single-threaded. test_threads.py
# checks the multi-threaded kernels against the single-threaded ones.
pydl.set_num_threads(1)
try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(autouse=True)
def _seed_and_grad_mode():
    """Every test starts seeded, with grad mode on and the default dtype float32."""
    pydl.manual_seed(0)
    np.random.seed(0)
    yield
    pydl.set_grad_enabled(True)
    pydl.set_default_dtype(pydl.float32)
