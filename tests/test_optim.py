"""Optimizers (20-step trajectories against torch.optim), state dicts, validation, schedulers."""
import math

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.optim as optim
from pydl.optim import lr_scheduler

torch = pytest.importorskip("torch")

STEPS = 20


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((6, 4)) * 0.5
    b1 = rng.standard_normal(6) * 0.1
    w2 = rng.standard_normal((2, 6)) * 0.5
    x = rng.standard_normal((16, 4))
    y = rng.standard_normal((16, 2))
    return [w1, b1, w2], x, y


def _loss_pydl(ps, x, y):
    h = pydl.tanh(x @ ps[0].T + ps[1])
    return ((h @ ps[2].T - y) ** 2).mean()


def _loss_torch(ps, x, y):
    h = torch.tanh(x @ ps[0].T + ps[1])
    return ((h @ ps[2].T - y) ** 2).mean()


def _trajectories(pcls, tcls, kw, tkw=None, groups=False, steps=STEPS):
    init, x, y = _problem()
    pp = [nn.Parameter(pydl.tensor(a)) for a in init]  # float64 so that differences are the update's
    tp = [torch.tensor(a, requires_grad=True) for a in init]
    if groups:
        popt = pcls([{"params": pp[:2]}, {"params": pp[2:], "lr": kw["lr"] * 0.5}], **kw)
        topt = tcls([{"params": tp[:2]}, {"params": tp[2:], "lr": kw["lr"] * 0.5}], **(tkw or kw))
    else:
        popt, topt = pcls(pp, **kw), tcls(tp, **(tkw or kw))
    px, py = pydl.tensor(x), pydl.tensor(y)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for _ in range(steps):
        popt.zero_grad()
        _loss_pydl(pp, px, py).backward()
        popt.step()
        topt.zero_grad()
        _loss_torch(tp, tx, ty).backward()
        topt.step()
        for a, b in zip(pp, tp):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-11)
    return popt, topt, pp


CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.02, weight_decay=0.1, amsgrad=True, maximize=True)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    (optim.Adadelta, torch.optim.Adadelta, dict()),
    (optim.Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.8, weight_decay=0.01)),
]


