"""Every op of the foundation against NumPy (forward), finite differences (gradcheck) and torch."""
import math

import numpy as np
import pytest

import pydl
from helpers import check, make_inputs

FLOATS = ["float32", "float64"]

# ---- arithmetic with broadcasting ------------------------------------------------------

BIN_SHAPES = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (2, 3)], [(5,), ()]]


@pytest.mark.parametrize("shapes", BIN_SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_add(shapes, dtype):
    check(lambda a, b: a + b, np.add, shapes, dtype=dtype)


@pytest.mark.parametrize("shapes", BIN_SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_sub(shapes, dtype):
    check(lambda a, b: a - b, np.subtract, shapes, dtype=dtype)


@pytest.mark.parametrize("shapes", BIN_SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_mul(shapes, dtype):
    check(lambda a, b: a * b, np.multiply, shapes, dtype=dtype)


@pytest.mark.parametrize("shapes", BIN_SHAPES)
def test_div(shapes):
    check(lambda a, b: a / b, np.divide, shapes, low=0.5, high=2.0)


@pytest.mark.parametrize("shapes", BIN_SHAPES)
def test_pow_tensor(shapes):
    check(lambda a, b: a ** b, np.power, shapes, low=0.5, high=2.0)


def test_neg():
    check(lambda a: -a, np.negative, [(3, 4)])
    check(lambda a: a.neg(), np.negative, [(2, 3)])


def test_functional_forms():
    check(lambda a, b: pydl.add(a, b), np.add, [(2, 3), (3,)], torch_fn=None)
    check(lambda a, b: pydl.sub(a, b, alpha=2), lambda a, b: a - 2 * b, [(2, 3), (3,)], torch_fn=None)
    check(lambda a, b: pydl.mul(a, b), np.multiply, [(2, 3), (2, 3)], torch_fn=None)
    check(lambda a, b: pydl.div(a, b), np.divide, [(2, 3), (2, 3)], low=0.5, torch_fn=None)


@pytest.mark.parametrize("dtype", FLOATS)
def test_scalar_forms(dtype):
    check(lambda a: a + 2, lambda a: a + 2, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: 2 + a, lambda a: 2 + a, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: 2 - a, lambda a: 2 - a, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: a - 1.5, lambda a: a - 1.5, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: 3 * a, lambda a: 3 * a, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: 2 / a, lambda a: 2 / a, [(3, 4)], dtype=dtype, low=0.5, out_dtype=dtype)
    check(lambda a: a / 4, lambda a: a / 4, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: 2 ** a, lambda a: 2 ** a, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: a ** 2, lambda a: a ** 2, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: a ** 3, lambda a: a ** 3, [(3, 4)], dtype=dtype, out_dtype=dtype)
    check(lambda a: a ** 0.5, lambda a: a ** 0.5, [(3, 4)], dtype=dtype, low=0.5, out_dtype=dtype)
    check(lambda a: a ** -1.5, lambda a: a ** -1.5, [(3, 4)], dtype=dtype, low=0.5, out_dtype=dtype)
    check(lambda a: a ** 0, lambda a: a ** 0, [(3, 4)], dtype=dtype, out_dtype=dtype)


def _t(v, dtype=None):
    return pydl.tensor(v, dtype=dtype)


@pytest.mark.parametrize("expr, value, dtype", [
    (lambda: _t([1, 2, 3]) / 2, [0.5, 1.0, 1.5], "float32"),                 # int / int -> float32
    (lambda: _t([1, 2, 3]) / _t([2, 2, 2]), [0.5, 1.0, 1.5], "float32"),
    (lambda: _t([1, 2, 3]) + 1.5, [2.5, 3.5, 4.5], "float32"),               # int + float scalar -> float32
    (lambda: 1.5 + _t([1, 2, 3]), [2.5, 3.5, 4.5], "float32"),
    (lambda: _t([1, 2, 3]) * 2, [2, 4, 6], "int64"),                          # int * int stays int64
    (lambda: 2 - _t([1, 2, 3]), [1, 0, -1], "int64"),
    (lambda: _t([1, 2, 3]) ** 2, [1, 4, 9], "int64"),
    (lambda: 2 ** _t([1, 2, 3]), [2, 4, 8], "int64"),
    (lambda: _t([1.0, 2.0]) + _t([1.0, 2.0], pydl.float64), [2.0, 4.0], "float64"),  # f32 + f64 -> f64
    (lambda: _t([1.0, 2.0], pydl.float64) * _t([3.0, 4.0]), [3.0, 8.0], "float64"),
    (lambda: _t([1.0, 2.0]) * 2.5, [2.5, 5.0], "float32"),                   # float scalar keeps float32
    (lambda: _t([1.0, 2.0], pydl.float64) + 1, [2.0, 3.0], "float64"),
    (lambda: _t([1, 2]) + _t([0.5, 0.5]), [1.5, 2.5], "float32"),            # int64 + float32 tensor -> float32
    (lambda: _t([True, False]) + _t([True, True]), [True, True], "bool"),    # like torch: bool + bool is or
    (lambda: _t([True, False]) + 1, [2, 1], "int64"),
    (lambda: _t([True, False]) + True, [True, True], "bool"),                 # bool tensor + bool scalar stays bool
    (lambda: _t([True, False]) * False, [False, False], "bool"),
    (lambda: _t([1, 2]) + True, [2, 3], "int64"),
    (lambda: _t([True, False]) * 1.5, [1.5, 0.0], "float32"),
    (lambda: _t([7, -7]) // 2, [3, -4], "int64"),
    (lambda: _t([7, -7]) % 3, [1, 2], "int64"),
    (lambda: _t([7.5, -7.5]) % 2, [1.5, 0.5], "float32"),
])
def test_dtype_promotion(expr, value, dtype):
    torch = pytest.importorskip("torch") if False else None  # noqa: F841  (values are PyTorch's, written out)
    out = expr()
    assert str(out.dtype) == f"pydl.{dtype}"
    np.testing.assert_allclose(out.numpy().astype(np.float64), np.asarray(value, dtype=np.float64))


def test_dtype_promotion_matches_torch():
    torch = pytest.importorskip("torch")
    cases = [([1, 2], 2, "div"), ([1, 2], 1.5, "add"), ([1.0, 2.0], 3, "mul"), ([1, 2], 3, "sub"), ([2, 3], 2, "pow")]
    for data, scalar, op in cases:
        p = getattr(pydl._C, op)(pydl.tensor(data), scalar)
        t = getattr(torch, op)(torch.tensor(data), scalar)
        assert str(p.dtype).replace("pydl.", "") == str(t.dtype).replace("torch.", ""), (data, scalar, op)
        np.testing.assert_allclose(p.numpy(), t.numpy())


@pytest.mark.parametrize("op, npop", [("__eq__", np.equal), ("__ne__", np.not_equal), ("__lt__", np.less),
                                       ("__le__", np.less_equal), ("__gt__", np.greater), ("__ge__", np.greater_equal)])
def test_comparisons(op, npop):
    a, b = make_inputs([(3, 4), (4,)], "int64", -2, 2)
    got = getattr(pydl.tensor(a), op)(pydl.tensor(b))
    assert got.dtype == pydl.bool
    np.testing.assert_array_equal(got.numpy(), npop(a, b))
    got = getattr(pydl.tensor(a.astype(np.float32)), op)(1)
    np.testing.assert_array_equal(got.numpy(), npop(a, 1))
    assert not got.requires_grad


def test_comparison_functional_and_reflected():
    x = pydl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    np.testing.assert_array_equal((2 < x).numpy(), [False, False, True])
    np.testing.assert_array_equal((2 == x).numpy(), [False, True, False])
    np.testing.assert_array_equal(pydl.gt(x, 1.5).numpy(), [False, True, True])
    assert (x > 1).grad_fn is None


# ---- unary math ----------------------------------------------------------------------

UNARY = [
    ("abs", lambda a: a.abs(), np.abs, -2, 2),
    ("exp", lambda a: a.exp(), np.exp, -2, 2),
    ("log", lambda a: a.log(), np.log, 0.1, 3),
    ("log1p", lambda a: a.log1p(), np.log1p, -0.5, 3),
    ("sqrt", lambda a: a.sqrt(), np.sqrt, 0.1, 3),
    ("rsqrt", lambda a: a.rsqrt(), lambda a: 1 / np.sqrt(a), 0.1, 3),
    ("sin", lambda a: a.sin(), np.sin, -3, 3),
    ("cos", lambda a: a.cos(), np.cos, -3, 3),
    ("tanh", lambda a: a.tanh(), np.tanh, -3, 3),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), -4, 4),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), -2, 2),
    ("expm1", lambda a: a.expm1(), np.expm1, -2, 2),
    ("reciprocal", lambda a: a.reciprocal(), lambda a: 1 / a, 0.5, 3),
    ("square", lambda a: a.square(), np.square, -2, 2),
    ("erf", lambda a: a.erf(), np.vectorize(math.erf, otypes=[np.float64]), -2, 2),
]


