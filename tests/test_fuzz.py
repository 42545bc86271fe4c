"""Fuzzing: every public call either returns or raises an op-named Python exception, never kills
the process (fuzz_calls.py, in child processes); and hypothesis checks that the calls that do
return give the NumPy result."""
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pydl  # noqa: E402

ERRORS = (ValueError, TypeError, IndexError, RuntimeError, MemoryError, OverflowError)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

dims = st.one_of(st.integers(0, 4), st.integers(-3, -1), st.sampled_from([2**40, 2**62, 2**63 - 1, -2**62]))
shapes = st.lists(dims, min_size=0, max_size=4)
small_shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4)
dtypes = st.sampled_from([pydl.float32, pydl.float64, pydl.int64, pydl.bool])
NPDT = {pydl.float32: np.float32, pydl.float64: np.float64, pydl.int64: np.int64, pydl.bool: np.bool_}


def test_every_public_call_survives_random_arguments(long_run):
    """CI: 3,000 random calls; --long: 100,000. A crash or hang prints the call that caused it."""
    import fuzz_calls

    s = fuzz_calls.run(100_000 if long_run else 3_000, seed=0, batch=1000, timeout=300.0)
    print(f"fuzz: {s['calls']} calls, {len(s['dead'])} dead, {len(s['hung'])} hung, {s['raised']} raised, "
          f"{s['unprefixed']} without an [op] prefix, {s['seconds']} s")
    assert not s["dead"], "calls that killed the process:\n" + "\n".join(f"{d['call']}  (rc {d['rc']})" for d in s["dead"])
    assert not s["hung"], "calls that hung:\n" + "\n".join(d["call"] for d in s["hung"])
    assert s["calls"] >= (100_000 if long_run else 3_000)
    assert s["raised"] > s["calls"] // 4  # the arguments really are bad
    assert s["unprefixed"] == 0, "exceptions without an [op] prefix:\n" + "\n".join(
        f"{k}\n    <- {v}" for k, v in list(s["examples"].items())[:20])


def size_ok(shape):
    return max(shape, default=0) < 10**6


def _np_shape_ok(shape):
    return all(d >= 0 for d in shape) and np.prod([float(d) for d in shape]) < 1e6


@FAST
@given(shape=shapes, dtype=dtypes, factory=st.sampled_from(["zeros", "ones", "empty", "full", "rand", "randn"]))
def test_factories_valid_or_clean_error(shape, dtype, factory):
    size = np.prod([float(d) for d in shape])
    try:
        if factory == "full":
            t = pydl.full(tuple(shape), 1, dtype=dtype)
        else:
            t = getattr(pydl, factory)(*shape, dtype=dtype)
    except ERRORS as e:
        if factory in ("rand", "randn") and dtype in (pydl.int64, pydl.bool) and isinstance(e, TypeError):
            assert str(e).startswith(("[uniform_]", "[normal_]")), e
            return
        if any(d < 0 for d in shape):
            assert isinstance(e, ValueError) and "negative" in str(e), e
        elif size > 1e9:
            assert isinstance(e, (MemoryError, ValueError)), e
        elif size == 0 and max(shape) > 1e9:
            assert isinstance(e, (MemoryError, ValueError)), e  # (2**62, 2**62, 0): refusing is fine
        else:
            raise
        return
    assert all(d >= 0 for d in shape) and size < 1e9, shape
    assert tuple(t.shape) == tuple(shape) and t.dtype == dtype and t.numel() == int(np.prod(shape, dtype=object))
    if factory in ("zeros", "ones", "full") and size_ok(shape):
        np.testing.assert_array_equal(t.numpy(), np.full(shape, 0 if factory == "zeros" else 1, NPDT[dtype]))


def test_documented_errors():
    with pytest.raises(ValueError, match=r"^\[\w+\].*negative"):
        pydl.zeros(-1)
    with pytest.raises((MemoryError, ValueError)):
        pydl.empty(2**62, 2**62)
    with pytest.raises((MemoryError, ValueError)):
        pydl.empty(2**40, 2**40, 2**40)
    with pytest.raises((MemoryError, ValueError, OverflowError, TypeError)):
        pydl.zeros(2**64)
    with pytest.raises((MemoryError, ValueError)):
        pydl.arange(0, 1e19)
    with pytest.raises((MemoryError, ValueError)):
        pydl.linspace(0, 1, 2**62)
    with pytest.raises((MemoryError, ValueError)):
        pydl.eye(2**40)
    with pytest.raises((MemoryError, ValueError)):
        pydl.randperm(2**62)


