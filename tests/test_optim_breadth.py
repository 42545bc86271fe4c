"""Issue 13 part B: NAdam, RAdam, Adamax, ASGD, Rprop, SparseAdam (fused C++ steps) over several steps,
and the remaining LR schedulers' lr sequences, against torch."""
import numpy as np
import pytest

import pydl
from pydl.optim import lr_scheduler as S

torch = pytest.importorskip("torch")


def _run(opt_name, kw, steps=6, sparse=False):
    """The same quadratic-ish problem in pydl and torch (float64): parameters after `steps` steps."""
    rng = np.random.default_rng(0)
    w0, b0 = rng.normal(size=(4, 3)), rng.normal(size=3)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    pw, pb = pydl.tensor(w0, requires_grad=True), pydl.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    popt = getattr(pydl.optim, opt_name)([pw, pb], **kw)
    topt = getattr(torch.optim, opt_name)([tw, tb], **kw)
    for _ in range(steps):
        for opt, w, b, X, Y, lib in ((popt, pw, pb, pydl.tensor(x), pydl.tensor(y), pydl),
                                     (topt, tw, tb, torch.tensor(x), torch.tensor(y), torch)):
            opt.zero_grad()
            loss = (((X @ w + b) - Y) ** 2).mean() + (w ** 4).sum() * 0.01
            loss.backward()
            opt.step()
    return (pw, pb), (tw, tb)


OPTS = [
    ("NAdam", dict(lr=0.05)), ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)), ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adamax", dict(lr=0.05)), ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("ASGD", dict(lr=0.05)), ("ASGD", dict(lr=0.05, lambd=0.01, alpha=0.5, t0=2, weight_decay=0.1)),
    ("Rprop", dict(lr=0.05)), ("Rprop", dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)), ("Adadelta", dict(lr=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("AdamW", dict(lr=0.05, amsgrad=True)),
    ("Adafactor", dict(lr=0.05)), ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, d=1.5, weight_decay=0.1, maximize=True)),
]


@pytest.mark.parametrize("name,kw", OPTS, ids=[f"{o}-{i}" for i, (o, _) in enumerate(OPTS)])
def test_optimizer_matches_torch(name, kw):
    (pw, pb), (tw, tb) = _run(name, kw, steps=12)
    np.testing.assert_allclose(pw.detach().numpy(), tw.detach().numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(pb.detach().numpy(), tb.detach().numpy(), rtol=1e-9, atol=1e-11)


def test_asgd_average_matches_torch():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=6)
    pw, tw = pydl.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    po, to = pydl.optim.ASGD([pw], lr=0.1, t0=3), torch.optim.ASGD([tw], lr=0.1, t0=3)
    for _ in range(8):
        for o, w in ((po, pw), (to, tw)):
            o.zero_grad()
            ((w - 1) ** 2).sum().backward()
            o.step()
    np.testing.assert_allclose(po.state[pw]["ax"].numpy(), to.state[tw]["ax"].numpy(), rtol=1e-10)
    assert po.state[pw]["eta"] == pytest.approx(float(to.state[tw]["eta"]))


def test_sparse_adam_matches_torch_on_embedding():
    rng = np.random.default_rng(2)
    w0 = rng.normal(size=(10, 3))
    pe = pydl.nn.Embedding(10, 3)
    pe.weight = pydl.nn.Parameter(pydl.tensor(w0))
    te = torch.nn.Embedding(10, 3, sparse=True).double()
    with torch.no_grad():
        te.weight.copy_(torch.tensor(w0))
    po, to = pydl.optim.SparseAdam(pe.parameters(), lr=0.1), torch.optim.SparseAdam(te.parameters(), lr=0.1)
    for idx in ([1, 2, 2], [2, 5], [1, 7, 7, 9], [5]):
        for o, e, mk in ((po, pe, pydl.tensor), (to, te, torch.tensor)):
            o.zero_grad()
            (e(mk(idx)) ** 2).sum().backward()
            o.step()
    np.testing.assert_allclose(pe.weight.detach().numpy(), te.weight.detach().numpy(), rtol=1e-10)
    assert np.all(pe.weight.detach().numpy()[[0, 3, 4, 6, 8]] == w0[[0, 3, 4, 6, 8]])  # untouched rows stay


def test_optimizer_state_dict_roundtrip_and_errors():
    (pw, pb), _ = _run("NAdam", dict(lr=0.05), steps=3)
    opt = pydl.optim.NAdam([pw, pb], lr=0.05)
    sd = opt.state_dict()
    opt2 = pydl.optim.NAdam([pw, pb], lr=0.05)
    opt2.load_state_dict(sd)
    for bad, kw in ((pydl.optim.NAdam, dict(lr=-1)), (pydl.optim.RAdam, dict(betas=(1.0, 0.9))),
                    (pydl.optim.Adamax, dict(eps=-1)), (pydl.optim.Rprop, dict(etas=(1.5, 1.2))),
                    (pydl.optim.ASGD, dict(weight_decay=-1)), (pydl.optim.SparseAdam, dict(lr=-0.1))):
        with pytest.raises(ValueError):
            bad([pw], **kw)
    with pytest.raises(NotImplementedError, match=r"^\[NAdam\]"):
        pydl.optim.NAdam([pw], differentiable=True)
    with pytest.raises(ValueError, match=r"^\[nadam_\]"):
        pydl._C.nadam_([pw], [pw], [pw], [pw], [[1.0]], 0.1, 0.9, 0.999, 1e-8, 0.0, False, False)


