"""Random-argument fuzz of pydl's whole public surface, run in child processes.

Every public callable of `pydl`, `pydl.nn.functional`, every Tensor method and every nn layer
(constructor, then forward) is called with random arguments: None, bools, ints (0, negative,
2**63-1), floats (nan, inf), strings, nested and ragged lists, NumPy arrays of every dtype and
byte order, 0-d / empty / non-contiguous / requires-grad tensors, dtypes, callables. A call may
return or raise any Exception; the process must never die. Children run batches of calls and
log each call before making it, so a crash names its call; the parent restarts after a crash.

    python tests/fuzz_calls.py --calls 100000        # the long run (pytest: --long)
"""
import argparse
import inspect
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = re.compile(r"^\[[\w.]+\]")
CHILD_MEMORY = 3 << 30  # address-space cap of a child: a huge allocation must fail, not swap the machine
# object-protocol slots of the Tensor type that are Python's, not pydl's
_OBJECT_SLOTS = {"__new__", "__init_subclass__", "__subclasshook__", "__getattribute__", "__setattr__", "__delattr__",
                 "__dir__", "__class__", "__doc__", "__module__", "__dict__", "__weakref__", "__reduce__",
                 "__sizeof__", "__getstate__"}


def targets():
    """[(kind, name)] of everything the fuzz calls (kind: pydl, F, Tensor, nn)."""
    import pydl
    import pydl.nn as nn
    import pydl.nn.functional as F

    out = []
    for n in sorted(dir(pydl)):
        v = getattr(pydl, n)
        if not n.startswith("_") and callable(v) and not inspect.ismodule(v) and v.__module__ != "builtins":
            out.append(("pydl", n))  # (a builtin alias such as Size = tuple is Python's, not pydl's)
    for n in sorted(dir(F)):
        v = getattr(F, n)
        if not n.startswith("_") and callable(v) and not inspect.ismodule(v) and not isinstance(v, type):
            out.append(("F", n))
    for n in sorted(dir(pydl.Tensor)):
        if n in _OBJECT_SLOTS or (n.startswith("_") and not (n.startswith("__") and n in vars(pydl.Tensor))):
            continue
        if callable(getattr(pydl.Tensor, n, None)):
            out.append(("Tensor", n))
    for n in sorted(dir(nn)):
        v = getattr(nn, n)
        if isinstance(v, type) and issubclass(v, nn.Module):
            out.append(("nn", n))
    return out


