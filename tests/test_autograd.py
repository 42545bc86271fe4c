"""Semantics of the C++ autograd engine."""
import gc

import numpy as np
import pytest

import pydl


def leaf(v, dtype=pydl.float64):
    return pydl.tensor(v, dtype=dtype, requires_grad=True)


def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 7])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_grad_is_own_buffer_not_alias_of_seed():
    x = leaf([1.0, 2.0])
    g = pydl.tensor([1.0, 1.0], dtype=pydl.float64)
    (x * 1).backward(g)
    x.grad.mul_(5)
    assert g.tolist() == [1.0, 1.0]
    y = leaf([1.0, 2.0])
    y.backward(g)  # backward on a leaf itself
    y.grad.add_(1)
    assert g.tolist() == [1.0, 1.0]


def test_retain_graph_and_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_nonscalar_needs_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"^\[backward\].*scalar"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"^\[backward\].*shape"):
        y.backward(pydl.ones(3, dtype=pydl.float64))
    y.backward(pydl.tensor([1.0, 10.0], dtype=pydl.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2, 20])


def test_backward_without_grad_raises():
    x = pydl.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        pydl.autograd.grad((x * 2).sum(), [leaf([1.0])])


def test_inplace_change_of_saved_output_raises():
    x = leaf([1.0, 2.0])
    y = x.exp()
    z = y * 2  # MulBackward saves nothing of y (constant factor), ExpBackward saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_inplace_change_of_saved_input_raises():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0]) * 1  # non-leaf
    w = a * b
    b.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*version"):
        w.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises_but_ok_under_no_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"^\[add_\].*leaf"):
        x.add_(1)
    with pydl.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0]


def test_inplace_on_nonleaf_is_differentiable():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(x)  # y = 2 x^2
    y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8])


def test_version_counter():
    x = pydl.zeros(3)
    v0 = x._version
    x.add_(1)
    x.mul_(2)
    assert x._version == v0 + 2
    v = x.view(3)
    v.add_(1)
    assert x._version == v0 + 3  # views share the counter


def test_no_grad_context_and_decorator():
    x = leaf([1.0])
    with pydl.no_grad():
        y = x * 2
        assert not pydl.is_grad_enabled()
    assert pydl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @pydl.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad and pydl.is_grad_enabled()

    with pydl.no_grad():
        with pydl.enable_grad():
            z = x * 2
        w = x * 2
    assert z.requires_grad and not w.requires_grad

    @pydl.enable_grad()
    def g(t):
        return t * 2
    with pydl.no_grad():
        assert g(x).requires_grad


def test_no_grad_restores_mode_on_exception():
    with pytest.raises(ValueError):
        with pydl.no_grad():
            raise ValueError
    assert pydl.is_grad_enabled()


def test_set_grad_enabled():
    x = leaf([1.0])
    pydl.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    pydl.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with pydl.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert pydl.is_grad_enabled()

    @pydl.set_grad_enabled(False)
    def f():
        return (x * 2).requires_grad
    assert pydl.is_grad_enabled() and f() is False and pydl.is_grad_enabled()


def test_detach_and_requires_grad_():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.add_(1)  # shares storage
    assert x.tolist() == [2.0, 3.0]
    y = (x * 2).detach()
    assert y.is_leaf and not y.requires_grad
    z = pydl.tensor([1.0]).requires_grad_()
    assert z.requires_grad and z.is_leaf
    with pytest.raises(RuntimeError, match="floating"):
        pydl.tensor([1]).requires_grad_()
    with pytest.raises(RuntimeError):
        (x * 2).requires_grad_(False)
    # detach cuts the graph
    x.grad = None
    (x * x.detach()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 3.0])


def test_grad_second_derivative():
    x = leaf([0.5, -1.0, 2.0])
    y = (x ** 3).sum()
    (g,) = pydl.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.5, -1.0, 2.0]) ** 2)
    (h,) = pydl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([0.5, -1.0, 2.0]))
    assert x.grad is None  # grad() does not touch .grad


@pytest.mark.parametrize("fn, d2", [
    (lambda x: x.exp(), lambda v: np.exp(v)),
    (lambda x: x.sin(), lambda v: -np.sin(v)),
    (lambda x: x.tanh(), lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
    (lambda x: x.sigmoid(), lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s)),
    (lambda x: x.log(), lambda v: -1 / v ** 2),
    (lambda x: 1 / x, lambda v: 2 / v ** 3),
    (lambda x: x.sqrt(), lambda v: -0.25 * v ** -1.5),
    (lambda x: x * x * x, lambda v: 6 * v),
])
def test_second_derivatives_of_unary_ops(fn, d2):
    v = np.array([0.3, 0.7, 1.5])
    x = leaf(v)
    (g,) = pydl.autograd.grad(fn(x).sum(), x, create_graph=True)
    (h,) = pydl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), d2(v), rtol=1e-10)


