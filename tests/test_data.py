"""Datasets, samplers, DataLoader, MNIST/CIFAR-10 readers and transforms."""
import gzip
import os
import pickle
import struct

import numpy as np
import pytest

import pydl
from pydl.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                       SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate, random_split)
from pydl.data import transforms as T
from pydl.data.datasets import CIFAR10, MNIST, FashionMNIST, DatasetNotFoundError

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_DIR = os.path.join(HERE, "..", "..", "shared", "data", "mnist")
if not os.path.isdir(MNIST_DIR):
    MNIST_DIR = "/work/shared/data/mnist"
FASHION_DIR = os.path.join(os.path.dirname(MNIST_DIR), "fashion-mnist")
have_mnist = pytest.mark.skipif(not os.path.isdir(MNIST_DIR), reason="../shared/data/mnist not present")


def test_utils_data_alias():
    import pydl.utils.data as ud
    assert ud.DataLoader is DataLoader and ud.TensorDataset is TensorDataset
    assert pydl.utils.data.random_split is random_split


# ---- datasets and loader -----------------------------------------------------------------

def test_tensor_dataset_batches():
    x = pydl.arange(20, dtype=pydl.float32).reshape(10, 2)
    y = pydl.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert xi.tolist() == [6.0, 7.0] and yi.item() == 3
    batches = list(DataLoader(ds, batch_size=4))
    assert [tuple(b[0].shape) for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert batches[0][0].dtype == pydl.float32 and batches[0][1].dtype == pydl.int64
    assert batches[2][1].tolist() == [8, 9]
    assert len(DataLoader(ds, batch_size=4)) == 3 and len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(x, pydl.arange(3))


def test_shuffle_is_reproducible_under_seed_and_a_permutation():
    ds = TensorDataset(pydl.arange(100))

    def order():
        return np.concatenate([b[0].numpy() for b in DataLoader(ds, batch_size=16, shuffle=True)])

    pydl.manual_seed(42)
    a = order()
    b = order()
    pydl.manual_seed(42)
    c = order()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)  # a new order every epoch
    assert sorted(a.tolist()) == list(range(100))
    # the NumPy-generator path
    g1 = [b[0].tolist() for b in DataLoader(ds, batch_size=10, shuffle=True, generator=np.random.default_rng(3))]
    g2 = [b[0].tolist() for b in DataLoader(ds, batch_size=10, shuffle=True, generator=np.random.default_rng(3))]
    assert g1 == g2


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": np.full((2, 2), i, dtype=np.float32), "y": i * i, "name": f"s{i}", "f": float(i)}


def test_generic_dataset_default_collate():
    b = next(iter(DataLoader(Squares(), batch_size=3)))
    assert tuple(b["x"].shape) == (3, 2, 2) and b["x"].dtype == pydl.float32
    assert b["y"].tolist() == [0, 1, 4] and b["y"].dtype == pydl.int64
    assert b["f"].dtype == pydl.float64
    assert b["name"] == ["s0", "s1", "s2"]
    out = default_collate([(pydl.ones(2), 1), (pydl.zeros(2), 2)])
    assert tuple(out[0].shape) == (2, 2) and out[1].tolist() == [1, 2]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    # custom collate and batch_size=None
    assert list(DataLoader(Squares(), batch_size=4, collate_fn=len)) == [4, 3]
    assert DataLoader(Squares(), batch_size=None).__iter__().__next__()["y"] == 0


def test_loader_argument_errors():
    ds = TensorDataset(pydl.arange(10))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


