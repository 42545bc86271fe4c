"""Training-level cases (issue 4): whole training steps, inference, data loading and memory.

- MLP 784-128-10 (ReLU, cross-entropy, Adam, batch 64) training step: pydl vs PyTorch (same
  architecture and default init) vs a hand-written NumPy step (forward, backward, Adam; float32);
- MnistNet (program H: conv 1->32 k3, conv 32->64 k3, max_pool 2, dropout .25, fc 9216->128,
  dropout .5, fc 128->10, log_softmax + NLL; batch 64, Adam) training step: pydl vs PyTorch;
- inference of both models (eval, no_grad) at a larger batch, with a NumPy forward for the MLP;
- DataLoader iteration over MNIST train (batch 64, shuffle, ToTensor) vs torch's DataLoader
  over a TensorDataset (uint8, converted per batch) vs a NumPy shuffled fancy-indexing loop;
- peak RSS of a MnistNet training run (200 steps, 10 with --quick), each library in a fresh
  subprocess, in MB (a value case: lower is better).
"""
import inspect
import os
import subprocess
import sys

import numpy as np

import pydl
import pydl.nn as pnn
import pydl.nn.functional as PF
from harness import Case, optional_torch

torch = optional_torch()
if torch is not None:
    import torch.nn as tnn
    import torch.nn.functional as TF

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---- models, written once for both libraries -------------------------------------------------------

def mlp(nn):
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def mnistnet(nn, F, flatten):
    """Program H's MnistNet over a library's `nn`, `nn.functional` and `flatten`."""
    class MnistNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.max_pool2d(self.conv2(x), 2)
            x = flatten(self.dropout1(x), 1)
            x = self.dropout2(F.relu(self.fc1(x)))
            return F.log_softmax(self.fc2(x), dim=1)

    return MnistNet()


def train_step_fn(lib, model, loss_fn, x, y):
    """One training step (zero_grad, forward, loss, backward, Adam step) as a no-arg callable."""
    model.train()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def infer_fn(lib, model, x):
    model.eval()

    def infer():
        with lib.no_grad():
            return model(x)
    return infer


# ---- the hand-written NumPy MLP ----------------------------------------------------------------------

