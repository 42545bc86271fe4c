"""nn.Module mechanics, containers, layers (init, repr, forward against PyTorch), clip_grad."""
import math
from collections import OrderedDict

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F
from pydl import _C


def needs(*ops):
    """Skips a test until the named core ops exist (they come from the nn branch)."""
    missing = [o for o in ops if not hasattr(_C, o)]
    return pytest.mark.skipif(bool(missing), reason=f"core ops not built yet: {missing}")


class MnistNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout1(x)
        x = pydl.flatten(x, 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.block = nn.Sequential(nn.Linear(8, 8), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 3)])
        self.register_buffer("steps", pydl.zeros(1))
        self.register_buffer("scratch", pydl.zeros(2), persistent=False)
        self.scale = nn.Parameter(pydl.ones(1))

    def forward(self, x):
        h = self.block(self.act(self.fc1(x)))
        return self.heads[0](h) * self.scale


# ---- Parameter and registration ------------------------------------------------------------

def test_parameter_is_a_tensor_subclass_and_ops_return_tensors():
    p = nn.Parameter(pydl.randn(3, 2))
    assert isinstance(p, nn.Parameter) and isinstance(p, pydl.Tensor)
    assert p.requires_grad and p.is_leaf
    y = p * 2
    assert type(y) is pydl.Tensor
    assert type(p.detach()) is pydl.Tensor
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(pydl.zeros(2), requires_grad=False).requires_grad
    data = pydl.zeros(2)
    q = nn.Parameter(data)
    with pydl.no_grad():
        q.add_(1)
    assert data.tolist() == [1.0, 1.0]  # shares storage


def test_registration_and_traversal():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias", "heads.0.weight",
                     "heads.0.bias", "heads.1.weight", "heads.1.bias"]
    assert len(list(m.parameters())) == 9
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "block", "heads"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "block", "block.0", "block.1", "heads", "heads.0",
                                                 "heads.1"]
    assert m.get_submodule("block.0") is m.block[0]
    assert m.get_parameter("heads.1.bias") is m.heads[1].bias
    # shared modules and parameters are listed once
    m.alias = m.fc1
    assert len(list(m.parameters())) == 9
    # reassigning None to a parameter keeps the slot; deleting removes it
    m.fc1.bias = None
    assert "fc1.bias" not in dict(m.named_parameters())
    with pytest.raises(TypeError):
        m.fc1.weight = pydl.zeros(8, 4)  # a plain tensor cannot replace a Parameter
    del m.alias
    assert "alias" not in dict(m.named_children())
    with pytest.raises(AttributeError):
        m.nope  # noqa: B018
    with pytest.raises(KeyError):
        m.register_buffer("a.b", pydl.zeros(1))


def test_assignment_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(pydl.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_train_eval_apply_zero_grad_requires_grad():
    m = Net()
    assert m.eval() is m and not m.block[0].training
    assert m.train() is m and m.block[0].training
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen[-1] == "Net" and seen[0] == "Linear"
    m(pydl.randn(5, 4)).sum().backward()
    assert m.fc1.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert float(m.fc1.weight.grad.abs().sum()) == 0.0
    m.zero_grad()
    assert m.fc1.weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_state_dict_round_trip_and_errors():
    pydl.manual_seed(0)
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias",
                        "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias"]
    assert not sd["fc1.weight"].requires_grad
    res = b.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    x = pydl.randn(3, 4)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    # prefix form
    assert "net.fc1.weight" in a.state_dict(prefix="net.")
    # missing / unexpected
    bad = dict(sd)
    del bad["fc1.bias"]
    bad["extra.weight"] = pydl.zeros(1)
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(bad)
    assert 'Missing key(s) in state_dict: "fc1.bias"' in str(e.value)
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in str(e.value)
    res = b.load_state_dict(bad, strict=False)  # reported, not raised
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra.weight"]
    # shape mismatch always raises
    bad = dict(sd)
    bad["fc1.weight"] = pydl.zeros(3, 3)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape \(3, 3\)"):
        b.load_state_dict(bad, strict=False)
    # NumPy arrays are accepted
    b.load_state_dict({k: v.numpy() for k, v in sd.items()})


def test_sequential_containers():
    l1, l2, l3 = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(l1, l2, l3)
    assert len(s) == 3 and s[0] is l1 and s[-1] is l3
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is l2
    s.append(nn.Sigmoid())
    assert len(s) == 4 and [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"]
    od = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in od.named_parameters()] == ["fc.weight", "fc.bias"]
    assert od.act is od[1]
    y = od(pydl.randn(4, 2))
    assert tuple(y.shape) == (4, 2)
    with pytest.raises(IndexError):
        od[5]
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2))
    ml.extend([nn.Linear(2, 2)])
    assert len(ml) == 3 and [n for n, _ in ml.named_parameters()][-1] == "2.bias"
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.ReLU()
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(md) == 2


