"""pydl's float32 GEMM engine against a float64 NumPy reference, at every instruction-set level
this machine has (each level in a subprocess with PYDL_ISA set), and identical for any thread count."""
import os
import subprocess
import sys

import numpy as np
import pytest

import pydl

LEVELS = ("baseline", "avx2", "avx512")
PRIMES = (2, 3, 5, 7, 13, 31, 61, 67, 71, 97, 127, 131, 193, 257, 263, 383, 509, 521)


def _levels():
    have = pydl._C.build_config["isa_detected"]
    return LEVELS[: LEVELS.index(have) + 1]


def _views(a):
    """The operand as a contiguous array, a transposed (column-major) view and a strided slice."""
    yield "contiguous", pydl.tensor(a)
    yield "transposed", pydl.tensor(np.ascontiguousarray(a.T)).T
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), np.float32)
    wide[:, ::2] = a
    yield "strided", pydl.tensor(wide)[:, ::2]


def _check(m, n, k, rng, views=False):
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    tol = dict(rtol=1e-5, atol=2e-6 * max(k, 1) ** 0.5 * 4)
    pairs = [(x, y) for x in _views(a) for y in _views(b)] if views else [(("c", pydl.tensor(a)), ("c", pydl.tensor(b)))]
    for (na, x), (nb, y) in pairs:
        got = (x @ y).numpy()
        np.testing.assert_allclose(got, ref, **tol, err_msg=f"M={m} N={n} K={k} A {na} B {nb}")


def worker():
    """Runs every check at the level PYDL_ISA selects; prints the level on success."""
    rng = np.random.default_rng(0)
    pydl.set_num_threads(1)
    for d in range(1, 71):  # each dimension through 1..70, the others at edge and full tiles
        for o1, o2 in ((1, 70), (17, 6), (64, 33)):
            _check(d, o1, o2, rng)
            _check(o1, d, o2, rng)
            _check(o2, o1, d, rng)
    for p in PRIMES:
        _check(p, p, p, rng, views=p in (3, 67, 131, 263))
        _check(p, 521 if p < 100 else 7, 97, rng)
    for m, n, k in ((0, 5, 3), (4, 0, 3), (4, 5, 0), (1, 1, 1), (1, 700, 300), (700, 1, 300), (300, 700, 1)):
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
        np.testing.assert_allclose((pydl.tensor(a) @ pydl.tensor(b)).numpy(), a.astype(np.float64) @ b, rtol=1e-5,
                                   atol=1e-4, err_msg=f"M={m} N={n} K={k}")
    # accumulation (linear adds x W^T into the broadcast bias) and batched products
    x, w, bias = (rng.uniform(-1, 1, s).astype(np.float32) for s in ((97, 301), (131, 301), (131,)))
    np.testing.assert_allclose(pydl.nn.functional.linear(pydl.tensor(x), pydl.tensor(w), pydl.tensor(bias)).numpy(),
                               x.astype(np.float64) @ w.T + bias, rtol=1e-5, atol=1e-4)
    a3, b3 = rng.uniform(-1, 1, (5, 37, 70)).astype(np.float32), rng.uniform(-1, 1, (5, 70, 45)).astype(np.float32)
    np.testing.assert_allclose((pydl.tensor(a3) @ pydl.tensor(b3)).numpy(), a3.astype(np.float64) @ b3, rtol=1e-5, atol=1e-4)
    # the same bits for any thread count (every element is summed in one fixed order)
    for m, n, k in ((257, 263, 509), (1024, 96, 300), (6, 2000, 700), (130, 130, 130)):
        a = pydl.tensor(rng.uniform(-1, 1, (m, k)).astype(np.float32))
        b = pydl.tensor(rng.uniform(-1, 1, (k, n)).astype(np.float32))
        for bb in (b, pydl.tensor(np.ascontiguousarray(b.numpy().T)).T):
            pydl.set_num_threads(1)
            one = (a @ bb).numpy()
            pydl.set_num_threads(2)
            two = (a @ bb).numpy()
            np.testing.assert_array_equal(one, two, err_msg=f"M={m} N={n} K={k}")
    print(pydl._C.build_config["isa"], pydl._C.build_config["gemm"])


@pytest.mark.parametrize("level", LEVELS)
def test_gemm_at_every_isa_level(level):
    if level not in _levels():
        pytest.skip(f"this CPU has no {level}")
    env = dict(os.environ, PYDL_ISA=level, OMP_NUM_THREADS="2")
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(pydl.__file__)), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    isa, gemm = r.stdout.split()
    assert isa == level
    assert gemm == level


def test_isa_level_is_reported():
    cfg = pydl._C.build_config
    assert cfg["isa"] in LEVELS and cfg["isa_detected"] in LEVELS
    assert LEVELS.index(cfg["isa"]) <= LEVELS.index(cfg["isa_detected"])
    assert f"instruction set: {cfg['isa']}" in pydl.show_config()