@pytest.mark.parametrize("name, fn, npfn, low, high", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("dtype", FLOATS)
def test_unary(name, fn, npfn, low, high, dtype):
    check(fn, npfn, [(3, 4)], dtype=dtype, low=low, high=high)


@pytest.mark.parametrize("name, fn, npfn, low, high", UNARY[:6], ids=[u[0] for u in UNARY[:6]])
def test_unary_functional_0d_and_empty(name, fn, npfn, low, high):
    f = getattr(pydl, name)
    check(f, npfn, [()], low=low, high=high, torch_fn=None)
    out = f(pydl.zeros(0, 3))
    assert tuple(out.shape) == (0, 3)


def test_unary_int_input_computes_in_float32():
    x = pydl.tensor([1, 4, 9])
    out = x.sqrt()
    assert out.dtype == pydl.float32
    np.testing.assert_allclose(out.numpy(), [1, 2, 3])
    assert x.abs().dtype == pydl.int64
    np.testing.assert_array_equal(pydl.tensor([-3, 2]).abs().numpy(), [3, 2])


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (None, 0.3), (-0.3, None)])
def test_clamp(lo, hi):
    check(lambda a: a.clamp(lo, hi), lambda a: np.clip(a, lo, hi), [(3, 4)])
    check(lambda a: pydl.clamp(a, min=lo, max=hi), lambda a: np.clip(a, lo, hi), [(4,)], torch_fn=None)