def test_repr_matches_pytorch_format():
    expected = """MnistNet(
  (conv1): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))
  (conv2): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1))
  (dropout1): Dropout(p=0.25, inplace=False)
  (dropout2): Dropout(p=0.5, inplace=False)
  (fc1): Linear(in_features=9216, out_features=128, bias=True)
  (fc2): Linear(in_features=128, out_features=10, bias=True)
)"""
    assert repr(MnistNet()) == expected
    seq = nn.Sequential(nn.Conv2d(3, 8, 5, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
                        nn.MaxPool2d(2), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LayerNorm(8),
                        nn.Embedding(10, 4, padding_idx=0), nn.GELU(), nn.Softmax(dim=1))
    lines = repr(seq).split("\n")
    assert lines[1] == "  (0): Conv2d(3, 8, kernel_size=(5, 5), stride=(2, 2), padding=(1, 1), bias=False)"
    assert lines[2] == "  (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert lines[3] == "  (2): LeakyReLU(negative_slope=0.2)"
    assert lines[4] == "  (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert lines[5] == "  (4): AdaptiveAvgPool2d(output_size=(1, 1))"
    assert lines[6] == "  (5): Flatten(start_dim=1, end_dim=-1)"
    assert lines[7] == "  (6): LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert lines[8] == "  (7): Embedding(10, 4, padding_idx=0)"
    assert lines[9] == "  (8): GELU(approximate='none')"
    assert lines[10] == "  (9): Softmax(dim=1)"


def test_repr_equals_torch_repr():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    t = tn.Sequential(tn.Linear(4, 8), tn.ReLU(), tn.Dropout(0.1), tn.BatchNorm1d(8), tn.Conv1d(8, 4, 3, padding=1),
                      tn.ELU(alpha=0.5), tn.SiLU(), tn.Unflatten(1, (2, 2)), tn.Identity(), tn.AvgPool2d(2),
                      tn.CrossEntropyLoss(), tn.Sigmoid(), tn.LogSoftmax(dim=1), tn.LayerNorm((2, 3)),
                      tn.BatchNorm2d(3, affine=False), tn.Embedding(5, 2))
    p = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.1), nn.BatchNorm1d(8), nn.Conv1d(8, 4, 3, padding=1),
                      nn.ELU(alpha=0.5), nn.SiLU(), nn.Unflatten(1, (2, 2)), nn.Identity(), nn.AvgPool2d(2),
                      nn.CrossEntropyLoss(), nn.Sigmoid(), nn.LogSoftmax(dim=1), nn.LayerNorm((2, 3)),
                      nn.BatchNorm2d(3, affine=False), nn.Embedding(5, 2))
    assert repr(p) == repr(t)


def test_hooks_and_summary():
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    shapes = []
    h = m[0].register_forward_hook(lambda mod, inp, out: shapes.append(tuple(out.shape)))
    m(pydl.randn(5, 4))
    h.remove()
    m(pydl.randn(5, 4))
    assert shapes == [(5, 3)]
    m[2].register_forward_hook(lambda mod, inp, out: out * 0)
    assert float(m(pydl.randn(2, 4)).abs().sum()) == 0.0
    m[2]._forward_hooks.clear()
    lines = []
    text = m.summary((4,), print_fn=lines.append)
    assert "Linear-1" in text and "[-1, 3]" in text and "[-1, 2]" in text
    assert "Total params: 23" in text and "Trainable params: 23" in text


def test_deepcopy_clones_parameters_and_buffers():
    import copy
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m[0].weight.grad = pydl.ones(2, 3)
    c = copy.deepcopy(m)
    assert isinstance(c[0].weight, nn.Parameter) and c[0].weight is not m[0].weight and c[0].weight.grad is None
    assert c[1].running_mean is not m[1].running_mean
    np.testing.assert_array_equal(c[0].weight.detach().numpy(), m[0].weight.detach().numpy())
    with pydl.no_grad():
        c[0].weight.fill_(0)
    assert float(m[0].weight.abs().sum()) > 0
    assert repr(c) == repr(m)


def test_modulelist_repr_collapses_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(ml) == ("ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n"
                        "  (3): ReLU()\n)")


def test_module_to_double():
    m = nn.Linear(3, 2).double()
    assert m.weight.dtype == pydl.float64 and isinstance(m.weight, nn.Parameter)
    y = m(pydl.randn(4, 3, dtype=pydl.float64))
    assert y.dtype == pydl.float64
    assert m.to("cpu") is m


