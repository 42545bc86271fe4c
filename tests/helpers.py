"""One-line op checks in tinygrad's style: seeded inputs, NumPy (and torch) forward
references, float64 finite-difference gradients through pydl.autograd.gradcheck."""
import numpy as np

import pydl

try:  # torch is optional: where installed, forward values and gradients are compared with it too
    import torch
except ImportError:  # pragma: no cover
    torch = None

NP = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "bool": np.bool_}
TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def make_inputs(shapes, dtype="float32", low=-2.0, high=2.0, seed=0):
    """Seeded NumPy arrays of the given shapes and dtype."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        if dtype == "int64":
            out.append(rng.integers(int(low), int(high) + 1, size=s).astype(np.int64))
        elif dtype == "bool":
            out.append(rng.random(s) < 0.5)
        else:
            out.append(rng.uniform(low, high, size=s).astype(NP[dtype]))
    return out


def _noncontig_leaf(arr, requires_grad=False):
    """A pydl tensor equal to `arr` that is a non-contiguous view (transposed or strided).

    Returns (leaf, view): `leaf` is contiguous (for gradcheck), `view` = f(leaf)."""
    if arr.ndim >= 2:
        leaf = pydl.tensor(np.ascontiguousarray(arr.T), requires_grad=requires_grad)
        view = leaf.T
    elif arr.ndim == 1:
        padded = np.stack([arr, np.zeros_like(arr)], axis=1)  # (n, 2): column 0 is arr
        leaf = pydl.tensor(padded, requires_grad=requires_grad)
        view = pydl._C.select(leaf, 1, 0)
    else:
        leaf = pydl.tensor(arr, requires_grad=requires_grad)
        view = leaf
    return leaf, view


def _to_np(t):
    return t.detach().numpy() if isinstance(t, pydl.Tensor) else np.asarray(t)


def _assert_close(got, want, dtype, what, **tol):
    got_np, want_np = _to_np(got), np.asarray(want)
    assert got_np.shape == want_np.shape, f"{what}: shape {got_np.shape} != {want_np.shape}"
    if want_np.dtype == np.bool_ or np.issubdtype(want_np.dtype, np.integer):
        np.testing.assert_array_equal(got_np, want_np, err_msg=what)
    else:
        t = dict(TOL.get(dtype, TOL["float32"]))
        t.update(tol)
        np.testing.assert_allclose(got_np, want_np, err_msg=what, equal_nan=True, **t)


def check(fn, np_fn, shapes, grad=True, dtype="float32", low=-2.0, high=2.0, torch_fn=True, noncontig=True,
          seed=0, out_dtype=None, **tol):
    """Checks `fn` (a function of pydl tensors) against `np_fn` on the same seeded inputs.

    Args:
        fn: function of pydl tensors; also applied to torch tensors when torch_fn is True.
        np_fn: NumPy reference on the same arrays.
        shapes: one shape per input.
        grad: run pydl.autograd.gradcheck in float64 (and compare grads with torch).
        dtype: dtype of the inputs for the forward check.
        low, high: range of the random inputs.
        torch_fn: True = reuse `fn` on torch tensors, a callable = a torch reference, None = skip.
        noncontig: also run forward and gradcheck on transposed / strided views.
        out_dtype: expected pydl dtype name of the result (default: unchecked).
    """
    arrs = make_inputs(shapes, dtype, low, high, seed)
    xs = [pydl.tensor(a) for a in arrs]
    got = fn(*xs)
    want = np_fn(*[a.copy() for a in arrs])
    _assert_close(got, want, dtype, "forward vs numpy", **tol)
    if out_dtype is not None:
        assert str(got.dtype) == f"pydl.{out_dtype}", f"result dtype {got.dtype}, expected {out_dtype}"
    tfn = fn if torch_fn is True else torch_fn
    if torch is not None and tfn:
        tgot = tfn(*[torch.from_numpy(a.copy()) for a in arrs])
        _assert_close(got, tgot.numpy(), dtype, "forward vs torch", **tol)
    if noncontig and any(len(s) > 0 for s in shapes):
        views = [_noncontig_leaf(a)[1] for a in arrs]
        assert any(not v.is_contiguous() for v in views if v.numel() > 1) or all(v.numel() <= 1 for v in views)
        _assert_close(fn(*views), want, dtype, "non-contiguous forward vs numpy", **tol)
    if grad:
        a64 = make_inputs(shapes, "float64", low, high, seed)
        leaves = [pydl.tensor(a, requires_grad=True) for a in a64]
        assert pydl.autograd.gradcheck(fn, leaves)
        if noncontig and any(len(s) > 0 for s in shapes):
            pairs = [_noncontig_leaf(a, requires_grad=True) for a in a64]
            k = len(pairs)

            def via_views(*ls):
                return fn(*[(ls[i].T if a64[i].ndim >= 2 else pydl._C.select(ls[i], 1, 0) if a64[i].ndim == 1 else ls[i])
                            for i in range(k)])
            assert pydl.autograd.gradcheck(via_views, [p[0] for p in pairs])
        if torch is not None and tfn:
            _compare_grads_with_torch(fn, tfn, a64)
    return got


def _compare_grads_with_torch(fn, tfn, a64):
    """Backward of sum(out * w) for a fixed random w, in pydl and torch, must agree."""
    xs = [pydl.tensor(a, requires_grad=True) for a in a64]
    ts = [torch.tensor(a, requires_grad=True) for a in a64]
    out, tout = fn(*xs), tfn(*ts)
    w = np.random.default_rng(1).uniform(0.5, 1.5, size=tuple(tout.shape))
    (out * pydl.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        if t.grad is None:
            assert x.grad is None or np.all(x.grad.numpy() == 0), f"input {i}: torch has no grad, pydl has one"
            continue
        assert x.grad is not None, f"input {i}: pydl produced no gradient"
        _assert_close(x.grad, t.grad.numpy(), "float64", f"grad of input {i} vs torch", rtol=1e-7, atol=1e-9)


# ---- nn ops against torch on given arrays (one line per op in test_nn_functional.py) ----------
_GRAD_RNG = np.random.default_rng(0)


def pydl_leaf(a, grad):
    t = pydl.from_numpy(np.array(a))  # a private copy; keeps 0-d arrays 0-d
    return t.requires_grad_(True) if grad else t


def torch_leaf(a, grad):
    return torch.tensor(a, requires_grad=grad) if a.dtype.kind == "f" else torch.tensor(a)


def check_torch(fp, ft, *arrays, grad=True, atol=1e-6, rtol=1e-5, noncontig=False, const=(), **kw):
    """The nn-op form of `check`: runs fp on pydl tensors and ft on torch tensors of the same data; compares outputs and the
    gradients of every floating input (except those at indices `const`) under a random upstream gradient."""
    needs = [grad and a.dtype.kind == "f" and i not in const for i, a in enumerate(arrays)]
    pin = [pydl_leaf(a, n) for a, n in zip(arrays, needs)]
    tin = [torch_leaf(a, n) for a, n in zip(arrays, needs)]
    leaves = pin
    if noncontig:  # same values through a transposed view of a leaf
        leaves = [pydl_leaf(np.ascontiguousarray(a.swapaxes(-1, -2)), p.requires_grad) if a.ndim >= 2 else p
                  for a, p in zip(arrays, pin)]
        pin = [lf.transpose(-1, -2) if a.ndim >= 2 else lf for a, lf in zip(arrays, leaves)]
        assert not pin[0].is_contiguous()
    po, to = fp(*pin, **kw), ft(*tin, **kw)
    if isinstance(po, tuple):
        po, to = po[0], to[0]
    np.testing.assert_allclose(po.detach().numpy(), to.detach().numpy(), atol=atol, rtol=rtol)
    if not grad:
        return
    g = np.asarray(_GRAD_RNG.standard_normal(tuple(to.shape))).astype(to.detach().numpy().dtype)
    po.backward(pydl.from_numpy(g))
    to.backward(torch.tensor(g))
    for i, (a, lf, t) in enumerate(zip(arrays, leaves, tin)):
        if t.grad is None:
            continue
        pg = lf.grad.numpy()
        if noncontig and a.ndim >= 2:
            pg = pg.swapaxes(-1, -2)
        np.testing.assert_allclose(pg, t.grad.numpy(), atol=atol * 10, rtol=rtol * 10, err_msg=f"grad of input {i}")


def check_vs_torch(fn, tfn, shapes, low=-2.0, high=2.0, seed=0, grad=True, noncontig=True, **tol):
    """`check` in float64 with torch as the forward reference: values, non-contiguous views, gradcheck and
    gradients against torch's. fn takes pydl tensors, tfn the same inputs as torch tensors."""
    def np_fn(*arrs):
        return tfn(*[torch.from_numpy(a) for a in arrs]).detach().numpy()
    return check(fn, np_fn, shapes, grad=grad, dtype="float64", low=low, high=high, torch_fn=tfn, noncontig=noncontig,
                 seed=seed, **tol)


