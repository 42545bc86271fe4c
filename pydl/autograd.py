"""Autograd entry points: backward, grad, grad-mode contexts and gradcheck."""
import functools

import numpy as np

from . import _C
from ._C import Tensor

is_grad_enabled = _C.is_grad_enabled


class _GradModeContext:
    """Base of no_grad / enable_grad: a context manager and a decorator."""

    _mode = True

    def __init__(self):  # no arguments (a plain def, so that a bad call gets an op-named error)
        pass

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C.set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _C.set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Disables gradient recording inside its block (or the decorated function)."""

    _mode = False


class enable_grad(_GradModeContext):
    """Enables gradient recording inside its block (or the decorated function)."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to `mode`; works as a function call, a context manager or a decorator."""

    def __init__(self, mode):
        self._mode = bool(mode)
        self._prev = _C.is_grad_enabled()
        _C.set_grad_enabled(self._mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self._mode
        _C.set_grad_enabled(self._prev)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Computes the sum of gradients of `tensors` w.r.t. graph leaves, into their .grad."""
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    _C.run_backward(tensors, grads, bool(retain_graph), bool(create_graph), [], False)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Returns the gradients of `outputs` w.r.t. `inputs` (a tuple), without touching .grad.

    Args:
        outputs: tensor or sequence of tensors to differentiate.
        inputs: tensor or sequence of tensors to differentiate with respect to.
        grad_outputs: seed gradients, one per output (None for scalars).
        retain_graph: keep the graph for another backward (defaults to create_graph).
        create_graph: record the backward itself, for higher-order gradients.
        allow_unused: return None for inputs not reached instead of raising.

    Returns:
        A tuple with one gradient (or None) per input.
    """
    outputs = _as_list(outputs)
    inputs_l = _as_list(inputs)
    grads = _as_list(grad_outputs) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    res = _C.run_backward(outputs, grads, bool(retain_graph), bool(create_graph), inputs_l, bool(allow_unused))
    return tuple(res)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares analytical gradients of `fn` with float64 central finite differences.

    Args:
        fn: function of the tensors in `inputs` returning a tensor or tuple of tensors.
        inputs: tensor or tuple of tensors; those with requires_grad are checked
            (they should be float64).
        eps: finite-difference step.
        atol, rtol: tolerances.
        raise_exception: raise on mismatch instead of returning False.

    Returns:
        True when every Jacobian entry matches.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for t in diff:
        if t.dtype != _C.dtype.float64:
            import warnings

            warnings.warn("gradcheck: input is not float64; finite differences will be inaccurate")

    def run():
        out = fn(*inputs)
        return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]

    with no_grad():
        outs0 = run()
    for oi, o0 in enumerate(outs0):
        if not o0.dtype.is_floating_point:
            continue
        n_out = o0.numel()
        for t in diff:
            n_in = t.numel()
            numeric = np.zeros((n_in, n_out))
            flat = t.detach().numpy().reshape(-1) if t.is_contiguous() else None
            if flat is None:
                raise ValueError("gradcheck: inputs must be contiguous")
            for i in range(n_in):  # finite differences perturb one element at a time
                orig = flat[i]
                flat[i] = orig + eps
                with no_grad():
                    plus = run()[oi].detach().numpy().astype(np.float64).reshape(-1).copy()
                flat[i] = orig - eps
                with no_grad():
                    minus = run()[oi].detach().numpy().astype(np.float64).reshape(-1).copy()
                flat[i] = orig
                numeric[i] = (plus - minus) / (2 * eps)
            analytic = np.zeros((n_in, n_out))
            for j in range(n_out):
                out = run()[oi]
                seed = np.zeros(n_out, dtype=out.dtype.__str__().replace("pydl.", ""))
                seed[j] = 1
                g = grad([out], [t], [_C._to_tensor(seed.reshape(out.shape), None)], allow_unused=True)[0]
                if g is not None:
                    analytic[:, j] = g.detach().numpy().astype(np.float64).reshape(-1)
            if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
                if raise_exception:
                    idx = np.unravel_index(np.argmax(np.abs(analytic - numeric)), analytic.shape)
                    raise RuntimeError(
                        f"[gradcheck] Jacobian mismatch for output {oi} w.r.t. an input of shape {tuple(t.shape)}: "
                        f"analytical {analytic[idx]:.6g} vs numerical {numeric[idx]:.6g} at (input {idx[0]}, output {idx[1]})")
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Checks second derivatives: gradcheck of the map (inputs, v) -> grad(fn(inputs), inputs, v)
    computed with create_graph=True, against finite differences (PyTorch's gradgradcheck).

    Args:
        fn, inputs, eps, atol, rtol, raise_exception: as for gradcheck.
        grad_outputs: upstream gradients v (float64); seeded random ones when None.

    Returns:
        True when every Jacobian entry of the first derivative matches.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if grad_outputs is None:
        with no_grad():
            outs = _as_list(fn(*inputs))
        rng = np.random.default_rng(0)
        grad_outputs = [_C.from_numpy(rng.standard_normal(tuple(o.shape))).requires_grad_(True) for o in outs]
    grad_outputs = _as_list(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        with enable_grad():
            ins = args[:n]
            gs = grad(_as_list(fn(*ins)), [ins[i] for i in diff], list(args[n:]), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, list(inputs) + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
