"""pydl.nn.functional against PyTorch (values and gradients), gradcheck, and bad input."""
import numpy as np
import pytest

import pydl
import pydl.nn.functional as F
from pydl.autograd import gradcheck
from helpers import check_torch as check, pydl_leaf as _pd, torch_leaf as _th

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(0)


def r(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


# ---- linear and activations --------------------------------------------------------------------

@pytest.mark.parametrize("xs", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(xs, bias):
    arrays = [r(*xs), r(6, 4)] + ([r(6)] if bias else [])
    check(F.linear, TF.linear, *arrays)


def test_linear_noncontig_and_float32():
    check(F.linear, TF.linear, r(5, 4, dtype=np.float32), r(4, 4, dtype=np.float32), r(4, dtype=np.float32),
          noncontig=True, atol=1e-5)


@pytest.mark.parametrize("name,kw", [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("sigmoid", {}), ("tanh", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}),
])
def test_activations(name, kw):
    check(getattr(F, name), getattr(TF, name) if hasattr(TF, name) else getattr(torch, name), r(4, 5) * 3, **kw)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax(name, dim):
    check(getattr(F, name), getattr(TF, name), r(3, 4, 5), dim=dim)
    check(getattr(F, name), getattr(TF, name), r(3, 4, 5), dim=dim, noncontig=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_extreme_logits(name):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    out = getattr(F, name)(pydl.tensor(x), dim=1).numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, getattr(TF, name)(torch.tensor(x), dim=1).numpy(), atol=1e-6)


def test_dropout_statistics_and_eval():
    pydl.manual_seed(3)
    x = pydl.ones(200, 500)
    y = F.dropout(x, p=0.3).numpy()
    kept = (y != 0).mean()
    assert abs(kept - 0.7) < 4 * np.sqrt(0.7 * 0.3 / y.size)
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    pydl.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, p=0.3).numpy(), y)  # reproducible
    assert F.dropout(x, p=0.3, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, p=1.0).numpy(), 0)
    xg = pydl.ones(50, 40, requires_grad=True)
    out = F.dropout(xg, p=0.5)
    out.sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), out.detach().numpy())
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"\[dropout\]"):
            F.dropout(x, p=p)


# ---- losses -------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 5), (4, 5, 3), (3, 4, 2, 2), (5,)])
@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.15},
                                {"weight": True}, {"weight": True, "label_smoothing": 0.2, "reduction": "mean"},
                                {"ignore_index": 1}, {"ignore_index": 2, "weight": True, "reduction": "sum"}])
def test_cross_entropy(shape, kw):
    C = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = RNG.integers(0, C, tshape).astype(np.int64)
    kw = dict(kw)
    if kw.pop("weight", False):
        w = RNG.random(C) + 0.1
        check(lambda x, t, w: F.cross_entropy(x, t, weight=w, **kw), lambda x, t, w: TF.cross_entropy(x, t, weight=w, **kw),
              r(*shape), t, w.astype(np.float64), const=(2,))
    else:
        check(F.cross_entropy, TF.cross_entropy, r(*shape), t, **kw)


def test_cross_entropy_float32_large_logits():
    x = (r(8, 10) * 1e4).astype(np.float32)
    t = RNG.integers(0, 10, 8)
    check(F.cross_entropy, TF.cross_entropy, x, t, rtol=1e-5, atol=1e-2)


@pytest.mark.parametrize("kw", [{}, {"reduction": "none"}, {"ignore_index": 0}, {"reduction": "sum"}])
def test_nll_loss(kw):
    t = RNG.integers(0, 4, (5, 3))
    check(F.nll_loss, TF.nll_loss, r(5, 4, 3), t, **kw)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pointwise_losses(name, reduction):
    check(getattr(F, name), getattr(TF, name), r(4, 5), r(4, 5), reduction=reduction)


