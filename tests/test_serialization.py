"""pydl.save / pydl.load in PyTorch's .pt (zip + pickle) format: whole objects, weights_only and
its allowlist, and files crossing between pydl and PyTorch in both directions."""
import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.optim as optim


def _model():
    pydl.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


class Point:  # a user class at module level, so that pickle can name it
    def __init__(self, x, y):
        self.x, self.y = x, y


def test_whole_module_round_trip(tmp_path):
    model = _model()
    x = pydl.randn(2, 1, 6, 6)
    path = tmp_path / "model.pt"
    pydl.save(model, path)
    assert zipfile.is_zipfile(path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # the mode open() would give, as torch.save's
    names = zipfile.ZipFile(path).namelist()
    assert "model/data.pkl" in names and "model/byteorder" in names and any(n.startswith("model/data/") for n in names)
    back = pydl.load(path, weights_only=False)
    assert type(back) is nn.Sequential and isinstance(back[3], nn.Linear)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())
    assert isinstance(back[3].weight, nn.Parameter) and back[3].weight.requires_grad
    # the loaded model trains: its parameters are leaves an optimizer can update
    opt = optim.SGD(back.parameters(), lr=0.1)
    back(x).sum().backward()
    opt.step()
    assert not np.allclose(back[3].weight.detach().numpy(), model[3].weight.detach().numpy())


def test_whole_module_through_an_open_file_and_bytesio(tmp_path):
    model = _model()
    with open(tmp_path / "m.pt", "wb") as f:  # word_language_model's way
        pydl.save(model, f)
    with open(tmp_path / "m.pt", "rb") as f:
        back = pydl.load(f, weights_only=False)
    buf = io.BytesIO()
    pydl.save(model, buf)
    buf.seek(0)
    back2 = pydl.load(buf, weights_only=False)
    for m in (back, back2):
        np.testing.assert_array_equal(m[0].weight.detach().numpy(), model[0].weight.detach().numpy())


def test_weights_only_refuses_code_and_allows_safe_globals(tmp_path):
    path = tmp_path / "obj.pt"
    pydl.save({"model": _model()}, path)
    with pytest.raises(pickle.UnpicklingError, match=r"\[load\] weights_only.*weights_only=False"):
        pydl.load(path)  # the default is weights_only=True, as PyTorch >= 2.6
    pydl.save({"p": Point(1, 2.5)}, path)
    with pytest.raises(pickle.UnpicklingError, match="Point"):
        pydl.load(path, weights_only=True)
    with pydl.serialization.safe_globals([Point]):
        p = pydl.load(path, weights_only=True)["p"]
    assert (p.x, p.y) == (1, 2.5)
    with pytest.raises(pickle.UnpicklingError):  # the context manager's allowance ended
        pydl.load(path)
    pydl.serialization.add_safe_globals([Point])
    try:
        assert Point in pydl.serialization.get_safe_globals()
        assert pydl.load(path)["p"].y == 2.5
    finally:
        pydl.serialization.clear_safe_globals()


def test_weights_only_does_not_run_a_malicious_pickle(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    path = tmp_path / "evil.pt"
    pydl.save({"x": Evil()}, path, format="pt")
    with pytest.raises(pickle.UnpicklingError, match="builtins.print"):
        pydl.load(path)


def test_optimizer_and_plain_objects_round_trip(tmp_path):
    model = _model()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    model(pydl.randn(2, 1, 6, 6)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    pydl.save({"model": model, "opt": opt, "epoch": 3, "note": "x", "shape": pydl.Size([2, 3]),
               "dev": pydl.device("cpu"), "dtype": pydl.float64, "ids": {1, 2}, "b": b"\x00\xff"}, path)
    ck = pydl.load(path, weights_only=False)
    assert ck["epoch"] == 3 and ck["note"] == "x" and ck["ids"] == {1, 2} and ck["b"] == b"\x00\xff"
    assert isinstance(ck["shape"], pydl.Size) and ck["shape"] == (2, 3)
    assert ck["dev"] == pydl.device("cpu") and ck["dtype"] is pydl.float64
    # the optimizer's params are the loaded model's (pickle keeps shared objects shared)
    assert ck["opt"].param_groups[0]["params"][0] is ck["model"][0].weight
    st = ck["opt"].state[ck["model"][0].weight]
    np.testing.assert_array_equal(st["exp_avg"].numpy(), opt.state[model[0].weight]["exp_avg"].numpy())


def test_state_dict_default_stays_safetensors_and_pt_on_request(tmp_path):
    sd = _model().state_dict()
    pydl.save(sd, tmp_path / "sd.pt")  # a state dict: safetensors, whatever the name
    assert not zipfile.is_zipfile(tmp_path / "sd.pt")
    pydl.save(sd, tmp_path / "sd2.pt", format="pt")
    assert zipfile.is_zipfile(tmp_path / "sd2.pt")
    for name in ("sd.pt", "sd2.pt"):
        back = pydl.load(tmp_path / name)
        assert list(back) == list(sd)
        for k in sd:
            np.testing.assert_array_equal(back[k].numpy(), sd[k].numpy())
    with pytest.raises(TypeError, match=r"\[save\]"):
        pydl.save(_model(), tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match=r"\[save\] format"):
        pydl.save(sd, tmp_path / "x.pt", format="onnx")


def test_tied_and_view_tensors_keep_values(tmp_path):
    w = pydl.randn(4, 3)
    d = {"a": w, "b": w, "t": w.transpose(0, 1), "s": w[1:3], "i": pydl.arange(5), "m": pydl.tensor([True, False]),
         "z": pydl.zeros(0, 3), "scalar": pydl.tensor(2.5, dtype=pydl.float64)}
    pydl.save(d, tmp_path / "v.pt", format="pt")
    back = pydl.load(tmp_path / "v.pt")
    assert back["a"] is back["b"]
    for k, v in d.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())


def test_load_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match=r"\[load\]"):
        pydl.load(bad)
    z = tmp_path / "other.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match="data.pkl"):
        pydl.load(z)
    pydl.save(_model().state_dict(), tmp_path / "ok.pt", format="pt")
    with pytest.raises(RuntimeError, match="map_location"):
        pydl.load(tmp_path / "ok.pt", map_location="cuda:0")
    assert len(pydl.load(tmp_path / "ok.pt", map_location="cpu")) == 4
    assert len(pydl.load(tmp_path / "ok.pt", map_location=pydl.device("cpu"))) == 4