class Gen:
    """Random argument values, reproducible from (seed, call index)."""

    def __init__(self, seed):
        import numpy as np

        self.r = random.Random(seed)
        self.np = np.random.default_rng(seed)

    def small_int(self):
        return self.r.choice([0, 1, 1, 2, 2, 3, 4, -1])

    def tensor(self):
        import numpy as np
        import pydl

        r = self.r
        shape = r.choice([(), (0,), (1,), (3,), (2, 3), (3, 1), (0, 2), (2, 3, 4), (1, 2, 3, 2), (4, 4)])
        dt = r.choice([pydl.float32, pydl.float32, pydl.float64, pydl.int64, pydl.bool])
        if dt == pydl.bool:
            a = self.np.random(shape) > 0.5
        elif dt == pydl.int64:
            a = self.np.integers(-3, 4, shape)
        else:
            a = self.np.standard_normal(shape)
            if a.size and r.random() < 0.1:
                a.flat[0] = r.choice([math.nan, math.inf, -math.inf, 1e30])
        t = pydl.tensor(np.asarray(a), dtype=dt)
        k = r.random()
        if k < 0.1 and t.ndim >= 2:
            t = t.transpose(0, 1)
        elif k < 0.2 and t.ndim >= 1 and t.shape[0] > 1:
            t = t[::2]
        elif k < 0.25 and t.ndim >= 1:
            t = t.unsqueeze(0).expand(3, *t.shape)
        if dt.is_floating_point and r.random() < 0.3:
            t = t.detach().requires_grad_(True) if r.random() < 0.5 else (t.detach().requires_grad_(True) * 1.0)
        return t

    def array(self):
        import numpy as np

        r = self.r
        dt = r.choice(["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "?", "c8", ">f4", ">i8",
                       "<f8", "O", "U3"])
        shape = r.choice([(), (0,), (3,), (2, 3), (0, 3), (2, 1, 3)])
        a = np.zeros(shape, dtype="f8") + self.np.integers(-2, 3, shape)
        a = a.astype(dt) if dt not in ("O", "U3") else np.full(shape, "x" if dt == "U3" else None, dtype=dt)
        k = r.random()
        if k < 0.15 and a.ndim >= 1:
            a = a[::-1]
        elif k < 0.3 and a.ndim >= 2:
            a = a.T
        return a

    def value(self, depth=0):
        import numpy as np
        import pydl

        r = self.r
        k = r.random()
        if k < 0.30:
            return self.tensor()
        if k < 0.42:
            return self.small_int()
        if k < 0.50:
            return None
        if k < 0.56:
            return r.choice([2**63 - 1, -2**63, 2**31, 2**62, -5, 10**6, True, False])
        if k < 0.62:
            return r.choice([0.5, -1.5, 0.0, math.nan, math.inf, -math.inf, 1e39, 1e-45])
        if k < 0.68:
            return r.choice(["", "a", "mean", "sum", "none", "constant", "reflect", "float32", "cpu", "cuda", "tanh",
                             "same", "valid", "relu"])
        if k < 0.78:
            if depth < 2 and r.random() < 0.3:
                return [self.value(depth + 1) for _ in range(r.randint(0, 3))]
            return r.choice([[], [1, 2], [[1, 2], [3]], [[1, 2], [3, 4]], [None], [1.5, "a"], [2**63], (2, 3), (0,),
                             (-1,), (2**62, 2**62), (1,) * 40, (2, -1), [0.5, 1.5], (1, 1)])
        if k < 0.85:
            return self.array()
        if k < 0.90:
            return r.choice([pydl.float32, pydl.float64, pydl.int64, pydl.bool, np.float16, "float16", complex,
                             np.int32, pydl.nn.Linear])
        if k < 0.95:
            return r.choice([slice(None, None, -1), slice(0, 2), Ellipsis, slice(None, None, 0), (slice(None), None)])
        return r.choice([lambda *a: None, object(), {}, {"a": 1}, b"xy", 1j, np.float64(2.5), np.int64(3)])

    def args(self, fn, first_tensor):
        r = self.r
        n = r.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])
        args = [self.value() for _ in range(n)]
        if args and first_tensor and r.random() < 0.6:
            args[0] = self.tensor()
        kwargs = {}
        if r.random() < 0.25:
            try:
                names = [p for p in inspect.signature(fn).parameters if p not in ("self", "args", "kwargs")]
            except (TypeError, ValueError):
                names = []
            if names:
                kwargs[r.choice(names)] = self.value()
        return args, kwargs


def _short(v):
    s = repr(v).replace("\n", " ")
    return s if len(s) < 120 else s[:117] + "..."


def make_call(seed, i, table):
    """(description, thunk) of call number i."""
    import pydl
    import pydl.nn as nn
    import pydl.nn.functional as F

    g = Gen(seed * 1_000_003 + i)
    kind, name = table[g.r.randrange(len(table))]
    if kind == "nn":
        cls = getattr(nn, name)
        cargs = [g.small_int() + 1 if g.r.random() < 0.7 else g.value() for _ in range(g.r.choice([0, 1, 2, 2, 3]))]
        fargs = [g.tensor() if g.r.random() < 0.8 else g.value() for _ in range(g.r.choice([1, 1, 1, 2]))]
        desc = f"nn.{name}({', '.join(map(_short, cargs))})({', '.join(map(_short, fargs))})"
        return desc, lambda: cls(*cargs)(*fargs)
    if kind == "Tensor":
        recv = g.tensor()
        fn = getattr(recv, name)
        args, kwargs = g.args(fn, False)
        desc = f"{_short(recv)}.{name}({', '.join(map(_short, args))}{''.join(f', {k}={_short(v)}' for k, v in kwargs.items())})"
        return desc, lambda: fn(*args, **kwargs)
    fn = getattr(pydl if kind == "pydl" else F, name)
    args, kwargs = g.args(fn, True)
    desc = f"{kind}.{name}({', '.join(map(_short, args))}{''.join(f', {k}={_short(v)}' for k, v in kwargs.items())})"
    return desc, lambda: fn(*args, **kwargs)


def _touch(result):
    """Reads what a call returned, so that a tensor over bad memory is caught too."""
    import pydl

    if isinstance(result, pydl.Tensor):
        if result.numel() <= 4096:
            repr(result)
    elif isinstance(result, (tuple, list)):
        for v in result[:4]:
            _touch(v)
    elif inspect.isgenerator(result):
        for _, v in zip(range(4), result):
            _touch(v)


