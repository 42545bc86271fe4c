"""Smoke tests: the compiled core loads, computes like NumPy and differentiates.

The full suite lives in the other tests/test_*.py files.
"""
import numpy as np

import pydl


def test_matmul_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((33, 17), dtype=np.float32)
    b = rng.standard_normal((17, 9), dtype=np.float32)
    out = (pydl.tensor(a) @ pydl.tensor(b)).numpy()
    assert out.shape == (33, 9)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5, atol=1e-5)


def test_grad_of_square_is_2x():
    x = pydl.tensor([-1.5, 0.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-3.0, 0.0, 4.0, 6.0])


def test_no_grad_records_nothing():
    w = pydl.tensor([1.0, 2.0], requires_grad=True)
    with pydl.no_grad():
        y = w * 3
    assert not y.requires_grad


def test_build_config_and_cpu_check(monkeypatch):
    import pydl._cpu as cpu

    assert pydl._C.build_config["arch"] == pydl._ARCH  # read from _build_info.py before _C loads
    assert "pydl " + pydl.__version__ in pydl.show_config()
    cpu.check_cpu(pydl._ARCH)  # this machine runs the build
    monkeypatch.setattr(cpu, "_cpu_flags", lambda: {"sse2", "sse4_2"})
    try:
        cpu.check_cpu("x86-64-v3")
    except ImportError as e:
        assert "avx2" in str(e) and "PYDL_ARCH" in str(e)
    else:
        raise AssertionError("an old CPU must get an ImportError")
