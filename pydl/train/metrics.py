"""Metrics for the training loop, vectorised with NumPy over whole batches (no per-sample Python).

Functional forms take model outputs (scores, probabilities or labels) and targets (labels or
one-hot rows) as NumPy arrays or pydl tensors:

    accuracy(output, target)                  top_k_accuracy(output, target, k=5)
    confusion_matrix(y_true, y_pred, n)       precision_recall_f1(output, target)   (macro)
    mean_squared_error(output, target)        mean_absolute_error(output, target)

Streaming forms (``Metric`` subclasses) accumulate sums batch by batch; ``fit`` and
``evaluate`` use them and report ``result()`` once per epoch.

How outputs become labels: a floating (N, C) array with C > 1 gives ``argmax`` over dim 1;
a floating (N,) or (N, 1) array is a binary score, thresholded at ``threshold`` (0.5 for
probabilities; pass 0.0 for logits); an integer array is taken as labels. Targets of shape
(N, C) with C > 1 are one-hot rows (``argmax``).
"""
import numpy as np

from .. import _C

__all__ = ["Metric", "Accuracy", "TopKAccuracy", "ConfusionMatrix", "Precision", "Recall", "F1Score",
           "MeanSquaredError", "MeanAbsoluteError", "get_metric", "accuracy", "top_k_accuracy", "confusion_matrix",
           "precision_recall_f1", "mean_squared_error", "mean_absolute_error"]


def _np(a):
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach"):
        return a.detach().numpy()
    return np.asarray(a)


def _pred_labels(output, threshold=0.5):
    out = _np(output)
    if out.dtype.kind in "iub":
        return out.reshape(-1).astype(np.int64) if out.ndim <= 1 or out.shape[-1] == 1 else out.argmax(-1)
    if out.ndim >= 2 and out.shape[-1] > 1:
        return out.argmax(-1).reshape(-1)
    return (out.reshape(-1) > threshold).astype(np.int64)


def _true_labels(target, output_shape=None):
    t = _np(target)
    if t.ndim >= 2 and t.shape[-1] > 1:
        return t.argmax(-1).reshape(-1)
    if t.dtype.kind == "f":
        return np.rint(t).reshape(-1).astype(np.int64)
    return t.reshape(-1).astype(np.int64)


def _check_len(name, a, b):
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"[{name}] output and target hold different numbers of samples: {a.shape[0]} and "
                         f"{b.shape[0]}")


# ---- functional forms ----------------------------------------------------------------------

def accuracy(output, target, threshold=0.5):
    """Fraction of samples whose predicted label equals the target label."""
    p, t = _pred_labels(output, threshold), _true_labels(target)
    _check_len("accuracy", p, t)
    return float((p == t).mean()) if len(t) else 0.0


def _top_k_correct(output, target, k):
    out = _np(output)
    if out.ndim != 2:
        raise ValueError(f"[top_k_accuracy] expected scores of shape (N, C), got {out.shape}")
    t = _true_labels(target)
    _check_len("top_k_accuracy", out, t)
    k = min(int(k), out.shape[1])
    # a target is in the top k when fewer than k classes score strictly higher (ties count in its favour)
    target_score = np.take_along_axis(out, t[:, None], axis=1)
    return int(((out > target_score).sum(1) < k).sum())


def top_k_accuracy(output, target, k=5):
    """Fraction of samples whose target class is among the k highest scores."""
    n = _np(output).shape[0]
    return _top_k_correct(output, target, k) / n if n else 0.0


