"""CUDA cases: matmul, conv and a MnistNet train step on the GPU, pydl against PyTorch CUDA.

Every call ends with a synchronize, so a call's time is its GPU work. Skipped (no cases) unless
this pydl build has a CUDA device, and the torch column is empty unless PyTorch sees one too.
"""
import numpy as np

import pydl
from harness import Case, optional_torch

torch = optional_torch()
_TORCH_CUDA = torch is not None and torch.cuda.is_available()


def _sync_pd(fn):
    def run():
        fn()
        pydl.cuda.synchronize()
    return run


def _sync_th(fn):
    def run():
        fn()
        torch.cuda.synchronize()
    return run


def _pair(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    pd = [pydl.tensor(a, device="cuda") for a in arrays]
    th = [torch.from_numpy(a).cuda() for a in arrays] if _TORCH_CUDA else None
    return pd, th


def _case(name, group, pd_fn, th_fn, work, unit):
    return Case(name, group, {"pydl": _sync_pd(pd_fn), "numpy": None, "torch": _sync_th(th_fn) if th_fn else None},
                work, unit)


def _mnist_step(lib, x, t):
    """One Adam step of MnistNet (program H) in `lib` (pydl or torch), on the GPU."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, 1), nn.Conv2d(32, 64, 3, 1)
            self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
            self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = F.relu(self.fc1(self.dropout1(x).flatten(1)))
            return F.log_softmax(self.fc2(self.dropout2(x)), dim=1)

    model = Net().to("cuda")
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        F.nll_loss(model(x), t).backward()
        opt.step()
    return step


def cases(quick):
    if not pydl.cuda.is_available():
        return []
    out = []
    for n in ([1024, 4096] if quick else [1024, 2048, 4096]):
        pd, th = _pair((n, n), (n, n))
        out.append(_case(f"cuda matmul {n}", "cuda", lambda a=pd: pydl.matmul(*a),
                         (lambda a=th: torch.matmul(*a)) if th else None, 2.0 * n ** 3, "GFLOP/s"))
    pd, th = _pair((64, 32, 26, 26), (64, 32, 3, 3))
    out.append(_case("cuda conv2d 64x32x26x26 k3", "cuda", lambda a=pd: pydl.nn.functional.conv2d(*a),
                     (lambda a=th: torch.nn.functional.conv2d(*a)) if th else None,
                     2.0 * 64 * 64 * 24 * 24 * 32 * 9, "GFLOP/s"))
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((64, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 64)
    th_step = None
    if _TORCH_CUDA:
        th_step = _mnist_step(torch, torch.from_numpy(x).cuda(), torch.from_numpy(t).cuda())
    out.append(_case("cuda MnistNet train step (batch 64)", "cuda",
                     _mnist_step(pydl, pydl.tensor(x, device="cuda"), pydl.tensor(t, device="cuda")), th_step,
                     64.0, "samples/s"))
    return out