def test_second_derivative_through_matmul_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, w = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    x, tx = leaf(a), torch.tensor(a, requires_grad=True)
    W, tW = pydl.tensor(w), torch.tensor(w)
    (g,) = pydl.autograd.grad(((x @ W).tanh() ** 2).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(((tx @ tW).tanh() ** 2).sum(), tx, create_graph=True)
    (h,) = pydl.autograd.grad((g * g).sum(), x)
    (th,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10)


def test_grad_allow_unused_and_multiple_inputs():
    x, y, z = leaf([1.0]), leaf([2.0]), leaf([3.0])
    out = (x * y).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        pydl.autograd.grad(out, [x, z], retain_graph=True)
    gx, gz = pydl.autograd.grad(out, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and gx.tolist() == [2.0]
    gx, gy = pydl.autograd.grad(out, [x, y], grad_outputs=[pydl.tensor(3.0, dtype=pydl.float64)])
    assert gx.tolist() == [6.0] and gy.tolist() == [3.0]


def test_grad_wrt_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = pydl.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    y = h * h
    y.retain_grad()
    y.sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    h2 = x * 2
    assert h2.grad is None  # non-leaves without retain_grad get no .grad


def test_diamond_graph_accumulates():
    x = leaf([2.0])
    a = x * 3
    b = a.exp()
    c = a * a
    (b + c + a).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 * np.exp(6) + 2 * 6 * 3 + 3])


def test_same_tensor_used_twice_in_one_op():
    x = leaf([3.0])
    (x * x).backward()
    assert x.grad.tolist() == [6.0]
    y = leaf([[1.0, 2.0], [3.0, 4.0]])
    (y @ y).sum().backward()
    ones = np.ones((2, 2))
    yn = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(y.grad.numpy(), ones @ yn.T + yn.T @ ones)


def test_long_chain_no_stack_overflow():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.sum().backward()
    assert x.grad.tolist() == [1.0]
    np.testing.assert_allclose(y.detach().numpy(), [1.1], rtol=1e-9)


def test_long_chain_freed_without_backward():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    del y  # tearing down 100,000 nodes must not recurse
    gc.collect()
    z = x
    for _ in range(100_000):
        z = z.sin()  # SinBackward saves its input, which holds the previous node
    del z
    gc.collect()
    assert x.grad is None


def test_gradients_of_int_inputs_flow_to_float_leaves_only():
    x = leaf([1.0, 2.0], pydl.float32)
    i = pydl.tensor([2, 3])
    (x * i).sum().backward()
    assert x.grad.dtype == pydl.float32 and x.grad.tolist() == [2.0, 3.0]
    d = leaf([1.0, 2.0], pydl.float64)
    x.grad = None
    (x * d).sum().backward()  # float32 * float64 -> float64; grads come back in each leaf's dtype
    assert x.grad.dtype == pydl.float32 and d.grad.dtype == pydl.float64
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])


def test_grad_of_views_and_broadcast():
    x = leaf(np.arange(6.0).reshape(2, 3))
    y = x.T.reshape(6) * pydl.arange(6, dtype=pydl.float64)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)
    b = leaf([1.0, 2.0, 3.0])
    (pydl.ones(4, 3, dtype=pydl.float64) * b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [4, 4, 4])


def test_mlp_like_graph_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs, w1, b1, w2, b2 = (rng.normal(size=s) for s in [(8, 5), (5, 7), (7,), (7, 3), (3,)])
    labels = rng.integers(0, 3, 8)
    onehot = np.eye(3)[labels]

    def run(lib, mk):
        P = [mk(v, True) for v in (w1, b1, w2, b2)]
        x = mk(xs, False)
        h = (x @ P[0] + P[1]).relu()
        h2 = (x @ P[0]).tanh() * (x @ P[0]).sigmoid()
        logits = h @ P[2] + P[3] + (h2 @ P[2]).clamp(-1, 1)
        logp = logits - logits.logsumexp(1, keepdim=True)
        loss = -(logp * mk(onehot, False)).sum(1).mean() + (P[0] ** 2).mean() * 0.1 + P[1].abs().sum() * 0.01
        loss = loss + logits.max(1)[0].mean() * 0.1 + logits.var(0).sum() * 0.01
        loss.backward()
        return loss, [p.grad for p in P]

    loss, grads = run(pydl, lambda v, rg: pydl.tensor(v, requires_grad=rg))
    tloss, tgrads = run(torch, lambda v, rg: torch.tensor(v, requires_grad=rg))
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-8, atol=1e-12)