# ---- initialisation (PyTorch's formulas) --------------------------------------------------

def test_linear_and_conv_init_bounds():
    pydl.manual_seed(1)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt(5)) -> gain*sqrt(3/fan_in) = 1/sqrt(fan_in)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    b = lin.bias.detach().numpy()
    assert np.abs(b).max() <= bound
    conv = nn.Conv2d(16, 32, 3)
    fan_in = 16 * 9
    w = conv.weight.detach().numpy()
    assert w.shape == (32, 16, 3, 3)
    assert np.abs(w).max() <= 1 / math.sqrt(fan_in) and np.abs(w).max() > 0.95 / math.sqrt(fan_in)
    assert np.abs(conv.bias.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    bn = nn.BatchNorm2d(5)
    assert bn.weight.tolist() == [1.0] * 5 and bn.bias.tolist() == [0.0] * 5
    assert bn.running_var.tolist() == [1.0] * 5 and int(bn.num_batches_tracked.item()) == 0
    emb = nn.Embedding(1000, 16, padding_idx=3)
    e = emb.weight.detach().numpy()
    assert abs(e.std() - 1) < 0.05 and np.all(e[3] == 0)


def test_init_functions():
    init = nn.init
    pydl.manual_seed(0)
    t = pydl.empty(200, 300)
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("tanh") == 5 / 3
    with pytest.raises(ValueError):
        init.calculate_gain("nope")
    assert init._calculate_fan_in_and_fan_out(pydl.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(pydl.empty(5))
    a = math.sqrt(6 / 500)
    init.xavier_uniform_(t)
    assert np.abs(t.numpy()).max() <= a
    init.xavier_normal_(t)
    assert abs(t.numpy().std() - math.sqrt(2 / 500)) < 0.003
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t.numpy().std() - math.sqrt(2 / 200)) < 0.004
    init.kaiming_uniform_(t, nonlinearity="relu")
    assert np.abs(t.numpy()).max() <= math.sqrt(6 / 300)
    init.constant_(t, 0.5)
    assert np.all(t.numpy() == 0.5)
    init.zeros_(t)
    init.ones_(t)
    assert np.all(t.numpy() == 1)
    q = init.orthogonal_(pydl.empty(6, 10), gain=2.0).numpy().astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(6), atol=1e-5)
    # works on parameters that require grad (under no_grad inside)
    p = nn.Parameter(pydl.empty(3, 3))
    init.uniform_(p, -1, 1)
    assert p.requires_grad and np.abs(p.detach().numpy()).max() <= 1


# ---- layers against PyTorch ---------------------------------------------------------------

def _copy_params(pmod, tmod):
    import torch
    pmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    return torch


def _t(x):
    import torch
    return torch.from_numpy(np.array(x.detach().numpy()))


@pytest.mark.parametrize("name,args", [("Linear", (6, 4)), ("ReLU", ()), ("LeakyReLU", (0.1,)), ("ELU", ()),
                                       ("GELU", ()), ("SiLU", ()), ("Sigmoid", ()), ("Tanh", ()),
                                       ("Softmax", (1,)), ("LogSoftmax", (1,)), ("Identity", ()), ("Flatten", ())])
def test_simple_layers_match_torch(name, args):
    torch = pytest.importorskip("torch")
    pm, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    _copy_params(pm, tm)
    x = pydl.randn(5, 6)
    np.testing.assert_allclose(pm(x).detach().numpy(), tm(_t(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kw", [("CrossEntropyLoss", {}), ("CrossEntropyLoss", {"label_smoothing": 0.1}),
                                     ("NLLLoss", {}), ("CrossEntropyLoss", {"reduction": "sum"})])
def test_classification_losses_match_torch(name, kw):
    torch = pytest.importorskip("torch")
    x, y = pydl.randn(8, 5), pydl.randint(0, 5, (8,))
    xin = F.log_softmax(x, 1) if name == "NLLLoss" else x
    got = getattr(nn, name)(**kw)(xin, y)
    want = getattr(torch.nn, name)(**kw)(_t(xin), _t(y))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)


@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss"])
def test_regression_losses_match_torch(name):
    torch = pytest.importorskip("torch")
    x, y = pydl.rand(6, 3), pydl.rand(6, 3)
    got = getattr(nn, name)()(x, y)
    want = getattr(torch.nn, name)()(_t(x), _t(y))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)


def test_dropout_train_and_eval():
    d = nn.Dropout(0.5)
    x = pydl.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y).tolist()) <= {0.0, 2.0} and 300 < (y == 0).sum() < 700
    assert np.all(d.eval()(x).numpy() == 1)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


