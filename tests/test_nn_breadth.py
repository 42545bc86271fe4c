"""Issue 13 part B: activations, losses, distances, containers, nn.init and nn.utils against torch
(float64 values, non-contiguous views, gradcheck, torch's gradients) and their argument errors."""
import math

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F
from helpers import check_vs_torch

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (name, kwargs, input range): each F.<name>(x, **kwargs) against torch's, forward and backward
ACTIVATIONS = [
    ("relu6", {}, 8), ("hardtanh", dict(min_val=-0.7, max_val=1.3), 2), ("hardswish", {}, 5), ("hardsigmoid", {}, 5),
    ("mish", {}, 4), ("selu", {}, 3), ("celu", dict(alpha=0.7), 3), ("softsign", {}, 3), ("softshrink", dict(lambd=0.4), 2),
    ("hardshrink", dict(lambd=0.4), 2), ("tanhshrink", {}, 3), ("threshold", dict(threshold=0.3, value=-1.5), 2),
    ("logsigmoid", {}, 6), ("softmin", dict(dim=1), 3), ("glu", dict(dim=1), 3), ("elu", dict(alpha=0.5), 3),
    ("silu", {}, 3), ("gelu", {}, 3), ("leaky_relu", dict(negative_slope=0.2), 3),
]


@pytest.mark.parametrize("name,kw,r", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_vs_torch(name, kw, r):
    check_vs_torch(lambda x: getattr(F, name)(x, **kw), lambda x: getattr(TF, name)(x, **kw), [(4, 6)], low=-r, high=r)


@pytest.mark.parametrize("name,cls,kw", [
    ("relu6", "ReLU6", {}), ("hardtanh", "Hardtanh", {}), ("hardswish", "Hardswish", {}), ("mish", "Mish", {}),
    ("selu", "SELU", {}), ("celu", "CELU", dict(alpha=2.0)), ("softsign", "Softsign", {}), ("tanhshrink", "Tanhshrink", {}),
    ("hardsigmoid", "Hardsigmoid", {}), ("logsigmoid", "LogSigmoid", {}), ("softshrink", "Softshrink", dict(lambd=0.3)),
    ("hardshrink", "Hardshrink", dict(lambd=0.3)), ("threshold", "Threshold", dict(threshold=0.1, value=2.0)),
    ("glu", "GLU", {}), ("softmin", "Softmin", dict(dim=-1)),
])
def test_activation_modules(name, cls, kw):
    x = np.random.default_rng(0).uniform(-3, 3, (3, 8))
    got = getattr(nn, cls)(**kw)(pydl.tensor(x)).numpy()
    np.testing.assert_allclose(got, getattr(torch.nn, cls)(**kw)(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_inplace_activations_write_self_and_bump_version():
    x = pydl.tensor(np.linspace(-4, 4, 9))
    v0 = x._version if hasattr(x, "_version") else None
    y = F.hardtanh(x, inplace=True)
    assert y is x
    np.testing.assert_allclose(x.numpy(), np.clip(np.linspace(-4, 4, 9), -1, 1))
    if v0 is not None:
        assert x._version > v0
    # through autograd: the in-place result is differentiated like torch's
    a = pydl.tensor(np.linspace(-3, 3, 7), requires_grad=True)
    ta = torch.tensor(np.linspace(-3, 3, 7), requires_grad=True)
    b, tb = a * 2, ta * 2
    F.relu6(b, inplace=True).sum().backward()
    TF.relu6(tb, inplace=True).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
    with pytest.raises(RuntimeError, match="leaf"):
        F.selu(pydl.ones(3, requires_grad=True), inplace=True)


def test_prelu_learnable_per_channel():
    m, tm = nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    x = np.random.default_rng(1).uniform(-2, 2, (2, 3, 4))
    px, tx = pydl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    m.weight = nn.Parameter(pydl.tensor(np.array([0.1, -0.2, 0.3])))
    tm.weight = torch.nn.Parameter(torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64))
    (m(px) ** 2).sum().backward()
    (tm(tx) ** 2).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(px.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    assert [k for k, _ in m.named_parameters()] == ["weight"]
    check_vs_torch(lambda x, w: F.prelu(x, w), lambda x, w: TF.prelu(x, w), [(2, 3, 5), (3,)])
    with pytest.raises(ValueError, match=r"^\[prelu\]"):
        F.prelu(pydl.ones(2, 4, 5), pydl.ones(3))


def test_rrelu_eval_and_train():
    x = pydl.tensor(np.linspace(-3, 3, 13))
    m = nn.RReLU(0.1, 0.3).eval()
    np.testing.assert_allclose(m(x).numpy(), torch.nn.RReLU(0.1, 0.3).eval()(torch.tensor(x.numpy())).numpy())
    y = nn.RReLU(0.1, 0.3).train()(pydl.tensor(-np.ones(4000))).numpy()
    assert -0.3 <= y.min() and y.max() <= -0.1 and abs(y.mean() + 0.2) < 0.01  # slopes ~ U(0.1, 0.3)


def test_softmax2d_and_gumbel():
    x = np.random.default_rng(2).normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(nn.Softmax2d()(pydl.tensor(x)).numpy(), torch.nn.Softmax2d()(torch.tensor(x)).numpy(),
                               rtol=1e-12)
    g = F.gumbel_softmax(pydl.tensor(x), tau=0.5, hard=True, dim=1).numpy()
    assert set(np.unique(g)) <= {0.0, 1.0} and np.all(g.sum(1) == 1)


def test_activation_errors():
    with pytest.raises(TypeError, match=r"^\[hardswish\]"):
        F.hardswish(pydl.ones(3, dtype=pydl.int64))
    with pytest.raises(ValueError, match=r"^\[softshrink\]"):
        F.softshrink(pydl.ones(3), -1.0)
    with pytest.raises(ValueError, match=r"^\[glu\]"):
        F.glu(pydl.ones(3, 5), 1)
    with pytest.raises(ValueError, match=r"^\[hardtanh\]"):
        F.hardtanh(pydl.ones(3), 1.0, -1.0)


# ---- losses --------------------------------------------------------------------------------------

def _t(a):
    return torch.from_numpy(np.asarray(a))


R = np.random.default_rng(7)
SIGNS = np.where(R.random(6) < 0.5, -1.0, 1.0)
PROBS = R.dirichlet(np.ones(5), size=4)
MULTI = (R.random((4, 5)) < 0.4).astype(np.float64)
LABELS = np.array([1, 0, 4, 2])
ML_TARGET = np.array([[3, 0, -1, 1, 2], [1, 2, 4, -1, 0], [0, -1, 2, 2, 2], [4, 3, 2, 1, 0]])


def loss_cases():
    s, p, m = pydl.tensor(SIGNS), pydl.tensor(PROBS), pydl.tensor(MULTI)
    ts, tp, tm = _t(SIGNS), _t(PROBS), _t(MULTI)
    lab, tlab = pydl.tensor(LABELS), _t(LABELS)
    ml, tml = pydl.tensor(ML_TARGET), _t(ML_TARGET)
    return [
        ("kl_div", lambda x: F.kl_div(F.log_softmax(x, 1), p, reduction="batchmean"),
         lambda x: TF.kl_div(TF.log_softmax(x, 1), tp, reduction="batchmean"), [(4, 5)]),
        ("kl_div_log_target", lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True),
         lambda x, y: TF.kl_div(x, y, reduction="sum", log_target=True), [(4, 5), (4, 5)]),
        ("kl_div_none", lambda x: F.kl_div(x, p * m, reduction="none"),  # zero targets give zero loss
         lambda x: TF.kl_div(x, tp * tm, reduction="none"), [(4, 5)]),
        ("huber", lambda x, y: F.huber_loss(x, y, delta=0.7), lambda x, y: TF.huber_loss(x, y, delta=0.7), [(4, 5)] * 2),
        ("smooth_l1", lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), lambda x, y: TF.smooth_l1_loss(x, y, beta=0.5),
         [(4, 5)] * 2),
        ("cosine_embedding", lambda a, b: F.cosine_embedding_loss(a, b, s, margin=0.2),
         lambda a, b: TF.cosine_embedding_loss(a, b, ts, margin=0.2), [(6, 4)] * 2),
        ("triplet", lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=0.5, p=3, swap=True),
         lambda a, b, c: TF.triplet_margin_loss(a, b, c, margin=0.5, p=3, swap=True), [(6, 4)] * 3),
        ("triplet_distance", lambda a, b, c: F.triplet_margin_with_distance_loss(
            a, b, c, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), margin=0.3, reduction="sum"),
         lambda a, b, c: TF.triplet_margin_with_distance_loss(
            a, b, c, distance_function=lambda u, v: 1 - TF.cosine_similarity(u, v), margin=0.3, reduction="sum"),
         [(6, 4)] * 3),
        ("margin_ranking", lambda a, b: F.margin_ranking_loss(a, b, s, margin=0.1),
         lambda a, b: TF.margin_ranking_loss(a, b, ts, margin=0.1), [(6,)] * 2),
        ("multilabel_soft_margin", lambda x: F.multilabel_soft_margin_loss(x, m, weight=p[0]),
         lambda x: TF.multilabel_soft_margin_loss(x, tm, weight=tp[0]), [(4, 5)]),
        ("multilabel_margin", lambda x: F.multilabel_margin_loss(x, ml), lambda x: TF.multilabel_margin_loss(x, tml),
         [(4, 5)]),
        ("multi_margin", lambda x: F.multi_margin_loss(x, lab, p=2, margin=0.7, weight=p[1]),
         lambda x: TF.multi_margin_loss(x, tlab, p=2, margin=0.7, weight=tp[1]), [(4, 5)]),
        ("hinge_embedding", lambda x: F.hinge_embedding_loss(x, s, margin=0.5),
         lambda x: TF.hinge_embedding_loss(x, ts, margin=0.5), [(6,)]),
        ("soft_margin", lambda x: F.soft_margin_loss(x, s), lambda x: TF.soft_margin_loss(x, ts), [(6,)]),
        ("poisson_nll", lambda x: F.poisson_nll_loss(x, m * 3, full=True),
         lambda x: TF.poisson_nll_loss(x, tm * 3, full=True), [(4, 5)]),
        ("poisson_nll_rate", lambda x: F.poisson_nll_loss(x * x + 0.1, m * 3, log_input=False),
         lambda x: TF.poisson_nll_loss(x * x + 0.1, tm * 3, log_input=False), [(4, 5)]),
        ("gaussian_nll", lambda x, v: F.gaussian_nll_loss(x, p, v * v + 0.01, full=True),
         lambda x, v: TF.gaussian_nll_loss(x, tp, v * v + 0.01, full=True), [(4, 5), (4, 5)]),
        ("gaussian_nll_row_var", lambda x, v: F.gaussian_nll_loss(x, p, v * v + 0.01, reduction="none"),
         lambda x, v: TF.gaussian_nll_loss(x, tp, v * v + 0.01, reduction="none"), [(4, 5), (4, 1)]),
        ("cross_entropy_probs", lambda x: F.cross_entropy(x, p, label_smoothing=0.1, weight=p[2]),
         lambda x: TF.cross_entropy(x, tp, label_smoothing=0.1, weight=tp[2]), [(4, 5)]),
        ("bce_logits_pos_weight", lambda x: F.binary_cross_entropy_with_logits(x, m, pos_weight=p[0] * 3),
         lambda x: TF.binary_cross_entropy_with_logits(x, tm, pos_weight=tp[0] * 3), [(4, 5)]),
        ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=0),
         lambda a, b: TF.cosine_similarity(a, b, dim=0), [(5, 3), (5, 1)]),
        ("pairwise_distance", lambda a, b: F.pairwise_distance(a, b, p=1.5, keepdim=True),
         lambda a, b: TF.pairwise_distance(a, b, p=1.5, keepdim=True), [(4, 5)] * 2),
        ("normalize", lambda x: F.normalize(x, p=3, dim=0), lambda x: TF.normalize(x, p=3, dim=0), [(4, 5)]),
        ("pdist", lambda x: F.pdist(x), lambda x: TF.pdist(x), [(5, 3)]),
        ("cdist", lambda a, b: pydl.cdist(a, b, p=1.0), lambda a, b: torch.cdist(a, b, p=1.0), [(2, 4, 3), (2, 5, 3)]),
        ("cdist_inf", lambda a, b: pydl.cdist(a, b, p=float("inf")), lambda a, b: torch.cdist(a, b, p=float("inf")),
         [(4, 3), (5, 3)]),
        ("bilinear", lambda a, b, w, c: F.bilinear(a, b, w, c), lambda a, b, w, c: TF.bilinear(a, b, w, c),
         [(3, 4), (3, 2), (5, 4, 2), (5,)]),
    ]


