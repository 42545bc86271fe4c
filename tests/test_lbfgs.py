"""optim.LBFGS against torch.optim.LBFGS: the same iterates from the same start, with and
without the strong-Wolfe line search."""
import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.optim as optim


def _rosenbrock(lib, xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _run(lib, make_param, loss_fn, steps, **kw):
    p = make_param()
    opt = lib.optim.LBFGS([p], **kw)
    losses = []

    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, p)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(opt.step(closure).item())
    return p.detach().numpy().copy(), losses, opt.state[p]["func_evals"], opt.state[p]["n_iter"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_matches_torch(line_search_fn):
    torch = pytest.importorskip("torch")
    kw = dict(lr=1 if line_search_fn else 0.1, max_iter=20, history_size=10, line_search_fn=line_search_fn)
    start = [-1.5, 2.0]
    got = _run(pydl, lambda: pydl.tensor(start, dtype=pydl.float64, requires_grad=True), _rosenbrock, 3, **kw)
    want = _run(torch, lambda: torch.tensor(start, dtype=torch.float64, requires_grad=True), _rosenbrock, 3, **kw)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-10)
    assert got[2:] == want[2:]  # the same number of closure evaluations and iterations
    if line_search_fn:
        np.testing.assert_allclose(got[0], [1.0, 1.0], atol=1e-4)  # it converges


def test_least_squares_model_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 5)).astype(np.float32)
    y = (X @ rng.standard_normal((5, 1)) + 0.1 * rng.standard_normal((64, 1))).astype(np.float32)
    w0 = rng.standard_normal((1, 5)).astype(np.float32) * 0.1

    def fit(lib, nnmod):
        m = nnmod.Linear(5, 1)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w0))
            m.bias.zero_()
        opt = lib.optim.LBFGS(m.parameters(), lr=1, max_iter=15, line_search_fn="strong_wolfe")
        Xt, yt = lib.tensor(X), lib.tensor(y)

        def closure():
            opt.zero_grad()
            loss = ((m(Xt) - yt) ** 2).mean()
            loss.backward()
            return loss
        for _ in range(2):
            opt.step(closure)
        return m.weight.detach().numpy(), float(closure())

    (wg, lg), (wt, lt) = fit(pydl, nn), fit(torch, torch.nn)
    np.testing.assert_allclose(wg, wt, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lg, lt, rtol=1e-4)
    w_exact = np.linalg.lstsq(np.c_[X, np.ones(64)], y, rcond=None)[0][:5, 0]
    np.testing.assert_allclose(wg[0], w_exact, atol=1e-3)


def test_lbfgs_arguments():
    p = nn.Parameter(pydl.zeros(2))
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([p], lr=-1)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [p]}, {"params": [nn.Parameter(pydl.zeros(1))]}])
    opt = optim.LBFGS([p])
    with pytest.raises(RuntimeError, match="closure"):
        opt.step(None)
    # an optimum already reached: one evaluation, nothing moves
    def closure():
        opt.zero_grad()
        loss = (p * 0).sum()
        loss.backward()
        return loss
    opt.step(closure)
    assert opt.state[p]["func_evals"] == 1 and p.tolist() == [0.0, 0.0]