def test_clamp_tensor_bounds_and_errors():
    check(lambda a, lo: a.clamp(min=lo), lambda a, lo: np.maximum(a, lo), [(3, 4), (4,)])
    with pytest.raises(ValueError, match=r"^\[clamp\]"):
        pydl.tensor([1.0]).clamp()


def test_maximum_minimum():
    check(pydl.maximum, np.maximum, [(3, 4), (4,)], torch_fn=lambda a, b: a.maximum(b))
    check(pydl.minimum, np.minimum, [(2, 1, 3), (4, 1)], torch_fn=lambda a, b: a.minimum(b))
    # ties split the gradient, as in torch
    x = pydl.tensor([1.0, 2.0], requires_grad=True)
    y = pydl.tensor([1.0, 3.0], requires_grad=True)
    pydl.maximum(x, y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.0])
    np.testing.assert_allclose(y.grad.numpy(), [0.5, 1.0])


def test_where():
    cond = pydl.tensor(make_inputs([(3, 4)], "bool")[0])
    c = cond.numpy()
    check(lambda a, b: pydl.where(cond, a, b), lambda a, b: np.where(c, a, b), [(3, 4), (4,)], torch_fn=None)
    check(lambda a: pydl.where(cond, a, 0.0), lambda a: np.where(c, a, 0.0), [(3, 4)], torch_fn=None)
    out = pydl.where(pydl.tensor([True, False]), pydl.tensor([1, 2]), pydl.tensor([1.5, 2.5]))
    assert out.dtype == pydl.float32
    np.testing.assert_allclose(out.numpy(), [1.0, 2.5])
    with pytest.raises(TypeError, match=r"^\[where\].*bool"):
        pydl.where(pydl.tensor([1.0]), pydl.tensor([1.0]), pydl.tensor([2.0]))
    with pytest.raises(ValueError, match=r"^\[where\].*\(3,\).*\(2,\)"):
        pydl.where(pydl.tensor([True, False, True]), pydl.tensor([1.0, 2.0]), 0.0)


def test_binary_shape_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"^\[add\] shapes \(3, 4\) and \(3,\) cannot be broadcast"):
        pydl.zeros(3, 4) + pydl.zeros(3)
    with pytest.raises(ValueError, match=r"^\[mul\].*\(2, 3\).*\(4,\)"):
        pydl.zeros(2, 3) * pydl.zeros(4)


def test_binary_with_unsupported_object_raises_typeerror():
    with pytest.raises(TypeError):
        pydl.zeros(2) + "a"
    with pytest.raises(TypeError):
        pydl.zeros(2) * object()


# ---- reductions ----------------------------------------------------------------------

DIMS = [None, 0, 1, -1, (0, 2), (0, 1, 2), (-1, 0)]


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean(dim, keepdim):
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    npkw = {"axis": dim, "keepdims": keepdim if dim is not None else False}
    check(lambda a: a.sum(**kw), lambda a: np.sum(a, **npkw), [(2, 3, 4)], rtol=1e-5, atol=1e-5)
    check(lambda a: a.mean(**kw), lambda a: np.mean(a, **npkw), [(2, 3, 4)], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["sum", "mean", "prod"])
def test_reduction_dtype(name):
    # dtype= converts the input first (torch's rule), here int64 -> float64, with the gradient through the cast
    a = np.arange(1, 13).reshape(3, 4)
    dim = 1 if name == "prod" else (0, 1)
    out = getattr(pydl, name)(pydl.tensor(a), dim, dtype=pydl.float64)
    assert out.dtype == pydl.float64
    np.testing.assert_allclose(out.numpy(), getattr(np, name)(a.astype(np.float64), axis=dim))
    x = pydl.tensor(a.astype(np.float32), requires_grad=True)
    getattr(x, name)(dim, dtype=pydl.float64).sum().backward()
    assert x.grad.dtype == pydl.float32 and x.grad.shape == x.shape


