"""MNIST, FashionMNIST and CIFAR10 readers for the official files (torchvision's names and items).

The whole set is kept as NumPy arrays (`.data` uint8, `.targets` int64), so a DataLoader batch
is one gather plus one vectorised transform (see `_get_batch`).
"""
import gzip
import hashlib
import os
import pickle
import tarfile
import tempfile
import urllib.request

import numpy as np

from .. import _C
from .dataset import Dataset, _to_tensor
from .dataloader import default_collate
from .transforms import _batchable

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "DatasetNotFoundError", "read_idx"]


class DatasetNotFoundError(FileNotFoundError, RuntimeError):
    """A dataset's files are missing or corrupt (a FileNotFoundError and a RuntimeError)."""


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"),
               0x0E: np.dtype(">f8")}


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"corrupt gzip data ({e})") from e
    return raw


def read_idx(path, expected_ndim=None):
    """Reads an IDX file (gzip-compressed or raw) into a NumPy array.

    Raises:
        ValueError: bad magic number, wrong number of dimensions, or a truncated / too long file.
    """
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"file is truncated ({len(raw)} bytes, no IDX header)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"bad magic number 0x{int.from_bytes(raw[:4], 'big'):08x} (not an IDX file)")
    ndim = raw[3]
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(f"bad magic number 0x{int.from_bytes(raw[:4], 'big'):08x}: expected "
                         f"0x{0x800 + expected_ndim:08x} ({expected_ndim} dims), got {ndim} dims")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"file is truncated ({len(raw)} bytes, header needs {header})")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(f"file has {len(raw) - header} data bytes but its header {shape} needs {expected} "
                         f"({'truncated' if len(raw) - header < expected else 'trailing data'})")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("=")) if dtype.byteorder == ">" else arr


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(urls, dest, md5=None):
    """Fetches the first mirror that works into `dest` (atomically) with a progress bar; checks md5."""
    errors = []
    for url in urls:
        tmp = None
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "pydl"}), timeout=30) as r:
                total = int(r.headers.get("Content-Length") or 0) or None
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".download-")
                try:
                    from tqdm import tqdm
                    bar = tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(dest))
                except ImportError:  # pragma: no cover
                    bar = None
                with os.fdopen(fd, "wb") as f:
                    for chunk in iter(lambda: r.read(1 << 16), b""):
                        f.write(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                if bar is not None:
                    bar.close()
            if md5 is not None and _md5(tmp) != md5:
                raise ValueError(f"md5 mismatch for {url}")
            os.replace(tmp, dest)
            return
        except Exception as e:  # noqa: BLE001  (try the next mirror)
            errors.append(f"{url}: {e}")
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)
    raise DatasetNotFoundError("could not download " + os.path.basename(dest) + ":\n  " + "\n  ".join(errors))


