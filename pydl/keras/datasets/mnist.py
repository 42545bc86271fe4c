"""MNIST as NumPy arrays, like keras.datasets.mnist."""
import os

import numpy as np


def _load(name, path):
    from ..._datapath import load_arrays
    if path is not None and str(path).endswith(".npz") and os.path.isfile(path):
        with np.load(path, allow_pickle=False) as f:  # Keras's own mnist.npz
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    ((xtr, ytr), (xte, yte)), _ = load_arrays(name, data=path)
    return (np.ascontiguousarray(xtr), ytr.astype(np.uint8)), (np.ascontiguousarray(xte), yte.astype(np.uint8))


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and uint8 labels (N,).

    Args:
        path: a folder holding the official IDX files (train-images-idx3-ubyte.gz, ...), or
            Keras's mnist.npz. By default: $PYDL_DATA, ../shared/data (relative to the working
            directory or the source checkout), then the download cache.

    Raises:
        pydl.data.datasets.DatasetNotFoundError: the files are nowhere to be found (the
            message lists the folders tried).
    """
    return _load("mnist", path)
