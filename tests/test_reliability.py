"""Regression tests of issue 9: no input crashes the process, no silent wrong value, no lost
gradient. Cases that used to kill the interpreter run in a child process, so that a crash is a
failed test and not a dead pytest."""
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F

# the folder holding the pydl this process imported (a dev tree or the installed wheel)
PYDL_PATH = os.path.dirname(os.path.dirname(os.path.abspath(pydl.__file__)))


def run_child(code, timeout=120):
    """Runs `code` in a fresh interpreter with the same pydl; returns (returncode, stdout, stderr).
    The working directory is tests/, so that an unbuilt pydl/ source folder cannot shadow it."""
    env = dict(os.environ, PYTHONPATH=PYDL_PATH + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="2")
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=timeout, cwd=os.path.dirname(os.path.abspath(__file__)))
    return p.returncode, p.stdout, p.stderr


# ---- 1, 17: wrong argument types are op-named TypeErrors, decided in the binding layer ----------

@pytest.mark.parametrize("call, op, arg", [
    (lambda: pydl.sum(None), "sum", "input"),
    (lambda: pydl.exp(None), "exp", "input"),
    (lambda: F.relu(None), "relu", "input"),
    (lambda: pydl.flatten(None, 0), "flatten", "input"),
    (lambda: pydl.ones(3).gather(0, None), "gather", "index"),
    (lambda: pydl.mm(None, pydl.ones(2, 2)), "mm", "input"),
    (lambda: F.cross_entropy(None, pydl.tensor([0])), "cross_entropy", "input"),
    (lambda: nn.Linear(2, 3)(None), "linear", "input"),
])
def test_none_for_a_tensor_is_an_op_named_type_error(call, op, arg):
    with pytest.raises(TypeError, match=rf"^\[{op}\] expected a Tensor for argument '{arg}', got NoneType$"):
        call()


def test_none_crashes_no_child_process():
    rc, out, err = run_child("""
        import pydl, pydl.nn.functional as F
        for f in (lambda: pydl.sum(None), lambda: pydl.exp(None), lambda: F.relu(None),
                  lambda: pydl.flatten(None, 0), lambda: pydl.ones(3).gather(0, None)):
            try:
                f()
            except TypeError as e:
                assert str(e).startswith("["), e
        print("ok")
    """)
    assert rc == 0 and out.strip() == "ok", err


def test_incompatible_arguments_name_the_op_and_the_argument():
    with pytest.raises(TypeError, match=r"^\[flatten\] expected an int for argument 2, got str$"):
        pydl._C.flatten(pydl.ones(2), "a", -1)
    with pytest.raises(TypeError, match=r"^\[numpy\] invalid arguments"):
        pydl.ones(2).numpy(False, 4)
    with pytest.raises(TypeError, match=r"^\[view\]"):
        pydl.ones(2).view(None)
    with pytest.raises(TypeError, match=r"^\[Linear\]"):
        nn.Linear()
    with pytest.raises(TypeError, match=r"^\[no_grad\]"):
        pydl.no_grad(1)
    with pytest.raises(TypeError, match=r"^\[__len__\]"):
        len(pydl.tensor(1.0))


def test_optional_tensor_arguments_still_take_none():
    x, w = pydl.ones(2, 3), pydl.ones(4, 3)
    np.testing.assert_allclose(F.linear(x, w, None).numpy(), np.full((2, 4), 3.0))
    t = pydl.ones(2, requires_grad=True)
    t.grad = None
    assert t.grad is None


# ---- 2, 3: F.pad with nothing to pad; INT64_MIN // -1 ------------------------------------------

