"""Tensor creation, attributes, conversions and zero-copy interop with NumPy."""
import gc
import weakref

import numpy as np
import pytest

import pydl


# ---- creation ------------------------------------------------------------------------

@pytest.mark.parametrize("data, dtype, shape", [
    (1.5, pydl.float32, ()), (3, pydl.int64, ()), (True, pydl.bool, ()),
    ([1.0, 2.0], pydl.float32, (2,)), ([[1, 2], [3, 4]], pydl.int64, (2, 2)), ([True, False], pydl.bool, (2,)),
    ([1, 2.5], pydl.float32, (2,)), ([], pydl.float32, (0,)),
    (np.zeros((2, 3)), pydl.float64, (2, 3)), (np.zeros(3, dtype=np.float32), pydl.float32, (3,)),
    (np.arange(3), pydl.int64, (3,)), (np.arange(3, dtype=np.int32), pydl.int64, (3,)),
    (np.array([True]), pydl.bool, (1,)), (np.float64(2.0), pydl.float64, ()),
])
def test_tensor_dtype_inference(data, dtype, shape):
    t = pydl.tensor(data)
    assert t.dtype == dtype
    assert tuple(t.shape) == shape
    np.testing.assert_array_equal(t.numpy(), np.asarray(data).astype(t.numpy().dtype))


def test_tensor_dtype_inference_matches_torch():
    torch = pytest.importorskip("torch")
    for data in [1.5, 3, True, [1.0, 2.0], [[1, 2]], [True], [1, 2.5], np.zeros(2), np.arange(2)]:
        assert str(pydl.tensor(data).dtype).split(".")[1] == str(torch.tensor(data).dtype).split(".")[1], data
        assert tuple(pydl.tensor(data).shape) == tuple(torch.tensor(data).shape), data


def test_tensor_copies_and_explicit_dtype():
    a = np.ones(3, dtype=np.float32)
    t = pydl.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 1
    t = pydl.tensor([1, 2], dtype=pydl.float64)
    assert t.dtype == pydl.float64
    assert pydl.tensor([1.7, -1.7], dtype=pydl.int64).tolist() == [1, -1]
    t2 = pydl.tensor(t)
    t2.add_(1)
    assert t.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match=r"^\[tensor\]"):
        pydl.tensor("abc")
    with pytest.raises((TypeError, ValueError)):
        pydl.tensor([[1, 2], [3]])