@pytest.mark.parametrize("case", loss_cases(), ids=[c[0] for c in loss_cases()])
def test_loss_vs_torch(case):
    _, fn, tfn, shapes = case
    check_vs_torch(fn, tfn, shapes, low=-1.5, high=1.5)


@pytest.mark.parametrize("cls,args,kw", [
    ("KLDivLoss", 2, dict(reduction="batchmean")), ("HuberLoss", 2, dict(delta=0.5)), ("SoftMarginLoss", 2, {}),
    ("MultiLabelSoftMarginLoss", 2, {}), ("PoissonNLLLoss", 2, {}), ("HingeEmbeddingLoss", 2, dict(margin=0.3)),
    ("MarginRankingLoss", 3, dict(margin=0.1)), ("CosineEmbeddingLoss", 3, {}), ("TripletMarginLoss", 3, {}),
    ("TripletMarginWithDistanceLoss", 3, {}), ("GaussianNLLLoss", 3, {}),
])
def test_loss_modules(cls, args, kw):
    rng = np.random.default_rng(3)
    xs = [rng.uniform(0.1, 1.0, (4, 5)) for _ in range(args)]
    if cls in ("HingeEmbeddingLoss", "SoftMarginLoss", "MarginRankingLoss", "CosineEmbeddingLoss"):
        xs[-1] = np.sign(xs[-1] - 0.5)
        if cls == "CosineEmbeddingLoss":
            xs[-1] = xs[-1][:, 0]
    got = getattr(nn, cls)(**kw)(*[pydl.tensor(x) for x in xs]).item()
    want = getattr(torch.nn, cls)(**kw)(*[torch.tensor(x) for x in xs]).item()
    assert got == pytest.approx(want, rel=1e-10, abs=1e-12)


