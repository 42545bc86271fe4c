"""Transformer cases (issue 13): the small Transformer language model of
examples/transformer_lm.py (2 pre-norm encoder layers, d=128, 4 heads, feed-forward 512,
causal mask, GELU, dropout 0.1), the same network built over pydl and over PyTorch:

- a training step (zero_grad, forward, cross-entropy, backward, Adam) at batch 32 x 64 tokens;
- fused scaled_dot_product_attention forward + backward at the model's shape (32 x 4 heads,
  64 x 32, causal) against torch's.
"""
import os
import sys

import numpy as np

import pydl
import pydl.nn.functional as PF
from harness import Case, optional_torch

torch = optional_torch()

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))
import transformer_lm as lm  # noqa: E402


def _lm_case(quick):
    vocab, bs, seq = 96, (8 if quick else 32), 64
    rng = np.random.default_rng(0)
    x = rng.integers(0, vocab, (bs, seq))
    y = rng.integers(0, vocab, (bs, seq))
    pydl.manual_seed(0)
    pm = lm.make_model(pydl, vocab, seq_len=seq)
    pm.train()
    p_step = lm.train_step_fn(pydl, pm, pydl.optim.Adam(pm.parameters(), lr=1e-3), pydl.tensor(x), pydl.tensor(y))
    t_step = None
    if torch is not None:
        torch.manual_seed(0)
        tm = lm.make_model(torch, vocab, seq_len=seq)
        tm.train()
        t_step = lm.train_step_fn(torch, tm, torch.optim.Adam(tm.parameters(), lr=1e-3), torch.from_numpy(x.copy()),
                                  torch.from_numpy(y.copy()))
    return Case(f"Transformer LM (2 layers, d=128) train step, batch {bs}x{seq}, Adam", "train",
                {"pydl": p_step, "numpy": None, "torch": t_step}, work=bs * seq, unit="samples/s")


def _sdpa_case(quick):
    b, h, L, e = (8 if quick else 32), 4, 64, 32
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal((b, h, L, e)).astype(np.float32) for _ in range(3)]
    g = rng.standard_normal((b, h, L, e)).astype(np.float32)
    pq = [pydl.tensor(a, requires_grad=True) for a in arrs]
    pg = pydl.tensor(g)

    def p_fn():
        out = PF.scaled_dot_product_attention(*pq, is_causal=True)
        out.backward(pg)
    t_fn = None
    if torch is not None:
        tq = [torch.tensor(a, requires_grad=True) for a in arrs]
        tg = torch.tensor(g)

        def t_fn():
            out = torch.nn.functional.scaled_dot_product_attention(*tq, is_causal=True)
            out.backward(tg)
    flops = 6 * 2 * b * h * L * L * e  # 2 forward and 4 backward (L x L x e) GEMMs
    return Case(f"scaled_dot_product_attention fwd+bwd {b}x{h}x{L}x{e} causal", "attention",
                {"pydl": p_fn, "numpy": None, "torch": t_fn}, work=flops, unit="GFLOP/s")


def cases(quick):
    if torch is not None:  # run.py sets both; keep them equal when a module is used on its own
        torch.set_num_threads(pydl.get_num_threads())
    return [_lm_case(quick), _sdpa_case(quick)]