class NumpyMLP:
    """784-128-10 MLP with ReLU, softmax cross-entropy and Adam, all float32 NumPy arrays.

    Weights are stored (in, out) so the forward pass is x @ W; init as nn.Linear's default
    (uniform in +-1/sqrt(fan_in) for weights and biases)."""

    def __init__(self, rng, sizes=(784, 128, 10), lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / np.sqrt(fan_in)
            self.params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
            self.params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0

    def forward(self, x):
        w1, b1, w2, b2 = self.params
        h = x @ w1
        h += b1
        np.maximum(h, 0, out=h)
        out = h @ w2
        out += b2
        return out, h

    def step(self, x, y):
        w1, b1, w2, b2 = self.params
        logits, h = self.forward(x)
        n = len(y)
        # softmax cross-entropy (mean over the batch) and its gradient
        logits -= logits.max(1, keepdims=True)
        e = np.exp(logits)
        s = e.sum(1, keepdims=True)
        loss = float(np.log(s[:, 0]).mean() - logits[np.arange(n), y].mean())
        g = e / s
        g[np.arange(n), y] -= 1
        g /= n
        # backward
        gw2 = h.T @ g
        gb2 = g.sum(0)
        gh = g @ w2.T
        gh[h <= 0] = 0
        gw1 = x.T @ gh
        gb1 = gh.sum(0)
        # Adam
        self.t += 1
        bc1, bc2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        step_size, sq_bc2 = self.lr / bc1, np.sqrt(bc2)
        for p, gr, m, v in zip(self.params, (gw1, gb1, gw2, gb2), self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * gr
            v *= self.b2
            v += (1 - self.b2) * gr * gr
            p -= step_size * m / (np.sqrt(v) / sq_bc2 + self.eps)
        return loss


# ---- cases -------------------------------------------------------------------------------------------

def _mlp_cases(quick):
    rng = np.random.default_rng(0)
    out = []
    bs = 64
    x = rng.random((bs, 784), dtype=np.float32)
    y = rng.integers(0, 10, bs).astype(np.int64)
    pydl.manual_seed(0)
    p_step = train_step_fn(pydl, mlp(pnn), pnn.CrossEntropyLoss(), pydl.tensor(x), pydl.tensor(y))
    nmlp = NumpyMLP(np.random.default_rng(1))
    t_step = None
    if torch is not None:
        torch.manual_seed(0)
        t_step = train_step_fn(torch, mlp(tnn), tnn.CrossEntropyLoss(), torch.from_numpy(x.copy()),
                               torch.from_numpy(y.copy()))
    out.append(Case(f"MLP 784-128-10 train step, batch {bs}, Adam", "train",
                    {"pydl": p_step, "numpy": lambda: nmlp.step(x, y), "torch": t_step},
                    work=bs, unit="samples/s"))

    # batch 1: one request's latency, where packing the weights on every call would dominate
    nmlp_i = NumpyMLP(np.random.default_rng(2))
    for bs in (1000, 1):
        xi = rng.random((bs, 784), dtype=np.float32)
        p_inf = infer_fn(pydl, mlp(pnn), pydl.tensor(xi))
        t_inf = infer_fn(torch, mlp(tnn), torch.from_numpy(xi.copy())) if torch is not None else None
        out.append(Case(f"MLP 784-128-10 inference, batch {bs}", "inference",
                        {"pydl": p_inf, "numpy": lambda xi=xi: nmlp_i.forward(xi), "torch": t_inf},
                        work=bs, unit="samples/s"))
    return out


def _mnistnet_cases(quick):
    rng = np.random.default_rng(3)
    out = []
    bs = 64
    x = rng.random((bs, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, bs).astype(np.int64)
    pydl.manual_seed(0)
    p_step = train_step_fn(pydl, mnistnet(pnn, PF, pydl.flatten), pnn.NLLLoss(), pydl.tensor(x), pydl.tensor(y))
    t_step = None
    if torch is not None:
        torch.manual_seed(0)
        t_step = train_step_fn(torch, mnistnet(tnn, TF, torch.flatten), tnn.NLLLoss(),
                               torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
    out.append(Case(f"MnistNet train step, batch {bs}, Adam", "train",
                    {"pydl": p_step, "numpy": None, "torch": t_step}, work=bs, unit="samples/s"))

    bs = 256
    xi = rng.random((bs, 1, 28, 28), dtype=np.float32)
    p_inf = infer_fn(pydl, mnistnet(pnn, PF, pydl.flatten), pydl.tensor(xi))
    t_inf = (infer_fn(torch, mnistnet(tnn, TF, torch.flatten), torch.from_numpy(xi.copy()))
             if torch is not None else None)
    out.append(Case(f"MnistNet inference, batch {bs}", "inference",
                    {"pydl": p_inf, "numpy": None, "torch": t_inf}, work=bs, unit="samples/s"))
    return out


def mnist_root():
    """shared/data/mnist found by walking up from the repository root (git worktrees sit deeper)."""
    d = ROOT
    while True:
        cand = os.path.join(d, "shared", "data", "mnist")
        if os.path.isdir(cand):
            return cand
        if os.path.dirname(d) == d:
            return None
        d = os.path.dirname(d)


def _loader_case(quick):
    root = mnist_root()
    if root is None:
        print("warning: cases_train: no shared/data/mnist above the repository: skipping the DataLoader case",
              file=sys.stderr)
        return []
    from pydl.data import DataLoader
    from pydl.data.datasets import MNIST
    from pydl.data.transforms import ToTensor

    bs = 64
    ds = MNIST(root=root, train=True, download=False, transform=ToTensor())
    n = len(ds)
    batches = 100 if quick else -(-n // bs)  # quick: the first 100 batches of a shuffled epoch; else a full epoch
    samples = min(batches * bs, n)
    p_loader = DataLoader(ds, batch_size=bs, shuffle=True)

    def p_iter():
        for i, (xb, yb) in enumerate(p_loader):
            if i + 1 == batches:
                break

    images, labels = ds.data, ds.targets  # uint8 (N, 28, 28), int64 (N,)
    rng = np.random.default_rng(0)

    def n_iter():
        perm = rng.permutation(n)
        for i in range(batches):
            idx = perm[i * bs:(i + 1) * bs]
            xb = images[idx].astype(np.float32)[:, None]
            xb *= 1 / 255
            yb = labels[idx]

    t_iter = None
    if torch is not None:
        from torch.utils.data import DataLoader as TDataLoader, TensorDataset
        t_loader = TDataLoader(TensorDataset(torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())),
                               batch_size=bs, shuffle=True)

        def t_iter():
            for i, (xb, yb) in enumerate(t_loader):
                xb = xb.unsqueeze(1).float().div_(255)
                if i + 1 == batches:
                    break

    return [Case(f"DataLoader MNIST train, batch {bs}, shuffle, ToTensor, {samples} samples", "data",
                 {"pydl": p_iter, "numpy": n_iter, "torch": t_iter}, work=samples, unit="samples/s")]


# ---- peak RSS in a fresh process ---------------------------------------------------------------------

# The child imports only the library it measures (not this module: that would load both) and
# reads its peak from /proc/self/status VmHWM, the high-water mark of its own address space.
# getrusage's ru_maxrss would do elsewhere, but on Linux it survives fork + exec: a child of this
# (large) process would report the parent's peak instead of its own.
_RSS_SCRIPT = r"""
import resource
import numpy as np
lib_name, steps, threads = {lib!r}, {steps}, {threads}
if lib_name == "pydl":
    import pydl as lib, pydl.nn as nn, pydl.nn.functional as F
else:
    import torch as lib, torch.nn as nn, torch.nn.functional as F
lib.set_num_threads(threads)
lib.manual_seed(0)
{mnistnet_src}
model = mnistnet(nn, F, lib.flatten)
model.train()
opt = lib.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.NLLLoss()
rng = np.random.default_rng(0)
for _ in range(steps):
    x = lib.tensor(rng.random((64, 1, 28, 28), dtype=np.float32))
    y = lib.tensor(rng.integers(0, 10, 64).astype(np.int64))
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
try:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print("PEAK_RSS_KB", kb)
"""


def peak_rss_mb(lib, steps, threads):
    """Peak RSS (MB) of a fresh Python process that trains MnistNet for `steps` steps of batch 64."""
    code = _RSS_SCRIPT.format(lib=lib, steps=steps, threads=threads, mnistnet_src=inspect.getsource(mnistnet))
    # The child must import the pydl this process imported: run it outside the repository root
    # (whose source folder pydl/ has no compiled core when pydl is pip-installed) and put that
    # pydl's folder first on its path.
    env = dict(os.environ)
    if lib == "pydl":
        root = os.path.dirname(os.path.dirname(os.path.abspath(pydl.__file__)))
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                       cwd=os.path.dirname(os.path.abspath(__file__)), env=env)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("PEAK_RSS_KB")]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"[peak RSS] {lib} subprocess failed (exit {r.returncode}): {r.stderr.strip()[-500:]}")
    return int(lines[-1].split()[1]) / 1024


def _rss_case(quick):
    steps = 10 if quick else 200  # the peak is reached within the first few steps (checked: 3, 10, 30 agree)
    threads = pydl.get_num_threads()
    fns = {"pydl": lambda: peak_rss_mb("pydl", steps, threads), "numpy": None,
           "torch": (lambda: peak_rss_mb("torch", steps, threads)) if torch is not None else None}
    return Case(f"peak RSS, MnistNet {steps}-step train run (fresh process)", "memory", fns,
                unit="MB", kind="value")


def cases(quick):
    if torch is not None:  # run.py sets both; keep them equal when a module is used on its own
        torch.set_num_threads(pydl.get_num_threads())
    return _mlp_cases(quick) + _mnistnet_cases(quick) + _loader_case(quick) + [_rss_case(quick)]