def test_pad_with_an_empty_list_is_a_copy():
    x = pydl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for p in ((), []):
        y = F.pad(x, p)
        np.testing.assert_array_equal(y.detach().numpy(), [1.0, 2.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_int64_min_floor_divide_and_remainder_by_minus_one_wrap_like_torch():
    torch = pytest.importorskip("torch")
    a = [-2**63, -7, 7, 2**63 - 1]
    for op in ("__floordiv__", "__mod__"):
        got = getattr(pydl.tensor(a), op)(-1).tolist()
        want = getattr(torch.tensor(a), op)(-1).tolist()
        assert got == want, op
    rc, out, err = run_child("import pydl; print((pydl.tensor([-2**63]) // -1).item(), (pydl.tensor([-2**63]) % -1).item())")
    assert rc == 0 and out.split() == [str(-2**63), "0"], err


# ---- 4: releasing a deep graph whose nodes are reached by two edges ------------------------------

def test_deep_graph_with_shared_edges_is_released_iteratively():
    rc, out, err = run_child("""
        import pydl
        x = pydl.ones(1, requires_grad=True)
        y = x
        for _ in range(200_000):
            y = y * y
        del y
        y = x
        for _ in range(100_000):
            y = y * y
        y.sum().backward()
        del y
        z = x
        for _ in range(20_000):
            z = pydl.cat([z, z]).sum(0, keepdim=True)   # saved tensors shared by two slots too
        del z
        print("ok", x.grad.item())
    """, timeout=300)
    assert rc == 0 and out.split()[0] == "ok", err[-2000:]


# ---- 5: exported memory keeps the storage alive ----------------------------------------------

def test_numpy_dlpack_and_buffer_views_keep_the_storage_alive():
    rc, out, err = run_child("""
        import numpy as np, pydl
        x = pydl.arange(1_000_000, dtype=pydl.float32)
        a, m, cap = x.numpy(), memoryview(x), x.__dlpack__()
        x.data = pydl.ones(3)
        pydl.empty_cache()
        junk = [np.full(1_000_000, 7.0, np.float32) for _ in range(4)]   # reuse freed memory
        print(a[123456], m[123456], pydl.from_dlpack(cap)[123456].item())
    """)
    assert rc == 0 and out.split() == ["123456.0"] * 3, err


def test_buffer_view_shares_memory():
    x = pydl.zeros(2, 3)
    m = memoryview(x)
    assert m.shape == (2, 3) and m.format == "f" and not m.readonly
    np.asarray(m)[1, 2] = 5.0
    assert x[1, 2].item() == 5.0
    assert np.asarray(memoryview(x.t())).tolist() == x.t().tolist()  # strided views export their strides
    with pytest.raises(BufferError, match=r"^\[buffer\]"):
        np.frombuffer(x.t(), dtype=np.float32)  # a consumer asking for contiguous memory


# ---- 6, 7, 13: interpreter exit, fork, process-wide threads -------------------------------------

def test_exit_while_a_daemon_thread_is_in_a_kernel_is_clean():
    rc, out, err = run_child("""
        import threading, time, pydl
        pydl.set_num_threads(2)
        def work():
            a = pydl.randn(600, 600)
            while True:
                (a @ a).sum()
        for _ in range(2):
            threading.Thread(target=work, daemon=True).start()
        time.sleep(0.5)
        print("bye")
    """)
    assert rc == 0 and out.strip() == "bye", err
    assert "terminate" not in err


def test_fork_after_openmp_ran_gives_a_working_child():
    rc, out, err = run_child("""
        import os, pydl
        pydl.set_num_threads(2)
        a = pydl.randn(400, 400)
        (a @ a).sum(); pydl.randn(10**6).exp().sum()
        pid = os.fork()
        if pid == 0:
            pydl.set_num_threads(2)
            ok = abs((a @ a).sum().item() - (a @ a).sum().item()) < 1e-3 and pydl.randn(10**6).exp().sum().item() > 0
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
    """, timeout=60)
    assert rc == 0 and out.strip() == "0", err


def test_fork_while_another_thread_allocates_and_draws():
    rc, out, err = run_child("""
        import os, signal, threading, time, pydl
        stop = False
        def busy():
            while not stop:
                pydl.randn(100_000).sum()     # the allocator's and the generator's locks, over and over
        t = threading.Thread(target=busy, daemon=True)
        t.start()
        codes = []
        for _ in range(10):
            pid = os.fork()
            if pid == 0:
                os._exit(0 if pydl.randn(100_000).exp().sum().item() > 0 else 3)
            for _ in range(200):               # 10 s at most
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes.append(os.waitstatus_to_exitcode(status))
                    break
                time.sleep(0.05)
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                codes.append("hung")
        stop = True
        print(codes)
    """, timeout=300)
    assert rc == 0 and out.strip() == str([0] * 10), (out, err)


def test_set_num_threads_is_process_wide():
    pydl.set_num_threads(2)
    try:
        seen = []
        t = threading.Thread(target=lambda: seen.append(pydl.get_num_threads()))
        t.start()
        t.join()
        assert seen == [2]
    finally:
        pydl.set_num_threads(1)
    seen = []
    t = threading.Thread(target=lambda: seen.append(pydl.get_num_threads()))
    t.start()
    t.join()
    assert seen == [1]


# ---- 8: concurrent backward into one parameter ------------------------------------------------

def test_concurrent_backward_accumulates_exactly():
    w = pydl.zeros(4096, requires_grad=True)
    x = pydl.ones(4096)

    def run():
        for _ in range(100):
            (w * x).sum().backward()

    ts = [threading.Thread(target=run) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    np.testing.assert_array_equal(w.grad.numpy(), np.full(4096, 400.0, np.float32))


# ---- 9, 10: Python numbers and byte order ------------------------------------------------------

def test_python_numbers_do_not_pass_through_float32():
    assert pydl.tensor([0.1], dtype=pydl.float64).item() == 0.1
    assert pydl.tensor(0.1, dtype=pydl.float64).item() == 0.1
    assert pydl.tensor([1e39], dtype=pydl.float64).item() == 1e39
    assert pydl.as_tensor([0.1, 1e39], dtype=pydl.float64).tolist() == [0.1, 1e39]
    assert pydl.tensor([2**62 + 1]).item() == 2**62 + 1
    assert pydl.tensor([2**62 + 1], dtype=pydl.int64).item() == 2**62 + 1
    assert pydl.full((2,), 2**62 + 1).tolist() == [2**62 + 1] * 2
    assert (pydl.tensor([2**62]) + 1).item() == 2**62 + 1
    assert (pydl.tensor([0.0], dtype=pydl.float64) + 0.1).item() == 0.1


def test_from_numpy_refuses_non_native_byte_order_and_tensor_converts():
    a = np.arange(4, dtype=">i8")
    with pytest.raises(ValueError, match=r"^\[from_numpy\] .*byte order"):
        pydl.from_numpy(a)
    assert pydl.tensor(a).tolist() == [0, 1, 2, 3]
    assert pydl.as_tensor(np.arange(3, dtype=">f4")).tolist() == [0.0, 1.0, 2.0]


# ---- 11, 12: logsumexp, log_softmax and cross_entropy at any scale -----------------------------

@pytest.mark.parametrize("rows", [1, 2, 4, 7, 64])
def test_logsumexp_of_an_all_minus_inf_row_does_not_depend_on_the_row_count(rows):
    x = pydl.full((rows, 5), float("-inf"))
    assert pydl.logsumexp(x, 1).tolist() == [float("-inf")] * rows
    assert pydl.exp(pydl.full((rows * 8,), float("-inf"))).tolist() == [0.0] * rows * 8


def test_exp_underflows_exactly():
    x = np.array([-200.0, -100.0, -88.5, -87.0, 0.0] * 4, np.float32)
    np.testing.assert_array_equal(pydl.exp(pydl.tensor(x)).numpy(), np.exp(x))


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e8, 1e30])
def test_log_softmax_and_cross_entropy_are_exact_at_any_scale(scale):
    torch = pytest.importorskip("torch")
    logits = np.array([[1.0, 1.0, 0.0], [0.5, -2.0, 1.0]], np.float32) * np.float32(scale)
    target = np.array([0, 2])
    for ls in (0.0, 0.1):
        got = F.cross_entropy(pydl.tensor(logits), pydl.tensor(target), label_smoothing=ls).item()
        want = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target), label_smoothing=ls).item()
        assert got == pytest.approx(want, rel=1e-5), (scale, ls)
    for dim in (0, 1):
        np.testing.assert_allclose(F.log_softmax(pydl.tensor(logits), dim).numpy(),
                                   torch.log_softmax(torch.tensor(logits), dim).numpy(), rtol=1e-6)
    x = pydl.tensor(logits, requires_grad=True)
    F.cross_entropy(x, pydl.tensor(target)).backward()
    tx = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor(target)).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_cross_entropy_of_huge_equal_logits_is_log_2():
    assert F.cross_entropy(pydl.tensor([[1e8, 1e8, 0.0]]), pydl.tensor([0])).item() == pytest.approx(0.693147, rel=1e-5)


