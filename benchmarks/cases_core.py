"""The foundation's cases: GEMM, batched GEMM, elementwise, reduction, and per-op overhead."""
import numpy as np

import pydl
from harness import Case, optional_torch

torch = optional_torch()
F32 = 4  # bytes per float32


def _inputs(*shapes, seed=0):
    """The same float32 data as NumPy arrays, pydl tensors and torch tensors (or None)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    pd = [pydl.tensor(a) for a in arrays]
    th = [torch.from_numpy(a.copy()) for a in arrays] if torch is not None else None
    return arrays, pd, th


def _case(name, group, np_fn, pd_fn, th_fn, arrays, pd, th, work=None, unit="ms"):
    fns = {"pydl": lambda: pd_fn(*pd), "numpy": lambda: np_fn(*arrays),
           "torch": (lambda: th_fn(*th)) if th is not None else None}
    return Case(name, group, fns, work, unit)


def cases(quick):
    out = []
    sizes = [64, 128, 256, 512, 1024] + ([] if quick else [2048])
    for n in sizes:
        a, p, t = _inputs((n, n), (n, n))
        out.append(_case(f"matmul {n}", "matmul", np.matmul, pydl.matmul, torch and torch.matmul,
                         a, p, t, work=2.0 * n ** 3, unit="GFLOP/s"))

    b, m = 64, 128
    a, p, t = _inputs((b, m, m), (b, m, m))
    out.append(_case(f"bmm {b}x({m}x{m})", "matmul", np.matmul, pydl.bmm, torch and torch.bmm,
                     a, p, t, work=2.0 * b * m ** 3, unit="GFLOP/s"))

    n = 1_000_000
    a, p, t = _inputs((n,), (n,))
    out.append(_case("add 1e6", "elementwise", np.add, pydl.add, torch and torch.add,
                     a, p, t, work=3.0 * n * F32, unit="GB/s"))
    a, p, t = _inputs((n,))
    out.append(_case("exp 1e6", "elementwise", np.exp, pydl.exp, torch and torch.exp,
                     a, p, t, work=2.0 * n * F32, unit="GB/s"))
    out.append(_case("sum 1e6", "reduce", np.sum, pydl.sum, torch and torch.sum,
                     a, p, t, work=1.0 * n * F32, unit="GB/s"))

    # Per-call overhead: the Python binding, dispatch and (with requires_grad) graph recording.
    add = lambda x, y: x + y
    for rg in (False, True):
        a, p, t = _inputs((1,), (1,))
        if rg:
            p = [x.requires_grad_() for x in p]
            t = [x.requires_grad_() for x in t] if t is not None else None
        out.append(_case(f"a + b, 1 element{', requires_grad' if rg else ''}", "overhead",
                         add, add, add, a, p, t, unit="us/call"))
    return out
