"""Indexing: x[...], x[...] = v, index_select, gather, scatter_add, masks, sort/topk/cumsum."""
import numpy as np
import pytest

import pydl
from pydl.autograd import gradcheck

rng = np.random.default_rng(0)


def T(a, requires_grad=False):
    t = pydl.tensor(np.asarray(a))
    if requires_grad:
        t.requires_grad_(True)
    return t


def f64(*shape, requires_grad=True):
    return T(rng.standard_normal(shape), requires_grad)


def npy(t):
    return t.detach().numpy()


A = np.arange(60, dtype=np.float32).reshape(3, 4, 5)

# (subscript for NumPy, same subscript for pydl) — NumPy is the reference for values.
GETITEM_CASES = [
    1, -1, (1, 2), (slice(None), 1), (Ellipsis, 2), (None, 1), (slice(1, None, 2), None, slice(None, None, 3)),
    (slice(-2, None),), (0, slice(None), -1), (), (Ellipsis,), (slice(10, 20),),
    [0, 2], ([0, 2], [1, 3]), (slice(None), [0, 3]), (Ellipsis, [4, 0, 4]), ([[0], [2]], [1, 2]),
    (slice(None), [0, 1], [1, 2]), ([0, 1], slice(None), [1, 2]), (1, [0, 1], [2, 3]), ([-1, -3],),
    (np.array([0, 2]),), (slice(None), np.array([[1], [2]])), (np.array(1), np.int64(-1)), (np.array(True),), ([0, 1], None, [2, 3]),
    (A > 30,), (A[:, :, 0] > 3,), (slice(None), A[0, :, 0] > 4), ([True, False, True],), (True,), (False,),
]


@pytest.mark.parametrize("idx", GETITEM_CASES, ids=[repr(c)[:40] for c in GETITEM_CASES])
def test_getitem_matches_numpy(idx):
    x = pydl.from_numpy(A.copy())
    pidx = idx
    if isinstance(idx, tuple):
        pidx = tuple(pydl.from_numpy(i) if isinstance(i, np.ndarray) and i.dtype == bool else i for i in idx)
    np.testing.assert_array_equal(x[pidx].numpy(), A[idx])


def test_getitem_tensor_indices_and_torch_placement():
    x = pydl.from_numpy(A.copy())
    i = pydl.tensor([0, 2])
    np.testing.assert_array_equal(x[i].numpy(), A[[0, 2]])
    np.testing.assert_array_equal(x[x > 30].numpy(), A[A > 30])
    # an int next to an index tensor is a view first (PyTorch), not an advanced index (NumPy)
    assert tuple(x[0, :, [0, 1]].shape) == (4, 2)
    logits = pydl.from_numpy(A[0].copy())
    tgt = pydl.tensor([4, 0, 2, 1])
    np.testing.assert_array_equal(logits[pydl.arange(4), tgt].numpy(), A[0][np.arange(4), [4, 0, 2, 1]])


def test_basic_indexing_gives_views():
    a = A.copy()
    x = pydl.from_numpy(a)
    v = x[1, ::2]
    assert np.shares_memory(v.numpy(), a)
    v[0] = -7.0
    assert a[1, 0, 0] == -7.0 and a[1, 0, 4] == -7.0
    w = x[..., None, 3]
    assert tuple(w.shape) == (3, 4, 1) and np.shares_memory(w.numpy(), a)
    assert not np.shares_memory(x[[0, 1]].numpy(), a)  # advanced indexing copies


def test_noncontiguous_inputs():
    a = rng.standard_normal((4, 6))
    x = pydl.from_numpy(a.copy())
    xt = x.T  # (6, 4) strided
    np.testing.assert_array_equal(xt[[1, 5], 2:].numpy(), a.T[[1, 5], 2:])
    xs = x[:, ::2]
    np.testing.assert_array_equal(xs[xs > 0].numpy(), a[:, ::2][a[:, ::2] > 0])
    idx = pydl.tensor([[0, 1], [2, 0], [1, 1], [0, 0]])
    np.testing.assert_array_equal(pydl.gather(xs, 1, idx).numpy(), np.take_along_axis(a[:, ::2], idx.numpy(), 1))
    np.testing.assert_array_equal(xt.index_select(1, pydl.tensor([3, 0])).numpy(), a.T[:, [3, 0]])