# ---- LR schedulers ------------------------------------------------------------------------------

def _pair(opt_name="SGD", **okw):
    pp, tp = pydl.nn.Parameter(pydl.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    okw = okw or dict(lr=0.1, momentum=0.9)
    return getattr(pydl.optim, opt_name)([pp], **okw), getattr(torch.optim, opt_name)([tp], **okw)


def _lrs(sched, opt, n, metric=None):
    out = []
    for i in range(n):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups] + [g.get("momentum", g.get("betas", (0,))[0])
                                                          for g in opt.param_groups])
    return out


SCHEDULERS = [
    ("MultiplicativeLR", lambda o: dict(lr_lambda=lambda e: 0.9)),
    ("ConstantLR", lambda o: dict(factor=0.5, total_iters=4)),
    ("LinearLR", lambda o: dict(start_factor=0.2, end_factor=0.9, total_iters=5)),
    ("PolynomialLR", lambda o: dict(total_iters=6, power=2.0)),
    ("CyclicLR", lambda o: dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2")),
    ("CyclicLR", lambda o: dict(base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=4, mode="exp_range",
                                gamma=0.9)),
    ("CosineAnnealingWarmRestarts", lambda o: dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("OneCycleLR", lambda o: dict(max_lr=0.5, total_steps=20, anneal_strategy="linear", three_phase=True)),
    ("LambdaLR", lambda o: dict(lr_lambda=lambda e: 1 / (e + 1))),
    ("StepLR", lambda o: dict(step_size=3, gamma=0.5)), ("ExponentialLR", lambda o: dict(gamma=0.8)),
    ("MultiStepLR", lambda o: dict(milestones=[2, 5], gamma=0.3)), ("CosineAnnealingLR", lambda o: dict(T_max=5)),
]


@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=[f"{s}-{i}" for i, (s, _) in enumerate(SCHEDULERS)])
def test_scheduler_matches_torch(name, kw):
    po, to = _pair()
    ps, ts = getattr(S, name)(po, **kw(po)), getattr(torch.optim.lr_scheduler, name)(to, **kw(to))
    np.testing.assert_allclose(_lrs(ps, po, 18), _lrs(ts, to, 18), rtol=1e-12, atol=1e-15)
    assert ps.get_last_lr() == pytest.approx(ts.get_last_lr())


def test_cyclic_lr_cycles_adam_betas():
    po, to = _pair("Adam", lr=0.1)
    ps = S.CyclicLR(po, 0.01, 0.1, step_size_up=2)
    ts = torch.optim.lr_scheduler.CyclicLR(to, 0.01, 0.1, step_size_up=2)
    np.testing.assert_allclose(_lrs(ps, po, 9), _lrs(ts, to, 9), rtol=1e-12)


def test_sequential_and_chained():
    po, to = _pair()
    ps = S.SequentialLR(po, [S.LinearLR(po, 0.1, total_iters=3), S.ExponentialLR(po, 0.9)], milestones=[3])
    tsch = torch.optim.lr_scheduler
    ts = tsch.SequentialLR(to, [tsch.LinearLR(to, 0.1, total_iters=3), tsch.ExponentialLR(to, 0.9)], milestones=[3])
    np.testing.assert_allclose(_lrs(ps, po, 10), _lrs(ts, to, 10), rtol=1e-12)
    po, to = _pair()
    pc = S.ChainedScheduler([S.ConstantLR(po, 0.5, total_iters=3), S.ExponentialLR(po, 0.9)])
    tc = tsch.ChainedScheduler([tsch.ConstantLR(to, 0.5, total_iters=3), tsch.ExponentialLR(to, 0.9)])
    np.testing.assert_allclose(_lrs(pc, po, 8), _lrs(tc, to, 8), rtol=1e-12)
    sd = pc.state_dict()
    assert len(sd["_schedulers"]) == 2
    pc.load_state_dict(sd)
    with pytest.raises(ValueError):
        S.SequentialLR(po, [S.ExponentialLR(po, 0.9)], milestones=[3])
    with pytest.raises(ValueError):
        S.ConstantLR(po, factor=2.0)


def test_warm_restarts_with_epoch_argument():
    po, to = _pair()
    ps = S.CosineAnnealingWarmRestarts(po, T_0=4, T_mult=2)
    ts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(to, T_0=4, T_mult=2)
    for e in [0.5, 1.25, 3.9, 4.0, 7.3, 12.0, 20.5]:
        ps.step(e)
        ts.step(e)
        assert po.param_groups[0]["lr"] == pytest.approx(to.param_groups[0]["lr"], rel=1e-12)
    with pytest.raises(ValueError):
        S.CosineAnnealingWarmRestarts(po, T_0=0)