def test_samplers():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == list(range(10))
    pydl.manual_seed(0)
    r = list(RandomSampler(ds))
    assert sorted(r) == list(range(10))
    assert len(list(RandomSampler(ds, replacement=True, num_samples=25))) == 25
    s = list(SubsetRandomSampler([3, 5, 7]))
    assert sorted(s) == [3, 5, 7]
    assert list(BatchSampler(SequentialSampler(ds), 4, False)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert list(BatchSampler(SequentialSampler(ds), 4, True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(BatchSampler(SequentialSampler(ds), 4, False)) == 3
    tds = TensorDataset(pydl.arange(10) * 10)
    got = [b[0].tolist() for b in DataLoader(tds, batch_sampler=[[9, 0], [5]])]
    assert got == [[90, 0], [50]]
    got = [b[0].tolist() for b in DataLoader(tds, batch_size=2, sampler=[4, 3, 2])]
    assert got == [[40, 30], [20]]


def test_subset_concat_random_split():
    ds = TensorDataset(pydl.arange(10))
    sub = Subset(ds, [9, 8, 7])
    assert sub[0][0].item() == 9 and len(sub) == 3
    assert [b[0].tolist() for b in DataLoader(sub, batch_size=2)] == [[9, 8], [7]]
    cat = ConcatDataset([ds, sub])
    assert len(cat) == 13 and cat[11][0].item() == 8 and cat[-1][0].item() == 7
    assert [b[0].tolist() for b in DataLoader(cat, batch_size=5)][-1] == [9, 8, 7]
    pydl.manual_seed(1)
    a, b = random_split(ds, [7, 3])
    assert len(a) == 7 and len(b) == 3 and sorted(a.indices + b.indices) == list(range(10))
    pydl.manual_seed(1)
    a2, _ = random_split(ds, [0.7, 0.3])
    assert a2.indices == a.indices
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(10))


def test_iterable_dataset():
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(list(DataLoader(Stream(), batch_size=4, drop_last=True))) == 2
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


# ---- MNIST / Fashion-MNIST ------------------------------------------------------------------

@have_mnist
def test_mnist_real_files():
    import time
    t0 = time.perf_counter()
    train = MNIST(MNIST_DIR, train=True, transform=T.ToTensor())
    elapsed = time.perf_counter() - t0
    assert elapsed < 5  # < 1 s on an idle machine; generous here where cores are shared
    test = MNIST(MNIST_DIR, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert np.bincount(train.targets).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(train.data.mean() / 255 - 0.1307) < 1e-3
    img, label = train[0]
    assert isinstance(img, pydl.Tensor) and tuple(img.shape) == (1, 28, 28) and isinstance(label, int)
    raw, _ = test[0]
    assert isinstance(raw, np.ndarray) and raw.dtype == np.uint8
    # batch path = per-sample path
    pydl.manual_seed(0)
    x, y = next(iter(DataLoader(train, batch_size=64, shuffle=True)))
    assert tuple(x.shape) == (64, 1, 28, 28) and x.dtype == pydl.float32 and y.dtype == pydl.int64
    pydl.manual_seed(0)
    idx = RandomSampler(train)._epoch_indices()[:64]
    np.testing.assert_array_equal(x.numpy()[5], train[int(idx[5])][0].numpy())
    assert y.tolist() == [train[int(i)][1] for i in idx]
    fm = FashionMNIST(FASHION_DIR, train=False)
    assert np.bincount(fm.targets).tolist() == [1000] * 10


def _write_idx(path, arr, magic=None, truncate=0, compress=True):
    arr = np.asarray(arr, dtype=np.uint8)
    header = struct.pack(">I", magic if magic is not None else 0x800 + arr.ndim)
    header += b"".join(struct.pack(">I", s) for s in arr.shape)
    data = header + arr.tobytes()
    if truncate:
        data = data[:-truncate]
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(data)


def _fake_mnist(folder, n=5, compress=True, **bad):
    os.makedirs(folder, exist_ok=True)
    ext = ".gz" if compress else ""
    imgs = np.arange(n * 28 * 28, dtype=np.int64).reshape(n, 28, 28) % 256
    _write_idx(os.path.join(folder, "train-images-idx3-ubyte" + ext), imgs, compress=compress,
               **bad.get("images", {}))
    _write_idx(os.path.join(folder, "train-labels-idx1-ubyte" + ext), np.arange(n) % 10, compress=compress,
               **bad.get("labels", {}))
    return imgs


def test_mnist_layouts_raw_and_torchvision(tmp_path):
    imgs = _fake_mnist(str(tmp_path / "direct"), compress=False)
    ds = MNIST(str(tmp_path / "direct"))
    np.testing.assert_array_equal(ds.data, imgs)
    assert ds.targets.tolist() == [0, 1, 2, 3, 4]
    _fake_mnist(str(tmp_path / "tv" / "MNIST" / "raw"))
    ds = MNIST(str(tmp_path / "tv"))
    assert len(ds) == 5
    _fake_mnist(str(tmp_path / "tvf" / "FashionMNIST" / "raw"))
    assert len(FashionMNIST(str(tmp_path / "tvf"))) == 5


def test_mnist_missing_files_error_names_them(tmp_path):
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(str(tmp_path))
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg and "train-labels-idx1-ubyte" in msg
    assert str(tmp_path) in msg and os.path.join("MNIST", "raw") in msg and "download=True" in msg
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, RuntimeError)


@pytest.mark.parametrize("bad,match", [
    ({"images": {"magic": 0x00000801}}, "magic number"),
    ({"images": {"magic": 0x12345678}}, "bad magic number"),
    ({"images": {"truncate": 100}}, "truncated"),
    ({"labels": {"truncate": 1}}, "truncated"),
])
def test_mnist_corrupt_files(tmp_path, bad, match):
    _fake_mnist(str(tmp_path), **bad)
    with pytest.raises(DatasetNotFoundError, match=match) as e:
        MNIST(str(tmp_path))
    assert "corrupt" in str(e.value) and "train-images-idx3-ubyte.gz" in str(e.value)


def test_mnist_mismatched_lengths(tmp_path):
    _fake_mnist(str(tmp_path))
    _write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), np.arange(4))
    with pytest.raises(DatasetNotFoundError, match="5 images but 4 labels"):
        MNIST(str(tmp_path))


