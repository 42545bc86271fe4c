import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # `from helpers import check`

import pydl  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_grad_mode():
    """Every test starts seeded, with grad mode on and the default dtype float32."""
    pydl.manual_seed(0)
    np.random.seed(0)
    yield
    pydl.set_grad_enabled(True)
    pydl.set_default_dtype(pydl.float32)
