"""The surface published PyTorch programs touch first: device selection, Size, dtype repr,
module paths, narrow / tril / triu / norm, range indexing, channel dropout, RNN odds and ends."""
import importlib
import math

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F
from helpers import check


# ---- device selection --------------------------------------------------------------------

def test_device_selection_goes_on_on_the_cpu():
    assert pydl.accelerator.is_available() is False
    assert pydl.accelerator.current_accelerator() is None
    assert pydl.accelerator.device_count() == 0
    assert pydl.backends.mps.is_available() is False and pydl.backends.mps.is_built() is False
    assert pydl.cuda.is_available() is False and pydl.cuda.device_count() == 0
    assert pydl.xpu.is_available() is False and pydl.xpu.device_count() == 0
    assert pydl.backends.cudnn.is_available() is False and pydl.backends.cudnn.version() is None
    # the lines current examples open with
    use_accel = pydl.accelerator.is_available()
    device = pydl.accelerator.current_accelerator() if use_accel else pydl.device("cpu")
    dev2 = pydl.device("cuda" if pydl.cuda.is_available() else "mps" if pydl.backends.mps.is_available() else "cpu")
    assert device == dev2 == "cpu"
    m = nn.Linear(3, 2).to(device)
    x = pydl.randn(4, 3).to(device)
    assert m(x).to(device=device).device == device and x.to("cpu").device.type == "cpu"
    assert m.to(device=device) is m and m.cpu() is m
    assert str(x.to(device, pydl.float64).dtype) == "pydl.float64"


def test_cudnn_flags_are_settable_and_restorable():
    cudnn = pydl.backends.cudnn
    old = cudnn.benchmark
    cudnn.benchmark = True
    cudnn.deterministic = True
    assert pydl.backends.cudnn.benchmark is True
    with cudnn.flags(enabled=False, deterministic=False):
        assert cudnn.enabled is False
    assert cudnn.enabled is True and cudnn.deterministic is True
    cudnn.benchmark, cudnn.deterministic = old, False
    pydl.backends.cuda.matmul.allow_tf32 = True
    pydl.cuda.manual_seed(1)
    pydl.cuda.manual_seed_all(1)


def test_device_objects_match_torch():
    torch = pytest.importorskip("torch")
    for args in [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 2), ("mps",), ("cpu", 0)]:
        d, t = pydl.device(*args), torch.device(*args)
        assert (str(d), repr(d), d.type, d.index) == (str(t), repr(t), t.type, t.index)
    assert pydl.device("cpu") != pydl.device("cpu", 0)  # as torch: an index makes a different device
    assert pydl.device("cuda:0") == "cuda:0" and pydl.device(pydl.device("mps")) == "mps"
    for bad in ["gpu", "cuda:x", "cuda:-1"]:
        with pytest.raises(RuntimeError, match=r"\[device\]"):
            pydl.device(bad)
    with pytest.raises(RuntimeError, match=r"\[device\].*accelerator"):
        pydl.device(0)
    for dev in ["cuda", "mps", pydl.device("cuda", 0)]:
        with pytest.raises(RuntimeError, match=r"\[to\].*not available"):
            pydl.zeros(2).to(dev)
        with pytest.raises(RuntimeError, match="not available"):
            pydl.zeros(2, device=dev)


# ---- Size and dtype ------------------------------------------------------------------------

def test_size_is_a_tuple_that_prints_like_torch_size():
    torch = pytest.importorskip("torch")
    x, tx = pydl.zeros(64, 1, 28, 28), torch.zeros(64, 1, 28, 28)
    for s, ts in [(x.shape, tx.shape), (x.size(), tx.size())]:
        assert isinstance(s, pydl.Size) and isinstance(s, tuple)
        assert repr(s) == repr(ts).replace("torch.", "pydl.") == "pydl.Size([64, 1, 28, 28])"
        assert str(s) == "pydl.Size([64, 1, 28, 28])" and f"{s}" == str(s)
        assert s == (64, 1, 28, 28) and s == ts and hash(s) == hash(ts) and s != [64, 1, 28, 28]
        assert isinstance(s[1:], pydl.Size) and s[1:] == ts[1:] and s[-1] == 28
        assert isinstance(s + (3,), pydl.Size) and s + (3,) == ts + (3,)
        assert s.numel() == ts.numel() and pydl.Size([]).numel() == 1
        n, c, h, w = s
        assert (n, c, h, w) == tuple(ts)
    assert x.size(1) == 1 and type(x.size(1)) is int
    assert pydl.zeros(pydl.Size([2, 3])).shape == (2, 3) and pydl.zeros(28).view(x.shape[2:][:1] + (1,)).shape == (28, 1)
    with pytest.raises(TypeError, match=r"\[Size\]"):
        pydl.Size([1.5])


