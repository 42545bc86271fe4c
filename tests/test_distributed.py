"""pydl.distributed, DistributedDataParallel, SyncBatchNorm and DistributedSampler.

The multi-process checks run worker scripts (tests/distributed/*.py) under `mpiexec -n 2`,
with a timeout so that a hang fails instead of blocking; each worker asserts against NumPy or
against the same computation in one process, and exits non-zero on any failure (an uncaught
exception aborts the whole MPI job).
"""
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import pydl
from pydl.data import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(pydl.__file__)))


def _mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.access(beside, os.X_OK) else shutil.which("mpiexec")


needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or _mpiexec() is None,
                               reason="needs mpi4py and mpiexec (pip install mpi4py mpich)")


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def _run(cmd, timeout, env=None):
    """Runs cmd in its own session; on timeout kills the launcher and every rank it started.
    The working directory is tests/distributed, so that `python -c` and `-m` cannot pick up an
    unbuilt pydl/ source folder from the repository root in place of the installed one."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or _env(),
                         start_new_session=True, cwd=os.path.join(HERE, "distributed"))
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"{' '.join(cmd)} did not finish within {timeout}s (a hang)\n{out}\n{err}")
    return p.returncode, out, err


def mpirun(script, *args, n=2, timeout=90, env=None):
    cmd = [_mpiexec(), "-n", str(n), sys.executable, os.path.join(HERE, "distributed", script), *args]
    return _run(cmd, timeout, env)


def _ok(script, n=2):
    rc, out, err = mpirun(script, n=n)
    assert rc == 0, f"{script} failed (rc={rc})\n{out}\n{err}"
    return out


@needs_mpi
def test_collectives_two_ranks():
    out = _ok("collectives.py")
    assert out.count("collectives OK") == 2


@needs_mpi
def test_ddp_matches_one_process():
    """2 ranks x batch 32 == 1 process x batch 64 over 20 SGD-momentum steps (<= 1e-5 relative,
    bit-identical ranks), with 1 and several buckets, bucket views, no_sync, unused parameters,
    buffer broadcast, state_dict keys and the parameter-shape check."""
    out = _ok("ddp.py")
    assert out.count("ddp OK") == 2


@needs_mpi
def test_sync_batchnorm_matches_global_batch():
    out = _ok("syncbn.py")
    assert out.count("syncbn OK") == 2


@needs_mpi
def test_exception_on_one_rank_aborts_the_job():
    rc, out, err = mpirun("misc.py", "fault", timeout=60)
    assert rc != 0
    assert "[rank 1] ValueError: boom on rank 1" in err and "aborting the MPI job" in err
    assert "the barrier returned" not in out


@needs_mpi
def test_ranks_share_the_cores():
    rc, out, err = mpirun("misc.py", "threads", env=_env(OMP_NUM_THREADS=None))
    assert rc == 0, err
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # mpiexec may join the ranks' lines: find the reports anywhere in the output
    assert sorted(re.findall(r"rank \d threads \d+", out)) == [f"rank {r} threads {max(1, cores // 2)}"
                                                               for r in range(2)]


@needs_mpi
def test_single_process_without_mpiexec():
    code = ("import pydl, pydl.distributed as dist\n"
            "dist.init_process_group('mpi')\n"
            "assert (dist.get_rank(), dist.get_world_size()) == (0, 1)\n"
            "m = pydl.nn.parallel.DistributedDataParallel(pydl.nn.Linear(3, 2))\n"
            "m(pydl.ones(4, 3)).sum().backward()\n"
            "assert m.module.weight.grad.tolist() == [[4.0] * 3] * 2\n"
            "print('ok')\n")
    rc, out, err = _run([sys.executable, "-c", code], 60)
    assert rc == 0 and out.strip() == "ok", err


def test_import_without_mpi4py():
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'mpi4py':\n"
            "            raise ImportError('No module named mpi4py')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import pydl, pydl.distributed as dist\n"
            "assert not dist.is_initialized()\n"
            "try:\n"
            "    dist.init_process_group('mpi')\n"
            "except RuntimeError as e:\n"
            "    print(e)\n")
    rc, out, err = _run([sys.executable, "-c", code], 60)
    assert rc == 0, err
    assert out.startswith("[init_process_group]") and 'pip install "pydl[distributed]"' in out


def test_not_initialized_errors():
    import pydl.distributed as dist
    if dist.is_initialized():
        pytest.skip("a process group is open")
    with pytest.raises(ValueError, match=r"^\[get_rank\] Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match=r"^\[all_reduce\]"):
        dist.all_reduce(pydl.zeros(3))
    with pytest.raises(RuntimeError, match=r"^\[DistributedDataParallel\].*init_process_group"):
        pydl.nn.parallel.DistributedDataParallel(pydl.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"^\[init_process_group\] backend 'nccl' is not available"):
        dist.init_process_group("nccl")
    with pytest.raises(RuntimeError, match=r"^\[DistributedSampler\].*init_process_group"):
        DistributedSampler(range(10))


@pytest.mark.parametrize("n", [0, 1, 7, 10, 33, 101])
def test_distributed_sampler_matches_torch(n):
    pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for replicas in (1, 2, 3, 8):
        for shuffle in (True, False):
            for drop_last in (True, False):
                for seed, epoch in ((0, 0), (7, 3)):
                    for rank in range(replicas):
                        kw = dict(num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
                        ours, theirs = DistributedSampler(range(n), **kw), TorchSampler(range(n), **kw)
                        ours.set_epoch(epoch)
                        theirs.set_epoch(epoch)
                        assert list(ours) == list(theirs) and len(ours) == len(theirs), kw


def test_distributed_sampler_import_paths():
    from pydl.utils.data import DistributedSampler as a
    from pydl.utils.data.distributed import DistributedSampler as b  # torch.utils.data.distributed's path
    assert a is b is DistributedSampler is pydl.data.distributed.DistributedSampler


def test_distributed_sampler_covers_the_dataset_and_feeds_a_loader():
    parts = [list(DistributedSampler(range(10), num_replicas=3, rank=r, seed=1)) for r in range(3)]
    flat = sum(parts, [])
    assert len(flat) == 12 and set(flat) == set(range(10))  # padded by repeating 2 indices
    s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False, drop_last=True)
    assert list(s) == [1, 4, 7] and len(s) == 3
    s = DistributedSampler(range(100), num_replicas=2, rank=0, seed=3)
    first = list(s)
    s.set_epoch(1)
    assert sorted(first) != first and list(s) != first
    data = pydl.data.TensorDataset(pydl.arange(10).float())
    loader = pydl.data.DataLoader(data, batch_size=4, sampler=DistributedSampler(data, num_replicas=2, rank=1,
                                                                                shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1.0, 3.0, 5.0, 7.0], [9.0]]
    with pytest.raises(ValueError, match=r"^\[DistributedSampler\] Invalid rank 2"):
        DistributedSampler(range(10), num_replicas=2, rank=2)


def test_post_accumulate_grad_hook():
    w = pydl.nn.Parameter(pydl.ones(3))
    seen = []
    h = w.register_post_accumulate_grad_hook(lambda p: seen.append((p is w, p.grad.tolist())))
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    assert seen == [(True, [2.0] * 3), (True, [5.0] * 3)]
    h.remove()
    w.sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        pydl.ones(2).register_post_accumulate_grad_hook(print)


def test_sync_batchnorm_without_a_group_is_batchnorm():
    x = pydl.from_numpy(np.random.default_rng(0).standard_normal((6, 3, 4)).astype(np.float32))
    a, b = pydl.nn.SyncBatchNorm(3), pydl.nn.BatchNorm1d(3)
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.running_var.numpy(), b.running_var.numpy(), rtol=1e-6)
    nn = pydl.nn
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(4)))
    conv = pydl.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(conv[1], pydl.nn.SyncBatchNorm) and isinstance(conv[2][0], pydl.nn.SyncBatchNorm)
    assert conv[1].weight is net[1].weight and conv[1].running_mean is net[1].running_mean
    with pytest.raises(ValueError, match=r"^\[SyncBatchNorm\] expected at least 2D input"):
        pydl.nn.SyncBatchNorm(3)(pydl.zeros(3))


@needs_mpi
def test_fit_and_keras_on_two_ranks(tmp_path):
    """fit splits the data, reduces logs over ranks (exact validation metrics), keeps ranks identical
    and writes CSV logs and checkpoints once; Keras's fit goes through the same loop."""
    rc, out, err = mpirun("fit.py", str(tmp_path))
    assert rc == 0, f"{out}\n{err}"
    assert out.count("fit OK") == 2


@needs_mpi
def test_cli_train_on_two_ranks(tmp_path):
    cmd = [_mpiexec(), "-n", "2", sys.executable, "-m", "pydl", "train", "--epochs", "1", "--limit", "256",
           "--out", str(tmp_path), "--verbose", "2"]
    rc, out, err = _run(cmd, 120)
    assert rc == 0, f"{out}\n{err}"
    assert out.count("Test accuracy") == 1 and "ranks=2" in out and "lr not scaled" in out
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "history.csv").exists()