def test_fma_peak_probe():
    for level in _levels():
        assert pydl._C._fma_peak_gflops(level, 1, 0.01) > 1.0
    with pytest.raises(ValueError, match=r"^\[fma_peak\]"):
        pydl._C._fma_peak_gflops("sse", 1, 0.01)


if __name__ == "__main__":
    worker()


@pytest.mark.parametrize("xs,ws,kw", [
    ((3, 64, 20, 21), (24, 64, 3, 3), {"padding": 1}),                         # 420 positions in chunks of 64
    ((2, 256, 23, 17), (16, 128, 3, 2), {"stride": (2, 1), "dilation": (2, 1), "padding": (1, 2), "groups": 2}),
    ((2, 48, 19, 19), (8, 48, 5, 5), {"stride": (1, 2), "padding": 2}),        # chunks cut output rows mid-row
    ((2, 640, 9, 11), (12, 640, 1, 1), {}),                                   # pointwise: the input in place
    ((37, 8, 10, 10), (16, 8, 3, 3), {}),                                      # more samples than gradient blocks
    # stride 1 with >= 16 channels: the shifted-window paths (no column matrix)
    ((2, 32, 15, 13), (32, 16, 3, 3), {"dilation": (2, 1), "padding": (2, 1), "groups": 2}),
    ((2, 24, 12, 11), (20, 24, 4, 2), {"padding": "same"}),                   # even kernel: uneven padding
    ((3, 16, 9, 14), (16, 16, 3, 3), {"padding": (1, 5)}),                     # padding past the kernel's reach
    ((2, 64, 16, 16), (128, 64, 3, 3), {"padding": 1}),                        # several output chunks
])
def test_conv2d_chunked_columns_match_torch(xs, ws, kw):
    """Convolutions whose column matrix is split into several chunks of output positions (many
    input channels) in forward and in both gradients, float32 and float64, against torch; on 2
    threads the same bits as on 1."""
    torch = pytest.importorskip("torch")
    import pydl.nn.functional as F
    rng = np.random.default_rng(5)
    for dt, tol in ((np.float64, 1e-10), (np.float32, 2e-4)):
        x, w, b = (rng.standard_normal(s).astype(dt) for s in (xs, ws, (ws[0],)))
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
        g = rng.standard_normal(tuple(ty.shape)).astype(dt)
        ty.backward(torch.tensor(g))
        results = []
        for threads in (1, 2):
            pydl.set_num_threads(threads)
            try:
                px, pw, pb = (pydl.tensor(a, requires_grad=True) for a in (x, w, b))
                y = F.conv2d(px, pw, pb, **kw)
                y.backward(pydl.tensor(g))
            finally:
                pydl.set_num_threads(1)
            results.append([t.detach().numpy() for t in (y, px.grad, pw.grad, pb.grad)])
        for got, t, name in zip(results[0], (ty, tx.grad, tw.grad, tb.grad), ("y", "grad x", "grad w", "grad b")):
            ref = t.detach().numpy()
            np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max(), err_msg=f"{name} {dt}")
        for one, two, name in zip(*results, ("y", "grad x", "grad w", "grad b")):
            np.testing.assert_array_equal(one, two, err_msg=f"{name} {dt}: 2 threads differ from 1")


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_rnn_with_packed_recurrent_weight_matches_torch(cell):
    """A hidden size whose recurrent weight the engine packs once per sequence (forward and
    backward) instead of reading in place: outputs and all gradients against torch, float32,
    the same bits on 2 threads as on 1."""
    torch = pytest.importorskip("torch")
    from pydl import nn
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 28, 10)).astype(np.float32)  # (seq, batch, features)
    tm = getattr(torch.nn, cell)(10, 160)
    tx = torch.tensor(x, requires_grad=True)
    ty, _ = tm(tx)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ty.backward(torch.tensor(g))
    results = []
    for threads in (1, 2):
        pydl.set_num_threads(threads)
        try:
            pm = getattr(nn, cell)(10, 160)
            pm.load_state_dict({k: pydl.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
            px = pydl.tensor(x, requires_grad=True)
            y, _ = pm(px)
            y.backward(pydl.tensor(g))
        finally:
            pydl.set_num_threads(1)
        results.append([y.detach().numpy(), px.grad.numpy()] + [p.grad.numpy() for p in pm.parameters()])
    refs = [ty.detach().numpy(), tx.grad.numpy()] + [p.grad.numpy() for p in tm.parameters()]
    for i, (got, ref) in enumerate(zip(results[0], refs)):
        np.testing.assert_allclose(got, ref, rtol=2e-4, atol=2e-5 * max(1.0, np.abs(ref).max()), err_msg=f"item {i}")
    for i, (one, two) in enumerate(zip(*results)):
        np.testing.assert_array_equal(one, two, err_msg=f"item {i}: 2 threads differ from 1")
