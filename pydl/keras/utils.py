"""Keras utilities."""
import numpy as np

__all__ = ["to_categorical", "set_random_seed", "pad_sequences"]


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


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Keras's pad_sequences: a list of integer sequences -> an (n, maxlen) array, padded and
    truncated at the start ('pre') or the end ('post')."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"[pad_sequences] padding and truncating must be 'pre' or 'post', got {padding!r} / "
                         f"{truncating!r}")
    seqs = [np.asarray(s) for s in sequences]
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), maxlen), value, dtype=dtype)
    for i, s in enumerate(seqs):  # data preparation, one row per sequence
        if not len(s):
            continue
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            out[i, :len(s)] = s
        else:
            out[i, maxlen - len(s):] = s
    return out