def test_multi_margin_and_multilabel_modules():
    x = np.random.default_rng(4).normal(size=(4, 5))
    got = nn.MultiMarginLoss()(pydl.tensor(x), pydl.tensor(LABELS)).item()
    assert got == pytest.approx(torch.nn.MultiMarginLoss()(torch.tensor(x), _t(LABELS)).item(), rel=1e-12)
    got = nn.MultiLabelMarginLoss(reduction="sum")(pydl.tensor(x), pydl.tensor(ML_TARGET)).item()
    want = torch.nn.MultiLabelMarginLoss(reduction="sum")(torch.tensor(x), _t(ML_TARGET)).item()
    assert got == pytest.approx(want, rel=1e-12)


# ---- CTC ------------------------------------------------------------------------------------------

def _ctc_inputs(seed=0, T=12, N=3, C=6, S=4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(T, N, C))
    targets = rng.integers(1, C, size=(N, S))
    targets[0, 1] = targets[0, 0]  # a repeated label needs a blank between
    in_len = np.array([T, T - 2, T - 5][:N])
    tg_len = np.array([S, S - 1, 2][:N])
    return logits, targets, in_len, tg_len


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss_vs_torch(reduction):
    logits, targets, il, tl = _ctc_inputs()
    px = pydl.tensor(logits, requires_grad=True)
    tx = torch.tensor(logits, requires_grad=True)
    got = F.ctc_loss(F.log_softmax(px, 2), pydl.tensor(targets), pydl.tensor(il), pydl.tensor(tl), reduction=reduction)
    want = TF.ctc_loss(TF.log_softmax(tx, 2), _t(targets), _t(il), _t(tl), reduction=reduction)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10)
    w = np.random.default_rng(1).uniform(0.5, 1.5, tuple(want.shape))
    (got * pydl.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(px.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_ctc_loss_gradcheck_concatenated_targets_and_zero_infinity():
    logits, targets, il, tl = _ctc_inputs(1, T=6, N=2, C=4, S=2)
    flat = np.concatenate([targets[0, :tl[0]], targets[1, :tl[1]]])
    lp = pydl.tensor(logits, requires_grad=True)
    assert pydl.autograd.gradcheck(
        lambda x: F.ctc_loss(x, pydl.tensor(flat), list(il), list(tl), reduction="sum"), [lp])
    # an impossible alignment (target longer than the input): inf, or 0 with zero_infinity
    bad = dict(input_lengths=[1, 1], target_lengths=[2, 2])
    lp2 = pydl.tensor(np.log(np.full((3, 2, 4), 0.25)), requires_grad=True)
    assert math.isinf(F.ctc_loss(lp2, pydl.tensor(targets), reduction="sum", **bad).item())
    z = nn.CTCLoss(zero_infinity=True, reduction="sum")(lp2, pydl.tensor(targets), *bad.values())
    assert z.item() == 0
    z.backward()
    assert np.all(lp2.grad.numpy() == 0)
    # unbatched (T, C) input
    u = F.ctc_loss(F.log_softmax(pydl.tensor(logits[:, 0]), 1), pydl.tensor(targets[0]), [6], [2])
    tu = TF.ctc_loss(TF.log_softmax(torch.tensor(logits[:, 0]), 1), _t(targets[0]), (6,), (2,))
    assert u.item() == pytest.approx(tu.item(), rel=1e-10)


def test_ctc_errors():
    lp = pydl.zeros(5, 2, 4)
    with pytest.raises(ValueError, match=r"^\[ctc_loss\]"):
        F.ctc_loss(lp, pydl.tensor([[1, 2], [0, 1]]), [5, 5], [2, 2])  # the blank as a label
    with pytest.raises(ValueError, match=r"^\[ctc_loss\]"):
        F.ctc_loss(lp, pydl.tensor([[1, 2], [1, 1]]), [6, 5], [2, 2])  # input length > T
    with pytest.raises(ValueError, match=r"^\[ctc_loss\]"):
        F.ctc_loss(pydl.zeros(5), pydl.tensor([1]), [5], [1])


def test_loss_errors():
    with pytest.raises(ValueError, match=r"^\[multi_margin_loss\]"):
        F.multi_margin_loss(pydl.ones(3, 4), pydl.tensor([0, 1, 2]), p=3)
    with pytest.raises(ValueError, match=r"^\[cosine_embedding_loss\]"):
        F.cosine_embedding_loss(pydl.ones(3, 4), pydl.ones(3, 5), pydl.ones(3))
    with pytest.raises(ValueError, match=r"^\[huber_loss\]"):
        F.huber_loss(pydl.ones(3), pydl.ones(3), delta=0)
    with pytest.raises(ValueError, match=r"^\[cdist\]"):
        pydl.cdist(pydl.ones(3, 4), pydl.ones(3, 5))
    with pytest.raises(ValueError, match=r"^\[gaussian_nll_loss\]"):
        F.gaussian_nll_loss(pydl.ones(3, 4), pydl.ones(3, 4), -pydl.ones(3, 4))
    with pytest.raises(TypeError, match=r"^\[cross_entropy\]"):
        F.cross_entropy(pydl.ones(3, 4), pydl.ones(3, 5))


# ---- modules and containers ------------------------------------------------------------------------

def test_bilinear_channel_shuffle_distance_modules():
    pydl.manual_seed(0)
    m = nn.Bilinear(4, 3, 2)
    tm = torch.nn.Bilinear(4, 3, 2).double()
    tm.load_state_dict({k: torch.tensor(v.numpy()).double() for k, v in m.state_dict().items()})
    a, b = np.random.default_rng(0).normal(size=(5, 4)), np.random.default_rng(1).normal(size=(5, 3))
    got = F.bilinear(pydl.tensor(a), pydl.tensor(b), pydl.tensor(tm.weight.detach().numpy()),
                     pydl.tensor(tm.bias.detach().numpy()))
    np.testing.assert_allclose(got.numpy(), tm(torch.tensor(a), torch.tensor(b)).detach().numpy(), rtol=1e-12)
    x = np.arange(2 * 6 * 2.0).reshape(2, 6, 2)
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(pydl.tensor(x)).numpy(),
                                  torch.nn.ChannelShuffle(3)(torch.tensor(x)).numpy())
    u, v = np.random.default_rng(2).normal(size=(2, 4, 5))
    np.testing.assert_allclose(nn.CosineSimilarity(dim=1)(pydl.tensor(u), pydl.tensor(v)).numpy(),
                               torch.nn.CosineSimilarity(dim=1)(torch.tensor(u), torch.tensor(v)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(nn.PairwiseDistance(p=1)(pydl.tensor(u), pydl.tensor(v)).numpy(),
                               torch.nn.PairwiseDistance(p=1)(torch.tensor(u), torch.tensor(v)).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"^\[channel_shuffle\]"):
        nn.ChannelShuffle(4)(pydl.tensor(x))


def test_parameter_list_and_dict():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList([nn.Parameter(pydl.ones(2)), pydl.zeros(3)])
            self.pd = nn.ParameterDict({"b": nn.Parameter(pydl.ones(1)), "a": pydl.zeros(2, 2)})

    m = M()
    m.ps.append(pydl.ones(4))
    m.pd["c"] = nn.Parameter(pydl.ones(5))
    assert list(m.state_dict().keys()) == ["ps.0", "ps.1", "ps.2", "pd.a", "pd.b", "pd.c"]
    assert len(m.ps) == 3 and len(m.pd) == 3 and "a" in m.pd and isinstance(m.ps[1], nn.Parameter)
    assert len(list(m.parameters())) == 6 and m.ps[-1].shape == (4,)
    assert [tuple(p.shape) for p in m.ps] == [(2,), (3,), (4,)]
    assert list(m.pd.keys()) == ["a", "b", "c"] and m.pd.pop("b").shape == (1,) and len(m.pd) == 2
    opt = pydl.optim.SGD(m.parameters(), lr=0.1)
    sum(p.sum() for p in m.parameters()).backward()
    opt.step()
    np.testing.assert_allclose(m.ps[0].detach().numpy(), [0.9, 0.9], rtol=1e-6)
    # the same keys as torch
    class TMod(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.zeros(3), torch.ones(4)])
            self.pd = torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.ones(1)), "a": torch.zeros(2, 2)})
            self.pd["c"] = torch.nn.Parameter(torch.ones(5))
    assert list(TMod().state_dict().keys()) == ["ps.0", "ps.1", "ps.2", "pd.a", "pd.b", "pd.c"]
    with pytest.raises(IndexError):
        m.ps[5]
    with pytest.raises(TypeError):
        m.pd[3] = pydl.ones(1)