def test_empty_and_zero_d():
    s = pydl.full([], 3.5)
    assert s[()].item() == 3.5
    assert tuple(s[None].shape) == (1,)
    assert tuple(s[...].shape) == ()
    x = pydl.from_numpy(A.copy())
    assert tuple(x[[]].shape) == (0, 4, 5)
    assert tuple(x[x > 1000].shape) == (0,)
    assert tuple(x[:, 2:2].shape) == (3, 0, 5)
    e = pydl.zeros(0, 3)
    assert tuple(e[e > 0].shape) == (0,)
    assert tuple(pydl.nonzero(e).shape) == (0, 2)
    assert tuple(pydl.nonzero(pydl.full([], 2.0)).shape) == (1, 0)


@pytest.mark.parametrize("bad, exc", [
    ((0, 0, 0, 0), IndexError), (3, IndexError), (-4, IndexError), ([0, 3], IndexError),
    ((slice(None), [5]), IndexError), (pydl.tensor([0.0]), IndexError), ((Ellipsis, Ellipsis), IndexError),
    (slice(None, None, -1), ValueError), ("a", IndexError), (A[0] > 1, IndexError),
])
def test_getitem_errors(bad, exc):
    x = pydl.from_numpy(A.copy())
    if isinstance(bad, np.ndarray):
        bad = pydl.from_numpy(bad)  # a (4, 5) mask for a (3, 4, 5) tensor
    with pytest.raises(exc, match=r"^\[index\]"):
        x[bad]


def test_setitem_values():
    a = A.copy()
    x = pydl.from_numpy(a)
    x[0] = 1.5
    a_ref = A.copy()
    a_ref[0] = 1.5
    x[1, :, 2] = pydl.tensor([1.0, 2.0, 3.0, 4.0])
    a_ref[1, :, 2] = [1, 2, 3, 4]
    x[2, [0, 3]] = np.array([9.0, 8.0, 7.0, 6.0, 5.0], dtype=np.float32)
    a_ref[2, [0, 3]] = [9, 8, 7, 6, 5]
    x[x > 50] = 0
    a_ref[a_ref > 50] = 0
    x[..., [1, 1]] = pydl.tensor([[-1.0], [-2.0], [-3.0], [-4.0]])
    a_ref[..., [1, 1]] = [[-1], [-2], [-3], [-4]]
    np.testing.assert_array_equal(a, a_ref)  # written through the shared memory


def test_setitem_errors_and_version():
    x = pydl.zeros(3, 4)
    v0 = x._version if hasattr(x, "_version") else None
    with pytest.raises(ValueError, match=r"^\[setitem\]"):
        x[0] = pydl.zeros(5)
    with pytest.raises(ValueError, match=r"^\[setitem\]"):
        x[[0, 1]] = pydl.zeros(3)
    with pytest.raises(IndexError):
        x[3] = 1.0
    x[1] = 2.0
    if v0 is not None:
        assert x._version > v0


def test_setitem_autograd():
    w = f64(3, 4)
    with pytest.raises(RuntimeError):  # leaf that requires grad
        w[0] = 1.0
    with pydl.no_grad():
        w[0, 0] = 0.0  # allowed without grad mode
    # value that requires grad written into a non-leaf: gradient flows to both
    gradcheck(lambda w, v: _set(w * 2, (slice(None), [0, 2]), v), (f64(3, 4), f64(3, 1)))
    gradcheck(lambda w, v: _set(w * 1, (1,), v), (f64(3, 4), f64(4)))
    gradcheck(lambda w: _set(w * 3, (w.detach() > 0,), 0.0), (f64(3, 4),))
    # a view of a tensor in the graph: a clear error, never a wrong gradient
    y = f64(3, 4) * 2
    with pytest.raises(RuntimeError, match="view"):
        y[0][[1, 2]] = 0.0


