"""Issue 13 part B: the everyday torch.* functions and Tensor methods against torch (float64 values,
non-contiguous views, gradcheck, torch's gradients), the in-place forms and their version counters."""
import numpy as np
import pytest

import pydl
from helpers import check_vs_torch

torch = pytest.importorskip("torch")


def P(name):
    return getattr(pydl, name)


def T(name):
    return getattr(torch, name)


# unary math: (name, low, high)
UNARY = [
    ("tan", -1.2, 1.2), ("asin", -0.9, 0.9), ("acos", -0.9, 0.9), ("atan", -3, 3), ("sinh", -2, 2), ("cosh", -2, 2),
    ("asinh", -3, 3), ("acosh", 1.1, 3), ("atanh", -0.9, 0.9), ("log2", 0.2, 3), ("log10", 0.2, 3), ("exp2", -2, 2),
    ("erfc", -2, 2), ("erfinv", -0.9, 0.9), ("lgamma", 0.2, 4), ("digamma", 0.3, 4), ("arcsin", -0.9, 0.9),
    ("arccos", -0.9, 0.9), ("arctan", -2, 2), ("arcsinh", -2, 2), ("arccosh", 1.2, 3), ("arctanh", -0.9, 0.9),
    ("absolute", -2, 2), ("negative", -2, 2), ("sinc", -2, 2), ("logit", 0.1, 0.9), ("deg2rad", -90, 90),
    ("rad2deg", -2, 2), ("frac", -3, 3), ("i0", -3, 3), ("trunc", -3, 3), ("fix", -3, 3),
]


@pytest.mark.parametrize("name,lo,hi", UNARY, ids=[u[0] for u in UNARY])
def test_unary_vs_torch(name, lo, hi):
    check_vs_torch(P(name), T(name), [(3, 5)], low=lo, high=hi)


def test_unary_methods_and_inplace():
    x = np.random.default_rng(0).uniform(0.2, 0.8, (3, 4))
    for name in ("tan", "asin", "log2", "erfinv", "sinh", "frac", "logit", "digamma", "exp2", "trunc", "sinc"):
        np.testing.assert_allclose(getattr(pydl.tensor(x), name)().numpy(), getattr(torch.tensor(x), name)().numpy(),
                                   rtol=1e-12, err_msg=name)
        a, b = pydl.tensor(x), torch.tensor(x)
        assert getattr(a, name + "_")() is a
        getattr(b, name + "_")()
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, err_msg=name + "_")


def test_inplace_autograd_and_versions():
    leaf = pydl.tensor([0.3, 0.5, 0.9], requires_grad=True)
    tleaf = torch.tensor([0.3, 0.5, 0.9], requires_grad=True)
    y, ty = leaf * 2, tleaf * 2
    y.sin_().mul_(3).exp2_()
    ty.sin_().mul_(3).exp2_()
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), tleaf.grad.numpy(), rtol=1e-6)
    # a tensor saved for backward and then changed in place: the error, not a wrong gradient
    a = pydl.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = b.sinh()
    b.tan_()
    with pytest.raises(RuntimeError):
        c.sum().backward()
    with pytest.raises(RuntimeError, match="leaf"):
        pydl.tensor([1.0], requires_grad=True).cosh_()
    v = pydl.ones(3)
    v0 = v._version
    v.lerp_(pydl.zeros(3), 0.5).clamp_min_(0.6)
    assert v._version >= v0 + 2 and np.allclose(v.numpy(), 0.6)


BINARY = [
    ("fmod", lambda a, b: P("fmod")(a * 3, b + 2.5), lambda a, b: T("fmod")(a * 3, b + 2.5)),
    ("copysign", P("copysign"), T("copysign")),
    ("hypot", P("hypot"), T("hypot")),
    ("logaddexp", P("logaddexp"), T("logaddexp")),
    ("logaddexp2", P("logaddexp2"), T("logaddexp2")),
    ("xlogy", lambda a, b: P("xlogy")(a, b + 2.1), lambda a, b: T("xlogy")(a, b + 2.1)),
    ("float_power", lambda a, b: P("float_power")(a + 2.1, b), lambda a, b: T("float_power")(a + 2.1, b)),
    ("fmax", P("fmax"), T("fmax")), ("fmin", P("fmin"), T("fmin")),
    ("ldexp", P("ldexp"), T("ldexp")),
    ("lerp", lambda a, b: P("lerp")(a, b, 0.3), lambda a, b: T("lerp")(a, b, 0.3)),
    ("lerp_tensor_weight", lambda a, b: P("lerp")(a, b, b * 0.5), lambda a, b: T("lerp")(a, b, b * 0.5)),
    ("addcmul", lambda a, b: P("addcmul")(a, b, a, value=0.5), lambda a, b: T("addcmul")(a, b, a, value=0.5)),
    ("addcdiv", lambda a, b: P("addcdiv")(a, b, b * b + 1, value=2), lambda a, b: T("addcdiv")(a, b, b * b + 1, value=2)),
    ("subtract", lambda a, b: P("subtract")(a, b, alpha=2), lambda a, b: T("subtract")(a, b, alpha=2)),
    ("rsub", lambda a, b: P("rsub")(a, b, alpha=2), lambda a, b: T("rsub")(a, b, alpha=2)),
    ("divide_trunc", lambda a, b: P("divide")(a, b + 3, rounding_mode="trunc") + a,
     lambda a, b: T("divide")(a, b + 3, rounding_mode="trunc") + a),
    ("multiply", P("multiply"), T("multiply")), ("true_divide", lambda a, b: P("true_divide")(a, b + 3),
                                                 lambda a, b: T("true_divide")(a, b + 3)),
    ("kron", P("kron"), T("kron")),
    ("inner", P("inner"), T("inner")),
    ("outer_ger", lambda a, b: P("ger")(a[0], b[1]), lambda a, b: T("ger")(a[0], b[1])),
    ("tensordot", lambda a, b: P("tensordot")(a, b, dims=([1], [1])), lambda a, b: T("tensordot")(a, b, dims=([1], [1]))),
    ("heaviside", lambda a, b: P("heaviside")(a, b) * a,
     lambda a, b: torch.where(a == 0, b, (a > 0).double()) * a),
    ("dist", lambda a, b: P("dist")(a, b, 3), lambda a, b: T("dist")(a, b, 3)),
]


