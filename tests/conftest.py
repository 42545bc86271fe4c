import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `from helpers import check`
# Tests that set 2 threads get 2 even while the machine is busy (test_threads.py checks the
# load-following team size in a process of its own).
os.environ["PYDL_THREADS_FOLLOW_LOAD"] = "0"

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


def pytest_addoption(parser):
    # --long: the opt-in long runs (the 100,000-call fuzz); PYDL_LONG=1 does the same
    try:
        parser.addoption("--long", action="store_true", default=False, help="run the long fuzz and other long tests")
    except ValueError:  # pragma: no cover - another conftest already added it
        pass


@pytest.fixture
def long_run(request):
    """True under --long (or PYDL_LONG=1)."""
    return bool(request.config.getoption("--long", default=False)) or os.environ.get("PYDL_LONG") == "1"
