"""Compute-engine cases (issue 11): training while another process keeps one of the cores busy
(a team of threads must not lose to one thread there). The FMA peak is measured with the
machine info (harness.fma_peaks) and GEMM rows carry their share of it.

- MnistNet training step (batch 64, Adam) with a busy neighbour process, at the run's thread
  count and at 1 thread, pydl and PyTorch: the ratio of the two rows is what a shared machine
  costs (>= 1 means the threads still pay).
"""
import contextlib
import subprocess
import sys

import numpy as np

import pydl
from harness import Case, optional_torch

import cases_train as ct

torch = optional_torch()


@contextlib.contextmanager
def busy_neighbour():
    """A process spinning on one core for as long as the block lasts."""
    p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield p
    finally:
        p.kill()
        p.wait()


def _with_threads(step, n, set_threads, get_threads):
    def run():
        saved = get_threads()
        set_threads(n)
        try:
            step()
        finally:
            set_threads(saved)
    return run


def cases(quick):
    out = []
    threads = pydl.get_num_threads()
    bs = 64
    rng = np.random.default_rng(3)
    x = rng.random((bs, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, bs).astype(np.int64)
    pydl.manual_seed(0)
    pd_step = ct.train_step_fn(pydl, ct.mnistnet(ct.pnn, ct.PF, pydl.flatten), ct.pnn.NLLLoss(), pydl.tensor(x),
                               pydl.tensor(y))
    th_step = None
    if torch is not None:
        torch.manual_seed(0)
        th_step = ct.train_step_fn(torch, ct.mnistnet(ct.tnn, ct.TF, torch.flatten), ct.tnn.NLLLoss(),
                                   torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
    for n, label in ((threads, f"{threads} threads"), (1, "1 thread")):
        fns = {"pydl": _with_threads(pd_step, n, pydl.set_num_threads, pydl.get_num_threads),
               "torch": _with_threads(th_step, n, torch.set_num_threads, torch.get_num_threads) if th_step else None}
        out.append(Case(f"MnistNet train step, batch {bs}, busy neighbour, {label}", "shared cores", fns,
                        work=bs, unit="samples/s", context=busy_neighbour))
    return out