@pytest.mark.parametrize("name,fn,tfn", BINARY, ids=[b[0] for b in BINARY])
def test_binary_vs_torch(name, fn, tfn):
    check_vs_torch(fn, tfn, [(3, 4), (3, 4)])


def test_integer_and_bool_ops():
    a = np.array([[12, -7, 5, 0], [9, 3, -15, 8]])
    b = np.array([[8, 3, -10, 4], [6, 3, 5, 1]])
    pa, pb, ta, tb = pydl.tensor(a), pydl.tensor(b), torch.tensor(a), torch.tensor(b)
    for name in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "fmod", "floor_divide", "remainder"):
        np.testing.assert_array_equal(P(name)(pa, pb).numpy(), T(name)(ta, tb).numpy(), err_msg=name)
        np.testing.assert_array_equal(getattr(pa, name)(pb).numpy(), getattr(ta, name)(tb).numpy(), err_msg=name)
    s = pydl.tensor(np.abs(b) % 5)
    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        np.testing.assert_array_equal(P(name)(pa, s).numpy(), T(name)(ta, torch.tensor(s.numpy())).numpy())
    np.testing.assert_array_equal(P("bitwise_not")(pa).numpy(), T("bitwise_not")(ta).numpy())
    np.testing.assert_array_equal(P("divide")(pa, pb, rounding_mode="trunc").numpy(),
                                  T("divide")(ta, tb, rounding_mode="trunc").numpy())
    m1, m2 = pydl.tensor([True, False, True]), pydl.tensor([True, True, False])
    assert P("bitwise_xor")(m1, m2).numpy().tolist() == [False, True, True]
    assert m1.logical_and(m2).numpy().tolist() == [True, False, False]
    assert m1.logical_or(m2).numpy().tolist() == [True, True, True]
    assert m1.logical_xor(m2).numpy().tolist() == [False, True, True]
    assert P("bitwise_not")(m1).numpy().tolist() == [False, True, False]
    c = pydl.tensor([1.0, 2.0, 3.0])
    c.gt_(1.5)
    assert c.numpy().tolist() == [0.0, 1.0, 1.0] and str(c.dtype) == "pydl.float32"
    with pytest.raises(TypeError, match=r"^\[bitwise_and\]"):
        P("bitwise_and")(pydl.ones(2), pydl.ones(2))
    with pytest.raises(TypeError, match=r"^\[gcd\]"):
        P("gcd")(m1, m2)
    nx = pydl.tensor([1.0, -0.0, 0.0])
    assert P("nextafter")(nx, pydl.tensor([2.0, 1.0, -1.0])).numpy().tolist() == \
        T("nextafter")(torch.tensor([1.0, -0.0, 0.0]), torch.tensor([2.0, 1.0, -1.0])).numpy().tolist()
    assert P("signbit")(nx).numpy().tolist() == [False, True, False]
    assert P("sgn")(pydl.tensor([-2.0, 0.0, 3.0])).numpy().tolist() == [-1, 0, 1]


def test_comparisons_isclose_nan_to_num_clamp():
    a = pydl.tensor([1.0, float("nan"), float("inf"), -float("inf"), 2.0, 1e-9])
    b = pydl.tensor([1.0 + 1e-7, float("nan"), float("inf"), float("inf"), 2.1, 0.0])
    ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
    for kw in ({}, dict(equal_nan=True), dict(rtol=0.1, atol=0)):
        np.testing.assert_array_equal(P("isclose")(a, b, **kw).numpy(), T("isclose")(ta, tb, **kw).numpy())
    assert P("allclose")(a[:1], b[:1]) and not P("allclose")(a[4:5], b[4:5])
    for name in ("greater", "greater_equal", "less", "less_equal", "not_equal"):
        np.testing.assert_array_equal(P(name)(a, b).numpy(), T(name)(ta, tb).numpy())
    np.testing.assert_array_equal(P("isneginf")(a).numpy(), T("isneginf")(ta).numpy())
    np.testing.assert_array_equal(P("isposinf")(a).numpy(), T("isposinf")(ta).numpy())
    np.testing.assert_array_equal(P("nan_to_num")(a, nan=7.0).numpy(), T("nan_to_num")(ta, nan=7.0).numpy())
    np.testing.assert_array_equal(a.nan_to_num(posinf=5.0, neginf=-5.0).numpy(),
                                  ta.nan_to_num(posinf=5.0, neginf=-5.0).numpy())
    x, lo, hi = (np.random.default_rng(i).normal(size=(3, 4)) for i in range(3))
    check_vs_torch(lambda x, lo: P("clamp_min")(x, lo), lambda x, lo: T("clamp_min")(x, lo), [(3, 4), (3, 4)])
    check_vs_torch(lambda x: P("clamp_max")(x, 0.3), lambda x: T("clamp_max")(x, 0.3), [(3, 4)])
    check_vs_torch(lambda x, lo, hi: pydl.clamp(x, lo, lo + hi * hi), lambda x, lo, hi: torch.clamp(x, lo, lo + hi * hi),
                [(3, 4)] * 3)
    np.testing.assert_array_equal(P("isin")(pydl.tensor([1, 5, 3, 7]), pydl.tensor([3, 1, 9])).numpy(),
                                  [True, False, True, False])