def test_smooth_l1_beta_and_broadcast():
    check(F.smooth_l1_loss, TF.smooth_l1_loss, r(4, 5), r(4, 5), beta=0.5)
    check(F.smooth_l1_loss, TF.smooth_l1_loss, r(4, 5), r(4, 5), beta=0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(reduction):
    x = RNG.random((4, 5)) * 0.98 + 0.01
    y = RNG.random((4, 5))
    check(F.binary_cross_entropy, TF.binary_cross_entropy, x, y, reduction=reduction)
    w = RNG.random((4, 5))
    check(lambda a, b, w: F.binary_cross_entropy(a, b, weight=w), lambda a, b, w: TF.binary_cross_entropy(a, b, weight=w),
          x, y, w, const=(2,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(reduction):
    x, y = r(4, 5) * 5, RNG.random((4, 5))
    check(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, x, y, reduction=reduction)
    pw, w = RNG.random(5) + 0.5, RNG.random((4, 5))
    check(lambda a, b, w, pw: F.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw, reduction=reduction),
          lambda a, b, w, pw: TF.binary_cross_entropy_with_logits(a, b, weight=w, pos_weight=pw, reduction=reduction),
          x, y, w, pw, const=(2, 3))


# ---- convolution and pooling --------------------------------------------------------------------

CONV_CASES = [
    ((2, 3, 7, 8), (4, 3, 3, 3), {}),
    ((2, 3, 7, 8), (4, 3, 3, 3), {"padding": 1}),
    ((2, 4, 9, 8), (6, 2, 3, 2), {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}),
    ((3, 4, 9, 9), (4, 1, 3, 3), {"padding": "same", "groups": 4, "dilation": 2}),
    ((2, 4, 6, 6), (5, 4, 1, 1), {}),
    ((2, 4, 6, 6), (5, 4, 2, 2), {"padding": "same"}),
    ((2, 4, 6, 6), (5, 4, 3, 3), {"padding": "valid", "stride": 2}),
    ((1, 2, 5, 5), (3, 2, 3, 3), {"stride": 3, "padding": 2}),
    ((4, 3, 5, 5), (6, 3, 5, 5), {}),
]


@pytest.mark.parametrize("xs,ws,kw", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(xs, ws, kw, bias):
    arrays = [r(*xs), r(*ws)] + ([r(ws[0])] if bias else [])
    check(F.conv2d, TF.conv2d, *arrays, atol=1e-9, **kw)


def test_conv2d_float32_noncontig_and_unbatched():
    check(F.conv2d, TF.conv2d, r(2, 3, 6, 7, dtype=np.float32), r(4, 3, 3, 3, dtype=np.float32), noncontig=True, atol=1e-4,
          padding=1)
    check(F.conv2d, TF.conv2d, r(3, 6, 7), r(4, 3, 3, 3), padding=1)


@pytest.mark.parametrize("xs,ws,kw", [
    ((2, 3, 5, 4), (3, 4, 3, 3), {}),
    ((2, 4, 5, 4), (4, 3, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ((1, 2, 4, 4), (2, 3, 2, 3), {"stride": (2, 1), "dilation": (1, 2), "padding": (0, 1)}),
])
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d(xs, ws, kw, bias):
    out_c = ws[1] * kw.get("groups", 1)
    check(F.conv_transpose2d, TF.conv_transpose2d, r(*xs), r(*ws), *([r(out_c)] if bias else []), atol=1e-9, **kw)


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"padding": "same", "dilation": 2}, {"groups": 2}])
def test_conv1d(kw):
    check(F.conv1d, TF.conv1d, r(2, 4, 11), r(6, 4 // kw.get("groups", 1), 3), r(6), **kw)


@pytest.mark.parametrize("kw", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": (3, 2), "stride": (1, 2), "dilation": (2, 1)},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True}, {"kernel_size": 2, "stride": 1},
])
def test_max_pool2d(kw):
    x = r(2, 3, 9, 8)
    check(F.max_pool2d, TF.max_pool2d, x, **kw)
    pi = F.max_pool2d(pydl.tensor(x), return_indices=True, **kw)[1].numpy()
    ti = TF.max_pool2d(torch.tensor(x), return_indices=True, **kw)[1].numpy()
    np.testing.assert_array_equal(pi, ti)


def test_max_pool1d():
    check(F.max_pool1d, TF.max_pool1d, r(2, 3, 9), kernel_size=3, stride=2)


@pytest.mark.parametrize("kw", [
    {"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}, {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True}, {"kernel_size": 3, "stride": 2, "ceil_mode": True, "padding": 1, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
])
def test_avg_pool2d(kw):
    check(F.avg_pool2d, TF.avg_pool2d, r(2, 3, 9, 8), **kw)


@pytest.mark.parametrize("os", [1, (3, 2), (4, 5), (9, 8), (None, 3)])
def test_adaptive_avg_pool2d(os):
    check(F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, r(2, 3, 9, 8), output_size=os)


# ---- normalisation, embedding, pad ----------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 5, 2)])
def test_batch_norm_training_running_stats(shape):
    C = shape[1]
    w, b = RNG.random(C) + 0.5, r(C)
    prm, prv = pydl.zeros(C, dtype=pydl.float64), pydl.ones(C, dtype=pydl.float64)
    trm, trv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    for _ in range(3):
        x = r(*shape) * 2 + 1
        check(lambda x, w, b: F.batch_norm(x, prm, prv, w, b, training=True, momentum=0.2),
              lambda x, w, b: TF.batch_norm(x, trm, trv, w, b, training=True, momentum=0.2), x, w, b)
    np.testing.assert_allclose(prm.numpy(), trm.numpy() * 1, rtol=1e-10)
    np.testing.assert_allclose(prv.numpy(), trv.numpy(), rtol=1e-10)
    # eval uses the running statistics
    check(lambda x, w, b: F.batch_norm(x, prm, prv, w, b, training=False),
          lambda x, w, b: TF.batch_norm(x, trm, trv, w, b, training=False), r(*shape), w, b)


def test_batch_norm_no_affine_no_running():
    check(lambda x: F.batch_norm(x, None, None, training=True), lambda x: TF.batch_norm(x, None, None, training=True),
          r(6, 4, 3))


@pytest.mark.parametrize("xs,ns", [((4, 6), (6,)), ((2, 3, 4, 5), (4, 5)), ((3, 7), 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(xs, ns, affine):
    nshape = (ns,) if isinstance(ns, int) else ns
    if affine:
        check(lambda x, w, b: F.layer_norm(x, ns, w, b), lambda x, w, b: TF.layer_norm(x, nshape, w, b),
              r(*xs), r(*nshape), r(*nshape))
    else:
        check(lambda x: F.layer_norm(x, ns), lambda x: TF.layer_norm(x, nshape), r(*xs))


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding(padding_idx):
    idx = RNG.integers(0, 7, (3, 4))
    idx[0, 0] = 2
    idx[1, 1] = 6
    check(lambda i, w: F.embedding(i, w, padding_idx=padding_idx),
          lambda i, w: TF.embedding(i, w, padding_idx=padding_idx), idx, r(7, 5))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("p", [(1, 2), (2, 1, 0, 2), (1, 1, 2, 0, 1, 1)])
def test_pad(mode, p):
    x = r(2, 3, 4, 5) if mode == "constant" else r(*(2, 3, 4, 5, 6)[:len(p) // 2 + 2])
    kw = {"value": 1.5} if mode == "constant" else {}
    check(F.pad, TF.pad, x, pad=p, mode=mode, **kw)


def test_pad_negative_constant():
    check(F.pad, TF.pad, r(2, 5, 6), pad=(-1, 2, 0, -2))


def test_one_hot():
    idx = RNG.integers(0, 5, (3, 4))
    np.testing.assert_array_equal(F.one_hot(pydl.tensor(idx)).numpy(), TF.one_hot(torch.tensor(idx)).numpy())
    np.testing.assert_array_equal(F.one_hot(pydl.tensor(idx), 7).numpy(), TF.one_hot(torch.tensor(idx), 7).numpy())


# ---- gradcheck (float64 finite differences; no torch needed) ---------------------------------------

def _g(*shape, grad=True):
    return pydl.tensor(RNG.standard_normal(shape), requires_grad=grad)


# (gradcheck seeds 0-d outputs with a (1,) tensor, so scalar losses are reshaped to (1,).)
GRADCHECKS = [
    ("linear", lambda x, w, b: F.linear(x, w, b), lambda: (_g(3, 4), _g(2, 4), _g(2))),
    ("gelu", lambda x: F.gelu(x), lambda: (_g(5),)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda: (_g(5),)),
    ("silu_elu_softplus", lambda x: F.silu(x) + F.elu(x) + F.softplus(x, 2.0) + F.leaky_relu(x, 0.1), lambda: (_g(6),)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=1), lambda: (_g(2, 3, 2),)),
    ("softmax", lambda x: F.softmax(x, dim=0), lambda: (_g(3, 2),)),
    ("cross_entropy", lambda x: F.cross_entropy(x, pydl.tensor(np.array([0, 2, 1])), label_smoothing=0.1).reshape(1), lambda: (_g(3, 4),)),
    ("nll_loss", lambda x: F.nll_loss(x, pydl.tensor(np.array([0, 2, 1]))).reshape(1), lambda: (_g(3, 4),)),
    ("mse_l1_smooth", lambda x, y: (F.mse_loss(x, y) + F.smooth_l1_loss(x, y, beta=0.5)).reshape(1), lambda: (_g(3, 2), _g(3, 2))),
    ("bce_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y).reshape(1), lambda: (_g(4), pydl.tensor(RNG.random(4), requires_grad=True))),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2)), lambda: (_g(2, 2, 5, 5), _g(3, 2, 2, 2), _g(3))),
    ("conv2d_groups", lambda x, w: F.conv2d(x, w, groups=2, padding="same"), lambda: (_g(1, 4, 4, 4), _g(2, 2, 3, 3))),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2, 1), lambda: (_g(1, 2, 4, 4),)),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), lambda: (_g(1, 2, 5, 5),)),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), lambda: (_g(1, 2, 5, 4),)),
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), lambda: (_g(4, 2, 3), _g(2), _g(2))),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3,), w, b), lambda: (_g(2, 3), _g(3), _g(3))),
    ("embedding", lambda w: F.embedding(pydl.tensor(np.array([[0, 2], [2, 1]])), w), lambda: (_g(3, 2),)),
    ("pad_reflect", lambda x: F.pad(x, (2, 1, 1, 0), mode="reflect"), lambda: (_g(1, 3, 4),)),
]