# ---- against PyTorch ----------------------------------------------------------------------

def test_pytorch_written_state_dict_loads(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten(),
                             torch.nn.Linear(64, 3))
    tm(torch.randn(2, 1, 6, 6))  # moves the BatchNorm running stats
    path = tmp_path / "torch_sd.pt"
    torch.save(tm.state_dict(), path)
    sd = pydl.load(path)  # weights_only by default, no torch needed to read it
    assert list(sd) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert sd[k].shape == tuple(v.shape)
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
    assert sd["1.num_batches_tracked"].dtype == pydl.int64
    pm = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(64, 3))
    pm.load_state_dict(sd)
    pm.eval(), tm.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(pm(pydl.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


def test_pytorch_views_parameters_checkpoint_and_dtypes(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(12.0).reshape(3, 4)
    ck = {"epoch": 7, "view": base.t(), "row": base[1], "p": torch.nn.Parameter(torch.ones(2)),
          "opt": torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1, momentum=0.9).state_dict(),
          "half": torch.tensor([1.5, -2.0], dtype=torch.float16), "bf16": torch.tensor([3.0], dtype=torch.bfloat16),
          "i32": torch.tensor([1, -2], dtype=torch.int32), "u8": torch.tensor([255], dtype=torch.uint8),
          "size": torch.Size([2, 3]), "dtype": torch.float64}
    torch.save(ck, tmp_path / "ck.pt")
    back = pydl.load(tmp_path / "ck.pt")
    assert back["epoch"] == 7 and back["opt"]["param_groups"][0]["lr"] == 0.1
    np.testing.assert_array_equal(back["view"].numpy(), base.t().numpy())
    np.testing.assert_array_equal(back["row"].numpy(), base[1].numpy())
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad
    np.testing.assert_array_equal(back["half"].numpy(), [1.5, -2.0])
    assert back["half"].dtype == pydl.float32 and back["bf16"].item() == 3.0
    assert back["i32"].dtype == pydl.int64 and back["i32"].tolist() == [1, -2] and back["u8"].item() == 255
    assert isinstance(back["size"], pydl.Size) and back["size"] == (2, 3) and back["dtype"] is pydl.float64


def test_pydl_written_pt_loads_in_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    model = _model()
    sd = model.state_dict()
    path = tmp_path / "pydl_sd.pt"
    pydl.save({"state": sd, "epoch": 2, "shape": pydl.Size([1, 2]), "dtype": pydl.float32}, path, format="pt")
    ck = torch.load(path, weights_only=True)
    assert ck["epoch"] == 2 and ck["shape"] == torch.Size([1, 2]) and ck["dtype"] == torch.float32
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 3))
    tm.load_state_dict(ck["state"])
    x = np.random.default_rng(1).standard_normal((2, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(tm(torch.tensor(x)).detach().numpy(), model(pydl.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    p = torch.load(path, weights_only=True, mmap=True)["state"]["3.weight"]  # records are 64-byte aligned
    assert p.shape == (3, 64)


def test_pytorch_whole_module_file_is_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "tm.pt")
    with pytest.raises(pickle.UnpicklingError, match="torch.nn.modules.linear.Linear.*state_dict"):
        pydl.load(tmp_path / "tm.pt", weights_only=False)