def test_reductions_from_the_table():
    # each reduction of csrc/ops/reduce_ops.h is pydl.<name> and Tensor.<name>, forms with torch's keywords
    assert {n for n, _ in pydl._C._reductions} >= {"sum", "mean", "prod", "amax", "amin", "argmax", "var", "logsumexp"}
    x = pydl.tensor(np.arange(6.0).reshape(2, 3))
    for name, _ in pydl._C._reductions:
        npfn = getattr(np, {"amax": "max", "amin": "min", "logsumexp": "max"}.get(name, name))
        ref = npfn(x.numpy(), axis=1, **({"ddof": 1} if name in ("var", "std") else {}))
        if name == "logsumexp":
            ref = ref + np.log(np.sum(np.exp(x.numpy() - ref[:, None]), axis=1))
        np.testing.assert_allclose(getattr(pydl, name)(x, 1).numpy(), ref, rtol=1e-6)
        np.testing.assert_allclose(getattr(x, name)(1).numpy(), getattr(pydl, name)(x, 1).numpy())
    np.testing.assert_allclose(pydl._C.mean(x, dim=[1], keepdim=True).numpy(), [[1.0], [4.0]])
    with pytest.raises(TypeError, match=r"\[amax\].*dtype"):
        pydl.amax(x, 0, dtype=pydl.float64)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 2), (-1, 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_var_std(dim, keepdim):
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    npkw = {"axis": dim, "keepdims": keepdim if dim is not None else False}
    check(lambda a: a.var(**kw), lambda a: np.var(a, ddof=1, **npkw), [(2, 3, 4)], rtol=1e-5, atol=1e-5)
    check(lambda a: a.std(**kw), lambda a: np.std(a, ddof=1, **npkw), [(2, 3, 4)], rtol=1e-5, atol=1e-5)
    check(lambda a: a.var(**kw, correction=0), lambda a: np.var(a, **npkw), [(2, 3, 4)], rtol=1e-5, atol=1e-5,
          torch_fn=None)


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod(dim, keepdim):
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    npkw = {"axis": dim, "keepdims": keepdim if dim is not None else False}
    check(lambda a: a.prod(**kw), lambda a: np.prod(a, **npkw), [(3, 4)], low=0.5, high=1.5)


def test_prod_grad_with_zeros():
    # one zero in a row: the gradient at it is the product of the others; two zeros: all zero
    x = pydl.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]], dtype=pydl.float64, requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