@needs("conv2d", "max_pool2d")
def test_conv_pool_layers_match_torch():
    torch = pytest.importorskip("torch")
    for pm, tm, shape in [(nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.Conv2d(3, 4, 3, stride=2, padding=1),
                           (2, 3, 9, 9)),
                          (nn.Conv1d(3, 4, 3, padding=1, bias=False), torch.nn.Conv1d(3, 4, 3, padding=1, bias=False),
                           (2, 3, 7)),
                          (nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (2, 3, 8, 8)),
                          (nn.AvgPool2d(3, stride=2, padding=1), torch.nn.AvgPool2d(3, stride=2, padding=1),
                           (2, 3, 8, 8)),
                          (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5))]:
        _copy_params(pm, tm)
        x = pydl.randn(*shape)
        np.testing.assert_allclose(pm(x).detach().numpy(), tm(_t(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@needs("batch_norm")
def test_batchnorm_running_stats_match_torch():
    torch = pytest.importorskip("torch")
    for pm, tm, shape in [(nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4), (8, 4)),
                          (nn.BatchNorm2d(3, momentum=None), torch.nn.BatchNorm2d(3, momentum=None), (4, 3, 5, 5))]:
        _copy_params(pm, tm)
        for _ in range(3):
            x = pydl.randn(*shape)
            np.testing.assert_allclose(pm(x).detach().numpy(), tm(_t(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(pm.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
        pm.eval(), tm.eval()
        x = pydl.randn(*shape)
        np.testing.assert_allclose(pm(x).detach().numpy(), tm(_t(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@needs("layer_norm", "embedding")
def test_layernorm_embedding_match_torch():
    torch = pytest.importorskip("torch")
    pm, tm = nn.LayerNorm(6), torch.nn.LayerNorm(6)
    _copy_params(pm, tm)
    x = pydl.randn(3, 6)
    np.testing.assert_allclose(pm(x).detach().numpy(), tm(_t(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    pe, te = nn.Embedding(10, 3), torch.nn.Embedding(10, 3)
    _copy_params(pe, te)
    idx = pydl.tensor([[1, 2], [9, 0]])
    np.testing.assert_allclose(pe(idx).detach().numpy(), te(_t(idx)).detach().numpy())


@needs("conv2d", "max_pool2d")
def test_torch_state_dict_gives_same_outputs():
    torch = pytest.importorskip("torch")
    tn = torch.nn

    class TNet(tn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tn.Conv2d(1, 32, 3, 1)
            self.conv2 = tn.Conv2d(32, 64, 3, 1)
            self.dropout1 = tn.Dropout(0.25)
            self.dropout2 = tn.Dropout(0.5)
            self.fc1 = tn.Linear(9216, 128)
            self.fc2 = tn.Linear(128, 10)

        def forward(self, x):
            x = torch.relu(self.conv1(x))
            x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            x = torch.relu(self.fc1(x))
            return torch.log_softmax(self.fc2(x), dim=1)

    t = TNet().eval()
    p = MnistNet().eval()
    p.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = pydl.rand(4, 1, 28, 28)
    with pydl.no_grad():
        got = p(x).numpy()
    with torch.no_grad():
        want = t(_t(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_torch_state_dict_mlp_same_outputs():
    torch = pytest.importorskip("torch")
    t = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    p = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    p.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    x = pydl.rand(16, 784)
    with torch.no_grad():
        want = t(_t(x)).numpy()
    np.testing.assert_allclose(p(x).detach().numpy(), want, rtol=1e-5, atol=1e-5)


# ---- clip_grad ----------------------------------------------------------------------------

@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type):
    torch = pytest.importorskip("torch")
    pydl.manual_seed(0)
    ps = [nn.Parameter(pydl.randn(3, 4)), nn.Parameter(pydl.randn(5))]
    for p in ps:
        p.grad = pydl.randn(*p.shape) * 3
    ts = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in ps]
    for t, p in zip(ts, ps):
        t.grad = torch.tensor(p.grad.numpy())
    got = nn.utils.clip_grad_norm_(ps, 1.0, norm_type)
    want = torch.nn.utils.clip_grad_norm_(ts, 1.0, norm_type)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)
    for t, p in zip(ts, ps):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_clip_grad_value():
    p = nn.Parameter(pydl.zeros(4))
    p.grad = pydl.tensor([-3.0, -0.5, 0.5, 3.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, -0.5, 0.5, 1.0]
    p.grad = pydl.tensor([float("nan"), 1.0, 1.0, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