def _set(y, idx, v):
    y[idx] = v
    return y


def test_setitem_grad_of_overwritten_entries_is_zero():
    w = f64(2, 3)
    y = w * 3
    y[0] = 0.0
    y.sum().backward()
    np.testing.assert_array_equal(npy(w.grad), [[0, 0, 0], [3, 3, 3]])


def test_saved_tensor_version_check():
    w = f64(3)
    y = w * 1
    z = (y * y).sum()
    y[0] = 5.0  # y was saved by mul
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        z.backward()


def test_getitem_gradients():
    gradcheck(lambda x: x[1:, ::2, None], (f64(3, 5),))
    gradcheck(lambda x: x[[0, 2, 0]], (f64(3, 4),))  # repeated rows accumulate
    gradcheck(lambda x: x[:, [1, 1], [0, 2]], (f64(2, 3, 4),))
    gradcheck(lambda x: x[x.detach() > 0], (f64(4, 3),))
    gradcheck(lambda x: x[pydl.arange(4), pydl.tensor([0, 2, 1, 0])], (f64(4, 3),))
    # double backward through index -> index_put(accumulate) -> index
    x = f64(5)
    (g,) = pydl.autograd.grad((x[[0, 0, 3]] ** 2).sum(), x, create_graph=True)
    c = f64(5, requires_grad=False)
    (h,) = pydl.autograd.grad((g * c).sum(), x)
    np.testing.assert_allclose(npy(h), npy(c) * [4, 0, 0, 2, 0])


def test_index_select_gather_scatter_values():
    a = rng.standard_normal((4, 5))
    x = T(a)
    np.testing.assert_array_equal(pydl.index_select(x, 1, pydl.tensor([4, 0, -1])).numpy(), a[:, [4, 0, -1]])
    np.testing.assert_array_equal(x.index_select(0, pydl.tensor(2)).numpy(), a[[2]])
    idx = rng.integers(0, 4, (3, 5))
    np.testing.assert_array_equal(pydl.gather(x, 0, T(idx)).numpy(), np.take_along_axis(a, idx, 0))
    src = rng.standard_normal((3, 5))
    ref = a.copy()
    np.add.at(ref, (idx, np.arange(5)[None, :].repeat(3, 0)), src)
    np.testing.assert_allclose(pydl.scatter_add(x, 0, T(idx), T(src)).numpy(), ref)
    y = T(a)
    y.scatter_add_(0, T(idx), T(src))
    np.testing.assert_allclose(y.numpy(), ref)


def test_along_dim_gradients():
    idx = T(rng.integers(0, 4, (3, 5)))
    gradcheck(lambda x: pydl.index_select(x, 0, pydl.tensor([3, 0, 3])), (f64(4, 5),))
    gradcheck(lambda x: pydl.gather(x, 0, idx), (f64(4, 5),))
    gradcheck(lambda x, s: pydl.scatter_add(x, 0, idx, s), (f64(4, 5), f64(3, 5)))
    gradcheck(lambda x, s: pydl.scatter_add(x, 1, idx[:, :2], s), (f64(3, 5), f64(3, 4)))  # larger src
    gradcheck(lambda x: pydl.cumsum(x, 1), (f64(3, 4),))
    gradcheck(lambda x: pydl.sort(x, 0)[0], (f64(5, 2),))
    gradcheck(lambda x: pydl.topk(x, 2)[0], (f64(3, 6),))
    gradcheck(lambda x: x.masked_fill(x.detach() > 0, 1.5), (f64(3, 4),))
    gradcheck(lambda x: pydl.masked_select(x, pydl.tensor([True, False, True])), (f64(2, 3),))