@pytest.mark.parametrize("name,fn,make", GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_gradcheck(name, fn, make):
    assert gradcheck(fn, make())


# ---- bad input: clear errors, never a crash ---------------------------------------------------------

def test_errors():
    x = pydl.randn(2, 3, 5, 5)
    with pytest.raises(ValueError, match=r"\[conv2d\].*channels"):
        F.conv2d(x, pydl.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"\[conv2d\].*kernel size"):
        F.conv2d(x, pydl.randn(4, 3, 7, 7))
    with pytest.raises(ValueError, match=r"\[conv2d\].*stride"):
        F.conv2d(x, pydl.randn(4, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"\[conv2d\].*negative padding"):
        F.conv2d(x, pydl.randn(4, 3, 3, 3), padding=-1)
    with pytest.raises(ValueError, match=r"\[conv2d\].*bias"):
        F.conv2d(x, pydl.randn(4, 3, 3, 3), pydl.randn(3))
    with pytest.raises(ValueError, match=r"strided"):
        F.conv2d(x, pydl.randn(4, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"\[max_pool2d\]"):
        F.max_pool2d(x, 7)
    with pytest.raises(ValueError, match=r"\[max_pool2d\].*stride"):
        F.max_pool2d(x, 2, 0)
    with pytest.raises(ValueError, match=r"\[avg_pool2d\].*padding"):
        F.avg_pool2d(x, 2, padding=-1)
    logits = pydl.randn(4, 3)
    with pytest.raises(IndexError, match=r"\[cross_entropy\].*out of bounds"):
        F.cross_entropy(logits, pydl.tensor(np.array([0, 1, 3, 0])))
    with pytest.raises(IndexError, match=r"\[cross_entropy\]"):
        F.cross_entropy(logits, pydl.tensor(np.array([0, 1, -2, 0])))
    with pytest.raises(TypeError, match=r"\[cross_entropy\].*int64"):
        F.cross_entropy(logits, pydl.tensor(np.array([0.0, 1.0, 2.0, 0.0], dtype=np.float32)))
    with pytest.raises(ValueError, match=r"\[cross_entropy\].*weight"):
        F.cross_entropy(logits, pydl.tensor(np.array([0, 1, 2, 0])), weight=pydl.ones(4))
    with pytest.raises(ValueError, match=r"\[cross_entropy\].*target of shape"):
        F.cross_entropy(logits, pydl.tensor(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match=r"\[cross_entropy\].*reduction"):
        F.cross_entropy(logits, pydl.tensor(np.array([0, 1, 2, 0])), reduction="avg")
    with pytest.raises(ValueError, match=r"\[nll_loss\].*weight"):
        F.nll_loss(logits, pydl.tensor(np.array([0, 1, 2, 0])), weight=pydl.ones(2))
    with pytest.raises(ValueError, match=r"\[batch_norm\]"):
        F.batch_norm(x, pydl.zeros(2), pydl.ones(2), training=True)
    with pytest.raises(ValueError, match=r"\[batch_norm\].*more than 1 value"):
        F.batch_norm(pydl.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"\[layer_norm\]"):
        F.layer_norm(x, (4,))
    with pytest.raises(IndexError, match=r"\[embedding\]"):
        F.embedding(pydl.tensor(np.array([0, 5])), pydl.randn(5, 2))
    with pytest.raises(ValueError, match=r"\[pad\].*reflect"):
        F.pad(x, (5, 5), mode="reflect")
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy\].*between 0 and 1"):
        F.binary_cross_entropy(pydl.tensor(np.array([1.5])), pydl.tensor(np.array([1.0])))
    with pytest.raises(ValueError, match=r"\[linear\]"):
        F.linear(pydl.randn(2, 3), pydl.randn(4, 5))


# ---- non-contiguous inputs and float32 on larger shapes -----------------------------------------------

@pytest.mark.parametrize("name,fn,tfn,arrays", [
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), lambda: [r(2, 3, 6, 8)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 1, 1), lambda x: TF.avg_pool2d(x, 3, 1, 1), lambda: [r(2, 3, 6, 8)]),
    ("cross_entropy", lambda x: F.cross_entropy(x, pydl.tensor(np.array([0, 3, 2, 1]))),
     lambda x: TF.cross_entropy(x, torch.tensor([0, 3, 2, 1])), lambda: [r(5, 4).T.copy().T.copy()[:4]]),
    ("log_softmax", lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1), lambda: [r(4, 6)]),
    ("layer_norm", lambda x: F.layer_norm(x, (5,)), lambda x: TF.layer_norm(x, (5,)), lambda: [r(3, 4, 5)]),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), lambda x: TF.batch_norm(x, None, None, training=True),
     lambda: [r(4, 3, 5, 5)]),
    ("gelu", lambda x: F.gelu(x), lambda x: TF.gelu(x), lambda: [r(4, 5)]),
    ("mse_loss", lambda x, y: F.mse_loss(x, y), lambda x, y: TF.mse_loss(x, y), lambda: [r(4, 5), r(4, 5)]),
])
def test_noncontiguous(name, fn, tfn, arrays):
    check(fn, tfn, *arrays(), noncontig=True)