def confusion_matrix(y_true, y_pred, num_classes=None):
    """(C, C) int64 counts: row = true class, column = predicted class (sklearn's convention).

    Args:
        y_true, y_pred: label arrays (or scores / one-hot rows, turned into labels as above).
        num_classes: C; max label + 1 when None.
    """
    t = _true_labels(y_true)
    p = _pred_labels(y_pred)
    _check_len("confusion_matrix", p, t)
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
        if _np(y_pred).ndim == 2 and _np(y_pred).shape[1] > 1:
            num_classes = max(num_classes, _np(y_pred).shape[1])
    if len(t) and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(f"[confusion_matrix] labels must lie in [0, {num_classes}), got "
                         f"[{min(t.min(), p.min())}, {max(t.max(), p.max())}]")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _prf_from_cm(cm):
    tp = np.diag(cm).astype(np.float64)
    pred_pos, true_pos = cm.sum(0), cm.sum(1)
    present = (pred_pos + true_pos) > 0  # sklearn's labels: those seen in y_true or y_pred
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(pred_pos > 0, tp / pred_pos, 0.0)
        recall = np.where(true_pos > 0, tp / true_pos, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    if not present.any():
        return 0.0, 0.0, 0.0
    return float(precision[present].mean()), float(recall[present].mean()), float(f1[present].mean())


def precision_recall_f1(output, target, num_classes=None):
    """Macro-averaged (precision, recall, F1) over the classes present in target or prediction
    (a class with no predicted / true samples scores 0, like sklearn's zero_division=0)."""
    return _prf_from_cm(confusion_matrix(target, output, num_classes))


def mean_squared_error(output, target):
    """Mean of (output - target)^2 over all elements."""
    o, t = _np(output), _np(target)
    return float(np.mean((o.astype(np.float64) - t.reshape(o.shape)) ** 2))


def mean_absolute_error(output, target):
    """Mean of |output - target| over all elements."""
    o, t = _np(output), _np(target)
    return float(np.mean(np.abs(o.astype(np.float64) - t.reshape(o.shape))))


# ---- streaming forms -----------------------------------------------------------------------

class Metric:
    """A metric accumulated over batches: reset(), update(output, target) per batch, result()."""

    name = "metric"

    def reset(self):
        raise NotImplementedError

    def update(self, output, target):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def all_reduce(self):
        """Combines the states of every rank's copy of this metric (fit calls it on several ranks)."""
        raise NotImplementedError(f"[fit] metric {self.name!r} ({type(self).__name__}) cannot be combined across "
                                  f"ranks: define all_reduce() on it")

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class _MeanMetric(Metric):
    def __init__(self, name=None):
        if name is not None:
            self.name = name
        self.reset()

    def reset(self):
        self.total, self.count = 0.0, 0

    def result(self):
        return self.total / self.count if self.count else 0.0

    def all_reduce(self):
        from ..distributed import all_reduce
        t = _C.from_numpy(np.array([self.total, self.count], dtype=np.float64))
        all_reduce(t)
        self.total, self.count = float(t[0].item()), int(t[1].item())


class Accuracy(_MeanMetric):
    """Fraction of correct labels (argmax of scores, or a threshold for binary outputs)."""

    name = "accuracy"

    def __init__(self, threshold=0.5, name=None):
        self.threshold = threshold
        super().__init__(name)

    def update(self, output, target):
        p, t = _pred_labels(output, self.threshold), _true_labels(target)
        _check_len("accuracy", p, t)
        self.total += int((p == t).sum())
        self.count += len(t)


class TopKAccuracy(_MeanMetric):
    """Fraction of samples whose target is among the k highest scores."""

    def __init__(self, k=5, name=None):
        self.k = int(k)
        super().__init__(name or f"top_{self.k}_accuracy")

    def update(self, output, target):
        self.total += _top_k_correct(output, target, self.k)
        self.count += _np(output).shape[0]


class MeanSquaredError(_MeanMetric):
    name = "mse"

    def update(self, output, target):
        o = _np(output).astype(np.float64)
        self.total += float(((o - _np(target).reshape(o.shape)) ** 2).sum())
        self.count += o.size


class MeanAbsoluteError(_MeanMetric):
    name = "mae"

    def update(self, output, target):
        o = _np(output).astype(np.float64)
        self.total += float(np.abs(o - _np(target).reshape(o.shape)).sum())
        self.count += o.size


class ConfusionMatrix(Metric):
    """Accumulated (C, C) confusion matrix (rows: true class); result() returns the matrix."""

    name = "confusion_matrix"

    def __init__(self, num_classes=None, threshold=0.5, name=None):
        self.num_classes = num_classes
        self.threshold = threshold
        if name is not None:
            self.name = name
        self.reset()

    def reset(self):
        n = self.num_classes or 0
        self.matrix = np.zeros((n, n), dtype=np.int64)

    def update(self, output, target):
        p, t = _pred_labels(output, self.threshold), _true_labels(target)
        _check_len(self.name, p, t)
        out = _np(output)
        n = max(self.matrix.shape[0], int(max(t.max(initial=-1), p.max(initial=-1))) + 1,
                out.shape[1] if out.ndim == 2 and out.shape[1] > 1 else 0)
        if self.num_classes is not None and n > self.num_classes:
            raise ValueError(f"[{self.name}] labels must lie in [0, {self.num_classes}), got up to {n - 1}")
        if n > self.matrix.shape[0]:
            grown = np.zeros((n, n), dtype=np.int64)
            k = self.matrix.shape[0]
            grown[:k, :k] = self.matrix
            self.matrix = grown
        if len(t) and min(t.min(), p.min()) < 0:
            raise ValueError(f"[{self.name}] labels must be non-negative")
        self.matrix += np.bincount(t * n + p, minlength=n * n).reshape(n, n)

    def result(self):
        return self.matrix.copy()

    def all_reduce(self):
        from ..distributed import ReduceOp, all_reduce
        n = _C.from_numpy(np.array([self.matrix.shape[0]], dtype=np.int64))
        all_reduce(n, op=ReduceOp.MAX)
        k, n = self.matrix.shape[0], int(n.item())
        grown = np.zeros((n, n), dtype=np.int64)
        grown[:k, :k] = self.matrix
        all_reduce(_C.from_numpy(grown))
        self.matrix = grown


class _PRF(ConfusionMatrix):
    _index = 0

    def result(self):
        return _prf_from_cm(self.matrix)[self._index]


class Precision(_PRF):
    """Macro-averaged precision."""

    name = "precision"
    _index = 0


class Recall(_PRF):
    """Macro-averaged recall."""

    name = "recall"
    _index = 1


class F1Score(_PRF):
    """Macro-averaged F1 score."""

    name = "f1"
    _index = 2


_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy, "sparse_categorical_accuracy": Accuracy, "categorical_accuracy": Accuracy,
    "binary_accuracy": Accuracy,
    "top_k_accuracy": TopKAccuracy, "top_5_accuracy": TopKAccuracy, "top_k_categorical_accuracy": TopKAccuracy,
    "sparse_top_k_categorical_accuracy": TopKAccuracy,
    "precision": Precision, "recall": Recall, "f1": F1Score, "f1_score": F1Score,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "confusion_matrix": ConfusionMatrix,
}