def test_dtype_repr_like_torch():
    torch = pytest.importorskip("torch")
    for p, t in [(pydl.float32, torch.float32), (pydl.float64, torch.float64), (pydl.int64, torch.int64),
                 (pydl.bool, torch.bool)]:
        assert repr(p) == repr(t).replace("torch.", "pydl.") and str(p) == str(t).replace("torch.", "pydl.")
    assert repr([pydl.float32]) == "[pydl.float32]" and pydl.zeros(1).dtype == pydl.float


# ---- module paths ------------------------------------------------------------------------

@pytest.mark.parametrize("path,names", [
    ("linear", ["Linear", "Identity"]), ("conv", ["Conv1d", "Conv2d"]), ("dropout", ["Dropout", "Dropout2d"]),
    ("sparse", ["Embedding"]), ("rnn", ["LSTM", "GRU", "RNN", "RNNBase", "LSTMCell"]), ("loss", ["CrossEntropyLoss", "_Loss"]),
    ("activation", ["ReLU", "Softmax"]), ("batchnorm", ["BatchNorm1d", "BatchNorm2d", "_BatchNorm"]),
    ("pooling", ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]), ("container", ["Sequential", "ModuleList"]),
    ("module", ["Module"]), ("flatten", ["Flatten", "Unflatten"]), ("normalization", ["LayerNorm"]),
])
def test_module_paths_as_pytorch_lays_them_out(path, names):
    torch = pytest.importorskip("torch")
    mod = importlib.import_module(f"pydl.nn.modules.{path}")
    tmod = importlib.import_module(f"torch.nn.modules.{path}")
    for n in names:
        assert hasattr(tmod, n), n
        cls = getattr(mod, n)
        if not n.startswith("_"):
            assert cls is getattr(nn, n)
    assert isinstance(nn.BatchNorm2d(3), importlib.import_module("pydl.nn.modules.batchnorm")._BatchNorm)


# ---- tensor ops against PyTorch ------------------------------------------------------------

