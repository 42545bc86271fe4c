"""Where datasets are found: an explicit folder, $PYDL_DATA, ../shared/data (found by
pydl.data.datasets.find_root, from the working directory or the package), the download cache, and the embedded MNIST test
set shipped in pydl/_data (used by `pydl train` when nothing else is there)."""
import os

import numpy as np

__all__ = ["cache_dir", "candidate_roots", "load_arrays", "embedded_mnist", "EMBEDDED_DIR", "DATASETS"]

EMBEDDED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_data", "mnist")

# name -> (pydl.data.datasets class name, folder names tried under a data root)
DATASETS = {
    "mnist": ("MNIST", ("mnist", "MNIST")),
    "fashion-mnist": ("FashionMNIST", ("fashion-mnist", "fashion_mnist", "FashionMNIST")),
    "cifar10": ("CIFAR10", ("cifar10", "cifar-10", "CIFAR10")),
}


def cache_dir():
    """The download cache: $PYDL_CACHE, else $XDG_CACHE_HOME/pydl, else ~/.cache/pydl (plus /datasets)."""
    base = os.environ.get("PYDL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "pydl")
    return os.path.join(base, "datasets")


def _norm(name):
    key = name.lower().replace("_", "-")
    if key == "fashionmnist":
        key = "fashion-mnist"
    if key == "cifar-10":
        key = "cifar10"
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return key


def candidate_roots(name, data=None, shared=True, cache=True):
    """Folders to look in, in order, for dataset `name`."""
    key = _norm(name)
    bases = []
    if data is not None:
        bases.append(os.path.expanduser(str(data)))
    if os.environ.get("PYDL_DATA"):
        bases.append(os.path.expanduser(os.environ["PYDL_DATA"]))
    roots = [os.path.normpath(p) for b in bases for p in [os.path.join(b, sub) for sub in DATASETS[key][1]] + [b]]
    if shared:  # ../shared/data/<name>, found as pydl.data.datasets.find_root does (worktrees nest deeper)
        from .data.datasets import find_root
        found = find_root(DATASETS[key][1][0])
        if found is not None:
            roots.append(os.path.normpath(found))
    if cache:
        c = cache_dir()
        roots += [os.path.normpath(os.path.join(c, sub)) for sub in DATASETS[key][1]] + [os.path.normpath(c)]
    seen, out = set(), []
    for r in roots:
        if r not in seen:
            seen.add(r)
            out.append(r)
    return out


def load_arrays(name, data=None, shared=True, download=False):
    """((x_train, y_train), (x_test, y_test)) as NumPy arrays (uint8 images, int64 labels) and
    the folder they came from.

    Raises:
        pydl.data.datasets.DatasetNotFoundError: nowhere to be found (lists the places tried).
    """
    from .data import datasets as ds
    key = _norm(name)
    cls = getattr(ds, DATASETS[key][0])
    tried = []
    for root in candidate_roots(key, data, shared):
        if not os.path.isdir(root):
            tried.append(root)
            continue
        try:
            train, test = cls(root, train=True), cls(root, train=False)
        except ds.DatasetNotFoundError as e:
            if "corrupt" in str(e) or "disagree" in str(e):
                raise
            tried.append(root)
            continue
        return ((train.data, train.targets), (test.data, test.targets)), root
    if download:
        root = os.path.join(cache_dir(), DATASETS[key][1][0])
        os.makedirs(root, exist_ok=True)
        train, test = cls(root, train=True, download=True), cls(root, train=False, download=True)
        return ((train.data, train.targets), (test.data, test.targets)), root
    raise ds.DatasetNotFoundError(
        f"{DATASETS[key][0]} dataset not found (offline?). Looked in:\n  " + "\n  ".join(tried)
        + f"\nPut the official files in one of these folders, set $PYDL_DATA to a folder holding {key}/, or "
        f"download them into the cache ({cache_dir()}) with network access.")


def embedded_mnist(n_train=8000, seed=0):
    """The embedded official MNIST test set split (fixed permutation) into n_train / rest:
    ((x_train, y_train), (x_test, y_test)), uint8 images and int64 labels."""
    from .data.datasets import MNIST
    test = MNIST(EMBEDDED_DIR, train=False)
    perm = np.random.default_rng(seed).permutation(len(test.data))
    tr, te = perm[:n_train], perm[n_train:]
    return (test.data[tr], test.targets[tr]), (test.data[te], test.targets[te])
