"""The fused optimizer steps (pydl._C.*_) against torch.optim over several steps."""
import numpy as np
import pytest

import pydl
from pydl import _C

torch = pytest.importorskip("torch")

SHAPES = [(7, 5), (13,), (3, 4, 2)]


def _run(torch_opt_cls, torch_kw, step_fn, state_names, steps=5, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = torch_opt_cls(tp, **torch_kw)
    pp = [pydl.tensor(a.copy()) for a in init]
    state = {n: [pydl.zeros(*a.shape, dtype=pp[0].dtype) for a in init] for n in state_names}
    for k in range(steps):
        for t, g in zip(tp, grads[k]):
            t.grad = torch.tensor(g)
        opt.step()
        step_fn(pp, [pydl.tensor(g) for g in grads[k]], state, k + 1)
    for a, b in zip(pp, tp):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5 if dtype == np.float32 else 1e-10,
                                   atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("momentum,dampening,nesterov,wd,maximize", [
    (0.0, 0.0, False, 0.0, False), (0.9, 0.0, False, 0.01, False), (0.9, 0.1, False, 0.0, True), (0.8, 0.0, True, 0.1, False)])
def test_sgd(momentum, dampening, nesterov, wd, maximize):
    def step(p, g, st, k):
        _C.sgd_(p, g, st["buf"], [k == 1] * len(p), 0.1, momentum, dampening, wd, nesterov, maximize)
    _run(torch.optim.SGD, dict(lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=wd,
                               maximize=maximize), step, ["buf"])


@pytest.mark.parametrize("amsgrad,wd,maximize,decoupled,dtype", [
    (False, 0.0, False, False, np.float64), (True, 0.1, False, False, np.float64), (False, 0.05, True, True, np.float64),
    (True, 0.01, False, True, np.float32)])
def test_adam(amsgrad, wd, maximize, decoupled, dtype):
    def step(p, g, st, k):
        _C.adam_(p, g, st["m"], st["v"], st["vmax"], [k] * len(p), 0.01, 0.9, 0.99, 1e-8, wd, amsgrad, maximize, decoupled)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    _run(cls, dict(lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=wd, amsgrad=amsgrad, maximize=maximize), step,
         ["m", "v", "vmax"], dtype=dtype)


@pytest.mark.parametrize("momentum,centered,wd,maximize", [(0.0, False, 0.0, False), (0.9, True, 0.1, False), (0.5, False, 0.0, True)])
def test_rmsprop(momentum, centered, wd, maximize):
    def step(p, g, st, k):
        _C.rmsprop_(p, g, st["sq"], st["buf"], st["gavg"], 0.01, 0.99, 1e-8, wd, momentum, centered, maximize)
    _run(torch.optim.RMSprop, dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=wd, momentum=momentum, centered=centered,
                                   maximize=maximize), step, ["sq", "buf", "gavg"])


@pytest.mark.parametrize("lr_decay,wd,maximize", [(0.0, 0.0, False), (0.1, 0.1, True)])
def test_adagrad(lr_decay, wd, maximize):
    def step(p, g, st, k):
        _C.adagrad_(p, g, st["s"], [k] * len(p), 0.1, lr_decay, wd, 1e-10, maximize)
    _run(torch.optim.Adagrad, dict(lr=0.1, lr_decay=lr_decay, weight_decay=wd, eps=1e-10, maximize=maximize), step, ["s"])


@pytest.mark.parametrize("wd,maximize", [(0.0, False), (0.1, True)])
def test_adadelta(wd, maximize):
    def step(p, g, st, k):
        _C.adadelta_(p, g, st["sq"], st["acc"], 1.0, 0.9, 1e-6, wd, maximize)
    _run(torch.optim.Adadelta, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=wd, maximize=maximize), step, ["sq", "acc"])


def test_version_bump_and_errors():
    p = [pydl.zeros(3)]
    g = [pydl.ones(3)]
    v0 = p[0]._version if hasattr(p[0], "_version") else None
    _C.sgd_(p, g, p, [True], 0.1, 0.0, 0.0, 0.0, False, False)
    np.testing.assert_allclose(p[0].numpy(), -0.1)
    if v0 is not None:
        assert p[0]._version > v0
    with pytest.raises(ValueError, match=r"\[adam_\]"):
        _C.adam_(p, [pydl.ones(4)], p, p, p, [1], 0.1, 0.9, 0.99, 1e-8, 0.0, False, False, False)
    with pytest.raises(ValueError, match=r"\[sgd_\]"):
        _C.sgd_(p, [], p, [True], 0.1, 0.0, 0.0, 0.0, False, False)
    with pytest.raises(TypeError, match=r"\[adam_\]"):
        _C.adam_(p, [pydl.ones(3, dtype=pydl.float64)], p, p, p, [1], 0.1, 0.9, 0.99, 1e-8, 0.0, False, False, False)
