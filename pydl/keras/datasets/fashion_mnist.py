"""Fashion-MNIST as NumPy arrays, like keras.datasets.fashion_mnist."""
from .mnist import _load


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and uint8 labels (N,).

    Args:
        path: a folder holding the official IDX files; by default $PYDL_DATA, ../shared/data,
            then the download cache.
    """
    return _load("fashion-mnist", path)