def test_mnist_download_offline_raises_clear_error(tmp_path, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(str(tmp_path), download=True)
    assert "train-images-idx3-ubyte.gz" in str(e.value) and "network is unreachable" in str(e.value)
    assert not [f for f in os.listdir(tmp_path / "MNIST" / "raw")]  # no partial files left


# ---- CIFAR-10 -------------------------------------------------------------------------------

def _fake_cifar(folder, per_batch=4):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"batch_label": name.encode(), "labels": labels, "data": data,
                         "filenames": [b"x.png"] * per_batch}, f)
        batches[name] = (data, labels)
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                                     "truck"], "num_cases_per_batch": per_batch, "num_vis": 3072}, f)
    return batches


def test_cifar10_official_format(tmp_path):
    batches = _fake_cifar(str(tmp_path / "cifar-10-batches-py"))
    train = CIFAR10(str(tmp_path), train=True, transform=T.ToTensor())
    test = CIFAR10(str(tmp_path), train=False)
    assert len(train) == 20 and len(test) == 4
    assert train.data.shape == (20, 32, 32, 3)
    d1, l1 = batches["data_batch_1"]
    # the channel planes of row 0 become the HWC image
    np.testing.assert_array_equal(train.data[0], d1[0].reshape(3, 32, 32).transpose(1, 2, 0))
    img, label = train[0]
    assert tuple(img.shape) == (3, 32, 32) and label == l1[0]
    np.testing.assert_allclose(img.numpy(), d1[0].reshape(3, 32, 32) / 255.0, rtol=1e-6)
    x, y = next(iter(DataLoader(train, batch_size=8)))
    assert tuple(x.shape) == (8, 3, 32, 32) and y.tolist()[:4] == l1
    assert train.classes[0] == "airplane"
    # files directly in root work too
    _fake_cifar(str(tmp_path / "flat"))
    assert len(CIFAR10(str(tmp_path / "flat"), train=False)) == 4


