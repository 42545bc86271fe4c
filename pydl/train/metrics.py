"""Metrics for the training loop, on pydl ops over whole batches (no per-sample Python, no
NumPy per batch: argmax, eq, sum, and scatter_add for the confusion matrix).

Functional forms take model outputs (scores, probabilities or labels) and targets (labels or
one-hot rows) as NumPy arrays or pydl tensors:

    accuracy(output, target)                  top_k_accuracy(output, target, k=5)
    confusion_matrix(y_true, y_pred, n)       precision_recall_f1(output, target)   (macro)
    mean_squared_error(output, target)        mean_absolute_error(output, target)

Streaming forms (``Metric`` subclasses) accumulate sums batch by batch (as pydl tensors); ``fit``
and ``evaluate`` use them and report ``result()`` once per epoch.

How outputs become labels: a floating (N, C) array with C > 1 gives ``argmax`` over dim 1;
a floating (N,) or (N, 1) array is a binary score, thresholded at ``threshold`` (0.5 for
probabilities; pass 0.0 for logits); an integer array is taken as labels. Targets of shape
(N, C) with C > 1 are one-hot rows (``argmax``).
"""
import numpy as np

from .. import _C
from .._C import Tensor

__all__ = ["Metric", "Accuracy", "TopKAccuracy", "ConfusionMatrix", "Precision", "Recall", "F1Score",
           "MeanSquaredError", "MeanAbsoluteError", "get_metric", "accuracy", "top_k_accuracy", "confusion_matrix",
           "precision_recall_f1", "mean_squared_error", "mean_absolute_error"]

_I64, _F64 = _C.dtype.int64, _C.dtype.float64


def _np(a):
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach"):
        return a.detach().numpy()
    return np.asarray(a)


def _t(a):
    """A pydl tensor of `a` without autograd (NumPy arrays are shared, not copied, where pydl has the dtype)."""
    if isinstance(a, Tensor):
        return a.detach()
    a = np.asarray(a)
    if a.dtype.kind in "iu" and a.dtype != np.int64:
        a = a.astype(np.int64)
    elif a.dtype.kind == "f" and a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    return _C.from_numpy(np.ascontiguousarray(a))


def _is_int(t):
    return not t.dtype.is_floating_point


def _pred_labels(output, threshold=0.5):
    out = _t(output)
    if _is_int(out):
        if out.dim() <= 1 or out.shape[-1] == 1:
            return _C.to_dtype(out.reshape(-1), _I64)
        return _C.argmax(out, -1, False).reshape(-1)
    if out.dim() >= 2 and out.shape[-1] > 1:
        return _C.argmax(out, -1, False).reshape(-1)
    return _C.to_dtype(out.reshape(-1) > threshold, _I64)


def _true_labels(target, output_shape=None):
    t = _t(target)
    if t.dim() >= 2 and t.shape[-1] > 1:
        return _C.argmax(t, -1, False).reshape(-1)
    if not _is_int(t):
        return _C.to_dtype(_C.round(t).reshape(-1), _I64)
    return _C.to_dtype(t.reshape(-1), _I64)


def _check_len(name, a, b):
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"[{name}] output and target hold different numbers of samples: {a.shape[0]} and "
                         f"{b.shape[0]}")


def _correct(p, t):
    """Number of equal labels, as a 0-d int64 tensor."""
    return _C.eq(p, t).sum()


def _label_range(t, p):
    """(min, max) over both label tensors; (0, -1) when empty."""
    if t.numel() == 0:
        return 0, -1
    return min(int(t.min()), int(p.min())), max(int(t.max()), int(p.max()))


def _counts(t, p, n):
    """(n, n) int64 counts of (true, predicted) pairs: a scatter_add of ones at t * n + p."""
    idx = t * n + p
    return _C.scatter_add(_C.zeros([n * n], _I64), 0, idx, _C.full(list(idx.shape), 1.0, _I64)).reshape(n, n)


def _sq_err_sum(output, target, absolute):
    o = _C.to_dtype(_t(output), _F64)
    d = o - _t(target).reshape(tuple(o.shape))
    return (_C.abs(d) if absolute else d * d).sum(), o.numel()


# ---- functional forms ----------------------------------------------------------------------

def accuracy(output, target, threshold=0.5):
    """Fraction of samples whose predicted label equals the target label."""
    p, t = _pred_labels(output, threshold), _true_labels(target)
    _check_len("accuracy", p, t)
    return int(_correct(p, t)) / t.shape[0] if t.shape[0] else 0.0