def child(seed, start, count, log_path):
    """Runs calls [start, start+count) and prints a JSON summary; logs each call before making it."""
    import resource
    import warnings

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    sys.setrecursionlimit(5000)
    warnings.simplefilter("ignore")
    import pydl

    pydl.set_num_threads(1)
    table = targets()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    stats = {"done": 0, "raised": 0, "unprefixed": 0, "memory": 0, "examples": {}}
    devnull = open(os.devnull, "w")
    for i in range(start, start + count):
        try:
            desc, thunk = make_call(seed, i, table)
        except Exception as e:  # noqa: BLE001 - building arguments is the fuzz's own business
            desc, thunk = f"<setup {i}: {type(e).__name__}>", (lambda: None)
        os.write(log, f"{i}\t{desc}\n".encode("utf-8", "replace"))
        out, sys.stdout = sys.stdout, devnull
        try:
            _touch(thunk())
        except MemoryError:
            # nn.GRU(2, 4, 10**6) asks for a million layers: running out of the child's memory
            # cap (Python's own MemoryError, without a message) is a valid answer
            stats["raised"] += 1
            stats["memory"] += 1
        except Exception as e:  # noqa: BLE001 - any exception is a valid answer; only its message is checked
            stats["raised"] += 1
            if not PREFIX.match(str(e)):
                stats["unprefixed"] += 1
                key = f"{type(e).__name__}: {str(e)[:100]}"
                if len(stats["examples"]) < 200:
                    stats["examples"].setdefault(key, desc)
        finally:
            sys.stdout = out
            pydl.set_grad_enabled(True)
            pydl.set_num_threads(1)
            pydl.set_default_dtype(pydl.float32)
        stats["done"] += 1
    os.close(log)
    print(json.dumps(stats))


def run(calls, seed=0, batch=500, timeout=120.0, verbose=False):
    """Runs `calls` calls in child processes; returns the summary (crashes and hangs listed)."""
    import pydl

    # children import the pydl this process imported (a dev tree or the installed wheel)
    where = os.path.dirname(os.path.dirname(os.path.abspath(pydl.__file__)))
    env = dict(os.environ, PYTHONPATH=where + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    summary = {"calls": 0, "dead": [], "hung": [], "raised": 0, "unprefixed": 0, "memory": 0, "examples": {}}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as work:  # the cwd of children: pydl.save("a", ...) writes here
        log_path = os.path.join(work, "calls.log")
        i = 0
        while i < calls:
            n = min(batch, calls - i)
            open(log_path, "w").close()
            cmd = [sys.executable, os.path.abspath(__file__), "--child", str(seed), str(i), str(n), log_path]
            try:
                p = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
                rc, out, err = p.returncode, p.stdout, p.stderr
            except subprocess.TimeoutExpired as e:
                rc, out, err = None, e.stdout or "", e.stderr or ""
            with open(log_path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
            if rc == 0:
                st = json.loads(out.strip().splitlines()[-1])
                summary["calls"] += st["done"]
                summary["raised"] += st["raised"]
                summary["unprefixed"] += st["unprefixed"]
                summary["memory"] += st["memory"]
                for k, v in st["examples"].items():
                    summary["examples"].setdefault(k, v)
                i += n
                continue
            last = lines[-1].split("\t", 1) if lines else [str(i), "<before the first call>"]
            idx = int(last[0]) if last[0].isdigit() else i
            entry = {"call": last[1] if len(last) > 1 else "?", "index": idx, "rc": rc,
                     "stderr": (err if isinstance(err, str) else err.decode("utf-8", "replace"))[-800:]}
            summary["dead" if rc is not None else "hung"].append(entry)
            summary["calls"] += idx - i + 1
            if verbose:
                print(("DEAD" if rc is not None else "HUNG"), entry, file=sys.stderr)
            i = idx + 1
    summary["seconds"] = round(time.time() - t0, 1)
    summary["unprefixed_share"] = summary["unprefixed"] / max(summary["raised"], 1)
    return summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--child", nargs=4)
    a = ap.parse_args()
    if a.child:
        child(int(a.child[0]), int(a.child[1]), int(a.child[2]), a.child[3])
        return
    s = run(a.calls, a.seed, a.batch, verbose=True)
    examples = s.pop("examples")
    print(json.dumps(s, indent=1))
    for k, v in list(examples.items())[:60]:
        print(f"  {k}\n      <- {v}")


if __name__ == "__main__":
    main()
