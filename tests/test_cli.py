"""The `pydl` command: argument parsing, a small training smoke run, the embedded dataset."""
import csv
import os

import numpy as np
import pytest

import pydl
from pydl import cli

pydl.set_num_threads(1)  # the machines are shared: OpenMP teams stall under load


@pytest.fixture(autouse=True)
def _seeded():
    pydl.manual_seed(0)
    np.random.seed(0)


def _isolated(monkeypatch, tmp_path):
    """No $PYDL_DATA and an empty cache: the command must fall back to the embedded set."""
    monkeypatch.delenv("PYDL_DATA", raising=False)
    monkeypatch.setenv("PYDL_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


def test_parser_defaults_and_errors(capsys):
    p = cli._parser()
    a = p.parse_args(["train"])
    assert (a.model, a.dataset, a.epochs, a.batch_size, a.lr, a.seed, a.limit) == ("mnistnet", "mnist", 3, 64, 1e-3,
                                                                                   0, None)
    a = p.parse_args(["train", "--model", "mlp", "--dataset", "fashion-mnist", "--epochs", "2", "--batch-size", "16",
                      "--lr", "0.01", "--threads", "1", "--seed", "3", "--out", "o", "--data", "d", "--limit", "9"])
    assert (a.model, a.dataset, a.epochs, a.batch_size, a.lr, a.threads, a.seed, a.out, a.data, a.limit) == (
        "mlp", "fashion-mnist", 2, 16, 0.01, 1, 3, "o", "d", 9)
    for bad in (["train", "--epochs", "0"], ["train", "--lr", "-1"], ["train", "--model", "resnet"],
                ["train", "--dataset", "imagenet"]):
        with pytest.raises(SystemExit):
            p.parse_args(bad)
    assert "--limit" not in p._subparsers._group_actions[0].choices["train"].format_help()
    if not hasattr(pydl.nn, "LSTM"):
        with pytest.raises(SystemExit):
            p.parse_args(["train", "--model", "lstm"])


def test_info(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pydl ") and "instruction set" in out


def test_embedded_dataset_is_packaged_and_split():
    from pydl._datapath import EMBEDDED_DIR, embedded_mnist
    assert sorted(os.listdir(EMBEDDED_DIR)) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    (xtr, ytr), (xte, yte) = embedded_mnist()
    assert xtr.shape == (8000, 28, 28) and xte.shape == (2000, 28, 28) and xtr.dtype == np.uint8
    assert len(np.unique(np.concatenate([ytr, yte]))) == 10
    (xtr2, _), _ = embedded_mnist()
    np.testing.assert_array_equal(xtr, xtr2)  # a fixed split


def test_train_smoke_on_embedded_set(tmp_path, monkeypatch, capsys):
    _isolated(monkeypatch, tmp_path)
    out = tmp_path / "run"
    rc = cli.main(["train", "--model", "mlp", "--epochs", "1", "--limit", "512", "--threads", "1", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "embedded" in text and "8,000" in text and "Test accuracy:" in text
    assert {"model.safetensors", "history.csv"} <= set(os.listdir(out))
    rows = list(csv.reader(open(out / "history.csv")))
    assert rows[0][:3] == ["epoch", "loss", "accuracy"] and len(rows) == 2
    sd = pydl.load(out / "model.safetensors")
    assert tuple(sd["linear1.weight"].shape) == (128, 784)
    try:
        import matplotlib  # noqa: F401
        assert (out / "learning_curves.png").exists()
    except ImportError:
        pass


def test_train_mnistnet_one_small_epoch(tmp_path, monkeypatch, capsys):
    _isolated(monkeypatch, tmp_path)
    rc = cli.main(["train", "--epochs", "1", "--limit", "128", "--batch-size", "32", "--out", str(tmp_path / "r"),
                   "--verbose", "0"])
    assert rc == 0
    assert "model=mnistnet" in capsys.readouterr().out


def test_train_from_data_dir(tmp_path, monkeypatch, capsys):
    """--data DIR with IDX files in it is used instead of the embedded set."""
    _isolated(monkeypatch, tmp_path)
    import gzip
    import struct
    rng = np.random.default_rng(0)
    d = tmp_path / "data" / "fashion-mnist"
    d.mkdir(parents=True)
    for prefix, n in (("train", 64), ("t10k", 32)):
        imgs = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        with gzip.open(d / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, 28, 28) + imgs.tobytes())
        with gzip.open(d / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">II", 0x801, n) + labels.tobytes())
    rc = cli.main(["train", "--model", "mlp", "--dataset", "fashion-mnist", "--data", str(tmp_path / "data"),
                   "--epochs", "1", "--out", str(tmp_path / "r"), "--verbose", "0"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "embedded" not in text and "64 train / 32 test" in text


def test_missing_dataset_is_a_clear_error(tmp_path, monkeypatch, capsys):
    _isolated(monkeypatch, tmp_path)
    rc = cli.main(["train", "--dataset", "cifar10", "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "CIFAR10 dataset not found" in err and str(tmp_path) in err


def test_train_cifar10_from_official_pickles(tmp_path, monkeypatch, capsys):
    import pickle
    _isolated(monkeypatch, tmp_path)
    rng = np.random.default_rng(0)
    d = tmp_path / "data" / "cifar-10-batches-py"
    d.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(d / name, "wb") as f:
            pickle.dump({"data": rng.integers(0, 255, (8, 3072), dtype=np.uint8),
                         "labels": list(rng.integers(0, 10, 8))}, f)
    rc = cli.main(["train", "--dataset", "cifar10", "--data", str(tmp_path / "data"), "--epochs", "1",
                   "--batch-size", "8", "--out", str(tmp_path / "r"), "--verbose", "0"])
    assert rc == 0
    assert "40 train / 8 test" in capsys.readouterr().out
    sd = pydl.load(tmp_path / "r" / "model.safetensors")
    assert tuple(sd["conv1.weight"].shape) == (32, 3, 3, 3) and tuple(sd["fc1.weight"].shape) == (128, 64 * 14 * 14)


def test_train_lstm_when_available(tmp_path, monkeypatch, capsys):
    if not hasattr(pydl.nn, "LSTM"):
        pytest.skip("pydl.nn.LSTM is not in this build")
    _isolated(monkeypatch, tmp_path)
    rc = cli.main(["train", "--model", "lstm", "--epochs", "1", "--limit", "64", "--out", str(tmp_path / "r"),
                   "--verbose", "0"])
    assert rc == 0 and "model=lstm" in capsys.readouterr().out