def test_narrow():
    torch = pytest.importorskip("torch")
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    for dim, start, length in [(0, 0, 2), (1, 2, 3), (1, -3, 2), (-1, 0, 6), (0, 4, 0)]:
        got = pydl.tensor(a).narrow(dim, start, length)
        want = torch.tensor(a).narrow(dim, start, length)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        np.testing.assert_array_equal(pydl.narrow(pydl.tensor(a), dim, start, length).numpy(), want.numpy())
    x = pydl.tensor(a, requires_grad=True)
    x.narrow(1, 1, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.pad(np.ones((4, 2)), ((0, 0), (1, 3))))
    data = pydl.arange(103)
    assert data.narrow(0, 0, 100 // 20 * 20).shape == (100,)  # word_language_model's batchify
    for args in [(1, 5, 2), (2, 0, 1), (1, 7, 0), (0, 0, -1)]:
        with pytest.raises(IndexError, match=r"\[narrow\]"):
            pydl.tensor(a).narrow(*args)


@pytest.mark.parametrize("fn", ["tril", "triu"])
@pytest.mark.parametrize("k", [0, 1, -1, 3, -5])
def test_tril_triu(fn, k):
    check(lambda x: getattr(x, fn)(k), lambda a: getattr(np, fn)(a, k), [(4, 5)])
    torch = pytest.importorskip("torch")
    check(lambda x: getattr(pydl, fn)(x, diagonal=k), lambda a: getattr(np, fn)(a, k), [(2, 3, 3)],
          torch_fn=lambda x: getattr(torch, fn)(x, diagonal=k))


def test_tril_triu_more():
    torch = pytest.importorskip("torch")
    m = (pydl.triu(pydl.ones(4, 4)) == 1).transpose(0, 1)  # nn.Transformer's square subsequent mask
    tm = (torch.triu(torch.ones(4, 4)) == 1).transpose(0, 1)
    np.testing.assert_array_equal(m.numpy(), tm.numpy())
    np.testing.assert_array_equal(pydl.arange(9).reshape(3, 3).tril(-1).numpy(), np.tril(np.arange(9).reshape(3, 3), -1))
    x = pydl.ones(3, 3)
    x.tril_()
    np.testing.assert_array_equal(x.numpy(), np.tril(np.ones((3, 3))))
    with pytest.raises(ValueError, match=r"\[tril\] input tensor must have at least 2"):
        pydl.tril(pydl.ones(3))


@pytest.mark.parametrize("p", [2, 1, 3, 0.5, math.inf, -math.inf, 0])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_vector_norm_matches_torch(p, dim, keepdim):
    torch = pytest.importorskip("torch")
    grad = p not in (0,) and not (math.isinf(p))
    check(lambda x: pydl.linalg.vector_norm(x, p, dim, keepdim),
          lambda a: np.asarray(torch.linalg.vector_norm(torch.tensor(a), p, dim, keepdim).numpy()),
          [(3, 4, 2)], grad=grad, torch_fn=lambda x: torch.linalg.vector_norm(x, p, dim, keepdim), low=0.2, high=2.0)


def test_norm_forms_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x, t = pydl.tensor(a), torch.tensor(a)
    cases = [
        (pydl.norm(x), torch.norm(t)), (x.norm(), t.norm()), (x.norm(1), t.norm(1)), (x.norm(dim=1), t.norm(dim=1)),
        (pydl.norm(x, p="fro", dim=(0, 1)), torch.norm(t, p="fro", dim=(0, 1))), (x.norm(p=3, dim=0, keepdim=True),
                                                                                  t.norm(p=3, dim=0, keepdim=True)),
        (pydl.linalg.norm(x), torch.linalg.norm(t)), (pydl.linalg.norm(x, dim=1), torch.linalg.norm(t, dim=1)),
        (pydl.linalg.norm(x, "fro"), torch.linalg.norm(t, "fro")),
        (pydl.linalg.norm(x, 1), torch.linalg.norm(t, 1)), (pydl.linalg.norm(x, -1), torch.linalg.norm(t, -1)),
        (pydl.linalg.norm(x, math.inf), torch.linalg.norm(t, math.inf)),
        (pydl.linalg.norm(x, -math.inf, keepdim=True), torch.linalg.norm(t, -math.inf, keepdim=True)),
        (pydl.linalg.norm(x[0], 3), torch.linalg.norm(t[0], 3)),
        (pydl.linalg.matrix_norm(x.reshape(1, 3, 4), 1), torch.linalg.matrix_norm(t.reshape(1, 3, 4), 1)),
        (pydl.linalg.norm(x, dtype=pydl.float64), torch.linalg.norm(t, dtype=torch.float64)),
    ]
    for got, want in cases:
        assert tuple(got.shape) == tuple(want.shape)
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    # the gradient of a norm is 0 (not NaN) at the zero vector, as torch's
    z = pydl.zeros(3, requires_grad=True)
    z.norm().backward()
    np.testing.assert_array_equal(z.grad.numpy(), np.zeros(3))
    with pytest.raises(NotImplementedError, match="nuc"):
        pydl.norm(x, p="nuc")
    with pytest.raises(NotImplementedError, match=r"\[matrix_norm\] ord=2"):
        pydl.linalg.norm(x, 2)
    with pytest.raises(TypeError, match=r"\[vector_norm\] expected a floating"):
        pydl.arange(3).norm()
    with pytest.raises(ValueError, match=r"\[vector_norm\] .*narrowing"):
        pydl.linalg.vector_norm(x.double(), dtype=pydl.float32)
    with pytest.raises(ValueError, match=r"\[linalg.norm\]"):
        pydl.linalg.norm(pydl.zeros(2, 2, 2), 1)


def test_range_indexing_get_and_set():
    torch = pytest.importorskip("torch")
    a = np.arange(20, dtype=np.float32).reshape(5, 4)
    x, t = pydl.tensor(a), torch.tensor(a)
    y = [3, 0, 1, 2, 3]
    np.testing.assert_array_equal(x[range(5), y].numpy(), t[range(5), y].numpy())
    np.testing.assert_array_equal(x[range(1, 5, 2)].numpy(), t[range(1, 5, 2)].numpy())
    x[range(5), pydl.tensor(y)] = -1.0
    t[range(5), torch.tensor(y)] = -1.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    assert x[range(0)].shape == (0, 4)
    w = pydl.zeros(3, 3, requires_grad=True)
    (w * 1)[range(3), range(3)].sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.eye(3))


# ---- nn odds and ends ----------------------------------------------------------------------

