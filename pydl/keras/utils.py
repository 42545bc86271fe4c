"""Keras utilities."""
import numpy as np

__all__ = ["to_categorical", "set_random_seed"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot rows for integer class labels (shape (..., num_classes))."""
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"[to_categorical] labels must lie in [0, {num_classes}), got [{y.min()}, {y.max()}]")
    return np.eye(num_classes, dtype=dtype)[y]


def set_random_seed(seed):
    """Seeds Python's, NumPy's and pydl's generators (init, dropout, shuffling), like Keras's."""
    import random
    from .. import _C
    random.seed(seed)
    np.random.seed(seed)
    _C.manual_seed(int(seed))