def test_gradcheck_detects_wrong_gradient():
    # a wrong backward must be caught: x * x.detach() has grad x, not 2x
    x = leaf([0.5, 1.5])
    with pytest.raises(RuntimeError, match="gradcheck"):
        pydl.autograd.gradcheck(lambda t: t * t.detach(), [x])
    assert pydl.autograd.gradcheck(lambda t: t * t, [x])


def test_backward_through_multiple_roots():
    x = leaf([1.0, 2.0])
    a, b = (x * 2).sum(), (x * x).sum()
    pydl.autograd.backward([a, b])
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 6.0])


def test_grad_fn_names_and_next_functions():
    x = leaf([1.0])
    y = (x * 2).exp()
    assert "Exp" in y.grad_fn.name()
    (nxt, _), = y.grad_fn.next_functions
    assert "Mul" in nxt.name()
    assert x.grad_fn is None and x.is_leaf and not y.is_leaf


def test_gradient_dtype_follows_the_tensor():
    x = pydl.ones(2, requires_grad=True)
    x.backward(pydl.ones(2, dtype=pydl.float64))  # seed of another dtype, straight into a leaf
    assert x.grad.dtype == pydl.float32 and x.grad.tolist() == [1.0, 1.0]
    x.grad = None
    (x * 2).backward(pydl.ones(2, dtype=pydl.float64))
    assert x.grad.dtype == pydl.float32 and x.grad.tolist() == [2.0, 2.0]


def test_retain_grad_follows_inplace_change():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (pydl, torch):
        a = lib.ones(2, requires_grad=True)
        b = a * 2
        b.retain_grad()
        b.mul_(3)
        (b * b).sum().backward()
        results.append((b.grad.tolist(), a.grad.tolist()))
    assert results[0] == results[1]


def test_inplace_through_view_of_saved_tensor_raises():
    p = leaf([1.0, 2.0])
    c = pydl.tensor([3.0, 4.0], dtype=pydl.float64)
    w = p * c  # saves c
    c.view(2).add_(1)  # a view shares the version counter
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


def test_inplace_change_of_a_viewed_base_raises_instead_of_wrong_grad():
    # torch rebases the view's history (grad 4x); pydl must at least not return the stale 2
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    v = y.view(3)
    y.mul_(x)
    np.testing.assert_allclose(v.detach().numpy(), [2.0, 8.0, 18.0])
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        (v * 1).sum().backward()
    # a view taken after the change is fine
    x.grad = None
    y = x * 2
    y.mul_(x)
    y.view(3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0, 12.0])


@pytest.mark.parametrize("op", ["copy_", "fill_", "zero_", "copy_grad"])
def test_overwriting_inplace_ops_cut_the_old_history(op):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (pydl, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        s = lib.tensor([5.0, 6.0], requires_grad=True)
        y = x * 2
        {"copy_": lambda: y.copy_(lib.tensor([5.0, 6.0])), "fill_": lambda: y.fill_(3.0), "zero_": lambda: y.zero_(),
         "copy_grad": lambda: y.copy_(s * 1)}[op]()
        (y * x).sum().backward()
        out.append((y.tolist(), x.grad.tolist(), None if s.grad is None else s.grad.tolist()))
    assert out[0] == out[1]


def test_copy_with_grad_keeps_inf_values():
    y = pydl.tensor([float("inf"), 1.0], requires_grad=True) * 1
    y.copy_(pydl.tensor([1.0, 2.0], requires_grad=True))
    assert y.tolist() == [1.0, 2.0]


def test_std_of_constant_has_zero_gradient():
    for x in (leaf([2.0, 2.0, 2.0]), leaf([[1.0, 1.0], [3.0, 3.0]])):
        y = (x - x.mean()) / (x.std(-1) + 1).sum() if x.ndim == 1 else x.std(1).sum()
        y.sum().backward()
        assert np.all(np.isfinite(x.grad.numpy()))
        np.testing.assert_allclose(x.grad.numpy(), np.zeros(x.shape))
    z = leaf([1.0, 2.0, 4.0])
    assert pydl.autograd.gradcheck(lambda t: t.std(), [z])


_UNARY = [lambda x: x.exp().clamp(max=5), lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x * x,
          lambda x: x.sin(), lambda x: x.relu() + 0.1 * x, lambda x: x.T, lambda x: x.reshape(-1).reshape(x.shape),
          lambda x: x.sum(0, keepdim=True).expand(*x.shape), lambda x: x.abs() + 1,
          lambda x: x.logsumexp(-1, keepdim=True) - x, lambda x: x.max(-1, keepdim=True)[0] * x,
          lambda x: (x - x.mean()) / (x.std() + 1), lambda x: x.clone(), lambda x: x.contiguous() * 2]
_BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / (b.abs() + 1),
           lambda a, b: a @ b.T, lambda a, b: a.maximum(b), lambda a, b: a * 0.5 + b]


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_match_torch(seed):
    """Random compositions (with reuse, so diamonds and repeated inputs) against torch."""
    torch = pytest.importorskip("torch")
    import random
    rnd = random.Random(seed)
    arrs = [np.random.default_rng(seed * 10 + i).normal(size=(4, 4)) for i in range(rnd.randint(1, 3))]
    prog = [(rnd.random() < 0.5, rnd.randrange(100), rnd.randrange(100), rnd.randrange(100)) for _ in range(rnd.randint(3, 12))]
    res = []
    for lib in (pydl, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrs]
        vals = list(leaves)
        for unary, k, i, j in prog:
            if unary:
                vals.append(_UNARY[k % len(_UNARY)](vals[i % len(vals)]))
            else:
                vals.append(_BINARY[k % len(_BINARY)](vals[i % len(vals)], vals[j % len(vals)]))
        out = vals[0].sum() * 0
        for w, v in enumerate(vals[len(arrs):]):
            out = out + v.sum() * (w + 1)
        out.backward()
        res.append((out.item(), [lf.grad.numpy().copy() for lf in leaves]))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-9)
    for g, tg in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(g, tg, rtol=1e-7, atol=1e-9)