SHAPE_OPS = [
    ("flip", lambda x: P("flip")(x, [0, 2]), lambda x: T("flip")(x, [0, 2]), (2, 3, 4)),
    ("fliplr", P("fliplr"), T("fliplr"), (3, 4)), ("flipud", P("flipud"), T("flipud"), (3, 4)),
    ("rot90", lambda x: P("rot90")(x, 1, [1, 2]), lambda x: T("rot90")(x, 1, [1, 2]), (2, 3, 4)),
    ("rot90_3", lambda x: P("rot90")(x, -1), lambda x: T("rot90")(x, -1), (3, 4)),
    ("roll", lambda x: P("roll")(x, (1, -2), (0, 1)), lambda x: T("roll")(x, (1, -2), (0, 1)), (3, 4)),
    ("roll_flat", lambda x: P("roll")(x, 5), lambda x: T("roll")(x, 5), (3, 4)),
    ("repeat_interleave", lambda x: P("repeat_interleave")(x, 2, dim=1),
     lambda x: T("repeat_interleave")(x, 2, dim=1), (3, 4)),
    ("repeat_interleave_tensor", lambda x: P("repeat_interleave")(x, pydl.tensor([2, 0, 1]), dim=0),
     lambda x: T("repeat_interleave")(x, torch.tensor([2, 0, 1]), dim=0), (3, 4)),
    ("tile", lambda x: P("tile")(x, (2, 1, 2)), lambda x: T("tile")(x, (2, 1, 2)), (3, 4)),
    ("movedim", lambda x: P("movedim")(x, 0, 2), lambda x: T("movedim")(x, 0, 2), (2, 3, 4)),
    ("swapaxes", lambda x: P("swapaxes")(x, 0, 2), lambda x: T("swapaxes")(x, 0, 2), (2, 3, 4)),
    ("ravel", P("ravel"), T("ravel"), (3, 4)),
    ("diag_vec", lambda x: P("diag")(x[0], 1), lambda x: T("diag")(x[0], 1), (3, 4)),
    ("diag_mat", lambda x: P("diag")(x, -1), lambda x: T("diag")(x, -1), (3, 4)),
    ("diagonal", lambda x: P("diagonal")(x, 1, 2, 0), lambda x: T("diagonal")(x, 1, 2, 0), (3, 4, 5)),
    ("diag_embed", lambda x: P("diag_embed")(x, -1, 0, 2), lambda x: T("diag_embed")(x, -1, 0, 2), (3, 4)),
    ("diagflat", P("diagflat"), T("diagflat"), (2, 2)),
    ("trace", P("trace"), T("trace"), (3, 4)),
    ("cumprod", lambda x: P("cumprod")(x, 1), lambda x: T("cumprod")(x, 1), (3, 5)),
    ("logcumsumexp", lambda x: P("logcumsumexp")(x * 20, 0), lambda x: T("logcumsumexp")(x * 20, 0), (4, 3)),
    ("cummax", lambda x: P("cummax")(x, 1)[0], lambda x: T("cummax")(x, 1)[0], (3, 5)),
    ("cummin", lambda x: P("cummin")(x, 0)[0], lambda x: T("cummin")(x, 0)[0], (4, 3)),
    ("cumsum", lambda x: P("cumsum")(x, 0), lambda x: T("cumsum")(x, 0), (4, 3)),
    ("diff", lambda x: P("diff")(x, 2, 1), lambda x: T("diff")(x, 2, 1), (3, 5)),
    ("trapezoid", lambda x: P("trapezoid")(x, dx=0.5), lambda x: T("trapezoid")(x, dx=0.5), (3, 5)),
    ("cumulative_trapezoid", lambda x: P("cumulative_trapezoid")(x), lambda x: T("cumulative_trapezoid")(x), (3, 5)),
    ("cross", lambda x: P("cross")(x[:, :3], x[:, 1:], dim=1), lambda x: T("cross")(x[:, :3], x[:, 1:], dim=1), (3, 4)),
    ("take", lambda x: P("take")(x, pydl.tensor([[0, 5], [-1, 7]])),
     lambda x: T("take")(x, torch.tensor([[0, 5], [-1, 7]])), (3, 4)),
    ("index_add", lambda x: P("index_add")(x, 0, pydl.tensor([0, 2, 0]), x * 2, alpha=0.5),
     lambda x: T("index_add")(x, 0, torch.tensor([0, 2, 0]), x * 2, alpha=0.5), (3, 4)),
    ("index_fill", lambda x: P("index_fill")(x, 1, pydl.tensor([1, 3]), -1.0),
     lambda x: T("index_fill")(x, 1, torch.tensor([1, 3]), -1.0), (3, 4)),
    ("kthvalue", lambda x: P("kthvalue")(x, 2, 1)[0], lambda x: T("kthvalue")(x, 2, 1)[0], (3, 5)),
    ("median_dim", lambda x: P("median")(x, 1, True)[0], lambda x: T("median")(x, 1, True)[0], (3, 5)),
    ("median", P("median"), T("median"), (3, 4)),
    ("quantile", lambda x: P("quantile")(x, pydl.tensor(np.array([0.2, 0.75])), dim=1),
     lambda x: T("quantile")(x, torch.tensor([0.2, 0.75], dtype=torch.float64), dim=1), (3, 5)),
    ("quantile_all", lambda x: P("quantile")(x, 0.3), lambda x: T("quantile")(x, 0.3), (3, 5)),
    ("nansum", lambda x: P("nansum")(x, 0), lambda x: T("nansum")(x, 0), (3, 4)),
    ("nanmean", lambda x: P("nanmean")(x, 1), lambda x: T("nanmean")(x, 1), (3, 4)),
    ("std_mean", lambda x: P("std_mean")(x, 1, correction=0)[0], lambda x: T("std_mean")(x, 1, correction=0)[0],
     (3, 4)),
    ("var_mean", lambda x: P("var_mean")(x, 0)[1], lambda x: T("var_mean")(x, 0)[1], (3, 4)),
    ("cov", P("cov"), T("cov"), (3, 6)),
    ("corrcoef", P("corrcoef"), T("corrcoef"), (3, 6)),
    ("amax", lambda x: P("amax")(x, (0, 2)), lambda x: T("amax")(x, (0, 2)), (2, 3, 4)),
    ("vander", lambda x: P("vander")(x[0], 3), lambda x: x[0].unsqueeze(1) ** torch.arange(2, -1, -1), (2, 4)),
    ("block_diag", lambda x: P("block_diag")(x, x[:2, :1]), lambda x: T("block_diag")(x, x[:2, :1]), (3, 4)),
    ("hstack", lambda x: P("hstack")([x, x[:, :2]]), lambda x: T("hstack")([x, x[:, :2]]), (3, 4)),
    ("vstack", lambda x: P("vstack")([x, x[0]]), lambda x: T("vstack")([x, x[0]]), (3, 4)),
    ("dstack", lambda x: P("dstack")([x, x]), lambda x: T("dstack")([x, x]), (3, 4)),
    ("column_stack", lambda x: P("column_stack")([x[:, 0], x]), lambda x: T("column_stack")([x[:, 0], x]), (3, 4)),
    ("unflatten", lambda x: P("unflatten")(x, 1, (2, 2)), lambda x: T("unflatten")(x, 1, (2, 2)), (3, 4)),
    ("broadcast_to", lambda x: P("broadcast_to")(x, (2, 3, 4)), lambda x: T("broadcast_to")(x, (2, 3, 4)), (3, 4)),
    ("addmm", lambda x: P("addmm")(x[:, :3], x, x.T[:, :3], beta=0.5, alpha=2),
     lambda x: T("addmm")(x[:, :3], x, x.T[:, :3], beta=0.5, alpha=2), (3, 4)),
    ("addmv", lambda x: P("addmv")(x[:, 0], x, x[0]), lambda x: T("addmv")(x[:, 0], x, x[0]), (3, 4)),
    ("addr", lambda x: P("addr")(x, x[:, 0], x[0], alpha=3), lambda x: T("addr")(x, x[:, 0], x[0], alpha=3), (3, 4)),
    ("baddbmm", lambda x: P("baddbmm")(x[:, :, :2], x, x[:, :2].transpose(1, 2)),
     lambda x: T("baddbmm")(x[:, :, :2], x, x[:, :2].transpose(1, 2)), (2, 2, 3)),
    ("addbmm", lambda x: P("addbmm")(x[0, :, :2], x, x[:, :2].transpose(1, 2)),
     lambda x: T("addbmm")(x[0, :, :2], x, x[:, :2].transpose(1, 2)), (2, 2, 3)),
    ("mv", lambda x: P("mv")(x, x[0]), lambda x: T("mv")(x, x[0]), (4, 4)),
    ("logsumexp_method", lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), (3, 4)),
]