@pytest.mark.parametrize("fn, exc", [
    (lambda x: pydl.index_select(x, 0, pydl.tensor([4])), IndexError),
    (lambda x: pydl.index_select(x, 0, pydl.tensor([1.0])), TypeError),
    (lambda x: pydl.index_select(x, 2, pydl.tensor([0])), IndexError),
    (lambda x: pydl.gather(x, 1, pydl.tensor([[5]])), IndexError),
    (lambda x: pydl.gather(x, 1, pydl.tensor([5])), ValueError),
    (lambda x: pydl.gather(x, 1, pydl.tensor([[True]])), TypeError),
    (lambda x: pydl.scatter_add(x, 0, pydl.tensor([[-5]]), pydl.ones(1, 1)), IndexError),
    (lambda x: pydl.scatter_add(x, 0, pydl.tensor([[0, 0]]), pydl.ones(1, 1)), ValueError),
    (lambda x: x.masked_fill(pydl.tensor([1, 0, 1]), 0.0), TypeError),
    (lambda x: x.masked_fill(pydl.ones(2, 4, 3).bool(), 0.0), ValueError),
    (lambda x: pydl.topk(x, 4, dim=1), ValueError),
])
def test_along_dim_errors(fn, exc):
    with pytest.raises(exc, match=r"^\["):
        fn(pydl.zeros(4, 3))


def test_out_of_range_message_names_value_and_size():
    with pytest.raises(IndexError, match=r"\[gather\] index 7 is out of bounds for dimension 0 with size 4"):
        pydl.gather(pydl.zeros(4), 0, pydl.tensor([1, 7]))


def test_masks_nonzero_where():
    a = rng.standard_normal((3, 4))
    x = T(a)
    m = x > 0
    np.testing.assert_array_equal(pydl.nonzero(m).numpy(), np.argwhere(a > 0))
    for got, ref in zip(pydl.where(m), np.nonzero(a > 0)):
        np.testing.assert_array_equal(got.numpy(), ref)
    for got, ref in zip(m.nonzero(as_tuple=True), np.nonzero(a > 0)):
        np.testing.assert_array_equal(got.numpy(), ref)
    np.testing.assert_array_equal(x.masked_fill(m, -1.0).numpy(), np.where(a > 0, -1.0, a))
    np.testing.assert_array_equal(pydl.masked_select(x, m).numpy(), a[a > 0])
    row = pydl.tensor([True, False, False, True])
    np.testing.assert_array_equal(x.masked_select(row).numpy(), a[:, [True, False, False, True]].ravel())
    y = T(a)
    y.masked_fill_(row, 0.0)
    np.testing.assert_array_equal(y.numpy(), np.where([True, False, False, True], 0.0, a))