def test_double_backward_through_kernel_backward_raises_not_silently_zero():
    """Ops whose backward runs raw kernels with no op-written derivative (logcumsumexp, RNNs, CTC) can't be
    differentiated twice: reaching them with create_graph must raise, never give 0."""
    x = pydl.randn(3, 4, requires_grad=True)
    (gx,) = pydl.autograd.grad(pydl.logcumsumexp(x, 1).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match=r"^\[LogcumsumexpBackward\] double backward is not supported"):
        (gx * gx).sum().backward()
    # first-order gradients through the same op are unaffected
    pydl.logcumsumexp(x, 1).sum().backward()
    assert x.grad is not None


@pytest.mark.parametrize("name,kw", [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("elu", {"alpha": 0.7}),
    ("softplus", {"beta": 2.0, "threshold": 1.5}), ("leaky_relu", {"negative_slope": 0.2}),
    ("mish", {}), ("selu", {}), ("celu", {"alpha": 0.6}), ("softsign", {}), ("logsigmoid", {}),
    ("tanhshrink", {}), ("hardswish", {}), ("hardtanh", {}), ("hardsigmoid", {}),
])
def test_activation_double_backward_gradgradcheck(name, kw):
    """Fused first-order kernels, second derivatives written with ops: checked by finite differences
    of the first derivative (values kept away from the kinks at 0 and at the softplus threshold)."""
    F = pydl.nn.functional
    v = np.array([-2.1, -0.9, -0.3, 0.4, 1.1, 2.5])
    x = leaf(v)
    assert pydl.autograd.gradgradcheck(lambda t: getattr(F, name)(t, **kw), [x])


@pytest.mark.parametrize("name,args,kw", [
    ("max_pool2d", (2,), {}), ("max_pool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("avg_pool2d", (2,), {}), ("avg_pool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "divisor_override": 4}),
    ("adaptive_avg_pool2d", ((2, 3),), {}),
])
def test_pool_double_backward_gradgradcheck(name, args, kw):
    """Pooling gradients are linear maps of the incoming gradient; their own gradients are the
    forward maps (a gather at the saved indices for max pooling)."""
    F = pydl.nn.functional
    x = leaf(np.random.default_rng(3).permutation(2 * 5 * 5).reshape(1, 2, 5, 5) * 0.1)  # distinct: no max ties
    assert pydl.autograd.gradgradcheck(lambda t: getattr(F, name)(t, *args, **kw), [x])


def test_activation_and_pool_second_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    F, TF = pydl.nn.functional, torch.nn.functional
    a = np.random.default_rng(0).normal(size=(2, 3, 4, 4))
    x, tx = leaf(a), torch.tensor(a, requires_grad=True)

    def f(F, t):
        return (F.avg_pool2d(F.gelu(F.max_pool2d(F.silu(t), 2) * 1.5), 1) ** 2).sum()

    (g,) = pydl.autograd.grad(f(F, x), x, create_graph=True)
    (tg,) = torch.autograd.grad(f(TF, tx), tx, create_graph=True)
    (h,) = pydl.autograd.grad((g * g).sum(), x)
    (th,) = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-9, atol=1e-12)