@pytest.mark.parametrize("dim", [(), 0, 1, (0, 1), -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_amax_amin_logsumexp(dim, keepdim):
    npdim = None if dim == () else dim
    kp = keepdim if dim != () else False
    check(lambda a: a.amax(dim, kp), lambda a: np.amax(a, axis=npdim, keepdims=kp), [(3, 4)])
    check(lambda a: a.amin(dim, kp), lambda a: np.amin(a, axis=npdim, keepdims=kp), [(3, 4)])
    if dim != ():
        def np_lse(a):
            m = np.max(a, axis=npdim, keepdims=True)
            r = np.log(np.sum(np.exp(a - m), axis=npdim, keepdims=True)) + m
            return r if keepdim else np.squeeze(r, axis=npdim)
        check(lambda a: a.logsumexp(dim, keepdim), np_lse, [(3, 4)])


def test_logsumexp_large_values_are_stable():
    x = pydl.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]])
    np.testing.assert_allclose(x.logsumexp(1).numpy(), [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)


def test_max_min_no_dim():
    check(lambda a: a.max(), np.max, [(3, 4)])
    check(lambda a: a.min(), np.min, [(3, 4)])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_values_indices(dim, keepdim):
    a = make_inputs([(3, 4)])[0]
    for name, npv, npi in [("max", np.max, np.argmax), ("min", np.min, np.argmin)]:
        v, i = getattr(pydl.tensor(a), name)(dim, keepdim)
        np.testing.assert_array_equal(v.numpy(), npv(a, axis=dim, keepdims=keepdim))
        np.testing.assert_array_equal(i.numpy(), np.expand_dims(npi(a, axis=dim), dim) if keepdim else npi(a, axis=dim))
        assert i.dtype == pydl.int64
        r = getattr(pydl.tensor(a), name)(dim=dim, keepdim=keepdim)
        np.testing.assert_array_equal(r.values.numpy(), v.numpy())
        check(lambda x: getattr(x, name)(dim, keepdim)[0], lambda x: npv(x, axis=dim, keepdims=keepdim), [(3, 4)])


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_argmax_argmin(dim):
    a = make_inputs([(3, 4)])[0]
    np.testing.assert_array_equal(pydl.tensor(a).argmax(dim).numpy(), np.argmax(a, axis=dim))
    np.testing.assert_array_equal(pydl.tensor(a).argmin(dim).numpy(), np.argmin(a, axis=dim))
    at = pydl.tensor(a).T
    np.testing.assert_array_equal(at.argmax(dim).numpy(), np.argmax(a.T, axis=dim))
    if dim is not None:
        np.testing.assert_array_equal(pydl.tensor(a).argmax(dim, keepdim=True).numpy(),
                                      np.argmax(a, axis=dim, keepdims=True))


def test_argmax_keepdim_no_dim():
    torch = pytest.importorskip("torch")
    a = make_inputs([(3, 4)])[0]
    assert tuple(pydl.tensor(a).argmax(keepdim=True).shape) == tuple(torch.tensor(a).argmax(keepdim=True).shape)


def test_reductions_int_and_bool():
    x = pydl.tensor([[1, 2], [3, 4]])
    assert x.sum().dtype == pydl.int64 and x.sum().item() == 10
    assert pydl.tensor([True, True, False]).sum().item() == 2
    assert x.prod().item() == 24
    assert x.max().item() == 4
    with pytest.raises(TypeError, match=r"^\[mean\]"):
        x.mean()


def test_reductions_on_empty_and_0d():
    e = pydl.zeros(0, 3)
    np.testing.assert_array_equal(e.sum(0).numpy(), np.zeros(3))
    assert e.sum().item() == 0.0
    assert np.isnan(e.mean().item())
    assert e.prod().item() == 1.0
    with pytest.raises((RuntimeError, ValueError, IndexError), match=r"^\[(amax|max)\]"):
        e.max()
    with pytest.raises((RuntimeError, ValueError, IndexError), match=r"^\[max\]"):
        e.max(0)
    with pytest.raises((RuntimeError, ValueError, IndexError), match=r"^\[argmax\]"):
        e.argmax()
    s = pydl.tensor(3.0)
    assert s.sum().item() == 3.0 and s.sum(0).item() == 3.0 and s.mean(-1).item() == 3.0
    assert s.max().item() == 3.0 and s.argmax().item() == 0
    v, i = s.max(0)
    assert v.item() == 3.0 and i.item() == 0


def test_reduction_dim_errors():
    x = pydl.zeros(2, 3)
    with pytest.raises(IndexError, match=r"^\[sum\] dimension out of range"):
        x.sum(2)
    with pytest.raises(ValueError, match=r"^\[sum\].*multiple times"):
        x.sum((0, 0))
    with pytest.raises(ValueError, match=r"^\[sum\].*multiple times"):
        x.sum((1, -1))


# ---- matmul --------------------------------------------------------------------------

MM_SHAPES = [
    [(4,), (4,)], [(3, 4), (4,)], [(4,), (4, 5)], [(3, 4), (4, 5)], [(2, 3, 4), (4, 5)], [(4,), (2, 4, 5)],
    [(2, 3, 4), (4,)], [(2, 1, 3, 4), (5, 4, 2)], [(1, 3, 4), (2, 4, 5)], [(2, 3, 4), (2, 4, 5)],
]


@pytest.mark.parametrize("shapes", MM_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul(shapes, dtype):
    check(lambda a, b: a @ b, np.matmul, shapes, dtype=dtype, rtol=1e-5, atol=1e-5)


def test_matmul_transposed_operands_and_functional():
    check(lambda a, b: pydl.matmul(a.T, b), lambda a, b: a.T @ b, [(4, 3), (4, 5)], torch_fn=lambda a, b: a.T @ b)
    check(lambda a, b: a @ b.T, lambda a, b: a @ b.T, [(3, 4), (5, 4)])
    check(lambda a, b: a.transpose(1, 2) @ b.mT, lambda a, b: a.transpose(0, 2, 1) @ b.transpose(0, 2, 1),
          [(2, 4, 3), (2, 5, 4)])
    check(lambda a, b: pydl.mm(a, b), np.matmul, [(3, 4), (4, 2)], torch_fn=None)
    check(lambda a, b: pydl.bmm(a, b), np.matmul, [(2, 3, 4), (2, 4, 2)], torch_fn=None)
    check(lambda a, b: pydl.dot(a, b), np.dot, [(5,), (5,)], torch_fn=None)


def test_matmul_large_matches_numpy():
    a, b = make_inputs([(64, 130), (130, 70)])
    np.testing.assert_allclose((pydl.tensor(a) @ pydl.tensor(b)).numpy(), a @ b, rtol=1e-4, atol=1e-4)


def test_matmul_empty():
    np.testing.assert_array_equal((pydl.zeros(3, 0) @ pydl.zeros(0, 4)).numpy(), np.zeros((3, 4)))
    assert tuple((pydl.zeros(0, 3) @ pydl.zeros(3, 4)).shape) == (0, 4)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"^\[matmul\] shapes \(64, 784\) and \(128, 10\) cannot be multiplied$"):
        pydl.zeros(64, 784) @ pydl.zeros(128, 10)
    with pytest.raises(ValueError, match=r"^\[matmul\].*\(3,\).*\(4,\)"):
        pydl.zeros(3) @ pydl.zeros(4)
    with pytest.raises(ValueError, match=r"^\[matmul\]"):
        pydl.tensor(1.0) @ pydl.zeros(3)
    with pytest.raises(TypeError, match=r"^\[matmul\].*float32.*float64"):
        pydl.zeros(2, 2) @ pydl.zeros(2, 2, dtype=pydl.float64)
    with pytest.raises(ValueError, match=r"^\[matmul\]"):
        pydl.zeros(2, 3, 4) @ pydl.zeros(3, 4, 5)


def test_matmul_int64():
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal((pydl.tensor(a) @ pydl.tensor(b)).numpy(), a @ b)


# ---- views ---------------------------------------------------------------------------

def _base():
    return pydl.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))