# ---- nn.init ---------------------------------------------------------------------------------------

def test_init_trunc_normal_sparse_dirac():
    pydl.manual_seed(0)
    w = nn.init.trunc_normal_(pydl.empty(20000), mean=0.5, std=1.0, a=-0.5, b=1.0).numpy()
    assert w.min() >= -0.5 and w.max() <= 1.0
    al, be = -1.0, 0.5  # (a - mean) / std, (b - mean) / std

    def pdf(z):
        return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def cdf(z):
        return (1 + math.erf(z / math.sqrt(2))) / 2
    want = 0.5 + (pdf(al) - pdf(be)) / (cdf(be) - cdf(al))
    assert abs(w.mean() - want) < 0.01


def test_init_sparse_and_dirac_and_gain():
    pydl.manual_seed(0)
    w = nn.init.sparse_(pydl.empty(10, 7), sparsity=0.3, std=0.1).numpy()
    assert np.all((w == 0).sum(0) == 3)
    d = nn.init.dirac_(pydl.empty(4, 2, 3, 3), groups=2).numpy()
    td = torch.nn.init.dirac_(torch.empty(4, 2, 3, 3), groups=2).numpy()
    np.testing.assert_array_equal(d, td)
    for nl, p in [("relu", None), ("leaky_relu", 0.2), ("tanh", None), ("selu", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))
    e = nn.init.eye_(pydl.empty(3, 4)).numpy()
    np.testing.assert_array_equal(e, np.eye(3, 4))
    q = nn.init.orthogonal_(pydl.empty(4, 6)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-5)
    assert nn.init.zeros_(pydl.ones(3)).numpy().tolist() == [0, 0, 0]
    assert nn.init.constant_(pydl.ones(2), 2.5).numpy().tolist() == [2.5, 2.5]
    with pytest.raises(ValueError):
        nn.init.dirac_(pydl.empty(3, 3))
    with pytest.raises(ValueError):
        nn.init.sparse_(pydl.empty(3, 3, 3), 0.5)


