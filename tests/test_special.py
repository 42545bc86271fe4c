"""pydl.special against torch.special: values and gradients (float64)."""
import numpy as np
import pytest
import torch

import pydl
from helpers import check_vs_torch

# (name, low, high) of one-argument functions
ONE = [("ndtr", -3, 3), ("ndtri", 0.05, 0.95), ("log_ndtr", -6, 3), ("expit", -4, 4), ("gammaln", 0.3, 4),
       ("psi", 0.3, 4), ("digamma", 0.3, 4), ("erf", -2, 2), ("erfc", -2, 2), ("erfinv", -0.9, 0.9), ("exp2", -2, 2),
       ("expm1", -2, 2), ("log1p", -0.5, 2), ("logit", 0.1, 0.9), ("sinc", -2, 2), ("i0", -3, 3), ("entr", 0.05, 3)]


@pytest.mark.parametrize("name,lo,hi", ONE, ids=[o[0] for o in ONE])
def test_special_vs_torch(name, lo, hi):
    check_vs_torch(getattr(pydl.special, name), getattr(torch.special, name), [(3, 5)], low=lo, high=hi)


def test_entr_edges_and_left_tail():
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(pydl.special.entr(pydl.tensor(x)).numpy(), torch.special.entr(torch.tensor(x)).numpy())
    t = np.array([-30.0, -10.0, 0.0, 5.0])  # log_ndtr stays finite where log(ndtr) underflows in float32
    np.testing.assert_allclose(pydl.special.log_ndtr(pydl.tensor(t)).numpy(),
                               torch.special.log_ndtr(torch.tensor(t)).numpy(), rtol=1e-6)


def test_two_argument_and_softmax_forms():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-0.5, 2, (4, 3)), rng.uniform(-0.5, 2, (4, 3))
    x[0, 0] = 0.0
    y[0, 0] = -1.0  # log1p(-1) = -inf, times x = 0 gives 0
    for name in ("xlog1py", "xlogy"):
        np.testing.assert_allclose(getattr(pydl.special, name)(pydl.tensor(x), pydl.tensor(np.abs(y) if name == "xlogy" else y)).numpy(),
                                   getattr(torch.special, name)(torch.tensor(x), torch.tensor(np.abs(y) if name == "xlogy" else y)).numpy(),
                                   rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(pydl.special.multigammaln(pydl.tensor(x + 3), 3).numpy(),
                               torch.special.multigammaln(torch.tensor(x + 3), 3).numpy(), rtol=1e-12)
    np.testing.assert_allclose(pydl.special.softmax(pydl.tensor(x), 1).numpy(),
                               torch.special.softmax(torch.tensor(x), 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(pydl.special.logsumexp(pydl.tensor(x), 1).numpy(),
                               torch.special.logsumexp(torch.tensor(x), 1).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"\[multigammaln\]"):
        pydl.special.multigammaln(pydl.tensor(x), 0)