@FAST
@given(shape=small_shapes, target=shapes)
def test_reshape_view_expand(shape, target):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t = pydl.tensor(a)
    for op in ("reshape", "view", "expand"):
        try:
            got = getattr(t, op)(*target) if target else getattr(t, op)(())
        except ERRORS:
            continue
        assert got.numel() == int(np.prod([int(d) for d in got.shape])), (shape, target, op)
        if got.numel() > 10**6 or max(got.shape, default=0) > 10**6:  # a huge stride-0 expand is a valid view
            assert op == "expand" or got.numel() == 0, (shape, target)
            assert got.numel() == 0 or all(st == 0 for st, d in zip(got.stride(), got.shape) if d > 10**6), got.stride()
            continue
        if op == "expand":
            want = np.broadcast_to(a, [a.shape[i - (len(target) - a.ndim)] if d == -1 else d for i, d in enumerate(target)])
        else:
            want = a.reshape(target)
        np.testing.assert_array_equal(got.numpy(), want)


@FAST
@given(sa=small_shapes, sb=small_shapes, op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "eq", "lt"]),
       da=dtypes, db=dtypes)
def test_binary_broadcast(sa, sb, op, da, db):
    rng = np.random.default_rng(0)
    a = (rng.uniform(1, 3, sa)).astype(NPDT[da])
    b = (rng.uniform(1, 3, sb)).astype(NPDT[db])
    try:
        got = getattr(pydl, op)(pydl.tensor(a), pydl.tensor(b))
    except ERRORS as e:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            assert str(e).startswith(f"[{op}]") or str(e).startswith("[compare]"), e
            return
        assert op == "sub" and da == db == pydl.bool, e  # the only dtype combination pydl refuses
        return
    npop = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "maximum": np.maximum,
            "eq": np.equal, "lt": np.less}[op]
    with np.errstate(all="ignore"):
        want = npop(a, b)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.astype(np.float64), rtol=1e-6)


@FAST
@given(shape=small_shapes, dims=st.lists(st.integers(-6, 6), max_size=3), keepdim=st.booleans(),
       op=st.sampled_from(["sum", "mean", "amax", "amin", "var", "logsumexp"]))
def test_reductions(shape, dims, keepdim, op):
    a = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float64)
    t = pydl.tensor(a)
    try:
        got = getattr(t, op)(tuple(dims), keepdim) if op != "var" else t.var(tuple(dims), keepdim=keepdim)
    except ERRORS:
        nd = max(a.ndim, 1)
        assert (any(d >= nd or d < -nd for d in dims) or len({d % nd for d in dims}) < len(dims)
                or (op in ("amax", "amin") and a.size == 0) or (op == "logsumexp" and not dims)), (shape, dims)
        return
    axis = tuple(d % a.ndim for d in dims) if (dims and a.ndim) else None
    if op == "logsumexp":
        with np.errstate(all="ignore"):
            want = np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdim))
    elif op == "var":
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            n = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
            want = np.var(a, axis=axis, keepdims=keepdim) * (n / (n - 1) if n > 1 else np.nan)
    else:
        npop = {"sum": np.sum, "mean": np.mean, "amax": np.amax, "amin": np.amin}[op]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = npop(a, axis=axis, keepdims=keepdim)
    if a.ndim == 0 and keepdim:
        want = np.asarray(want).reshape(())
    assert tuple(got.shape) == np.shape(want), (shape, dims, keepdim)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-12, equal_nan=True)


def _split_ref(a, size, dim):
    """torch.split(a, size, dim) in NumPy (one empty piece for an empty dim)."""
    if size <= 0:
        raise ValueError("split size must be positive")
    n = a.shape[dim]
    return np.split(a, list(range(size, n, size)), dim) if n else [a]


