"""Multi-threaded kernels give the single-threaded results (the suite otherwise runs on 1 thread)."""
import numpy as np
import pytest

import pydl
from helpers import make_inputs


@pytest.fixture
def two_threads():
    pydl.set_num_threads(2)
    yield
    pydl.set_num_threads(1)


def test_set_get_num_threads():
    pydl.set_num_threads(2)
    assert pydl.get_num_threads() == 2
    pydl.set_num_threads(1)
    assert pydl.get_num_threads() == 1
    with pytest.raises(ValueError, match=r"^\[set_num_threads\]"):
        pydl.set_num_threads(0)


def test_parallel_kernels_match_numpy(two_threads):
    a, b = make_inputs([(300, 257), (257,)])
    x, y = pydl.tensor(a), pydl.tensor(b)
    np.testing.assert_allclose((x * y + x.exp()).numpy(), a * b + np.exp(a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.sum(0).numpy(), a.sum(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(x.sum(1).numpy(), a.sum(1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(x.T.sum(1).numpy(), a.T.sum(1), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(x.argmax(1).numpy(), a.argmax(1))
    np.testing.assert_allclose((x @ x.T).numpy(), a @ a.T, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(x.T.contiguous().numpy(), a.T)