def get_metric(spec):
    """A Metric from a name ('accuracy', 'top_5_accuracy', 'precision', 'recall', 'f1', 'mse',
    'mae', Keras's long names), a Metric instance, or a function fn(output, target) -> float
    (averaged over batches, weighted by batch size)."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, type) and issubclass(spec, Metric):
        return spec()
    if isinstance(spec, str):
        key = spec.lower()
        if key.startswith("top_") and key.endswith("_accuracy") and key[4:-9].isdigit():
            return TopKAccuracy(int(key[4:-9]))
        cls = _BY_NAME.get(key)
        if cls is None:
            raise ValueError(f"[metrics] unknown metric {spec!r}; known: {', '.join(sorted(_BY_NAME))}, "
                             "top_<k>_accuracy")
        m = cls()
        if key in ("acc", "sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"):
            m.name = key
        return m
    if callable(spec):
        return _FunctionMetric(spec)
    raise TypeError(f"[metrics] a metric must be a name, a Metric or a callable, got {type(spec).__name__}")


class _FunctionMetric(_MeanMetric):
    def __init__(self, fn):
        self.fn = fn
        super().__init__(getattr(fn, "__name__", "metric"))

    def update(self, output, target):
        n = _np(output).shape[0]
        self.total += float(self.fn(output, target)) * n
        self.count += n