@FAST
@given(shape=small_shapes, d0=st.integers(-6, 6), d1=st.integers(-6, 6), k=st.integers(-3, 6))
def test_dim_arguments(shape, d0, d1, k):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t = pydl.tensor(a)
    nd = max(a.ndim, 1)
    calls = [
        (lambda: t.transpose(d0, d1), lambda: np.swapaxes(a, d0, d1) if a.ndim else a),
        (lambda: t.unsqueeze(d0), lambda: np.expand_dims(a, d0)),
        (lambda: t.squeeze(d0), lambda: np.squeeze(a, d0) if a.ndim and a.shape[d0] == 1 else a),
        (lambda: t.flatten(d0), lambda: a.reshape(a.shape[:d0 % nd] + (int(np.prod(a.shape[d0 % nd:])),)) if a.ndim
         else a.reshape(1)),
        (lambda: t.argmax(d0), lambda: np.argmax(a, d0) if a.ndim else np.asarray(0)),
        (lambda: t.max(d0)[0], lambda: np.max(a, d0) if a.ndim else a),
        (lambda: pydl.cat([t, t], d0), lambda: np.concatenate([a, a], d0)),
        (lambda: pydl.stack([t, t], d0), lambda: np.stack([a, a], d0)),
        (lambda: t.chunk(k, d0)[0], lambda: _split_ref(a, max(1, -(-a.shape[d0] // k)), d0)[0]),
        (lambda: t.split(k, d0)[-1], lambda: _split_ref(a, k, d0)[-1]),
    ]
    for i, (f, ref) in enumerate(calls):
        try:
            got = f()
        except ERRORS:
            continue  # the exception type is what matters here; values are checked below
        try:
            with np.errstate(all="ignore"):
                want = ref()
        except (ValueError, IndexError, np.exceptions.AxisError, ZeroDivisionError):
            if i in (4, 5) and a.ndim == 0:
                continue
            pytest.fail(f"call {i} on shape {shape} with d0={d0}, d1={d1}, k={k} succeeded but NumPy refuses")
        np.testing.assert_array_equal(got.numpy(), want, err_msg=f"call {i} shape {shape} d0={d0} k={k}")


@FAST
@given(sa=st.lists(st.integers(0, 3), min_size=1, max_size=4), sb=st.lists(st.integers(0, 3), min_size=1, max_size=4))
def test_matmul_shapes(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa), rng.normal(size=sb)
    try:
        got = pydl.tensor(a) @ pydl.tensor(b)
    except ERRORS as e:
        assert str(e).startswith("[matmul]"), e
        with pytest.raises(ValueError):
            np.matmul(a, b)
        return
    np.testing.assert_allclose(got.numpy(), np.matmul(a, b), rtol=1e-10, atol=1e-12)


@FAST
@given(data=st.recursive(st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False, width=32), st.booleans()),
                         lambda c: st.lists(c, max_size=3), max_leaves=8))
def test_tensor_from_python_data(data):
    try:
        t = pydl.tensor(data)
    except ERRORS:
        return
    arr = np.asarray(data)
    assert tuple(t.shape) == arr.shape
    np.testing.assert_array_equal(t.numpy(), arr.astype(t.numpy().dtype))


@FAST
@given(shape=small_shapes, start=st.integers(-2**62, 2**62), step=st.one_of(st.integers(-5, 5), st.just(2**62)))
def test_slice_select(shape, start, step):
    if not shape:
        shape = [3]
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    t = pydl.tensor(a)
    try:
        got = pydl._C.slice(t, 0, start, None, step)
    except ERRORS:
        assert step <= 0
    else:
        np.testing.assert_array_equal(got.numpy(), a[start::step])
    try:
        got = pydl._C.select(t, 0, start)
    except ERRORS:
        assert not -a.shape[0] <= start < a.shape[0]
    else:
        np.testing.assert_array_equal(got.numpy(), a[start])


def test_wrong_argument_types_raise_typeerror():
    t = pydl.zeros(2, 3)
    for f in (lambda: t.reshape("a"), lambda: t.sum("x"), lambda: pydl.zeros("a"), lambda: t.transpose(None, 1),
              lambda: pydl.cat([t, "a"]), lambda: pydl.matmul(t, None), lambda: t + None, lambda: t.to("float99"),
              lambda: pydl.tensor([1, 2], dtype="int8"), lambda: t.expand(None), lambda: pydl.exp([1.0])):
        with pytest.raises(ERRORS):
            f()


@FAST
@given(bad=st.one_of(st.floats(allow_nan=True), st.none(), st.text(max_size=2), st.lists(st.floats(), min_size=1, max_size=2)))
def test_non_integer_sizes_and_dims_raise_typeerror(bad):
    t = pydl.zeros(2, 3)
    for f in (lambda: pydl.zeros(bad), lambda: pydl.zeros((2, bad)), lambda: t.reshape(bad, -1), lambda: t.sum(bad if bad is not None else 0.5),
              lambda: t.permute(bad, 0), lambda: t.expand(2, bad)):
        with pytest.raises((TypeError, ValueError)):  # never a silently truncated 2.5 -> 2
            f()


def test_sizes_accept_int_likes():
    assert pydl.zeros(np.int64(2), 3).shape == (2, 3)
    assert pydl.zeros(pydl.tensor(3)).shape == (3,)
    assert pydl.ones(2, 3).sum(np.int64(1)).shape == (2,)
