"""Benchmark cases for the nn ops (issue 3): conv2d, max_pool2d, cross_entropy, the fused Adam step.

Each case times pydl against PyTorch (when installed) and a NumPy implementation, with the
inputs built once. `python benchmarks/cases_nn.py [--quick]` runs them without the harness.
"""
from dataclasses import dataclass
import numpy as np

try:  # the shared harness (benchmarks/harness.py)
    from .harness import Case
except ImportError:  # pragma: no cover - run as a script or before the harness exists
    try:
        from harness import Case
    except ImportError:
        @dataclass
        class Case:
            name: str
            group: str
            fns: dict
            work: float = None
            unit: str = "ms"

import pydl
import pydl.nn.functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # pragma: no cover
    torch = None

CONV_SHAPES = [  # (N, C, H, W), (O, C, kh, kw), padding
    ((64, 1, 28, 28), (32, 1, 3, 3), 0),
    ((64, 32, 26, 26), (64, 32, 3, 3), 0),
    ((128, 3, 32, 32), (64, 3, 3, 3), 1),
    ((128, 64, 16, 16), (128, 64, 3, 3), 1),
]


# ---- NumPy references ------------------------------------------------------------------------------

def np_conv2d(x, w, b, pad):
    """im2col via sliding_window_view, then one tensordot."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, OH, OW, kh, kw)
    out = np.tensordot(win, w, axes=((1, 4, 5), (1, 2, 3)))  # (N, OH, OW, O)
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None], win


def np_conv2d_fwd_bwd(x, w, b, pad):
    y, win = np_conv2d(x, w, b, pad)
    gy = np.ones_like(y)
    gw = np.tensordot(gy, win, axes=((0, 2, 3), (0, 2, 3)))  # (O, C, kh, kw)
    gb = gy.sum((0, 2, 3))
    gcol = np.tensordot(gy, w, axes=(1, 0))  # (N, OH, OW, C, kh, kw)
    N, C, H, W = x.shape
    OH, OW = y.shape[2:]
    gxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), x.dtype)
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            gxp[:, :, i:i + OH, j:j + OW] += gcol[..., i, j].transpose(0, 3, 1, 2)
    return gxp[:, :, pad:pad + H, pad:pad + W], gw, gb


def np_max_pool2x2(x):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def np_cross_entropy_fwd_bwd(x, t):
    m = x.max(1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(1, keepdims=True)
    lse = m[:, 0] + np.log(s[:, 0])
    loss = (lse - x[np.arange(len(t)), t]).mean()
    g = e / s
    g[np.arange(len(t)), t] -= 1
    return loss, g / len(t)


def np_adam(params, grads, ms, vs, step, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
    for p, g, m, v in zip(params, grads, ms, vs):
        m += (1 - b1) * (g - m)
        v *= b2
        v += (1 - b2) * g * g
        p -= (lr / bc1) * m / (np.sqrt(v) / np.sqrt(bc2) + eps)


# ---- cases ---------------------------------------------------------------------------------------------

def _conv_cases(quick):
    out = []
    rng = np.random.default_rng(0)
    for xs, ws, pad in CONV_SHAPES:
        if quick:
            xs = (max(xs[0] // 8, 2),) + xs[1:]
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ws) * 0.1).astype(np.float32)
        b = rng.standard_normal(ws[0]).astype(np.float32)
        OH, OW = xs[2] + 2 * pad - ws[2] + 1, xs[3] + 2 * pad - ws[3] + 1
        flops = 2.0 * xs[0] * ws[0] * ws[1] * ws[2] * ws[3] * OH * OW
        label = f"N={xs[0]} {xs[1]}->{ws[0]} {xs[2]}x{xs[3]} k{ws[2]}" + (f" pad{pad}" if pad else "")
        px, pw, pb = pydl.tensor(x), pydl.tensor(w), pydl.tensor(b)
        pxg, pwg, pbg = (pydl.tensor(a, requires_grad=True) for a in (x, w, b))

        def p_fwd(px=px, pw=pw, pb=pb, pad=pad):
            with pydl.no_grad():
                return F.conv2d(px, pw, pb, padding=pad)

        def p_fb(px=pxg, pw=pwg, pb=pbg, pad=pad):
            for t in (px, pw, pb):
                t.grad = None
            F.conv2d(px, pw, pb, padding=pad).sum().backward()

        t_fwd = t_fb = None
        if torch is not None:
            tx, tw, tb = torch.tensor(x), torch.tensor(w), torch.tensor(b)
            txg, twg, tbg = (torch.tensor(a, requires_grad=True) for a in (x, w, b))

            def t_fwd(tx=tx, tw=tw, tb=tb, pad=pad):
                with torch.no_grad():
                    return TF.conv2d(tx, tw, tb, padding=pad)

            def t_fb(tx=txg, tw=twg, tb=tbg, pad=pad):
                for t in (tx, tw, tb):
                    t.grad = None
                TF.conv2d(tx, tw, tb, padding=pad).sum().backward()

        out.append(Case(f"conv2d fwd {label}", "conv2d",
                        {"pydl": p_fwd, "numpy": lambda x=x, w=w, b=b, pad=pad: np_conv2d(x, w, b, pad), "torch": t_fwd},
                        work=flops, unit="ms"))
        out.append(Case(f"conv2d fwd+bwd {label}", "conv2d",
                        {"pydl": p_fb, "numpy": lambda x=x, w=w, b=b, pad=pad: np_conv2d_fwd_bwd(x, w, b, pad), "torch": t_fb},
                        work=3 * flops, unit="ms"))
    return out


def _pool_case(quick):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8 if quick else 64, 64, 24, 24)).astype(np.float32)
    px = pydl.tensor(x)
    tx = torch.tensor(x) if torch is not None else None
    return Case(f"max_pool2d 2x2 {x.shape}", "pooling",
                {"pydl": lambda: F.max_pool2d(px, 2), "numpy": lambda: np_max_pool2x2(x),
                 "torch": (lambda: TF.max_pool2d(tx, 2)) if tx is not None else None}, work=None, unit="ms")


def _ce_cases(quick):
    out = []
    rng = np.random.default_rng(2)
    for N, C in [(64, 10), (512, 1000) if quick else (4096, 1000)]:
        x = rng.standard_normal((N, C)).astype(np.float32)
        t = rng.integers(0, C, N).astype(np.int64)
        px, pt = pydl.tensor(x, requires_grad=True), pydl.tensor(t)

        def p_fb(px=px, pt=pt):
            px.grad = None
            F.cross_entropy(px, pt).backward()

        t_fb = None
        if torch is not None:
            tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t)

            def t_fb(tx=tx, tt=tt):
                tx.grad = None
                TF.cross_entropy(tx, tt).backward()

        out.append(Case(f"cross_entropy fwd+bwd ({N}, {C})", "loss",
                        {"pydl": p_fb, "numpy": lambda x=x, t=t: np_cross_entropy_fwd_bwd(x, t), "torch": t_fb}))
    return out


def _adam_case(quick):
    rng = np.random.default_rng(3)
    total = 150_000 if quick else 1_200_000
    sizes = [total // 8] * 8
    arrs = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    grads = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    pp = [pydl.tensor(a) for a in arrs]
    pg = [pydl.tensor(g) for g in grads]
    pm = [pydl.zeros(n) for n in sizes]
    pv = [pydl.zeros(n) for n in sizes]
    steps = [0]

    def p_step():
        steps[0] += 1
        pydl._C.adam_(pp, pg, pm, pv, pv, [steps[0]] * 8, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, False)

    na = [a.copy() for a in arrs]
    nm = [np.zeros(n, np.float32) for n in sizes]
    nv = [np.zeros(n, np.float32) for n in sizes]
    nstep = [0]

    def n_step():
        nstep[0] += 1
        np_adam(na, grads, nm, nv, nstep[0])

    t_step = None
    if torch is not None:
        tp = [torch.tensor(a, requires_grad=True) for a in arrs]
        for t, g in zip(tp, grads):
            t.grad = torch.tensor(g)
        opt = torch.optim.Adam(tp, lr=1e-3)
        t_step = opt.step
    return Case(f"Adam step {total / 1e6:.2f}M params in 8 tensors", "optim",
                {"pydl": p_step, "numpy": n_step, "torch": t_step})


def cases(quick: bool) -> list:
    """The nn benchmark cases; quick=True shrinks batch sizes for a fast smoke run."""
    if torch is not None:
        torch.set_num_threads(pydl.get_num_threads())
    return _conv_cases(quick) + [_pool_case(quick)] + _ce_cases(quick) + [_adam_case(quick)]


def _main():  # pragma: no cover - a stand-in for the harness
    import argparse
    import time

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--filter", default="")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    pydl.set_num_threads(a.threads)
    print(f"{'case':48s} {'pydl ms':>9s} {'torch ms':>9s} {'numpy ms':>9s} {'vs torch':>8s} {'vs numpy':>8s} {'GFLOP/s':>8s}")
    for c in cases(a.quick):
        if a.filter not in c.name:
            continue
        names = [k for k in ("pydl", "torch", "numpy") if c.fns.get(k) is not None]
        ts = {k: [] for k in names}
        # Blocks of runs per library (warm-up first): BLAS / OpenMP worker threads of one
        # library keep spinning after a call and would slow the next library on 2 cores.
        for _ in range(2):
            for k in names:
                for _ in range(2):
                    c.fns[k]()
                for _ in range((a.repeat + 1) // 2):
                    t0 = time.perf_counter()
                    c.fns[k]()
                    ts[k].append(time.perf_counter() - t0)
        med = {k: float(np.median(v)) * 1e3 for k, v in ts.items()}
        vt = f"{med['torch'] / med['pydl']:.2f}x" if "torch" in med else "-"
        vn = f"{med['numpy'] / med['pydl']:.2f}x"
        gf = f"{c.work / med['pydl'] / 1e6:.0f}" if c.work else "-"
        print(f"{c.name:48s} {med['pydl']:9.2f} {med.get('torch', float('nan')):9.2f} {med['numpy']:9.2f} {vt:>8s} {vn:>8s} {gf:>8s}",
              flush=True)


if __name__ == "__main__":
    _main()