def _top_k_correct(output, target, k):
    out = _t(output)
    if out.dim() != 2:
        raise ValueError(f"[top_k_accuracy] expected scores of shape (N, C), got {tuple(out.shape)}")
    t = _true_labels(target)
    _check_len("top_k_accuracy", out, t)
    k = min(int(k), out.shape[1])
    # a target is in the top k when fewer than k classes score strictly higher (ties count in its favour)
    target_score = _C.gather(out, 1, t.reshape(-1, 1))
    return (_C.gt(out, target_score).sum(1) < k).sum()


def top_k_accuracy(output, target, k=5):
    """Fraction of samples whose target class is among the k highest scores."""
    n = _t(output).shape[0]
    return int(_top_k_correct(output, target, k)) / n if n else 0.0


def confusion_matrix(y_true, y_pred, num_classes=None):
    """(C, C) int64 counts: row = true class, column = predicted class (sklearn's convention).

    Args:
        y_true, y_pred: label arrays (or scores / one-hot rows, turned into labels as above).
        num_classes: C; max label + 1 when None.
    """
    t = _true_labels(y_true)
    p = _pred_labels(y_pred)
    _check_len("confusion_matrix", p, t)
    lo, hi = _label_range(t, p)
    if num_classes is None:
        num_classes = hi + 1
        scores = _t(y_pred)
        if scores.dim() == 2 and scores.shape[1] > 1:
            num_classes = max(num_classes, scores.shape[1])
    if t.shape[0] and (lo < 0 or hi >= num_classes):
        raise ValueError(f"[confusion_matrix] labels must lie in [0, {num_classes}), got [{lo}, {hi}]")
    return _counts(t, p, num_classes).numpy()


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
    total, n = _sq_err_sum(output, target, False)
    return float(total) / n if n else float("nan")


def mean_absolute_error(output, target):
    """Mean of |output - target| over all elements."""
    total, n = _sq_err_sum(output, target, True)
    return float(total) / n if n else float("nan")


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
        return float(self.total) / self.count if self.count else 0.0

    def all_reduce(self):
        from ..distributed import all_reduce
        t = _C.from_numpy(np.array([float(self.total), self.count], dtype=np.float64))
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
        self.total = self.total + _correct(p, t)
        self.count += t.shape[0]


class TopKAccuracy(_MeanMetric):
    """Fraction of samples whose target is among the k highest scores."""

    def __init__(self, k=5, name=None):
        self.k = int(k)
        super().__init__(name or f"top_{self.k}_accuracy")

    def update(self, output, target):
        self.total = self.total + _top_k_correct(output, target, self.k)
        self.count += _t(output).shape[0]


class MeanSquaredError(_MeanMetric):
    name = "mse"

    def update(self, output, target):
        total, n = _sq_err_sum(output, target, False)
        self.total = self.total + total
        self.count += n


class MeanAbsoluteError(_MeanMetric):
    name = "mae"

    def update(self, output, target):
        total, n = _sq_err_sum(output, target, True)
        self.total = self.total + total
        self.count += n


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
        self._counts = _C.zeros([n, n], _I64)
        self.matrix = self._counts.numpy()  # a NumPy view of the counts, updated in place

    def update(self, output, target):
        p, t = _pred_labels(output, self.threshold), _true_labels(target)
        _check_len(self.name, p, t)
        out = _t(output)
        lo, hi = _label_range(t, p)
        n = max(self._counts.shape[0], hi + 1, out.shape[1] if out.dim() == 2 and out.shape[1] > 1 else 0)
        if self.num_classes is not None and n > self.num_classes:
            raise ValueError(f"[{self.name}] labels must lie in [0, {self.num_classes}), got up to {n - 1}")
        if n > self._counts.shape[0]:
            k = self._counts.shape[0]
            grown = _C.zeros([n, n], _I64)
            grown[:k, :k] = self._counts
            self._counts, self.matrix = grown, grown.numpy()
        if lo < 0:
            raise ValueError(f"[{self.name}] labels must be non-negative")
        self._counts += _counts(t, p, n)

    def result(self):
        return self.matrix.copy()

    def all_reduce(self):
        from ..distributed import ReduceOp, all_reduce
        n = _C.from_numpy(np.array([self.matrix.shape[0]], dtype=np.int64))
        all_reduce(n, op=ReduceOp.MAX)
        k, n = self.matrix.shape[0], int(n.item())
        grown = np.zeros((n, n), dtype=np.int64)
        grown[:k, :k] = self.matrix
        self._counts = _C.from_numpy(grown)  # shares grown's memory: matrix stays its view
        all_reduce(self._counts)
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
        n = _t(output).shape[0]
        self.total += float(self.fn(_np(output), _np(target))) * n  # user functions get NumPy, as before
        self.count += n