# ---- nn.utils ---------------------------------------------------------------------------------------

def test_parameters_to_vector_roundtrip_and_clip_value():
    m = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (8,)
    nn.utils.vector_to_parameters(v * 0 + pydl.arange(8.0), m.parameters())
    np.testing.assert_array_equal(m.weight.detach().numpy().ravel(), np.arange(6.0))
    np.testing.assert_array_equal(m.bias.detach().numpy(), [6.0, 7.0])
    with pytest.raises(ValueError, match=r"^\[vector_to_parameters\]"):
        nn.utils.vector_to_parameters(pydl.ones(3), m.parameters())
    (m(pydl.ones(4, 3)) * 100).sum().backward()
    nn.utils.clip_grad_value_(m.parameters(), 0.5)
    assert np.abs(m.weight.grad.numpy()).max() <= 0.5
    total = nn.utils.clip_grad_norm_(m.parameters(), 0.1)
    assert float(total) > 0.1
    g = np.concatenate([p.grad.numpy().ravel() for p in m.parameters()])
    assert np.linalg.norm(g) == pytest.approx(0.1, rel=1e-4)


def _copy_into_torch(pm, tm):
    tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in pm.state_dict().items()})


def test_weight_norm_parametrization_matches_torch():
    pm = nn.Linear(4, 3)
    tm = torch.nn.Linear(4, 3)
    nn.utils.parametrizations.weight_norm(pm, dim=0)
    torch.nn.utils.parametrizations.weight_norm(tm, dim=0)
    assert list(pm.state_dict().keys()) == list(tm.state_dict().keys())
    _copy_into_torch(pm, tm)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    px, tx = pydl.tensor(x), torch.tensor(x)
    np.testing.assert_allclose(pm(px).detach().numpy(), tm(tx).detach().numpy(), rtol=1e-5, atol=1e-6)
    pm(px).sum().backward()
    tm(tx).sum().backward()
    for (k, p), (_, t) in zip(pm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)
    assert nn.utils.parametrize.is_parametrized(pm, "weight")
    w = pm.weight.detach().numpy()
    nn.utils.parametrize.remove_parametrizations(pm, "weight")
    assert not nn.utils.parametrize.is_parametrized(pm) and type(pm) is nn.Linear
    np.testing.assert_allclose(pm.weight.detach().numpy(), w)
    assert sorted(pm.state_dict().keys()) == ["bias", "weight"]