def check_double_backward(fn, *arrays, const=(), gradgrad=True, atol=1e-8, rtol=1e-7):
    """Second derivatives of fn(F, *tensors) (F: the library's nn.functional) against torch's, in float64: the
    first derivative grad(fn, inputs, v, create_graph=True) and the gradient of sum(u * it) with respect to the
    inputs and v (seeded random v, u); then pydl.autograd.gradgradcheck (finite differences of the first
    derivative). Floating arrays are differentiated except those at indices `const`; the others are constants."""
    diff = [i for i, a in enumerate(arrays) if a.dtype.kind == "f" and i not in const]
    tout = fn(torch.nn.functional, *[torch_leaf(a, i in diff) for i, a in enumerate(arrays)])
    rng = np.random.default_rng(5)
    v = rng.standard_normal(tuple(tout.shape))
    us = [rng.standard_normal(arrays[i].shape) for i in diff]
    res = []
    for lib, leaf in ((pydl, pydl_leaf), (torch, torch_leaf)):
        ins = [leaf(a, i in diff) for i, a in enumerate(arrays)]
        vt = leaf(v, True)
        gs = lib.autograd.grad(fn(lib.nn.functional, *ins), [ins[i] for i in diff], vt, create_graph=True)
        s = sum((g * leaf(u, False)).sum() for g, u in zip(gs, us))
        ggs = lib.autograd.grad(s, [ins[i] for i in diff] + [vt], allow_unused=True)
        to_np = (lambda g: g.detach().numpy(force=True)) if lib is torch else (lambda g: g.detach().numpy())  # torch: ZeroTensor too
        res.append([to_np(g) for g in gs] +
                   [np.zeros(t.shape) if g is None else to_np(g) for g, t in zip(ggs, [ins[i] for i in diff] + [vt])])
    for k, (p, t) in enumerate(zip(*res)):
        what = f"first derivative {k}" if k < len(diff) else f"second derivative w.r.t. input {k - len(diff)}"
        np.testing.assert_allclose(p, t, atol=atol, rtol=rtol, err_msg=what)
    if gradgrad:
        ins = [pydl_leaf(a, i in diff) for i, a in enumerate(arrays)]
        assert pydl.autograd.gradgradcheck(lambda *ts: fn(pydl.nn.functional, *ts), ins)
