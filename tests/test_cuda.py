"""CUDA backend. Each CUDA kernel is compared with its CPU kernel (values and gradients) where a GPU
is present (pydl.utils.cuda_selftest's cases); without one, the refusal, device handling that stays
on the CPU, and pin_memory's no-op are tested, on the CPU-only build and on a CUDA build alike."""
import os
import subprocess
import sys

import numpy as np
import pytest

import pydl
from pydl import nn
from pydl.utils import cuda_selftest

gpu = pytest.mark.skipif(not pydl.cuda.is_available(), reason="no CUDA device (CPU-only build or no GPU)")
no_gpu = pytest.mark.skipif(pydl.cuda.is_available(), reason="a CUDA device is present")


@gpu
@pytest.mark.parametrize("name", cuda_selftest.case_names())
def test_cuda_kernel_matches_cpu_kernel(name):
    cuda_selftest.run_case(name)


@gpu
def test_cuda_tensors_move_and_report_their_device():
    x = pydl.arange(6.0).reshape(2, 3)
    g = x.cuda()
    assert g.device == pydl.device("cuda", 0) and g.is_cuda and not x.is_cuda
    assert g.to("cuda") is g and g.cpu().device == pydl.device("cpu")
    np.testing.assert_array_equal(g.cpu().numpy(), x.numpy())
    assert pydl.cuda.memory_allocated() > 0
    with pytest.raises(TypeError, match=r"\[numpy\].*cuda:0"):
        g.numpy()
    with pytest.raises(RuntimeError, match=r"^\[add\] expected all tensors on the same device, got cpu and cuda:0"):
        pydl.add(x, g)
    # autograd across the copy: the gradient comes back to the CPU leaf
    w = pydl.ones(3, requires_grad=True)
    (w.cuda() * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2, 2, 2])


@gpu
def test_pinned_batches_copy_asynchronously():
    ds = pydl.data.TensorDataset(pydl.randn(8, 3), pydl.arange(8))
    for xb, yb in pydl.data.DataLoader(ds, batch_size=4, pin_memory=True):
        assert xb.is_pinned() and yb.is_pinned()
        g = xb.to("cuda", non_blocking=True)
        pydl.cuda.synchronize()
        np.testing.assert_array_equal(g.cpu().numpy(), xb.numpy())


# ---- without a GPU: what runs everywhere --------------------------------------------------------

@no_gpu
@pytest.mark.parametrize("make", [
    lambda: pydl.zeros(2, device="cuda"),
    lambda: pydl.tensor([1.0], device="cuda:0"),
    lambda: pydl.randn(3, device=pydl.device("cuda")),
    lambda: pydl.ones(2).to("cuda"),
    lambda: pydl.ones(2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: nn.Linear(2, 2).cuda(),
])
def test_cuda_is_refused_without_a_gpu(make):
    with pytest.raises(RuntimeError, match=r"^\[[\w.]+\] .*no CUDA device is available for device='cuda(:0)?'"):
        make()


@no_gpu
def test_cuda_queries_without_a_gpu():
    assert pydl.cuda.is_available() is False and pydl.cuda.device_count() == 0
    assert pydl.accelerator.is_available() is False and pydl.accelerator.current_accelerator() is None
    assert pydl.cuda.memory_allocated() == 0 and pydl.cuda.memory_reserved() == 0
    pydl.cuda.synchronize()  # nothing queued: returns
    pydl.cuda.empty_cache()
    pydl.cuda.manual_seed_all(3)
    assert pydl.cuda.self_test() is False
    with pytest.raises(RuntimeError, match="no CUDA device is available"):
        pydl.cuda.current_device()


def test_device_parsing_matches_torch():
    torch = pytest.importorskip("torch")
    for args in [("cuda:0",), ("cuda", 1), ("cpu",), ("cuda",)]:
        d, t = pydl.device(*args), torch.device(*args)
        assert (d.type, d.index, str(d)) == (t.type, t.index, str(t))
    assert pydl.zeros(1).device == torch.device("cpu").type


def test_cpu_placement_is_a_no_op():
    x = pydl.randn(3, 4)
    assert x.to("cpu") is x and x.cpu() is x and x.to(pydl.device("cpu"), non_blocking=True) is x
    assert x.to("cpu", pydl.float64).dtype == pydl.float64
    for f in (pydl.zeros, pydl.ones, pydl.empty, pydl.rand, pydl.randn):
        assert f(2, 3, device="cpu").device == pydl.device("cpu")
    assert pydl.tensor([1, 2], device="cpu").device.type == "cpu"
    assert pydl.arange(3, device=pydl.device("cpu")).tolist() == [0, 1, 2]
    assert pydl.zeros_like(x).device == x.device and not x.is_cuda
    m = nn.Linear(4, 2)
    w = m.weight
    assert m.to("cpu") is m and m.cpu() is m and m.weight is w
    assert m.to("cpu", dtype=pydl.float64).weight.dtype == pydl.float64


def test_pin_memory_without_a_gpu_warns_and_goes_on():
    ds = pydl.data.TensorDataset(pydl.arange(10.0).reshape(5, 2), pydl.arange(5))
    if pydl.cuda.is_available():
        pytest.skip("a GPU pins for real (test_pinned_batches_copy_asynchronously)")
    with pytest.warns(UserWarning, match="pin_memory"):
        batches = list(pydl.data.DataLoader(ds, batch_size=2, pin_memory=True))
    plain = list(pydl.data.DataLoader(ds, batch_size=2))
    assert len(batches) == 3
    for (a, b), (c, d) in zip(batches, plain):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert not a.is_pinned()
    with pytest.raises(RuntimeError, match=r"^\[pin_memory\].*no CUDA device"):
        pydl.ones(2).pin_memory()


def test_cuda_build_runs_cpu_ops():
    """This build (CPU-only or CUDA) imports, runs CPU ops, trains a step, and says what it is."""
    F = pydl.nn.functional
    x = pydl.randn(4, 1, 28, 28)
    from pydl.train.models import MnistNet
    m = MnistNet()
    loss = F.nll_loss(m(x), pydl.tensor([1, 2, 3, 4]))
    loss.backward()
    assert np.isfinite(loss.item()) and m.conv1.weight.grad is not None
    assert pydl.cuda.is_built() == bool(pydl._C.build_config["cuda"])
    if pydl.cuda.is_built() and not pydl.cuda.is_available():
        with pytest.raises(RuntimeError, match="this CUDA build found no GPU"):
            pydl.zeros(1, device="cuda")


def test_info_cuda_selftest_says_so_without_a_gpu(tmp_path):
    where = os.path.dirname(os.path.dirname(pydl.__file__))  # the pydl this run imports
    env = dict(os.environ, PYTHONPATH=where + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "pydl", "info", "--cuda-selftest"], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=600)
    if pydl.cuda.is_available():
        assert r.returncode == 0, r.stdout + r.stderr
        assert "0 failed" in r.stdout
    else:
        assert r.returncode == 2, r.stdout + r.stderr
        assert "nothing was run" in r.stdout and ("no GPU" in r.stdout or "no CUDA support" in r.stdout)