def test_conv2d_float32_threaded_batch():
    # enough samples for the per-thread path, groups and bias, against torch in float32
    check(F.conv2d, TF.conv2d, r(8, 16, 12, 12, dtype=np.float32), r(32, 8, 3, 3, dtype=np.float32) * 0.1,
          r(32, dtype=np.float32), atol=1e-4, rtol=1e-4, padding=1, groups=2)
    check(F.conv2d, TF.conv2d, r(8, 16, 12, 12, dtype=np.float32), r(8, 16, 1, 1, dtype=np.float32), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name,kw", [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
                                     ("silu", {})])
def test_activation_inplace(name, kw):
    """inplace=True writes into the input (same tensor back, version counter moved) and
    gradients flow through it as in torch."""
    a = r(4, 5) * 3
    x = _pd(a, True)
    tx = _th(a, True)
    y, ty = x * 1.0, tx * 1.0
    v0 = y._version
    out = getattr(F, name)(y, inplace=True, **kw)
    tout = getattr(TF, name)(ty, inplace=True, **kw)
    assert out is y and y._version > v0
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = r(4, 5)
    out.backward(pydl.from_numpy(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, name)(_pd(a, True), inplace=True, **kw)


def test_relu_inplace_no_grad_and_dropout_inplace():
    a = r(3, 4)
    x = pydl.tensor(a)
    v0 = x._version
    assert F.relu_(x) is x and x._version > v0
    np.testing.assert_array_equal(x.numpy(), np.maximum(a, 0))
    y = pydl.tensor(np.ones((100, 100)))
    assert F.dropout(y, 0.5, inplace=True) is y
    vals = np.unique(y.numpy())
    assert set(vals.tolist()) <= {0.0, 2.0} and len(vals) == 2