def test_spectral_norm_parametrization_matches_torch():
    pm, tm = nn.Linear(5, 4), torch.nn.Linear(5, 4)
    nn.utils.parametrizations.spectral_norm(pm)
    torch.nn.utils.parametrizations.spectral_norm(tm)
    assert list(pm.state_dict().keys()) == list(tm.state_dict().keys())
    with torch.no_grad():  # the same weights and power-iteration vectors, then the same steps
        _copy_into_torch(pm, tm)
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    for _ in range(3):
        y, ty = pm(pydl.tensor(x)), tm(torch.tensor(x))
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    sigma = np.linalg.svd(pm.parametrizations.weight.original.detach().numpy(), compute_uv=False)[0]
    pm.eval()
    np.testing.assert_allclose(np.linalg.svd(pm.weight.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-2)
    assert sigma > 0


def test_register_parametrization_custom_and_cached():
    class Symmetric(nn.Module):
        def forward(self, x):
            return (x + x.T) / 2

    m = nn.Linear(3, 3)
    nn.utils.parametrize.register_parametrization(m, "weight", Symmetric())
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    with nn.utils.parametrize.cached():
        assert m.weight is m.weight
    assert "parametrizations.weight.original" in m.state_dict()
    with pytest.raises(ValueError):
        nn.utils.parametrize.register_parametrization(m, "nope", Symmetric())


def test_old_weight_norm_hook():
    pm, tm = nn.Linear(4, 2), torch.nn.Linear(4, 2)
    _copy_into_torch(pm, tm)
    nn.utils.weight_norm(pm)
    torch.nn.utils.weight_norm(tm)
    assert sorted(pm.state_dict().keys()) == sorted(tm.state_dict().keys())
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(pm(pydl.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-5)
    nn.utils.remove_weight_norm(pm)
    assert sorted(pm.state_dict().keys()) == ["bias", "weight"]


def test_alpha_dropout_keeps_selu_statistics():
    pydl.manual_seed(0)
    x = pydl.randn(200000, dtype=pydl.float64)
    for m in (nn.AlphaDropout(0.2), nn.FeatureAlphaDropout(0.2)):
        y = m.train()(x.reshape(2000, 100, 1) if isinstance(m, nn.FeatureAlphaDropout) else x).numpy()
        assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
        assert m.eval()(x) is x
    alpha = 1.7580993408473766
    a = 1 / np.sqrt((alpha ** 2 * 0.2 + 1) * 0.8)
    y = F.alpha_dropout(pydl.zeros(1000, dtype=pydl.float64), 0.2, training=True).numpy()
    assert set(np.round(np.unique(y), 10)) == set(np.round([alpha * a * 0.2 - alpha * a, alpha * a * 0.2], 10))
    with pytest.raises(ValueError, match=r"^\[alpha_dropout\]"):
        F.alpha_dropout(x, 1.5, True)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_vs_torch(mode):
    w = np.random.default_rng(0).normal(size=(10, 3))
    pe, te = nn.EmbeddingBag(10, 3, mode=mode, _weight=pydl.tensor(w)), torch.nn.EmbeddingBag.from_pretrained(
        torch.tensor(w), freeze=False, mode=mode)
    idx2 = np.array([[1, 2, 4], [4, 3, 9]])
    got, want = pe(pydl.tensor(idx2)), te(torch.tensor(idx2))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(pe.weight.grad.numpy(), te.weight.grad.numpy(), rtol=1e-12)
    if mode != "max":
        flat, offs = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 2, 2, 5])
        np.testing.assert_allclose(pe(pydl.tensor(flat), pydl.tensor(offs)).detach().numpy(),
                                   te(torch.tensor(flat), torch.tensor(offs)).detach().numpy(), rtol=1e-12)
    if mode == "sum":
        psw = np.linspace(0.5, 2, 6).reshape(2, 3)
        np.testing.assert_allclose(
            pe(pydl.tensor(idx2), per_sample_weights=pydl.tensor(psw)).detach().numpy(),
            te(torch.tensor(idx2), per_sample_weights=torch.tensor(psw)).detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,args", [
    ("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.1,)), ("hardtanh_", (-0.5, 0.5)), ("selu_", ()),
    ("celu_", (0.7,)), ("threshold_", (0.2, -3.0)), ("rrelu_", (0.1, 0.3, False)),
])
def test_functional_inplace_forms(name, args):
    x = np.random.default_rng(5).uniform(-2, 2, (3, 4))
    a, b = pydl.tensor(x), torch.tensor(x)
    assert getattr(F, name)(a, *args) is a
    getattr(TF, name)(b, *args)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_functional_more_vs_torch():
    x = np.random.default_rng(6).normal(size=(2, 3, 8))
    np.testing.assert_allclose(F.rrelu(pydl.tensor(x)).numpy(), TF.rrelu(torch.tensor(x)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.avg_pool1d(pydl.tensor(x), 3, 2).numpy(), TF.avg_pool1d(torch.tensor(x), 3, 2).numpy(),
                               rtol=1e-12)
    w = np.random.default_rng(7).normal(size=(10, 3))
    idx, offs = np.array([1, 2, 4, 5, 4]), np.array([0, 2])
    np.testing.assert_allclose(
        F.embedding_bag(pydl.tensor(idx), pydl.tensor(w), pydl.tensor(offs), mode="sum").numpy(),
        TF.embedding_bag(torch.tensor(idx), torch.tensor(w), torch.tensor(offs), mode="sum").numpy(), rtol=1e-12)
    assert F.feature_alpha_dropout(pydl.tensor(x), 0.3, training=False).numpy().tolist() == x.tolist()
    y = F.feature_alpha_dropout(pydl.tensor(np.ones((4, 6, 5))), 0.5, training=True).numpy()
    assert np.all(y.std(axis=2) == 0)  # whole channels share one draw