def test_factories():
    np.testing.assert_array_equal(pydl.zeros(2, 3).numpy(), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(pydl.zeros((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(pydl.ones([4], dtype=pydl.int64).numpy(), np.ones(4, np.int64))
    assert pydl.ones(2).dtype == pydl.float32 and pydl.ones(2, dtype=pydl.float64).dtype == pydl.float64
    np.testing.assert_array_equal(pydl.full((2, 2), 7.5).numpy(), np.full((2, 2), 7.5))
    assert pydl.full((2,), 3).dtype == pydl.int64
    assert pydl.full((2,), True).dtype == pydl.bool
    assert pydl.full(3, 1.0).shape == (3,)
    e = pydl.empty(3, 4)
    assert tuple(e.shape) == (3, 4) and e.dtype == pydl.float32
    assert tuple(pydl.zeros(()).shape) == () and pydl.zeros(()).item() == 0.0
    assert tuple(pydl.zeros(0, 5).shape) == (0, 5)


@pytest.mark.parametrize("args, kw", [((5,), {}), ((2, 10, 3), {}), ((0, 1, 0.25), {}), ((1.5,), {}), ((5, 0, -1), {}),
                                      ((0, 10, 3), {"dtype": pydl.float64}), ((3,), {"dtype": pydl.float32})])
def test_arange(args, kw):
    t = pydl.arange(*args, **kw)
    want = np.arange(*args)
    np.testing.assert_allclose(t.numpy(), want)
    expect = kw.get("dtype", pydl.int64 if all(isinstance(a, int) for a in args) else pydl.float32)
    assert t.dtype == expect


def test_arange_errors():
    with pytest.raises(ValueError, match=r"^\[arange\]"):
        pydl.arange(0, 10, 0)
    with pytest.raises(ValueError, match=r"^\[arange\]"):
        pydl.arange(10, 0, 1)
    with pytest.raises(ValueError, match=r"^\[arange\]"):
        pydl.arange(0, float("inf"))


@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-2, 3, 7), (1, 1, 3), (0, 1, 1), (0, 1, 0), (3, -3, 4)])
def test_linspace(start, end, steps):
    t = pydl.linspace(start, end, steps)
    np.testing.assert_allclose(t.numpy(), np.linspace(start, end, steps), rtol=1e-6, atol=1e-6)
    assert t.dtype == pydl.float32
    if steps > 1:
        assert t.numpy()[-1] == np.float32(end)


def test_eye():
    np.testing.assert_array_equal(pydl.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(pydl.eye(2, 4).numpy(), np.eye(2, 4))
    np.testing.assert_array_equal(pydl.eye(3, dtype=pydl.int64).numpy(), np.eye(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"^\[eye\]"):
        pydl.eye(-1)


def test_random_factories_and_seed():
    pydl.manual_seed(123)
    a, b, c, d = pydl.rand(1000), pydl.randn(2000), pydl.randint(0, 5, (1000,)), pydl.randperm(50)
    pydl.manual_seed(123)
    np.testing.assert_array_equal(a.numpy(), pydl.rand(1000).numpy())
    np.testing.assert_array_equal(b.numpy(), pydl.randn(2000).numpy())
    np.testing.assert_array_equal(c.numpy(), pydl.randint(0, 5, (1000,)).numpy())
    np.testing.assert_array_equal(d.numpy(), pydl.randperm(50).numpy())
    assert pydl.initial_seed() == 123
    an = a.numpy()
    assert an.min() >= 0 and an.max() < 1 and 0.4 < an.mean() < 0.6
    bn = b.numpy()
    assert abs(bn.mean()) < 0.1 and 0.9 < bn.std() < 1.1
    cn = c.numpy()
    assert c.dtype == pydl.int64 and set(cn.tolist()) == {0, 1, 2, 3, 4}
    assert sorted(d.numpy().tolist()) == list(range(50)) and d.dtype == pydl.int64
    assert not np.array_equal(pydl.rand(1000).numpy(), an)  # the stream moves on
    assert pydl.randint(3, (2, 2)).numpy().max() < 3
    assert pydl.rand(2, 3, dtype=pydl.float64).dtype == pydl.float64
    with pytest.raises(ValueError, match=r"^\[randint\]"):
        pydl.randint(5, 5, (2,))
    with pytest.raises(ValueError, match=r"^\[randperm\]"):
        pydl.randperm(-1)


def test_like_factories():
    x = pydl.tensor([[1, 2, 3]], dtype=pydl.float64)
    for f, val in [(pydl.zeros_like, 0.0), (pydl.ones_like, 1.0)]:
        y = f(x)
        assert y.dtype == pydl.float64 and tuple(y.shape) == (1, 3)
        np.testing.assert_array_equal(y.numpy(), np.full((1, 3), val))
    y = pydl.full_like(x, 4)
    assert y.dtype == pydl.float64 and y.tolist() == [[4.0, 4.0, 4.0]]
    for f in (pydl.empty_like, pydl.rand_like, pydl.randn_like):
        y = f(x)
        assert y.dtype == pydl.float64 and tuple(y.shape) == (1, 3)
    assert pydl.zeros_like(x, dtype=pydl.int64).dtype == pydl.int64
    y = pydl.randint_like(pydl.zeros(50, dtype=pydl.int64), 0, 3)
    assert y.dtype == pydl.int64 and 0 <= y.numpy().min() and y.numpy().max() < 3


# ---- attributes ----------------------------------------------------------------------

def test_attributes():
    x = pydl.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24 and len(x) == 2
    assert x.stride() == (12, 4, 1) and x.stride(0) == 12
    assert x.element_size() == 4 and x.itemsize == 4 and x.nbytes == 96
    assert x.is_contiguous() and not x.transpose(0, 1).is_contiguous()
    assert x.is_floating_point() and not pydl.zeros(1, dtype=pydl.int64).is_floating_point()
    assert x.is_leaf and not x.requires_grad and x.grad is None and x.grad_fn is None
    assert x.device == pydl.device("cpu") and str(x.device) == "cpu"
    assert x[0].storage_offset() == 0 if False else x.transpose(0, 1).storage_offset() == 0
    with pytest.raises(IndexError, match=r"^\[size\]"):
        x.size(3)
    with pytest.raises(TypeError):
        len(pydl.tensor(1.0))


# ---- NumPy interop -------------------------------------------------------------------

@pytest.mark.parametrize("npdt", [np.float32, np.float64, np.int64, np.bool_])
def test_from_numpy_shares_memory(npdt):
    a = np.zeros((2, 3), dtype=npdt)
    t = pydl.from_numpy(a)
    assert t.dtype == pydl._C._parse_dtype(np.dtype(npdt))
    a[1, 2] = 1
    assert t.numpy()[1, 2] == 1
    t.fill_(1)
    assert a.all()
    assert t.data_ptr() == a.ctypes.data


def test_from_numpy_noncontiguous_and_errors():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    t = pydl.from_numpy(a.T)
    np.testing.assert_array_equal(t.numpy(), a.T)
    assert not t.is_contiguous()
    t2 = pydl.from_numpy(a[:, ::2])
    np.testing.assert_array_equal((t2 * 1).numpy(), a[:, ::2])
    with pytest.raises(TypeError, match=r"^\[from_numpy\].*int32"):
        pydl.from_numpy(np.zeros(3, dtype=np.int32))
    with pytest.raises(ValueError, match=r"^\[from_numpy\].*negative"):
        pydl.from_numpy(a[::-1])
    with pytest.raises(TypeError, match=r"^\[from_numpy\]"):
        pydl.from_numpy([1, 2])


def test_from_numpy_keeps_array_alive():
    a = np.arange(5, dtype=np.float64)
    t = pydl.from_numpy(a)
    del a
    gc.collect()
    assert t.tolist() == [0, 1, 2, 3, 4]


def test_numpy_shares_memory_and_keeps_tensor_alive():
    t = pydl.arange(6, dtype=pydl.float32).reshape(2, 3)
    a = t.numpy()
    t.add_(1)
    np.testing.assert_array_equal(a, np.arange(1, 7).reshape(2, 3))
    a[0, 0] = 100
    assert t.tolist()[0][0] == 100
    ref = weakref.ref(t) if hasattr(t, "__weakref__") else None
    del t
    gc.collect()
    np.testing.assert_array_equal(a, [[100, 2, 3], [4, 5, 6]])  # still valid memory
    _ = [pydl.full((2, 3), 9.0) for _ in range(10)]  # reuse of freed blocks must not clobber it
    np.testing.assert_array_equal(a, [[100, 2, 3], [4, 5, 6]])
    del ref


def test_numpy_of_views_and_requires_grad():
    t = pydl.arange(12, dtype=pydl.float64).reshape(3, 4)
    np.testing.assert_array_equal(t.T.numpy(), np.arange(12).reshape(3, 4).T)
    v = t.T.numpy()
    v[0, 1] = -1
    assert t.tolist()[1][0] == -1
    x = pydl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [1, 1]


def test_buffer_protocol_and_array():
    t = pydl.arange(6, dtype=pydl.float64).reshape(2, 3)
    m = np.asarray(memoryview(t))
    np.testing.assert_array_equal(m, np.arange(6).reshape(2, 3))
    m[0, 0] = 42
    assert t.tolist()[0][0] == 42
    for dt in (pydl.float32, pydl.int64, pydl.bool):
        x = pydl.ones(3, dtype=dt)
        np.testing.assert_array_equal(np.asarray(memoryview(x)), np.ones(3, dtype=np.asarray(memoryview(x)).dtype))
    a = np.asarray(t)
    a[1, 1] = -5
    assert t.tolist()[1][1] == -5
    assert np.array(t, dtype=np.int32).dtype == np.int32
    tt = pydl.arange(6, dtype=pydl.float32).reshape(2, 3).T
    np.testing.assert_array_equal(np.asarray(memoryview(tt)), np.arange(6).reshape(2, 3).T)


def test_dlpack_round_trips():
    t = pydl.arange(6, dtype=pydl.float32).reshape(2, 3)
    a = np.from_dlpack(t)
    np.testing.assert_array_equal(a, np.arange(6).reshape(2, 3))
    t.fill_(9)  # NumPy marks DLPack imports read-only: write through the tensor
    assert a[0, 1] == 9 and a.sum() == 54
    n = np.arange(8, dtype=np.float64).reshape(2, 4)
    p = pydl.from_dlpack(n)
    assert p.dtype == pydl.float64
    np.testing.assert_array_equal(p.numpy(), n)
    n[1, 3] = -1
    assert p.tolist()[1][3] == -1
    # views keep their geometry
    v = np.from_dlpack(pydl.arange(12, dtype=pydl.int64).reshape(3, 4).T)
    np.testing.assert_array_equal(v, np.arange(12).reshape(3, 4).T)
    s = pydl.arange(10, dtype=pydl.float64)
    np.testing.assert_array_equal(np.from_dlpack(pydl._C.slice(s, 0, 3, 9, 2)), [3, 5, 7])
    b = pydl.from_dlpack(np.array([True, False]))
    assert b.dtype == pydl.bool and b.tolist() == [True, False]
    # pydl -> pydl shares memory (NumPy's DLPack imports are read-only, so they cannot be re-exported)
    r = pydl.from_dlpack(t)
    r.fill_(3)
    assert t.tolist() == [[3, 3, 3], [3, 3, 3]]
    n2 = np.from_dlpack(t).copy()
    np.testing.assert_array_equal(pydl.from_dlpack(n2).numpy(), n2)
    del t, a, r
    gc.collect()


def test_dlpack_keeps_owner_alive_and_errors():
    t = pydl.arange(4, dtype=pydl.float64)
    a = np.from_dlpack(t)
    del t
    gc.collect()
    _ = [pydl.full((4,), 7.0, dtype=pydl.float64) for _ in range(5)]
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    n = np.arange(3, dtype=np.float32)
    p = pydl.from_dlpack(n)
    del n
    gc.collect()
    assert p.tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match=r"detach"):
        np.from_dlpack(pydl.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match=r"^\[from_dlpack\]"):
        pydl.from_dlpack([1, 2])
    with pytest.raises(TypeError, match=r"^\[from_dlpack\]"):
        pydl.from_dlpack(np.zeros(2, dtype=np.int32))


def test_dlpack_with_torch():
    torch = pytest.importorskip("torch")
    t = pydl.arange(6, dtype=pydl.float32).reshape(2, 3)
    tt = torch.from_dlpack(t)
    tt[0, 0] = 5
    assert t.tolist()[0][0] == 5
    back = pydl.from_dlpack(torch.arange(4.0).reshape(2, 2).t())
    np.testing.assert_array_equal(back.numpy(), np.arange(4.0).reshape(2, 2).T)


# ---- conversions ---------------------------------------------------------------------

def test_tolist_item_and_casts():
    assert pydl.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert pydl.tensor(2.5).tolist() == 2.5
    assert pydl.tensor([True]).tolist() == [True]
    assert pydl.tensor(7).item() == 7 and isinstance(pydl.tensor(7).item(), int)
    assert isinstance(pydl.tensor(7.0).item(), float) and isinstance(pydl.tensor(True).item(), bool)
    assert pydl.tensor([[3.5]]).item() == 3.5
    assert pydl.tensor(2**53 + 1).item() == 2**53 + 1  # int64 items are exact
    with pytest.raises(ValueError, match=r"^\[item\]"):
        pydl.tensor([1.0, 2.0]).item()
    x = pydl.tensor([1.7, -2.2])
    assert x.long().dtype == pydl.int64 and x.long().tolist() == [1, -2]
    assert x.double().dtype == pydl.float64 and x.float().dtype == pydl.float32
    assert x.bool().tolist() == [True, True] and pydl.tensor([0.0, 1.0]).bool().tolist() == [False, True]
    assert x.to(pydl.float64).dtype == pydl.float64 and x.to("cpu") is x
    assert x.to(pydl.zeros(1, dtype=pydl.int64)).dtype == pydl.int64
    assert x.to(dtype=pydl.float32) is x
    assert float(pydl.tensor([2.5])) == 2.5 and int(pydl.tensor(3.9)) == 3 and bool(pydl.tensor(1))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(pydl.tensor([1, 2]))
    with pytest.raises(RuntimeError, match=r"^\[to\]"):
        x.to("cuda")
    assert x.type(pydl.float64).dtype == pydl.float64


def test_to_dtype_is_differentiable_between_floats():
    x = pydl.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    y.sum().backward()
    assert x.grad.dtype == pydl.float32 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("make, want", [
    (lambda: pydl.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: pydl.tensor([0.5, 1.0]), "tensor([0.5000, 1.0000])"),
    (lambda: pydl.tensor([1, 2]), "tensor([1, 2])"),
    (lambda: pydl.tensor([True, False]), "tensor([ True, False])"),
    (lambda: pydl.tensor(3.0), "tensor(3.)"),
    (lambda: pydl.tensor([[1.0, 2.0]], dtype=pydl.float64), "tensor([[1., 2.]], dtype=pydl.float64)"),
    (lambda: pydl.tensor([1.0], requires_grad=True), "tensor([1.], requires_grad=True)"),
    (lambda: pydl.zeros(0), "tensor([])"),
    (lambda: pydl.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: pydl.tensor([1.2345678]), "tensor([1.2346])"),
    (lambda: pydl.tensor([1.0, float("inf")]), "tensor([1., inf])"),
    (lambda: pydl.tensor([float("nan"), 1.5]), "tensor([   nan, 1.5000])"),
])
def test_repr_like_torch(make, want):
    assert repr(make()) == want


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    for data in [[1.0, 2.0], [0.5, 1.0], [1, 2], [[1.5, -2.25], [3.0, 4.125]], 3.0, [True, False], [0.1, 100.0]]:
        assert repr(pydl.tensor(data)) == repr(torch.tensor(data)).replace("torch.", "pydl."), data
    x = pydl.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(x).startswith("tensor([2., 4.], grad_fn=<")


def test_python_ints_beyond_int64_raise():
    with pytest.raises(ValueError, match=r"^\[tensor\].*int64"):
        pydl.tensor(2**63)
    with pytest.raises((ValueError, TypeError)):
        pydl.tensor([2**64])
    with pytest.raises(ValueError, match="int64"):
        pydl.ones(1) + 2**63
    assert pydl.tensor(2**63 - 1).item() == 2**63 - 1
    assert pydl.tensor(-2**63).item() == -2**63
    assert pydl.tensor(np.array([3], dtype=np.uint8)).tolist() == [3]


def test_tensor_methods_bind_to_self():
    # pybind functions assigned to the class do not bind: every public method must take self
    x = pydl.tensor([1.0, 4.0])
    y = pydl.tensor([2.0, 3.0])
    for name, want in [("add", [3.0, 7.0]), ("sub", [-1.0, 1.0]), ("mul", [2.0, 12.0]), ("div", [0.5, 4 / 3]),
                       ("maximum", [2.0, 4.0]), ("minimum", [1.0, 3.0]), ("pow", [1.0, 64.0]),
                       ("eq", [False, False]), ("ne", [True, True]), ("lt", [True, False]), ("le", [True, False]),
                       ("gt", [False, True]), ("ge", [False, True])]:
        np.testing.assert_allclose(getattr(x, name)(y).numpy().astype(float), np.asarray(want, dtype=float), err_msg=name)
    import types
    builtins_on_class = [n for n in dir(pydl.Tensor) if not n.startswith("_")
                         and isinstance(getattr(pydl.Tensor, n), types.BuiltinFunctionType)]
    assert builtins_on_class == []


def test_tensor_methods_come_from_one_registry():
    # csrc/python/init_tensor_methods.cpp binds the C++ methods (named by _C._tensor_methods), pydl/_tensor_methods.py
    # the Python ones: neither replaces the other's, and each Python method names its op in its errors
    import inspect
    from pydl import _tensor_methods
    native = set(_tensor_methods.native_methods())
    assert {"__add__", "__getitem__", "shape", "exp", "register_post_accumulate_grad_hook"} <= native
    assert not native & set(_tensor_methods._METHODS)
    attrs = vars(pydl.Tensor)
    assert [n for n in native if inspect.isfunction(attrs[n]) or isinstance(attrs[n], property) and
            inspect.isfunction(attrs[n].fget)] == []
    python = [n for n, v in attrs.items() if inspect.isfunction(v)]
    assert len(python) > 300 and [n for n in python if not getattr(attrs[n], "_pydl_op_errors", False)] == []
    with pytest.raises(TypeError, match=r"^\[view\]"):
        pydl.ones(2).view(None)


def test_from_numpy_of_readonly_array_warns():
    a = np.ones(3)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match=r"^\[from_numpy\].*not writable"):
        t = pydl.from_numpy(a)
    assert t.tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_array_equal(pydl.tensor(a).numpy(), a)  # copying is silent


def test_dlpack_capsule_is_consumed_once_and_edge_shapes():
    t = pydl.arange(3, dtype=pydl.float32)
    cap = t.__dlpack__()
    assert pydl.from_dlpack(cap).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match=r"^\[from_dlpack\].*consumed"):
        pydl.from_dlpack(cap)
    assert np.from_dlpack(pydl.tensor(2.5)).shape == ()
    assert np.from_dlpack(pydl.zeros(0, 3)).shape == (0, 3)
    np.testing.assert_array_equal(np.from_dlpack(pydl.ones(1).expand(3)), [1.0, 1.0, 1.0])
    assert pydl.from_dlpack(np.zeros((2, 0))).shape == (2, 0)
    cap2 = pydl.ones(2).__dlpack__()
    del cap2  # an unconsumed capsule frees its tensor
    gc.collect()


def test_repr_of_huge_expanded_view_is_summarised():
    r = repr(pydl.tensor(1.5).expand(2**40, 2))  # 2**41 elements in 4 bytes of memory
    assert r.startswith("tensor([[1.5000, 1.5000],") and "..." in r
    assert repr(pydl.arange(3000, dtype=pydl.float32)).startswith("tensor([0.0000e+00, 1.0000e+00,")