def test_cifar10_missing_and_corrupt(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="data_batch_1") as e:
        CIFAR10(str(tmp_path))
    assert "cifar-10-batches-py" in str(e.value)
    _fake_cifar(str(tmp_path / "cifar-10-batches-py"))
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        f.write(b"not a pickle")
    with pytest.raises(DatasetNotFoundError, match="test_batch is corrupt"):
        CIFAR10(str(tmp_path), train=False)


# ---- transforms ------------------------------------------------------------------------------

def test_to_tensor_and_normalize():
    img = (np.arange(12) * 20).astype(np.uint8).reshape(3, 4)
    t = T.ToTensor()(img)
    assert isinstance(t, pydl.Tensor) and tuple(t.shape) == (1, 3, 4)
    np.testing.assert_allclose(t.numpy()[0], img / 255.0, rtol=1e-6)
    n = T.Normalize((0.5,), (0.25,))(t)
    np.testing.assert_allclose(n.numpy(), (img / 255.0 - 0.5)[None] / 0.25, rtol=1e-5, atol=1e-6)
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    rgb[..., 1] = 255
    assert T.ToTensor()(rgb).numpy()[:, 0, 0].tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize((0.5,), (0.5,))(img)


def test_transforms_against_torch_where_deterministic():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((3, 5, 6)).astype(np.float32)
    norm = T.Normalize((0.1, 0.2, 0.3), (0.5, 0.6, 0.7))(pydl.tensor(x)).numpy()
    want = (torch.from_numpy(x) - torch.tensor([0.1, 0.2, 0.3])[:, None, None]) / torch.tensor([0.5, 0.6, 0.7])[:, None, None]
    np.testing.assert_allclose(norm, want.numpy(), rtol=1e-6)


def test_flips_crop_rotation():
    img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[::-1])
    np.testing.assert_array_equal(T.RandomRotation((90, 90))(img), np.rot90(img))
    np.testing.assert_array_equal(T.RandomAffine(0)(img), img)
    pydl.manual_seed(0)
    crops = [T.RandomCrop(4, padding=2)(img) for _ in range(20)]
    padded = np.pad(img, 2)
    for c in crops:
        assert c.shape == (4, 4)
        assert any(np.array_equal(c, padded[i:i + 4, j:j + 4]) for i in range(5) for j in range(5))
    assert len({c.tobytes() for c in crops}) > 3
    np.testing.assert_array_equal(T.CenterCrop(2)(img), img[1:3, 1:3])
    t = T.RandomHorizontalFlip(1.0)(pydl.tensor(img[None].astype(np.float32)))
    assert isinstance(t, pydl.Tensor) and t.numpy()[0].tolist() == img[:, ::-1].tolist()


def test_batch_transforms_vectorised_and_per_sample_random():
    pydl.manual_seed(3)
    x = np.tile(np.arange(28, dtype=np.uint8)[None, None, :], (64, 28, 1))
    y, pil = T.RandomHorizontalFlip()._batch(x, True)
    flipped = (y[:, 0, 0] == 27)
    assert pil and 10 < flipped.sum() < 54  # decided per sample
    comp = T.Compose([T.RandomCrop(28, padding=4), T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1),
                                                                  shear=10), T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    out, pil = comp._batch(x, True)
    assert not pil and out.shape == (64, 1, 28, 28) and out.dtype == np.float32


def test_lambda_transform_falls_back_per_sample(tmp_path):
    _fake_mnist(str(tmp_path))
    ds = MNIST(str(tmp_path), transform=T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2)]),
               target_transform=lambda y: y + 100)
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert tuple(x.shape) == (5, 1, 28, 28) and y.tolist() == [100, 101, 102, 103, 104]
    np.testing.assert_allclose(x.numpy()[1, 0], ds.data[1] / 255.0 * 2, rtol=1e-6)
    raw_x, _ = next(iter(DataLoader(MNIST(str(tmp_path)), batch_size=5)))
    assert raw_x.dtype == pydl.int64 and raw_x.numpy()[2].tolist() == ds.data[2].tolist()