@pytest.mark.parametrize("cls,shape", [(nn.Dropout1d, (8, 16, 5)), (nn.Dropout1d, (16, 5)), (nn.Dropout2d, (8, 16, 3, 3)),
                                       (nn.Dropout2d, (8, 16, 5)), (nn.Dropout3d, (4, 16, 2, 2, 2)),
                                       (nn.Dropout3d, (16, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(cls, shape):
    pydl.manual_seed(0)
    m = cls(p=0.5)
    x = pydl.ones(*shape, requires_grad=True)
    y = m(x)
    n_lead = len(shape) - {nn.Dropout1d: 1, nn.Dropout2d: 2 if len(shape) == 4 else 1, nn.Dropout3d: 3}[cls]
    yv = y.detach().numpy().reshape(int(np.prod(shape[:n_lead])), -1)
    per_channel = yv[:, 0]
    assert set(np.unique(yv)) <= {0.0, 2.0}
    np.testing.assert_array_equal(yv, np.repeat(per_channel[:, None], yv.shape[1], axis=1))  # whole channels
    assert 0 < (per_channel == 0).sum() < per_channel.size
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    m.eval()
    assert m(x) is x
    assert repr(m) == f"{cls.__name__}(p=0.5, inplace=False)"


def test_channel_dropout_functional_and_errors():
    torch = pytest.importorskip("torch")
    x = pydl.ones(2, 3, 4, 4)
    assert F.dropout2d(x, 0.3, training=False) is x
    assert (F.dropout2d(x, 1.0).numpy() == 0).all() and (torch.nn.functional.dropout2d(torch.ones(2, 3, 4, 4), 1.0) == 0).all()
    np.testing.assert_array_equal(F.dropout1d(pydl.ones(2, 3, 4), 0.0).numpy(), np.ones((2, 3, 4)))
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):  # mnist_rnn's (N, C): entries are channels
        y = F.dropout2d(pydl.ones(64, 32), 0.5)
    assert set(np.unique(y.numpy())) == {0.0, 2.0} and not (y.numpy() == y.numpy()[:, :1]).all()
    with pytest.raises(ValueError, match=r"\[dropout3d\] expected a 4-D"):
        F.dropout3d(pydl.ones(2, 3), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


def test_rnn_flatten_parameters_is_a_no_op():
    pydl.manual_seed(0)
    for cls in (nn.LSTM, nn.GRU, nn.RNN):
        m = cls(3, 4, 2)
        x = pydl.randn(5, 2, 3)
        before = m(x)[0].detach().numpy()
        assert m.flatten_parameters() is None
        np.testing.assert_array_equal(m(x)[0].detach().numpy(), before)


# ---- what the tensors / autograd / transforms tutorials touch ----------------------------

def test_out_argument_legacy_types_and_scalar_scatter_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    x, t = pydl.tensor(a), torch.tensor(a)
    for fn in ("matmul", "mul", "add", "sub", "div"):
        out, tout = pydl.zeros(4, 4), torch.zeros(4, 4)
        r = getattr(pydl, fn)(x, x.T, out=out)
        getattr(torch, fn)(t, t.T, out=tout)
        assert r is out
        np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[matmul\] out= has shape \(2,\)"):
        pydl.matmul(x, x, out=pydl.zeros(2))
    # transforms tutorial: one-hot target via scatter_ with a 0-d index
    y = pydl.zeros(10, dtype=pydl.float).scatter_(0, pydl.tensor(3), value=1)
    np.testing.assert_array_equal(y.numpy(), torch.zeros(10).scatter_(0, torch.tensor(3), value=1).numpy())
    # legacy constructors and type names
    assert pydl.LongTensor([1, 2]).dtype == pydl.int64 and pydl.FloatTensor(2, 3).shape == (2, 3)
    assert isinstance(pydl.zeros(2), pydl.FloatTensor) and not isinstance(pydl.zeros(2), pydl.LongTensor)
    assert pydl.zeros(2).type() == torch.zeros(2).type().replace("torch", "pydl") == "pydl.FloatTensor"
    assert pydl.arange(3).type(pydl.FloatTensor).dtype == pydl.float32 and pydl.arange(3).type(pydl.float64).dtype == pydl.float64
    assert ["a", "b", "c"][pydl.tensor(1)] == "b"
    np.testing.assert_array_equal(pydl.div(x * 3, x.T, rounding_mode="floor").numpy(),
                                  torch.div(t * 3, t.T, rounding_mode="floor").numpy())
