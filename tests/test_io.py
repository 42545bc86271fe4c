"""pydl.save / pydl.load: round trips, checkpoints, atomic writes, PyTorch weights through NumPy."""
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.optim as optim


def test_tensor_round_trip_keeps_dtype_shape_and_values(tmp_path):
    for t in [pydl.randn(3, 4), pydl.randn(2, dtype=pydl.float64), pydl.arange(5), pydl.tensor([True, False]),
              pydl.zeros([]), pydl.tensor(7), pydl.randn(4, 3).transpose(0, 1)]:
        path = tmp_path / "t.safetensors"
        pydl.save(t, path)
        r = pydl.load(path)
        assert isinstance(r, pydl.Tensor) and r.dtype == t.dtype and tuple(r.shape) == tuple(t.shape)
        np.testing.assert_array_equal(r.numpy(), t.numpy())


def test_checkpoint_round_trip(tmp_path):
    pydl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    model.register_buffer("num_batches_tracked", pydl.full([], 5, dtype=pydl.int64))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    model(pydl.randn(8, 4)).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 7, "best": 0.25,
            "history": [1.5, float("inf")], "note": "hi", "cfg": {"sizes": (4, 3), "flag": None},
            "arr": np.arange(3, dtype=np.int32)}
    path = str(tmp_path / "ckpt.pt")
    pydl.save(ckpt, path)
    r = pydl.load(path)
    assert r["epoch"] == 7 and r["best"] == 0.25 and r["note"] == "hi" and r["history"] == [1.5, float("inf")]
    assert r["cfg"] == {"sizes": (4, 3), "flag": None}
    assert isinstance(r["model"], OrderedDict) and list(r["model"]) == list(model.state_dict())
    nbt = r["model"]["num_batches_tracked"]
    assert nbt.dtype == pydl.int64 and tuple(nbt.shape) == () and nbt.item() == 5
    assert r["arr"].dtype == np.int32 and r["arr"].tolist() == [0, 1, 2]
    # integer keys of optimizer state come back as ints
    assert set(r["optimizer"]["state"]) == {0, 1, 2, 3}
    assert r["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    m2 = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    m2.register_buffer("num_batches_tracked", pydl.zeros([], dtype=pydl.int64))
    m2.load_state_dict(r["model"])
    o2 = optim.Adam(m2.parameters())
    o2.load_state_dict(r["optimizer"])
    x = pydl.randn(5, 4)
    model.eval(), m2.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), m2(x).detach().numpy())


def test_file_is_plain_safetensors(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    sd = nn.Linear(3, 2).state_dict()
    path = str(tmp_path / "w.safetensors")
    pydl.save(sd, path)
    arrays = safetensors_numpy.load_file(path)
    assert sorted(a.shape for a in arrays.values()) == [(2,), (2, 3)]
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    assert header["__metadata__"]["format"].startswith("pydl")
    # a safetensors file written by someone else loads as a dict of tensors
    other = str(tmp_path / "other.safetensors")
    safetensors_numpy.save_file({"w": np.ones((2, 2), dtype=np.float32)}, other)
    r = pydl.load(other)
    assert r["w"].tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_parameters_and_requires_grad_survive(tmp_path):
    p = nn.Parameter(pydl.randn(2))
    pydl.save({"p": p, "g": pydl.ones(1, requires_grad=True)}, tmp_path / "p")
    r = pydl.load(tmp_path / "p")
    assert isinstance(r["p"], nn.Parameter) and r["g"].requires_grad


def test_errors(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type object"):
        pydl.save({"x": object()}, tmp_path / "bad", format="safetensors")
    with pytest.raises(TypeError, match=r"\[save\] cannot pickle"):  # the .pt format takes picklable objects
        pydl.save({"x": lambda: 0}, tmp_path / "bad")
    assert not os.path.exists(tmp_path / "bad")
    with pytest.raises(FileNotFoundError):
        pydl.load(tmp_path / "missing")
    (tmp_path / "garbage").write_bytes(b"\xff" * 3)
    with pytest.raises(ValueError, match="not a safetensors file"):
        pydl.load(tmp_path / "garbage")
    (tmp_path / "trunc").write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(ValueError, match="truncated"):
        pydl.load(tmp_path / "trunc")


def test_interrupted_save_keeps_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / "ckpt.safetensors")
    pydl.save({"epoch": 1, "w": pydl.ones(3)}, path)
    real_fsync = os.fsync

    def crash(fd):  # the process "dies" after writing part of the new file, before the rename
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        pydl.save({"epoch": 2, "w": pydl.zeros(1000)}, path)
    monkeypatch.setattr(os, "fsync", real_fsync)
    r = pydl.load(path)
    assert r["epoch"] == 1 and r["w"].tolist() == [1.0, 1.0, 1.0]
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # the temporary file was cleaned up

    def crash_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash_replace)
    with pytest.raises(OSError, match="disk full"):
        pydl.save({"epoch": 3}, path)
    monkeypatch.undo()
    assert pydl.load(path)["epoch"] == 1
    pydl.save({"epoch": 4}, path)
    assert pydl.load(path)["epoch"] == 4


def test_torch_weights_through_numpy_give_same_outputs(tmp_path):
    torch = pytest.importorskip("torch")

    class TorchMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = torch.nn.Linear(784, 128)
            self.linear2 = torch.nn.Linear(128, 10)

        def forward(self, x):
            return self.linear2(torch.relu(self.linear1(x)))

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(784, 128)
            self.linear2 = nn.Linear(128, 10)

        def forward(self, x):
            return self.linear2(pydl.relu(self.linear1(x)))

    t = TorchMLP()
    path = tmp_path / "from_torch.safetensors"
    pydl.save({k: v.detach().numpy() for k, v in t.state_dict().items()}, path)
    p = MyModel()
    p.load_state_dict(pydl.load(path))
    x = np.random.default_rng(0).random((8, 784), dtype=np.float32)
    with torch.no_grad():
        want = t(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(p(pydl.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5)
