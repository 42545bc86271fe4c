"""Recurrent cases (issue 5): LSTM and GRU classifiers over MNIST-shaped sequences.

One layer, input 28, hidden 128, 28 steps, batch 64, batch_first, then Linear(128, 10) on the
last step; training step (cross-entropy, Adam) and inference (eval, no_grad), in samples/s,
pydl vs PyTorch in the same run. There is no NumPy version.
"""
import numpy as np

import pydl
import pydl.nn as pnn
from harness import Case, optional_torch

torch = optional_torch()
if torch is not None:
    import torch.nn as tnn

BATCH, STEPS, FEATURES, HIDDEN, CLASSES = 64, 28, 28, 128, 10


def classifier(nn, cell):
    """Program B's model: a one-layer recurrent net (batch_first), Linear on the last step."""
    class RNNClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, cell)(FEATURES, HIDDEN, num_layers=1, batch_first=True)
            self.fc = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1, :])

    return RNNClassifier()


def _train_fn(lib, nn, cell, x, y):
    model = classifier(nn, cell).train()
    loss_fn = nn.CrossEntropyLoss()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _infer_fn(lib, nn, cell, x):
    model = classifier(nn, cell).eval()

    def infer():
        with lib.no_grad():
            return model(x)
    return infer


def cases(quick):
    if torch is not None:  # run.py sets both; keep them equal when a module is used on its own
        torch.set_num_threads(pydl.get_num_threads())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, STEPS, FEATURES), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    px, py = pydl.tensor(x), pydl.tensor(y)
    tx, ty = (torch.from_numpy(x.copy()), torch.from_numpy(y.copy())) if torch is not None else (None, None)
    shape = f"in {FEATURES}, hidden {HIDDEN}, {STEPS} steps, batch {BATCH}"
    out = []
    for cell in ("LSTM", "GRU"):
        pydl.manual_seed(0)
        if torch is not None:
            torch.manual_seed(0)
        out.append(Case(f"{cell} train step ({shape}), Adam", "rnn",
                        {"pydl": _train_fn(pydl, pnn, cell, px, py), "numpy": None,
                         "torch": _train_fn(torch, tnn, cell, tx, ty) if torch is not None else None},
                        work=BATCH, unit="samples/s"))
        out.append(Case(f"{cell} inference ({shape})", "rnn",
                        {"pydl": _infer_fn(pydl, pnn, cell, px), "numpy": None,
                         "torch": _infer_fn(torch, tnn, cell, tx) if torch is not None else None},
                        work=BATCH, unit="samples/s"))
    return out
