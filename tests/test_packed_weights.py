"""Linear keeps its weight packed for the GEMM across calls (core derived_of): every way a weight's
values can change must reach the next call. Each case changes the weight, then compares
F.linear with NumPy on the new values."""
import gc

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F

rng = np.random.default_rng(0)
X = rng.standard_normal((37, 50)).astype(np.float32)


def _linear_matches(lin, x=X):
    w = lin.weight.detach().numpy().astype(np.float64)
    b = lin.bias.detach().numpy().astype(np.float64)
    got = lin(pydl.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, x.astype(np.float64) @ w.T + b, rtol=1e-4, atol=1e-4)


def _fresh():
    pydl.manual_seed(0)
    lin = nn.Linear(50, 70)
    _linear_matches(lin)  # packs and caches the weight
    return lin


def _sgd(lin):
    lin(pydl.tensor(X)).square().sum().backward()
    pydl.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9).step()


def _adam(lin):
    lin(pydl.tensor(X)).square().sum().backward()
    pydl.optim.Adam(lin.parameters(), lr=0.1).step()


def _adamw_foreach_off(lin):
    lin(pydl.tensor(X)).sum().backward()
    pydl.optim.AdamW(lin.parameters(), lr=0.1, foreach=False).step()


def _no_grad_inplace(lin):
    with pydl.no_grad():
        lin.weight.mul_(-2.0).add_(0.5)


def _data_inplace(lin):
    lin.weight.data.mul_(3.0)


def _setitem(lin):
    with pydl.no_grad():
        lin.weight[3] = 7.0
        lin.weight[:, 5] = -1.0


def _copy(lin):
    with pydl.no_grad():
        lin.weight.copy_(pydl.tensor(rng.standard_normal((70, 50)).astype(np.float32)))


def _fill(lin):
    with pydl.no_grad():
        lin.weight.fill_(0.25)


def _init(lin):
    nn.init.kaiming_uniform_(lin.weight)


def _load_state_dict(lin):
    other = nn.Linear(50, 70)
    lin.load_state_dict(other.state_dict())


def _swap_data(lin):
    lin.weight.data = pydl.tensor(rng.standard_normal((70, 50)).astype(np.float32))


def _numpy_view_write(lin):
    arr = lin.weight.detach().numpy()
    arr[2:4] = 9.0  # written behind pydl's back, view still alive at the next call
    lin._keep = arr


def _numpy_view_write_released(lin):
    arr = lin.weight.detach().numpy()
    arr[:, :3] = -4.0
    del arr
    gc.collect()


def _memoryview_write(lin):
    mv = memoryview(lin.weight.detach())
    np.asarray(mv)[1] = 2.0


def _dlpack_write(lin):
    alias = pydl.from_dlpack(lin.weight.detach())  # another storage over the same memory
    alias[0] = 5.0
    lin._keep = alias


CHANGES = [_sgd, _adam, _adamw_foreach_off, _no_grad_inplace, _data_inplace, _setitem, _copy, _fill, _init,
           _load_state_dict, _swap_data, _numpy_view_write, _numpy_view_write_released, _memoryview_write,
           _dlpack_write]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_linear_sees_weight_changes(change):
    lin = _fresh()
    before = lin(pydl.tensor(X)).detach().numpy()
    change(lin)
    _linear_matches(lin)
    _linear_matches(lin)  # and again from the cache
    assert not np.allclose(before, lin(pydl.tensor(X)).detach().numpy())


def test_views_of_one_storage_are_packed_apart():
    # two geometries of one storage (a weight and its transpose, a slice) never share a packed copy
    base = pydl.tensor(rng.standard_normal((50, 50)).astype(np.float32))
    xs = pydl.tensor(X)
    ref = X.astype(np.float64)
    b = base.numpy().astype(np.float64)
    for w, wn in ((base, b), (base.t(), b.T), (base[:30], b[:30]), (base[:, ::2], b[:, ::2]), (base, b)):
        x = xs[:, : w.shape[1]]
        np.testing.assert_allclose(F.linear(x, w).numpy(), ref[:, : w.shape[1]] @ wn.T, rtol=1e-4, atol=1e-4)


def test_batch_sizes_reuse_one_packing():
    lin = _fresh()
    for m in (1, 2, 7, 64, 300):
        _linear_matches(lin, rng.standard_normal((m, 50)).astype(np.float32))


def test_weight_borrowed_from_numpy():
    # memory NumPy owns is never cached: a write through the array shows at once
    arr = rng.standard_normal((70, 50)).astype(np.float32)
    w = pydl.from_numpy(arr)
    x = pydl.tensor(X)
    F.linear(x, w)
    arr *= -1
    np.testing.assert_allclose(F.linear(x, w).numpy(), X.astype(np.float64) @ arr.T.astype(np.float64),
                               rtol=1e-4, atol=1e-4)


def test_gradients_unchanged():
    pydl.manual_seed(1)
    lin = nn.Linear(50, 70)
    lin(pydl.tensor(X)).sum().backward()
    g1 = lin.weight.grad.numpy().copy()
    lin.zero_grad()
    lin(pydl.tensor(X)).sum().backward()  # second call: the cached packing
    np.testing.assert_array_equal(lin.weight.grad.numpy(), g1)
    np.testing.assert_allclose(g1, np.ones((37, 70)).T @ X, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_see_weight_changes(cell):
    # the RNN layers keep W_ih^T and W_hh^T packed across calls too; each change must reach the
    # next call: compared with a fresh layer (new storages, nothing cached) holding the same values
    pydl.manual_seed(0)
    rnn = getattr(nn, cell)(6, 8, batch_first=True)
    x = pydl.tensor(rng.standard_normal((3, 5, 6)).astype(np.float32))
    first = rnn(x)[0].detach().numpy()
    rnn(x)[0].square().sum().backward()
    pydl.optim.Adam(rnn.parameters(), lr=0.05).step()
    with pydl.no_grad():
        rnn.weight_hh_l0[0].mul_(3.0)
    fresh = getattr(nn, cell)(6, 8, batch_first=True)
    fresh.load_state_dict({k: v.detach().clone() for k, v in rnn.state_dict().items()})
    got = rnn(x)[0].detach().numpy()
    np.testing.assert_array_equal(got, fresh(x)[0].detach().numpy())
    assert not np.allclose(got, first)
