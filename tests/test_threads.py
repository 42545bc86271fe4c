"""Multi-threaded kernels give the single-threaded results (the suite otherwise runs on 1 thread)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import pydl
from helpers import make_inputs


@pytest.fixture
def two_threads():
    pydl.set_num_threads(2)
    yield
    pydl.set_num_threads(1)


def test_set_get_num_threads():
    pydl.set_num_threads(2)
    assert pydl.get_num_threads() == 2
    pydl.set_num_threads(1)
    assert pydl.get_num_threads() == 1
    with pytest.raises(ValueError, match=r"^\[set_num_threads\]"):
        pydl.set_num_threads(0)


_TEAM_UNDER_LOAD = """
import os, subprocess, sys, time
import pydl
pydl.set_num_threads(2)
print(pydl._C._active_threads())
busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
try:
    time.sleep(0.3)
    for _ in range(3):  # the load is re-read every 50 ms and must be seen twice
        pydl._C._active_threads()
        time.sleep(0.06)
    print(pydl._C._active_threads(), pydl.get_num_threads())
finally:
    for b in busy:
        b.kill()
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")
@pytest.mark.parametrize("follow", ["1", "0"])
def test_team_size_follows_the_load(follow, tmp_path):
    # Two busy processes on 2 CPUs: a 2-thread team would wait at every barrier for a member the
    # OS descheduled, so kernels run on one thread (unless PYDL_THREADS_FOLLOW_LOAD=0), while
    # get_num_threads() still reports the number set.
    env = dict(os.environ, PYDL_THREADS_FOLLOW_LOAD=follow, OMP_NUM_THREADS="2")
    # the pydl this process imported (an installed one need not be the source tree beside the tests)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(pydl.__file__)), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", _TEAM_UNDER_LOAD], env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[1].split() == (["1", "2"] if follow == "1" else ["2", "2"]), r.stdout


def test_parallel_kernels_match_numpy(two_threads):
    a, b = make_inputs([(300, 257), (257,)])
    x, y = pydl.tensor(a), pydl.tensor(b)
    np.testing.assert_allclose((x * y + x.exp()).numpy(), a * b + np.exp(a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.sum(0).numpy(), a.sum(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(x.sum(1).numpy(), a.sum(1), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(x.T.sum(1).numpy(), a.T.sum(1), rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(x.argmax(1).numpy(), a.argmax(1))
    np.testing.assert_allclose((x @ x.T).numpy(), a @ a.T, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(x.T.contiguous().numpy(), a.T)