class _ImageDataset(Dataset):
    """Shared item / batch logic over `self.data` (uint8 images) and `self.targets` (int64)."""

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[int(index)], int(self.targets[int(index)])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices):
        imgs = self.data[indices]
        t = self.transform
        if t is None:
            x = _to_tensor(imgs)
        elif _batchable(t):
            y, _ = t._batch(imgs, True)
            x = _to_tensor(y)
        else:
            x = default_collate([t(img) for img in imgs])
        targets = self.targets[indices]
        if self.target_transform is None:
            y = _C.from_numpy(np.ascontiguousarray(targets))
        else:
            y = default_collate([self.target_transform(int(v)) for v in targets])
        return x, y

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"Dataset {self.__class__.__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class MNIST(_ImageDataset):
    """MNIST handwritten digits from the official IDX files.

    Args:
        root: folder holding the files directly (train-images-idx3-ubyte[.gz], ...) or in
            torchvision's layout root/MNIST/raw/.
        train: the 60k training set (True) or the 10k test set.
        transform: applied to each image (uint8 (28, 28) array), e.g. ToTensor().
        target_transform: applied to each label (an int).
        download: fetch missing files from the official mirrors (checks md5 digests).

    Items are (image, label); `.data` (N, 28, 28) uint8 and `.targets` (N,) int64 hold the set.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(str(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        self._stems = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        paths = [self._find(s) for s in self._stems]
        if any(p is None for p in paths) and download:
            self.download()
            paths = [self._find(s) for s in self._stems]
        if any(p is None for p in paths):
            missing = [s for s, p in zip(self._stems, paths) if p is None]
            raise DatasetNotFoundError(self._help(f"{self.__class__.__name__} dataset not found: missing "
                                                  f"{', '.join(m + '[.gz]' for m in missing)}"))
        try:
            self.data = read_idx(paths[0], 3)
        except ValueError as e:
            raise DatasetNotFoundError(self._help(f"{self.__class__.__name__} file {paths[0]} is corrupt: {e}")) from e
        try:
            self.targets = read_idx(paths[1], 1).astype(np.int64)
        except ValueError as e:
            raise DatasetNotFoundError(self._help(f"{self.__class__.__name__} file {paths[1]} is corrupt: {e}")) from e
        if len(self.data) != len(self.targets):
            raise DatasetNotFoundError(self._help(
                f"{self.__class__.__name__} files disagree: {len(self.data)} images but {len(self.targets)} labels"))

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    def _find(self, stem):
        for folder in (self.root, self.raw_folder):
            for name in (stem + ".gz", stem):
                p = os.path.join(folder, name)
                if os.path.isfile(p):
                    return p
        return None

    def _help(self, what):
        names = ", ".join(n for n, _ in self.resources)
        return (f"{what}.\nExpected the official files {names} (gzip-compressed or not) directly in "
                f"'{self.root}' or in '{self.raw_folder}'. Download them from {self.mirrors[0]} and put them "
                "there, or pass download=True (needs network access).")

    def download(self):
        """Downloads the missing files into root/<Class>/raw/ (digests checked)."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for name, md5 in self.resources:
            if self._find(name[:-3]) is not None:
                continue
            try:
                _download([m + name for m in self.mirrors], os.path.join(self.raw_folder, name), md5)
            except DatasetNotFoundError as e:
                raise DatasetNotFoundError(self._help(f"{e}\nDownload failed (offline?)")) from e

    @property
    def train_data(self):
        return self.data

    @property
    def train_labels(self):
        return self.targets

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): same files and layout as MNIST (root/FashionMNIST/raw/ or direct)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class CIFAR10(_ImageDataset):
    """CIFAR-10 from the official python pickle batches.

    Args:
        root: folder holding cifar-10-batches-py/ (or the batch files directly).
        train: data_batch_1..5 (True) or test_batch.
        transform, target_transform, download: as MNIST.

    `.data` is (N, 32, 32, 3) uint8 (HWC, like torchvision), `.targets` (N,) int64.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(str(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        names = [n for n, _ in (self.train_list if train else self.test_list)]
        folder = self._folder(names)
        if folder is None and download:
            self.download()
            folder = self._folder(names)
        if folder is None:
            raise DatasetNotFoundError(self._help("CIFAR10 dataset not found"))
        data, targets = [], []
        for name in names:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as f:
                    entry = pickle.load(f, encoding="latin1")
                arr = np.asarray(entry["data"], dtype=np.uint8)
                labels = entry["labels"] if "labels" in entry else entry["fine_labels"]
            except Exception as e:  # noqa: BLE001
                raise DatasetNotFoundError(self._help(f"CIFAR10 file {path} is corrupt ({type(e).__name__}: {e})")) \
                    from e
            if arr.ndim != 2 or arr.shape[1] != 3072 or len(labels) != arr.shape[0]:
                raise DatasetNotFoundError(self._help(
                    f"CIFAR10 file {path} is corrupt: data has shape {arr.shape} (expected N x 3072) and "
                    f"{len(labels)} labels"))
            data.append(arr)
            targets.append(np.asarray(labels, dtype=np.int64))
        self.data = np.ascontiguousarray(np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.targets = np.concatenate(targets)
        meta = os.path.join(folder, "batches.meta")
        if os.path.isfile(meta):
            try:
                with open(meta, "rb") as f:
                    self.classes = pickle.load(f, encoding="latin1")["label_names"]
            except Exception:  # noqa: BLE001  (the default names are right for the official set)
                pass

    def _folder(self, names):
        for folder in (os.path.join(self.root, self.base_folder), self.root):
            if all(os.path.isfile(os.path.join(folder, n)) for n in names):
                return folder
        return None

    def _help(self, what):
        names = ", ".join(n for n, _ in self.train_list + self.test_list)
        return (f"{what}.\nExpected the official python batches {names} in "
                f"'{os.path.join(self.root, self.base_folder)}' (or directly in '{self.root}'). Download "
                f"{self.url}, extract it into '{self.root}', or pass download=True (needs network access).")

    def download(self):
        os.makedirs(self.root, exist_ok=True)
        archive = os.path.join(self.root, self.filename)
        if not os.path.isfile(archive):
            try:
                _download([self.url], archive, self.tgz_md5)
            except DatasetNotFoundError as e:
                raise DatasetNotFoundError(self._help(f"{e}\nDownload failed (offline?)")) from e
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(self.root)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}



def find_root(name, start=None):
    """Folder holding dataset `name` ("mnist", "fashion-mnist", ...), or None.

    Looks at $PYDL_DATA/<name>, then walks up from `start` (default: the current directory)
    and from this package for a `shared/data/<name>` folder (the layout of a checkout with
    ../shared beside it, and of git worktrees below it).
    """
    env = os.environ.get("PYDL_DATA")
    if env and os.path.isdir(os.path.join(env, name)):
        return os.path.join(env, name)
    for base in (start or os.getcwd(), os.path.dirname(os.path.abspath(__file__))):
        d = os.path.abspath(base)
        while True:
            cand = os.path.join(d, "shared", "data", name)
            if os.path.isdir(cand):
                return cand
            if os.path.dirname(d) == d:
                break
            d = os.path.dirname(d)
    return None