VIEWS = [
    ("reshape", lambda t: t.reshape(6, 4), lambda a: a.reshape(6, 4)),
    ("reshape-1", lambda t: t.reshape(-1, 2), lambda a: a.reshape(-1, 2)),
    ("view", lambda t: t.view(4, 6), lambda a: a.reshape(4, 6)),
    ("view-tuple", lambda t: t.view((24,)), lambda a: a.reshape(24)),
    ("flatten", lambda t: t.flatten(), lambda a: a.reshape(-1)),
    ("flatten12", lambda t: t.flatten(1), lambda a: a.reshape(2, 12)),
    ("unsqueeze", lambda t: t.unsqueeze(1), lambda a: a[:, None]),
    ("unsqueeze-1", lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    ("squeeze", lambda t: t.unsqueeze(0).squeeze(), lambda a: a),
    ("squeeze-dim", lambda t: t.unsqueeze(2).squeeze(2), lambda a: a),
    ("transpose", lambda t: t.transpose(0, 2), lambda a: a.transpose(2, 1, 0)),
    ("T", lambda t: t.T, lambda a: a.T),
    ("permute", lambda t: t.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    ("permute-list", lambda t: t.permute([2, 0, 1]), lambda a: a.transpose(2, 0, 1)),
    ("expand", lambda t: t[0:1] if False else t.reshape(2, 3, 4, 1).expand(2, 3, 4, 5), lambda a: np.broadcast_to(a[..., None], (2, 3, 4, 5))),
    ("expand-new", lambda t: t.expand(3, -1, -1, -1), lambda a: np.broadcast_to(a, (3, 2, 3, 4))),
]


@pytest.mark.parametrize("name, fn, npfn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_values_and_shared_storage(name, fn, npfn):
    base = _base()
    a = base.numpy().copy()
    v = fn(base)
    np.testing.assert_array_equal(v.numpy(), npfn(a))
    # writing through the base is seen by the view, and the other way round
    base.add_(100.0)
    np.testing.assert_array_equal(v.numpy(), npfn(a + 100))
    if name.startswith("expand"):
        return  # an expanded view is not writable element by element
    v.mul_(2.0)
    np.testing.assert_array_equal(base.numpy(), (a + 100) * 2)


@pytest.mark.filterwarnings("ignore:The use of `x.T`")  # torch deprecates .T on 3-D tensors; pydl reverses dims
@pytest.mark.parametrize("name, fn, npfn", VIEWS, ids=[v[0] for v in VIEWS])
def test_views_grad(name, fn, npfn):
    check(fn, npfn, [(2, 3, 4)], noncontig=False)


def test_reshape_of_noncontiguous_copies_view_raises():
    t = _base().transpose(0, 2)
    r = t.reshape(-1)
    np.testing.assert_array_equal(r.numpy(), _base().numpy().transpose(2, 1, 0).reshape(-1))
    with pytest.raises(RuntimeError, match=r"^\[view\]"):
        t.view(-1)
    check(lambda x: x.T.reshape(-1), lambda x: x.T.reshape(-1), [(3, 4)], noncontig=False)


def test_contiguous():
    t = _base().permute(2, 0, 1)
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous()
    np.testing.assert_array_equal(c.numpy(), _base().numpy().transpose(2, 0, 1))
    x = _base()
    assert x.contiguous().data_ptr() == x.data_ptr()
    check(lambda x: x.T.contiguous(), lambda x: x.T, [(3, 4)], noncontig=False)


def test_view_errors():
    x = _base()
    with pytest.raises(ValueError, match=r"^\[(view|reshape)\].*invalid for input of size 24"):
        x.view(5, 5)
    with pytest.raises(ValueError, match=r"^\[reshape\].*only one dimension can be inferred"):
        x.reshape(-1, -1)
    with pytest.raises(IndexError, match=r"^\[transpose\] dimension out of range"):
        x.transpose(0, 3)
    with pytest.raises(ValueError, match=r"^\[permute\]"):
        x.permute(0, 1)
    with pytest.raises(ValueError, match=r"^\[permute\].*repeated"):
        x.permute(0, 1, 1)
    with pytest.raises(ValueError, match=r"^\[expand\]"):
        x.expand(3, 3, 4)
    with pytest.raises(IndexError, match=r"^\[unsqueeze\]"):
        x.unsqueeze(4)
    with pytest.raises(ValueError, match=r"^\[flatten\]"):
        x.flatten(2, 1)


def test_squeeze_non_unit_dim_is_noop_like_torch():
    x = pydl.zeros(2, 1, 3)
    assert tuple(x.squeeze(0).shape) == (2, 1, 3)
    assert tuple(x.squeeze(1).shape) == (2, 3)
    assert tuple(x.squeeze((0, 1)).shape) == (2, 3)


def test_views_of_0d_and_empty():
    s = pydl.tensor(5.0)
    assert tuple(s.reshape(1, 1).shape) == (1, 1)
    assert tuple(s.unsqueeze(0).shape) == (1,)
    assert tuple(s.flatten().shape) == (1,)
    assert tuple(s.T.shape) == ()
    e = pydl.zeros(0, 4)
    assert tuple(e.reshape(4, 0).shape) == (4, 0)
    assert tuple(e.T.shape) == (4, 0)
    assert tuple(e.reshape(-1, 2).shape) == (0, 2)
    with pytest.raises(ValueError):
        e.reshape(-1, 0)


# ---- cat / stack / split / chunk ------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    shapes = [(2, 3), (2, 3), (2, 3)]
    shapes = [tuple(s if i != (dim % 2) else k + 1 for i, s in enumerate(sh)) for k, sh in enumerate(shapes)]
    check(lambda *xs: pydl.cat(xs, dim), lambda *xs: np.concatenate(xs, axis=dim), shapes,
          torch_fn=lambda *xs: __import__("torch").cat(xs, dim))


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    check(lambda *xs: pydl.stack(xs, dim), lambda *xs: np.stack(xs, axis=dim), [(2, 3)] * 3,
          torch_fn=lambda *xs: __import__("torch").stack(xs, dim))


def test_cat_mixed_dtypes_and_empty():
    out = pydl.cat([pydl.tensor([1, 2]), pydl.tensor([0.5])])
    assert out.dtype == pydl.float32
    np.testing.assert_allclose(out.numpy(), [1, 2, 0.5])
    out = pydl.cat([pydl.zeros(0, 3), pydl.ones(2, 3)])
    np.testing.assert_array_equal(out.numpy(), np.ones((2, 3)))


def test_cat_stack_errors():
    with pytest.raises(ValueError, match=r"^\[cat\].*\(2, 3\).*\(2, 4\)"):
        pydl.cat([pydl.zeros(2, 3), pydl.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"^\[cat\]"):
        pydl.cat([])
    with pytest.raises(ValueError, match=r"^\[cat\]"):
        pydl.cat([pydl.zeros(2), pydl.zeros(2, 2)])
    with pytest.raises(ValueError, match=r"^\[stack\].*\(2,\).*\(3,\)"):
        pydl.stack([pydl.zeros(2), pydl.zeros(3)])
    with pytest.raises(IndexError, match=r"^\[cat\]"):
        pydl.cat([pydl.zeros(2), pydl.zeros(2)], dim=1)


@pytest.mark.parametrize("arg, dim", [(2, 0), (3, 1), ([1, 3], 1), ([2, 0, 3], 0)])
def test_split(arg, dim):
    a = make_inputs([(5, 4)])[0]
    parts = pydl.tensor(a).split(arg, dim)
    sections = np.cumsum(arg)[:-1] if isinstance(arg, list) else list(range(arg, a.shape[dim], arg))
    want = np.split(a, sections, axis=dim)
    assert len(parts) == len(want)
    for p, w in zip(parts, want):
        np.testing.assert_array_equal(p.numpy(), w)
    check(lambda x: pydl.cat([p * (i + 1) for i, p in enumerate(x.split(arg, dim))], dim),
          lambda x: np.concatenate([p * (i + 1) for i, p in enumerate(np.split(x, sections, axis=dim))], axis=dim),
          [(5, 4)], torch_fn=None)


def test_split_shares_storage_and_errors():
    x = pydl.zeros(4, 2)
    p = x.split(2)[1]
    p.fill_(7.0)
    np.testing.assert_array_equal(x.numpy(), [[0, 0], [0, 0], [7, 7], [7, 7]])
    with pytest.raises(ValueError, match=r"^\[split\].*sum"):
        x.split([1, 2])
    with pytest.raises(ValueError, match=r"^\[split\]"):
        x.split(0)


@pytest.mark.parametrize("n, chunks", [(6, 3), (7, 3), (5, 2), (2, 4), (1, 1)])
def test_chunk(n, chunks):
    torch = pytest.importorskip("torch")
    a = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    got = pydl.tensor(a).chunk(chunks)
    want = torch.tensor(a).chunk(chunks)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_chunk_values_without_torch():
    a = np.arange(7, dtype=np.float32)
    got = [p.numpy().tolist() for p in pydl.tensor(a).chunk(3)]
    assert got == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match=r"^\[chunk\]"):
        pydl.tensor(a).chunk(0)


# ---- in place ops --------------------------------------------------------------------

def test_inplace_ops_values():
    a = make_inputs([(3, 4)])[0]
    x = pydl.tensor(a)
    x += 1
    x *= 2
    x -= pydl.tensor(a)
    x /= 4
    np.testing.assert_allclose(x.numpy(), ((a + 1) * 2 - a) / 4, rtol=1e-6)
    x.clamp_(0, 1)
    np.testing.assert_allclose(x.numpy(), np.clip(((a + 1) * 2 - a) / 4, 0, 1), rtol=1e-6)
    x.zero_()
    assert x.abs().sum().item() == 0


def test_inplace_dtype_and_shape_errors():
    x = pydl.zeros(3, dtype=pydl.int64)
    with pytest.raises(TypeError, match=r"^\[(add_|inplace)\].*float32.*int64"):
        x += 1.5
    with pytest.raises(ValueError, match=r"^\[add_\].*\(3,\).*\(2, 3\)"):
        x.add_(pydl.zeros(2, 3, dtype=pydl.int64))
    with pytest.raises(TypeError, match=r"^\[div_\]"):
        x /= 2


# ---- regressions: each of these once gave a silent wrong answer ---------------------------

def test_inplace_into_expanded_tensor_raises():
    x = pydl.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match=r"^\[add_\].*single memory location"):
        x.add_(pydl.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match=r"^\[copy_\].*single memory location"):
        pydl.zeros(2, 1).expand(2, 3).copy_(pydl.ones(2, 3))
    base = pydl.zeros(1)
    base.expand(3).fill_(2.0)  # one value for every element is fine, as in torch
    assert base.tolist() == [2.0]


def test_integer_division_by_zero_raises():
    with pytest.raises(RuntimeError, match=r"^\[floor_divide\] ZeroDivisionError"):
        pydl.tensor([1, 2]) // pydl.tensor([1, 0])
    with pytest.raises(RuntimeError, match=r"^\[remainder\] ZeroDivisionError"):
        pydl.tensor([1, 2]) % 0
    assert (pydl.tensor([1.0]) // 0).tolist() == [float("inf")]  # floats follow IEEE
    np.testing.assert_array_equal((pydl.tensor([-7, 7, 9]) // pydl.tensor([2, -2, 3])).numpy(), [-4, -4, 3])


def test_neg_of_bool_raises():
    with pytest.raises(TypeError, match=r"^\[neg\]"):
        -pydl.tensor([True, False])
    assert (~pydl.tensor([True, False])).tolist() == [False, True]


def test_clamp_int_tensor_with_float_bounds_promotes():
    out = pydl.tensor([1, 5]).clamp(1.5, 3.5)
    assert out.dtype == pydl.float32 and out.tolist() == [1.5, 3.5]
    out = pydl.tensor([1, 5]).clamp(2, 3)
    assert out.dtype == pydl.int64 and out.tolist() == [2, 3]


def test_view_numel_overflow_raises():
    with pytest.raises(ValueError, match=r"^\[view\]"):
        pydl.tensor(1.0).expand(2**40, 2**40)
    with pytest.raises(ValueError, match=r"^\[reshape\]"):
        pydl.zeros(0).reshape(2**32, 2**32, 0, -1)
    with pytest.raises(ValueError, match=r"^\[reshape\]"):
        pydl.zeros(0).reshape(2**32, 2**32)


@pytest.mark.xfail(strict=True, reason="in-place ops on views of tensors in the autograd graph are not supported yet")
def test_inplace_on_view_of_nonleaf_is_differentiable():
    x = pydl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.view(3).mul_(x)  # y = 2 x^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0, 12.0])


def test_int_to_negative_int_power_raises():
    with pytest.raises(ValueError, match=r"^\[pow\].*negative"):
        pydl.tensor([2, 3]) ** -1
    with pytest.raises(ValueError, match=r"^\[pow\].*negative"):
        pydl.pow(pydl.tensor([2, 3]), -2)
    with pytest.raises(ValueError, match=r"^\[pow\].*negative"):
        pydl.tensor([2, 3]) ** pydl.tensor([1, -1])
    assert (pydl.tensor([2, 3]) ** 2).tolist() == [4, 9]
    assert (pydl.tensor([2.0]) ** -1).tolist() == [0.5]
    assert (pydl.tensor([2]) ** -1.0).tolist() == [0.5]
    assert (2 ** pydl.tensor([0, 3])).tolist() == [1, 8]


def test_integer_floor_divide_and_remainder_are_exact():
    a = np.array([10**9 + 1, 2**40 + 3, -7, 123456789, 2**62 + 5], dtype=np.int64)
    for d in (1, 3, -4, 1000):
        np.testing.assert_array_equal((pydl.tensor(a) // d).numpy(), a // d)
        np.testing.assert_array_equal((pydl.tensor(a) % d).numpy(), a % d)
    b = np.array([7, -3, 5, -11, 2], dtype=np.int64)
    np.testing.assert_array_equal((pydl.tensor(a) // pydl.tensor(b)).numpy(), a // b)
    np.testing.assert_array_equal((100 // pydl.tensor(b)).numpy(), 100 // b)
    check(lambda x, y: x // y, np.floor_divide, [(3, 4), (4,)], low=0.5, high=3.0, grad=False)