# ---- 14, 15, 16: save / load ------------------------------------------------------------------

def test_save_removes_what_killed_writers_left(tmp_path):
    path = tmp_path / "ckpt.pt"
    pydl.save({"w": pydl.ones(3)}, path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".ckpt.pt.{os.uname().nodename}-{dead.pid}.abcd1234.tmp"
    stale.write_bytes(b"x" * 100)
    alive = tmp_path / f".ckpt.pt.{os.uname().nodename}-{os.getpid()}.efgh5678.tmp"  # a live writer's: kept
    alive.write_bytes(b"y")
    old = tmp_path / ".ckpt.pt.zyxw9876.tmp"  # an older pydl's, abandoned long ago
    old.write_bytes(b"z")
    os.utime(old, (0, 0))
    pydl.save({"w": pydl.zeros(3)}, path)
    assert not stale.exists() and not old.exists() and alive.exists()
    assert pydl.load(path)["w"].tolist() == [0.0, 0.0, 0.0]


def test_save_killed_midway_keeps_the_checkpoint_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "big.pt"
    pydl.save({"w": pydl.zeros(10)}, path)
    code = f"""
        import os, signal, pydl, pydl.io as io
        real = io._write_atomic
        def dying(p, data):   # die between writing the temp file and renaming it
            import tempfile
            orig = os.replace
            os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
            real(p, data)
        io._write_atomic = dying
        pydl.save({{"w": pydl.ones(1000)}}, {str(path)!r})
    """
    rc, _, _ = run_child(code)
    assert rc == -9
    assert len(list(tmp_path.glob(".big.pt.*.tmp"))) == 1
    assert pydl.load(path)["w"].tolist() == [0.0] * 10  # intact
    pydl.save({"w": pydl.ones(2)}, path)
    assert list(tmp_path.glob(".big.pt.*.tmp")) == []


def _safetensors_bytes(header, body=b""):
    h = json.dumps(header).encode()
    return len(h).to_bytes(8, "little") + h + body


@pytest.mark.parametrize("header, body, pattern", [
    ({"t0": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"pydl": '{"__tensor__": "t9"}'}},
     b"\0" * 8, r"damaged .*t9"),
    ({"t0": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"pydl": "{not json"}},
     b"\0" * 8, r"damaged"),
    ({"__metadata__": {"pydl": "[" * 100000 + "]" * 100000}}, b"", r"damaged"),
    ({"__metadata__": {"pydl": '{"__dict__": 5}'}}, b"", r"damaged"),
    ({"t0": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8, r"'t0' .*needs 16 bytes"),
    ({"t0": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}}, b"\0" * 8, r"'t0' .*outside"),
    ({"t0": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8, r"'t0' .*invalid shape"),
    ({"t0": "x"}, b"", r"'t0' .*damaged header"),
    ([1, 2], b"", r"not a safetensors file"),
])
def test_load_of_a_damaged_file_names_the_file_and_the_problem(tmp_path, header, body, pattern):
    path = tmp_path / "bad.st"
    path.write_bytes(_safetensors_bytes(header, body))
    with pytest.raises(ValueError, match=rf"^\[load\] .*bad\.st.*{pattern}"):
        pydl.load(path)