def test_sort_topk_cumsum_one_hot():
    a = rng.standard_normal((4, 7))
    x = T(a)
    v, i = pydl.sort(x, dim=1)
    np.testing.assert_array_equal(v.numpy(), np.sort(a, 1))
    np.testing.assert_array_equal(i.numpy(), np.argsort(a, 1, kind="stable"))
    v, i = x.sort(0, descending=True)
    np.testing.assert_array_equal(v.numpy(), -np.sort(-a, 0))
    v, i = pydl.topk(x, 3)
    np.testing.assert_array_equal(v.numpy(), -np.sort(-a, 1)[:, :3])
    v, i = x.topk(2, dim=0, largest=False)
    np.testing.assert_array_equal(v.numpy(), np.sort(a, 0)[:2])
    np.testing.assert_allclose(pydl.cumsum(x, 0).numpy(), np.cumsum(a, 0))
    np.testing.assert_array_equal(pydl.cumsum(pydl.tensor([True, True, False]), 0).numpy(), [1, 2, 2])
    np.testing.assert_array_equal(pydl._C.one_hot(pydl.tensor([2, 0]), 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"^\[one_hot\]"):
        pydl._C.one_hot(pydl.tensor([3]), 3)


def test_large_parallel_paths():
    a = rng.standard_normal((300, 200))
    x = T(a)
    idx = rng.integers(-300, 300, 5000)
    np.testing.assert_array_equal(x[T(idx)].numpy(), a[idx])
    gi = rng.integers(0, 300, (300, 200))
    np.testing.assert_array_equal(pydl.gather(x, 0, T(gi)).numpy(), np.take_along_axis(a, gi, 0))
    ref = np.zeros((300, 200))
    np.add.at(ref, (gi, np.arange(200)[None, :].repeat(300, 0)), a)
    np.testing.assert_allclose(pydl.scatter_add(pydl.zeros(300, 200, dtype=pydl.float64), 0, T(gi), x).numpy(), ref)


def test_against_torch():
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((4, 5, 6))
    idx = ([2, 0, 2], slice(None), [1, 5, 0])
    tx = torch.tensor(a, requires_grad=True)
    px = T(a, True)
    cases = [
        lambda x, m: x[idx], lambda x, m: x[1, :, [0, 2]], lambda x, m: x[..., [3, 3]][:, 1:],
        lambda x, m: x[x.detach() > 0.5], lambda x, m: m.gather(x, 2, m.tensor([[[0, 5]] * 5] * 4)),
        lambda x, m: m.cumsum(x, 1), lambda x, m: m.sort(x, 2)[0], lambda x, m: m.topk(x, 3, 1)[0],
        lambda x, m: x.index_select(1, m.tensor([4, 4, 0])),
        lambda x, m: m.scatter_add(x, 2, m.tensor([[[1, 1, 3]] * 5] * 4), x[:, :, :3] * 2),
    ]
    for i, fn in enumerate(cases):
        to, po = fn(tx, torch), fn(px, pydl)
        np.testing.assert_allclose(npy(po), to.detach().numpy(), err_msg=f"case {i}")
        g = rng.standard_normal(tuple(to.shape))
        (tg,) = torch.autograd.grad(to, tx, torch.tensor(g))
        (pg,) = pydl.autograd.grad(po, px, T(g))
        np.testing.assert_allclose(npy(pg), tg.numpy(), err_msg=f"case {i}")
    # setitem with autograd on a non-leaf
    tw, pw = torch.tensor(a, requires_grad=True), T(a, True)
    tv, pv = torch.tensor(a[0, :, :2].copy(), requires_grad=True), T(a[0, :, :2], True)
    ty, py_ = tw * 2, pw * 2
    ty[1, :, [0, 3]] = tv
    py_[1, :, [0, 3]] = pv
    ty.pow(2).sum().backward()
    py_.pow(2).sum().backward()
    np.testing.assert_allclose(npy(py_), ty.detach().numpy())
    np.testing.assert_allclose(npy(pw.grad), tw.grad.numpy())
    np.testing.assert_allclose(npy(pv.grad), tv.grad.numpy())


def test_scatter_take_along_dim_and_tensor_fill_value():
    a = rng.standard_normal((3, 4))
    idx = np.array([[1, 0, 3], [2, 3, 0], [0, 1, 2]])  # no repeats within a row
    ref = a.copy()
    np.put_along_axis(ref, idx, -1.0, 1)
    np.testing.assert_array_equal(pydl.scatter(T(a), 1, T(idx), value=-1.0).numpy(), ref)
    y = T(a)
    y.scatter_(1, T(idx), pydl.full([3, 3], -1.0, dtype=pydl.float64))
    np.testing.assert_array_equal(y.numpy(), ref)
    gradcheck(lambda x, s: pydl.scatter(x, 1, T(idx), s), (f64(3, 4), f64(3, 3)))
    np.testing.assert_array_equal(pydl.take_along_dim(T(a), T(idx[:, :1]), 1).numpy(),
                                  np.take_along_axis(a, idx[:, :1], 1))
    v = pydl.full([], 2.0, dtype=pydl.float64)
    v.requires_grad_(True)
    gradcheck(lambda x, v: x.masked_fill(x.detach() > 0, v), (f64(3, 4), v))


def test_setitem_into_buffer_records_history():
    w = f64(2, 3)
    out = pydl.zeros(4, 3, dtype=pydl.float64)
    out[1:3] = w * 2
    out.sum().backward()
    np.testing.assert_array_equal(npy(w.grad), np.full((2, 3), 2.0))