@pytest.mark.parametrize("name,fn,tfn,shape", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_tensor_op_vs_torch(name, fn, tfn, shape):
    check_vs_torch(fn, tfn, [shape])


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->i", [(4, 4)]), ("ii", [(4, 4)]),
    ("ij->", [(3, 4)]), ("ij->ji", [(3, 4)]), ("i,j->ij", [(3,), (4,)]), ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("ijk,kl,lm->im", [(2, 3, 4), (4, 5), (5, 2)]),
    ("i,i->", [(5,), (5,)]), ("ab,cd->abcd", [(2, 3), (2, 2)]), ("iij->j", [(3, 3, 2)]), ("ij,ij->i", [(3, 4), (3, 4)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_vs_torch(eq, shapes):
    check_vs_torch(lambda *xs: P("einsum")(eq, *xs), lambda *xs: T("einsum")(eq, *xs), shapes)


def test_einsum_errors():
    with pytest.raises(ValueError, match=r"^\[einsum\]"):
        pydl.einsum("ij,jk->ik", pydl.ones(2, 3))
    with pytest.raises(ValueError, match=r"^\[einsum\]"):
        pydl.einsum("ij->k", pydl.ones(2, 3))
    with pytest.raises(ValueError, match=r"^\[einsum\]"):
        pydl.einsum("ijk->i", pydl.ones(2, 3))


def test_sort_topk_argsort_stable_descending():
    x = np.array([[3, 1, 2, 1, 3, 0], [5, 5, 4, 4, 6, 5]], dtype=np.float64)
    px, tx = pydl.tensor(x), torch.tensor(x)
    for desc in (False, True):
        v, i = pydl.sort(px, dim=1, descending=desc, stable=True)
        tv, ti = torch.sort(tx, dim=1, descending=desc, stable=True)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        np.testing.assert_array_equal(px.argsort(1, descending=desc).numpy(), torch.argsort(tx, dim=1, descending=desc, stable=True).numpy())
    v, i = px.topk(3, dim=1)
    tv, ti = tx.topk(3, dim=1)
    np.testing.assert_array_equal(v.numpy(), tv.numpy())
    check_vs_torch(lambda a: pydl.topk(a, 2, 0, largest=False)[0], lambda a: torch.topk(a, 2, 0, largest=False)[0], [(4, 3)])
    check_vs_torch(lambda a: pydl.sort(a, 0, descending=True)[0], lambda a: torch.sort(a, 0, descending=True)[0], [(4, 3)])
    np.testing.assert_array_equal(P("msort")(px).numpy(), T("msort")(tx).numpy())
    m = np.array([[1, 2, 2, 3, 3], [4, 4, 1, 1, 0]], dtype=np.float64)
    pm, tm = P("mode")(pydl.tensor(m), 1), T("mode")(torch.tensor(m), 1)
    np.testing.assert_array_equal(pm.values.numpy(), tm.values.numpy())
    with pytest.raises(ValueError, match=r"^\[topk\]"):
        px.topk(7)


def test_unique_bincount_histc_searchsorted():
    x = np.array([3, 1, 2, 3, 1, 7, 3])
    px, tx = pydl.tensor(x), torch.tensor(x)
    for kw in ({}, dict(return_inverse=True), dict(return_counts=True), dict(return_inverse=True, return_counts=True)):
        got, want = P("unique")(px, **kw), T("unique")(tx, **kw)
        for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    m = np.array([[1, 2], [0, 5], [1, 2], [0, 1]])
    got, inv, cnt = P("unique")(pydl.tensor(m), dim=0, return_inverse=True, return_counts=True)
    want, tinv, tcnt = T("unique")(torch.tensor(m), dim=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(inv.numpy(), tinv.numpy())
    np.testing.assert_array_equal(cnt.numpy(), tcnt.numpy())
    c = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    for g, w in zip(P("unique_consecutive")(pydl.tensor(c), return_inverse=True, return_counts=True),
                    T("unique_consecutive")(torch.tensor(c), return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    np.testing.assert_array_equal(P("bincount")(px, minlength=9).numpy(), T("bincount")(tx, minlength=9).numpy())
    w = np.linspace(0, 1, 7)
    np.testing.assert_allclose(px.bincount(pydl.tensor(w)).numpy(), tx.bincount(torch.tensor(w)).numpy())
    h = np.random.default_rng(0).normal(size=200)
    np.testing.assert_array_equal(P("histc")(pydl.tensor(h), 10, -2, 2).numpy(), T("histc")(torch.tensor(h), 10, -2, 2).numpy())
    s = np.array([[1.0, 3, 5, 7, 9], [2, 4, 6, 8, 10]])
    v = np.array([[3.0, 6, 9], [1, 10, 11]])
    for right in (False, True):
        np.testing.assert_array_equal(P("searchsorted")(pydl.tensor(s), pydl.tensor(v), right=right).numpy(),
                                      T("searchsorted")(torch.tensor(s), torch.tensor(v), right=right).numpy())
        np.testing.assert_array_equal(P("bucketize")(pydl.tensor(v), pydl.tensor(s[0]), right=right).numpy(),
                                      T("bucketize")(torch.tensor(v), torch.tensor(s[0]), right=right).numpy())
    assert P("count_nonzero")(pydl.tensor(m), 0).numpy().tolist() == [2, 4]
    mn, mx = P("aminmax")(pydl.tensor(h))
    assert mn.item() == h.min() and mx.item() == h.max()
    with pytest.raises(ValueError, match=r"^\[bincount\]"):
        P("bincount")(pydl.tensor([1, -1]))
    with pytest.raises(ValueError, match=r"^\[searchsorted\]"):
        P("searchsorted")(pydl.ones(2, 3), pydl.ones(3, 3))


def test_meshgrid_cartesian_combinations_indices():
    a, b = pydl.tensor([1, 2, 3]), pydl.tensor([4, 5])
    ta, tb = torch.tensor([1, 2, 3]), torch.tensor([4, 5])
    for ind in ("ij", "xy"):
        for g, w in zip(P("meshgrid")(a, b, indexing=ind), T("meshgrid")(ta, tb, indexing=ind)):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    np.testing.assert_array_equal(P("cartesian_prod")(a, b).numpy(), T("cartesian_prod")(ta, tb).numpy())
    for r, rep in ((2, False), (3, False), (2, True)):
        np.testing.assert_array_equal(P("combinations")(a, r, rep).numpy(), T("combinations")(ta, r, rep).numpy())
    for off in (-1, 0, 2):
        np.testing.assert_array_equal(P("tril_indices")(4, 5, off).numpy(), T("tril_indices")(4, 5, off).numpy())
        np.testing.assert_array_equal(P("triu_indices")(4, 5, off).numpy(), T("triu_indices")(4, 5, off).numpy())
    x = pydl.arange(10)
    for s in (3, [2, 5]):
        for g, w in zip(P("tensor_split")(x, s), T("tensor_split")(torch.arange(10), s)):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert [t.shape for t in P("hsplit")(pydl.ones(2, 6), 3)] == [(2, 2)] * 3
    assert P("atleast_3d")(pydl.ones(3)).shape == (1, 3, 1) and P("atleast_2d")(pydl.tensor(1.0)).shape == (1, 1)
    assert tuple(P("broadcast_shapes")((3, 1), (1, 4))) == (3, 4)
    assert [t.shape for t in P("broadcast_tensors")(pydl.ones(3, 1), pydl.ones(4))] == [(3, 4), (3, 4)]


def test_factories_windows_and_sampling():
    for name, args in (("logspace", (0, 2, 5)), ("hann_window", (8,)), ("hamming_window", (7, False)),
                       ("blackman_window", (6,)), ("bartlett_window", (9,)), ("kaiser_window", (8, True, 5.0))):
        np.testing.assert_allclose(P(name)(*args, dtype=pydl.float64).numpy(),
                                   T(name)(*args, dtype=torch.float64).numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(P("range")(0, 1, 0.25).numpy(), np.array([0, 0.25, 0.5, 0.75, 1.0]))
    assert P("scalar_tensor")(3).item() == 3.0 and P("asarray")([1, 2]).numpy().tolist() == [1, 2]
    pydl.manual_seed(0)
    w = pydl.tensor([[0.0, 1, 3], [2, 2, 0]])
    s = P("multinomial")(w, 2000, replacement=True).numpy()
    assert (s[0] == 0).sum() == 0 and abs((s[0] == 2).mean() - 0.75) < 0.05 and abs((s[1] == 0).mean() - 0.5) < 0.05
    nr = P("multinomial")(w, 2).numpy()
    assert all(len(set(r)) == 2 for r in nr) and 0 not in nr[0].tolist()
    b = P("bernoulli")(pydl.full((5000,), 0.3)).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.03
    e = pydl.empty(4000).exponential_(2.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.05
    r = pydl.empty(1000, dtype=pydl.int64).random_(3, 7).numpy()
    assert r.min() == 3 and r.max() == 6
    n = P("normal")(pydl.zeros(3000), pydl.full((3000,), 2.0)).numpy()
    assert abs(n.std() - 2) < 0.1
    p = P("poisson")(pydl.full((3000,), 4.0)).numpy()
    assert abs(p.mean() - 4) < 0.2 and abs(p.var() - 4) < 0.5
    with pytest.raises(ValueError, match=r"^\[multinomial\]"):
        P("multinomial")(pydl.tensor([1.0, 2.0]), 3)
    with pytest.raises(ValueError, match=r"^\[multinomial\]"):
        P("multinomial")(pydl.zeros(3), 1)


def test_misc_predicates_and_dtypes():
    assert P("is_floating_point")(pydl.ones(2)) and not P("is_floating_point")(pydl.ones(2, dtype=pydl.int64))
    assert P("is_nonzero")(pydl.tensor([1.5])) and P("is_same_size")(pydl.ones(2, 3), pydl.zeros(2, 3))
    assert P("is_signed")(pydl.ones(1)) and not pydl.tensor([True]).is_signed()
    assert P("result_type")(pydl.ones(2, dtype=pydl.int64), 1.5) == pydl.float32
    assert P("promote_types")(pydl.int64, pydl.float64) == pydl.float64
    assert P("can_cast")(pydl.int64, pydl.float32) and not P("can_cast")(pydl.float32, pydl.int64)
    x = pydl.ones(2, 3)
    assert x.is_cpu and x.nbytes == 24 and x.itemsize == 4 and x.H.shape == (3, 2) and x.mH.shape == (3, 2)
    assert x.sum_to_size(1, 3).numpy().tolist() == [[2, 2, 2]]
    assert P("fill")(x, 5).numpy().tolist() == [[5] * 3] * 2
    with pytest.raises(RuntimeError, match=r"^\[is_nonzero\]"):
        P("is_nonzero")(pydl.ones(2))
    with pytest.raises(IndexError, match=r"^\[flip\]"):
        P("flip")(x, [2])
    with pytest.raises(ValueError, match=r"^\[diagonal\]"):
        P("diagonal")(pydl.ones(3))
    with pytest.raises(ValueError, match=r"^\[kron\]|^\[cross\]"):
        P("cross")(pydl.ones(2, 2), pydl.ones(2, 2))


# in-place methods: (name, args builder) -> x.name_(*args) against torch's, on the same data
# (every op of the C++ unary table, and the Python-level ones)
UNARY_INPLACE = sorted(set(pydl._C._unary_ops) | {
    "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "deg2rad", "rad2deg", "fix", "frac",
    "logit", "negative", "sgn", "sinc", "i0", "nan_to_num"})


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_unary_inplace_method(name):
    lo, hi = (1.1, 1.9) if name in ("acosh", "arccosh") else (0.1, 0.9)
    x = np.random.default_rng(0).uniform(lo, hi, (3, 4))
    a, b = pydl.tensor(x), torch.tensor(x)
    v = a._version
    assert getattr(a, name + "_")() is a and a._version > v
    # ops torch has only as torch.special functions (ndtr) are compared with those
    ref = getattr(torch.Tensor, name, None) or getattr(torch.special, name)
    b.copy_(ref(b))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(getattr(pydl.tensor(x), name)().numpy(), ref(torch.tensor(x)).numpy(), rtol=1e-12)
    if hasattr(torch, name + "_"):
        c, d = pydl.tensor(x), torch.tensor(x)
        getattr(pydl, name + "_")(c)
        getattr(torch, name + "_")(d)
        np.testing.assert_allclose(c.numpy(), d.numpy(), rtol=1e-12, err_msg="torch." + name + "_")


BINARY_INPLACE = ["fmod", "copysign", "hypot", "nextafter", "logaddexp", "xlogy", "float_power", "true_divide",
                  "divide", "multiply", "subtract", "heaviside", "fmax", "fmin", "ldexp", "floor_divide", "atan2",
                  "arctan2", "remainder", "pow", "clamp_min", "clamp_max", "xlogy", "eq", "ne", "lt", "le", "gt", "ge",
                  "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or",
                  "logical_xor", "sub", "add", "mul", "div", "maximum", "minimum"]


@pytest.mark.parametrize("name", sorted(set(BINARY_INPLACE)))
def test_binary_inplace_method(name):
    x = np.random.default_rng(0).uniform(0.5, 2, (3, 4))
    y = np.random.default_rng(1).uniform(0.5, 2, (3, 4))
    if name == "float_power":  # torch needs a float64 self for the in-place form
        x, y = x.astype(np.float64), y.astype(np.float64)
    a, b = pydl.tensor(x), torch.tensor(x)
    if not hasattr(b, name + "_"):
        pytest.skip(f"torch has no Tensor.{name}_")
    v = a._version
    assert getattr(a, name + "_")(pydl.tensor(y)) is a and a._version > v
    getattr(b, name + "_")(torch.tensor(y))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(getattr(pydl.tensor(x), name)(pydl.tensor(y)).numpy(),
                               getattr(torch.tensor(x), name)(torch.tensor(y)).numpy(), rtol=1e-12)


def test_int_inplace_and_ternary_inplace():
    a, b = np.array([12, -7, 5, 8]), np.array([8, 3, -10, 3])
    for name in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"):
        p, t = pydl.tensor(a), torch.tensor(a)
        rhs = np.abs(b) if "shift" in name else b
        getattr(p, name + "_")(pydl.tensor(rhs))
        getattr(t, name + "_")(torch.tensor(rhs))
        np.testing.assert_array_equal(p.numpy(), t.numpy(), err_msg=name)
    p, t = pydl.tensor(a), torch.tensor(a)
    p.bitwise_not_()
    t.bitwise_not_()
    np.testing.assert_array_equal(p.numpy(), t.numpy())
    m = pydl.tensor([True, False])
    m.logical_not_()
    assert m.numpy().tolist() == [False, True]
    x = np.random.default_rng(0).uniform(0.5, 2, (3, 3))
    cases = [("addcmul_", (x, x), dict(value=0.5)), ("addcdiv_", (x, x + 1), dict(value=2)), ("lerp_", (x * 2, 0.3), {}),
             ("addmm_", (x, x), dict(beta=0.5)), ("addr_", (x[0], x[1]), {}),
             ("clamp_", (0.8, 1.5), {}), ("clip_", (0.8, 1.5), {}), ("clamp_min_", (1.0,), {}), ("clamp_max_", (1.0,), {}),
             ("cumsum_", (1,), {}), ("cumprod_", (0,), {}), ("renorm_", (2, 0, 1.0), {}), ("mvlgamma_", (2,), {}),
             ("polygamma_", (1,), {}), ("index_add_", (0, np.array([0, 2]), x[:2]), {}),
             ("index_fill_", (1, np.array([0, 2]), -1.0), {}), ("index_copy_", (0, np.array([2, 0]), x[:2] * 3), {}),
             ("masked_scatter_", (x > 1, x * 10), {}), ("put_", (np.array([0, 4, 8]), x[0] * -1), {}),
             ("fill_diagonal_", (7.0,), {})]
    for name, args, kw in cases:
        p, t = pydl.tensor(x + 1 if name == "mvlgamma_" else x), torch.tensor(x + 1 if name == "mvlgamma_" else x)
        conv = [pydl.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        tconv = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        assert getattr(p, name)(*conv, **kw) is p
        getattr(t, name)(*tconv, **kw)
        # torch's trigamma is good to ~5e-10 (pydl's, Eigen's polygamma, to 1e-16 against mpmath)
        np.testing.assert_allclose(p.numpy(), t.numpy(), rtol=1e-8 if name == "polygamma_" else 1e-10, err_msg=name)
    p, t = pydl.tensor(x[0]), torch.tensor(x[0])
    p.addmv_(pydl.tensor(x), pydl.tensor(x[1]), beta=2)
    t.addmv_(torch.tensor(x), torch.tensor(x[1]), beta=2)
    np.testing.assert_allclose(p.numpy(), t.numpy(), rtol=1e-12)
    baddbmm = np.ones((2, 3, 3))
    p, t = pydl.tensor(baddbmm), torch.tensor(baddbmm)
    p.baddbmm_(pydl.tensor(baddbmm), pydl.tensor(baddbmm), alpha=0.5)
    t.baddbmm_(torch.tensor(baddbmm), torch.tensor(baddbmm), alpha=0.5)
    np.testing.assert_allclose(p.numpy(), t.numpy())
    p, t = pydl.tensor(x), torch.tensor(x)
    p.addbmm_(pydl.tensor(baddbmm), pydl.tensor(baddbmm))
    t.addbmm_(torch.tensor(baddbmm), torch.tensor(baddbmm))
    np.testing.assert_allclose(p.numpy(), t.numpy())
    r = pydl.empty(500, dtype=pydl.float64)
    assert r.cauchy_().numpy().std() > 0 and r.log_normal_().numpy().min() > 0 and r.geometric_(0.5).numpy().min() >= 1
    assert r.bernoulli_(0.5).numpy().max() <= 1 and r.detach_() is r
    assert pydl.tensor([1.0]).get_device() == -1 and not pydl.ones(1).is_inference()


def test_scatter_variants_and_misc_vs_torch():
    x = np.random.default_rng(0).normal(size=(3, 4))
    check_vs_torch(lambda a, s: P("select_scatter")(a, s, 1, 2), lambda a, s: T("select_scatter")(a, s, 1, 2),
                [(3, 4), (3,)])
    check_vs_torch(lambda a, s: P("slice_scatter")(a, s, 1, 1, 4, 2), lambda a, s: T("slice_scatter")(a, s, 1, 1, 4, 2),
                [(3, 4), (3, 2)])
    check_vs_torch(lambda a, s: P("diagonal_scatter")(a, s, 1), lambda a, s: T("diagonal_scatter")(a, s, 1),
                [(3, 4), (3,)])
    mask = pydl.tensor(x > 0)
    check_vs_torch(lambda a, s: P("masked_scatter")(a, mask, s), lambda a, s: a.masked_scatter(torch.tensor(x > 0), s),
                [(3, 4), (12,)])
    check_vs_torch(lambda a, s: P("put")(a, pydl.tensor([1, 5, 1]), s, accumulate=True),
                lambda a, s: a.put(torch.tensor([1, 5, 1]), s, accumulate=True), [(3, 4), (3,)])
    check_vs_torch(lambda a: P("renorm")(a, 2, 1, 0.8), lambda a: torch.renorm(a, 2, 1, 0.8), [(3, 4)])
    check_vs_torch(lambda a: P("narrow_copy")(a, 1, 1, 2), lambda a: torch.narrow_copy(a, 1, 1, 2), [(3, 4)])
    check_vs_torch(lambda a: P("gradient")(a, spacing=0.5, dim=1)[0], lambda a: torch.gradient(a, spacing=0.5, dim=1)[0],
                [(3, 5)])
    m, e = P("frexp")(pydl.tensor(np.array([0.0, 1.0, 3.5, -0.1, 1024.0, 1e-30, 7.9e20])))
    tm, te = T("frexp")(torch.tensor([0.0, 1.0, 3.5, -0.1, 1024.0, 1e-30, 7.9e20], dtype=torch.float64))
    np.testing.assert_array_equal(m.numpy(), tm.numpy())
    np.testing.assert_array_equal(e.numpy(), te.numpy())
    h = np.random.default_rng(1).normal(size=100)
    for kw in (dict(bins=7), dict(bins=5, range=(-1.0, 1.0), density=True)):
        for g, w in zip(P("histogram")(pydl.tensor(h), **kw), T("histogram")(torch.tensor(h), **kw)):
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12)
    for g, w in zip(P("unravel_index")(pydl.tensor([0, 7, 11, -1]), (3, 4)),
                    T("unravel_index")(torch.tensor([0, 7, 11, -1]), (3, 4))):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert pydl.tensor(x).allclose(pydl.tensor(x)) and pydl.tensor(x).equal(pydl.tensor(x))
    assert [t.shape for t in pydl.tensor(x).unsafe_chunk(2, 1)] == [(3, 2), (3, 2)]
    assert [t.shape for t in pydl.tensor(x).unsafe_split(3, 1)] == [(3, 3), (3, 1)]
    assert [t.shape for t in pydl.tensor(x).unsafe_split_with_sizes([1, 3], 1)] == [(3, 1), (3, 3)]
    buf = np.arange(6, dtype=np.float32).tobytes()
    assert P("frombuffer")(bytearray(buf), dtype=pydl.float32).numpy().tolist() == [0, 1, 2, 3, 4, 5]
    assert P("get_default_device")() == "cpu"
    s = P("seed")()
    assert isinstance(s, int) and pydl.initial_seed() == s
    for name, args in (("expand_copy", ((2, 3, 4),)), ("permute_copy", ((1, 0),)), ("select_copy", (0, 1)),
                       ("slice_copy", (1, 0, 2)), ("squeeze_copy", ()), ("unsqueeze_copy", (0,)), ("t_copy", ()),
                       ("transpose_copy", (0, 1)), ("view_copy", ((4, 3),)), ("diagonal_copy", ()),
                       ("detach_copy", ()), ("alias_copy", ()), ("unbind_copy", ()), ("split_copy", (2,)),
                       ("split_with_sizes_copy", ([1, 2],))):
        got, want = P(name)(pydl.tensor(x), *args), T(name)(torch.tensor(x), *args)
        for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, (tuple, list)) else [want]):
            np.testing.assert_array_equal(g.numpy(), w.numpy(), err_msg=name)


def test_torch_signature_forms_vs_torch():
    rng = np.random.default_rng(3)
    x1, w1 = rng.normal(size=(2, 3, 9)), rng.normal(size=(4, 3, 3))
    x2, w2 = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3))
    pairs = [
        ("conv1d", (x1, w1), dict(padding=1)), ("conv2d", (x2, w2), dict(stride=2)),
        ("conv_transpose2d", (x2, w2.transpose(1, 0, 2, 3)), dict(stride=2)), ("max_pool1d", (x1, 3), {}),
        ("max_pool2d", (x2, 2), {}), ("avg_pool1d", (x1, 3, 2), {}),
        ("layer_norm", (x1, (9,)), {}), ("embedding", (w1.reshape(12, 3), np.array([[0, 5], [11, 2]])), {}),
        ("kl_div", (x1, np.abs(x1)), dict(reduction=2)), ("binary_cross_entropy_with_logits", (x1, (x1 > 0) * 1.0), {}),
        ("hinge_embedding_loss", (x1, np.sign(x1)), dict(margin=0.5)),
        ("margin_ranking_loss", (x1, x1 * 0.5, np.sign(x1)), {}),
        ("cosine_embedding_loss", (x1[0], x1[1], np.sign(x1[0, :, 0])), {}),
        ("poisson_nll_loss", (x1, np.abs(x1), True, False, 1e-8, 1), {}),
        ("triplet_margin_loss", (x1[0], x1[1], x1[0] * 2), {}),
    ]
    for name, args, kw in pairs:
        pa = [pydl.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        ta = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        np.testing.assert_allclose(P(name)(*pa, **kw).numpy(), T(name)(*ta, **kw).numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    rm, rv = np.zeros(3), np.ones(3)
    g, b = rng.normal(size=3), rng.normal(size=3)
    got = P("batch_norm")(pydl.tensor(x2), pydl.tensor(g), pydl.tensor(b), pydl.tensor(rm), pydl.tensor(rv), False,
                          0.1, 1e-5, True)
    want = T("batch_norm")(torch.tensor(x2), torch.tensor(g), torch.tensor(b), torch.tensor(rm), torch.tensor(rv),
                           False, 0.1, 1e-5, True)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
    assert P("alpha_dropout")(pydl.tensor(x1), 0.5, False).numpy().tolist() == x1.tolist()
    assert P("feature_alpha_dropout")(pydl.tensor(x1), 0.5, False).numpy().tolist() == x1.tolist()
    d = pydl.tensor(x1)
    assert P("dropout_")(d, 0.0, True) is d and P("alpha_dropout_")(d, 0.0, True) is d
    assert P("feature_alpha_dropout_")(d, 0.0, True) is d
    e = pydl.zeros(3)
    P("index_put_")(e, (pydl.tensor([0, 2]),), pydl.tensor([1.0, 2.0]))
    assert e.numpy().tolist() == [1.0, 0.0, 2.0]
    c = pydl.tensor([-1.0, 0.5, 2.0])
    P("clamp_")(c, 0.0, 1.0)
    P("clamp_min_")(c, 0.2)
    P("clamp_max_")(c, 0.9)
    P("clip_")(c, 0.3, 0.8)
    assert np.allclose(c.numpy(), [0.3, 0.5, 0.8])
    with pytest.raises(ValueError, match=r"^\[kl_div\]"):
        P("kl_div")(pydl.ones(2), pydl.ones(2), reduction=5)


def test_register_hook_leaf_and_non_leaf_like_torch():
    seen = []
    x, tx = pydl.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for a, lib in ((x, pydl), (tx, torch)):
        y = a * 2
        hy = y.register_hook(lambda g: g * 10)  # replaces the gradient flowing into y
        ha = a.register_hook(lambda g: seen.append(g.numpy().copy()))  # observes the leaf's gradient
        (y ** 2).sum().backward()
        hy.remove()
        ha.remove()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(seen[0], seen[1])
    x.grad = None
    (x * 2).sum().backward()  # removed hooks no longer run
    assert x.grad.numpy().tolist() == [2.0, 2.0, 2.0] and len(seen) == 2
    with pytest.raises(RuntimeError, match=r"^\[register_hook\]"):
        pydl.ones(2).register_hook(lambda g: g)
    z = pydl.ones(2, requires_grad=True)
    z.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match=r"\[register_hook\]"):
        (z * 1).sum().backward()
    w = pydl.ones(2, requires_grad=True)
    w.register_hook(lambda g: 1 / 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        (w * 1).sum().backward()