def test_load_of_truncated_and_garbage_files(tmp_path):
    good = tmp_path / "good.pt"
    pydl.save({"a": pydl.ones(100), "b": [1, 2]}, good)
    raw = good.read_bytes()
    for n in (0, 5, 20, len(raw) // 2, len(raw) - 1):
        bad = tmp_path / f"cut{n}.pt"
        bad.write_bytes(raw[:n])
        with pytest.raises(ValueError, match=rf"^\[load\] .*cut{n}\.pt"):
            pydl.load(bad)
    with pytest.raises(FileNotFoundError, match=r"^\[load\] .*nope"):
        pydl.load(tmp_path / "nope")
    with pytest.raises(IsADirectoryError, match=r"^\[load\]"):
        pydl.load(tmp_path)


def test_safetensors_common_dtypes_load_widened(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    src = {"h": torch.tensor([1.5, -2.25]).half(), "b": torch.tensor([1.5, -3.0, 1e30]).bfloat16(),
           "i32": torch.tensor([1, -2**31], dtype=torch.int32), "i8": torch.tensor([-128, 5], dtype=torch.int8),
           "u8": torch.tensor([0, 255], dtype=torch.uint8), "f": torch.tensor([0.5]), "k": torch.tensor([True])}
    save_file(src, str(tmp_path / "m.safetensors"))
    got = pydl.load(tmp_path / "m.safetensors")
    want_dtype = {"h": pydl.float32, "b": pydl.float32, "i32": pydl.int64, "i8": pydl.int64, "u8": pydl.int64,
                  "f": pydl.float32, "k": pydl.bool}
    for k, v in src.items():
        assert got[k].dtype == want_dtype[k], k
        np.testing.assert_array_equal(got[k].numpy(), v.float().numpy() if v.is_floating_point() else v.numpy())
    save_file({"q": torch.zeros(2, dtype=torch.float8_e4m3fn)}, str(tmp_path / "f8.safetensors"))
    with pytest.raises(TypeError, match=r"^\[load\] .*f8\.safetensors.*'q' has dtype F8_E4M3"):
        pydl.load(tmp_path / "f8.safetensors")


# ---- beyond the list ------------------------------------------------------------------------

def test_in_place_change_after_save_for_backward_is_caught():
    x = pydl.ones(3, requires_grad=True)
    y = x * 1.0
    z = y * y  # saves y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"^\[MulBackward\] .*modified by an inplace operation"):
        z.sum().backward()


def test_in_place_change_of_a_view_of_a_saved_tensor_is_caught():
    x = pydl.ones(4, requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()  # saves y
    y.detach()[1:3].mul_(2.0)  # a view of a detached alias shares the storage and its version counter
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation"):
        z.backward()


def test_swapping_data_under_a_graph_does_not_crash():
    x = pydl.ones(3, requires_grad=True)
    y = x * 2.0
    y.data = pydl.zeros(3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_huge_sizes_raise_instead_of_allocating():
    for f in (lambda: pydl.empty(2**40), lambda: pydl.zeros(2**31, 2**31), lambda: nn.Linear(2**20, 2**20),
              lambda: pydl.ones(1).expand(2**40).contiguous(), lambda: pydl.randperm(2**40)):
        with pytest.raises((MemoryError, ValueError), match=r"^\["):
            f()


def test_concurrent_forward_and_backward_from_threads_match_serial():
    pydl.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    xs = [pydl.randn(4, 8) for _ in range(8)]
    for p in model.parameters():
        p.grad = None
    for x in xs:
        model(x).sum().backward()
    serial = [p.grad.numpy().copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = None
    ts = [threading.Thread(target=lambda x=x: model(x).sum().backward()) for x in xs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for s, p in zip(serial, model.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), s, rtol=1e-5, atol=1e-6)


def test_size_and_stride_of_a_0d_tensor_are_index_errors():
    rc, out, err = run_child("""
        import pydl
        t = pydl.tensor(1.5)
        for f in (lambda: t.size(-1), lambda: t.stride(0), lambda: t.size(1)):
            try:
                f()
            except IndexError as e:
                assert str(e).startswith(("[size]", "[stride]")), e
        print("ok")
    """)
    assert rc == 0 and out.strip() == "ok", err


def test_window_arguments_too_large_for_int64_arithmetic_raise():
    x = pydl.ones(1, 1, 4, 4)
    for f in (lambda: F.max_pool2d(pydl.empty(3, 0, 2), 2**63 - 1), lambda: F.avg_pool2d(x, 2, stride=2**62),
              lambda: F.conv2d(x, pydl.ones(1, 1, 2, 2), padding=2**62),
              lambda: F.conv2d(x, pydl.ones(1, 1, 2, 2), dilation=2**62),
              lambda: F.conv_transpose2d(x, pydl.ones(1, 1, 2, 2), stride=2**62)):
        with pytest.raises(ValueError, match=r"^\[\w+\] .*too large"):
            f()


def test_post_accumulate_grad_hook_may_read_grad_while_threads_accumulate():
    rc, out, err = run_child("""
        import threading, pydl
        w = pydl.zeros(100, requires_grad=True)
        seen = []
        w.register_post_accumulate_grad_hook(lambda p: seen.append(float(p.grad[0])))
        def run():
            for _ in range(50):
                (w * 1.0).sum().backward()
        ts = [threading.Thread(target=run) for _ in range(3)]
        for t in ts: t.start()
        for t in ts: t.join()
        print(len(seen), w.grad[0].item())
    """, timeout=60)
    assert rc == 0 and out.split() == ["150", "150.0"], err