@pytest.mark.parametrize("pcls,tcls,kw", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_trajectory_matches_torch(pcls, tcls, kw):
    _trajectories(pcls, tcls, kw)


@pytest.mark.parametrize("pcls,tcls,kw", [CASES[1], CASES[5], CASES[9]], ids=["SGD", "Adam", "RMSprop"])
def test_param_groups_match_torch(pcls, tcls, kw):
    popt, _, _ = _trajectories(pcls, tcls, kw, groups=True, steps=5)
    assert popt.param_groups[1]["lr"] == kw["lr"] * 0.5


def test_state_dict_resume_gives_same_trajectory():
    init, x, y = _problem()
    px, py = pydl.tensor(x), pydl.tensor(y)

    def run(pp, opt, n):
        for _ in range(n):
            opt.zero_grad()
            _loss_pydl(pp, px, py).backward()
            opt.step()

    pa = [nn.Parameter(pydl.tensor(a)) for a in init]
    oa = optim.Adam(pa, lr=0.01, amsgrad=True)
    run(pa, oa, 10)
    sd = oa.state_dict()
    assert set(sd["state"]) == {0, 1, 2} and sd["state"][0]["step"] == 10
    assert sd["param_groups"][0]["params"] == [0, 1, 2] and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    # through pydl.save / pydl.load and into a fresh optimizer over copies of the parameters
    import os
    import tempfile
    path = os.path.join(tempfile.mkdtemp(), "opt.safetensors")
    pydl.save(sd, path)
    pb = [nn.Parameter(pydl.tensor(a.detach().numpy().copy())) for a in pa]
    ob = optim.Adam(pb, lr=0.5)
    ob.load_state_dict(pydl.load(path))
    assert ob.param_groups[0]["lr"] == 0.01 and ob.param_groups[0]["params"][0] is pb[0]
    run(pa, oa, 5)
    run(pb, ob, 5)
    for a, b in zip(pa, pb):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([{"params": pb[:1]}, {"params": pb[1:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam(pb[:2]).load_state_dict(sd)


def test_sgd_momentum_state_survives_reload():
    init, x, y = _problem()
    px, py = pydl.tensor(x), pydl.tensor(y)
    pa = [nn.Parameter(pydl.tensor(a)) for a in init]
    oa = optim.SGD(pa, lr=0.1, momentum=0.9)
    for _ in range(3):
        oa.zero_grad()
        _loss_pydl(pa, px, py).backward()
        oa.step()
    pb = [nn.Parameter(pydl.tensor(a.detach().numpy().copy())) for a in pa]
    ob = optim.SGD(pb, lr=0.1, momentum=0.9)
    ob.load_state_dict(oa.state_dict())
    for pp, o in ((pa, oa), (pb, ob)):
        o.zero_grad()
        _loss_pydl(pp, px, py).backward()
        o.step()
    np.testing.assert_array_equal(pa[0].detach().numpy(), pb[0].detach().numpy())


def test_validation_errors():
    p = [nn.Parameter(pydl.zeros(2))]
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum value: -0.5"):
        optim.SGD(p, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD(p, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.Adam(p, eps=-1e-8)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.AdamW(p, weight_decay=-1)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        optim.RMSprop(p, alpha=-1)
    with pytest.raises(ValueError, match="Invalid lr_decay value"):
        optim.Adagrad(p, lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid rho value"):
        optim.Adadelta(p, rho=2)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.Adam(p[0])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": p}, {"params": p}])


def test_zero_grad_skip_none_and_closure():
    p = nn.Parameter(pydl.tensor([1.0, 2.0]))
    q = nn.Parameter(pydl.tensor([3.0]))  # never gets a gradient: must be skipped
    opt = optim.SGD([p, q], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0
    assert p.tolist() == [0.0, 0.0] and q.tolist() == [3.0]
    assert p.grad is not None
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    assert len(opt.state) == 0  # plain SGD keeps no state
    assert "lr: 0.5" in repr(opt)


def test_add_param_group():
    a, b = nn.Parameter(pydl.zeros(2)), nn.Parameter(pydl.zeros(3))
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert opt.param_groups[1]["params"][0] is b


def test_l1_penalty_and_weight_decay_train():
    """The seeds' L1 / L2 regularisation: weight decay in the optimizer, an L1 term in the loss."""
    pydl.manual_seed(0)
    m = nn.Linear(5, 1)
    opt = optim.SGD(m.parameters(), lr=0.1, weight_decay=1e-2)
    x = pydl.randn(64, 5)
    y = x @ pydl.tensor([[1.0], [0.0], [0.0], [2.0], [0.0]])
    for _ in range(200):
        opt.zero_grad()
        loss = nn.functional.mse_loss(m(x), y) + 1e-3 * m.weight.abs().sum()
        loss.backward()
        opt.step()
    w = m.weight.detach().numpy().ravel()
    assert abs(w[0] - 1) < 0.1 and abs(w[3] - 2) < 0.1 and np.abs(w[[1, 2, 4]]).max() < 0.05


# ---- schedulers --------------------------------------------------------------------------

def _lrs(pcls, tcls, pkw, tkw=None, steps=30, opt="SGD", metric=None):
    pp = nn.Parameter(pydl.zeros(1))
    tp = torch.zeros(1, requires_grad=True)
    po = getattr(optim, opt)([pp], lr=0.1, **({"momentum": 0.9} if opt == "SGD" else {}))
    to = getattr(torch.optim, opt)([tp], lr=0.1, **({"momentum": 0.9} if opt == "SGD" else {}))
    ps, ts = pcls(po, **pkw), tcls(to, **(tkw or pkw))
    got, want = [], []
    for i in range(steps):
        po.step()
        to.step()
        if metric is not None:
            ps.step(metric(i))
            ts.step(metric(i))
        else:
            ps.step()
            ts.step()
        got.append(ps.get_last_lr()[0])
        want.append(ts.get_last_lr()[0])
        if opt == "Adam":
            assert po.param_groups[0]["betas"][0] == pytest.approx(to.param_groups[0]["betas"][0], rel=1e-12)
        elif "momentum" in to.param_groups[0]:
            assert po.param_groups[0]["momentum"] == pytest.approx(to.param_groups[0]["momentum"], rel=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    return ps


@pytest.mark.parametrize("name,kw", [
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    ("OneCycleLR", dict(max_lr=1.0, total_steps=31)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=3, steps_per_epoch=11, anneal_strategy="linear", three_phase=True)),
])
def test_scheduler_matches_torch(name, kw):
    _lrs(getattr(lr_scheduler, name), getattr(torch.optim.lr_scheduler, name), kw)


def test_onecycle_with_adam_cycles_beta1():
    _lrs(lr_scheduler.OneCycleLR, torch.optim.lr_scheduler.OneCycleLR, dict(max_lr=0.01, total_steps=40), opt="Adam")


def test_lambda_lr_and_state_dict():
    ps = _lrs(lr_scheduler.LambdaLR, torch.optim.lr_scheduler.LambdaLR, dict(lr_lambda=lambda e: 0.95 ** e))
    sd = ps.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 30 and sd["base_lrs"] == [0.1]
    s2 = lr_scheduler.StepLR(optim.SGD([nn.Parameter(pydl.zeros(1))], lr=1.0), step_size=2)
    s2.step()
    s2.step()
    s3 = lr_scheduler.StepLR(optim.SGD([nn.Parameter(pydl.zeros(1))], lr=1.0), step_size=2)
    s3.load_state_dict(s2.state_dict())
    assert s3.last_epoch == 2 and s3.get_last_lr() == [0.1]


def test_reduce_lr_on_plateau_matches_torch():
    losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.95, 0.91, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5] * 2
    _lrs(lr_scheduler.ReduceLROnPlateau, torch.optim.lr_scheduler.ReduceLROnPlateau,
         dict(patience=2, factor=0.5, cooldown=1, min_lr=0.01), steps=len(losses), metric=lambda i: losses[i])
    _lrs(lr_scheduler.ReduceLROnPlateau, torch.optim.lr_scheduler.ReduceLROnPlateau,
         dict(mode="max", threshold_mode="abs", threshold=0.01, patience=1), steps=len(losses),
         metric=lambda i: -losses[i])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(optim.SGD([nn.Parameter(pydl.zeros(1))]), factor=2)


def test_cosine_closed_form_in_the_middle():
    o = optim.SGD([nn.Parameter(pydl.zeros(1))], lr=1.0)
    s = lr_scheduler.CosineAnnealingLR(o, T_max=10)
    for _ in range(5):
        s.step()
    assert s.get_last_lr()[0] == pytest.approx(0.5 * (1 + math.cos(math.pi * 5 / 10)))
