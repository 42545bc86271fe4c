"""Keras losses: `loss(y_true, y_pred)` objects, with `from_logits` like Keras.

When a model ends in softmax (or sigmoid) and is compiled with a cross-entropy loss given by
name, Sequential feeds the loss the pre-activation logits (`from_logits=True`) so that the
loss goes through log-softmax and never gives NaN for confident predictions.
"""
from .. import _C
from .. import log as _log
from ..nn import functional as F

__all__ = ["Loss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "get", "sparse_categorical_crossentropy",
           "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mean_absolute_error", "mse",
           "mae"]

_EPS = 1e-7


def _per_sample_mean(values):
    """(N, ...) -> (N,): the mean over every axis but the batch one."""
    return values if values.dim() == 1 else values.reshape([values.shape[0], -1]).mean(1)


def _as_float(y, like):
    if y.dtype != like.dtype:
        y = y.to(like.dtype)
    return y.reshape(list(like.shape)) if tuple(y.shape) != tuple(like.shape) and y.numel() == like.numel() else y


class Loss:
    """Base: __call__(y_true, y_pred) -> scalar tensor (mean over the batch)."""

    name = "loss"
    from_logits = False
    # the activation whose logits this loss can take instead (Sequential fuses it)
    fuses = None

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is None:
            return self.call(y_true, y_pred)
        # Keras's sum_over_batch_size: sum(per-sample loss * weight) / batch size
        per = self.per_sample(y_true, y_pred)
        w = sample_weight if isinstance(sample_weight, _C.Tensor) else _C.from_numpy(
            __import__("numpy").ascontiguousarray(sample_weight, dtype="float32"))
        return (per * w.reshape([-1]).to(per.dtype)).sum() * (1.0 / per.shape[0])

    def call(self, y_true, y_pred):
        return self.per_sample(y_true, y_pred).mean()

    def per_sample(self, y_true, y_pred):
        """The loss of each sample, shape (N,) (mean over any other axes, as Keras reduces)."""
        raise NotImplementedError

    def with_logits(self):
        """The same loss taking logits (used when the model's softmax / sigmoid is fused into it)."""
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.from_logits = True
        return new

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy with integer class labels (N,) or (N, 1) and (N, C) predictions."""

    name = "sparse_categorical_crossentropy"
    fuses = "softmax"

    def __init__(self, from_logits=False, ignore_class=None):
        self.from_logits = from_logits
        self.ignore_class = ignore_class

    def call(self, y_true, y_pred, reduction="mean"):
        y = y_true
        if y.dim() == y_pred.dim() and y.dim() >= 2 and y.shape[-1] == 1:
            y = y.reshape(list(y.shape[:-1]))
        if y.dtype != _C.dtype.int64:
            y = y.to(_C.dtype.int64)
        ignore = -100 if self.ignore_class is None else int(self.ignore_class)
        if y_pred.dim() > 2:  # (N, ..., C) -> (N, C, ...) as F wants
            perm = [0, y_pred.dim() - 1] + list(range(1, y_pred.dim() - 1))
            y_pred = y_pred.permute(*perm).contiguous()
        if self.from_logits:
            return F.cross_entropy(y_pred, y, ignore_index=ignore, reduction=reduction)
        return F.nll_loss(_log(y_pred.clamp(_EPS, 1 - _EPS)), y, ignore_index=ignore, reduction=reduction)

    def per_sample(self, y_true, y_pred):
        out = self.call(y_true, y_pred, reduction="none")
        return out.reshape([out.shape[0], -1]).mean(1) if out.dim() > 1 else out


class _Crossentropy(Loss):
    """The arguments of the cross-entropies of probabilities (or logits with from_logits=True)."""

    def __init__(self, from_logits=False, label_smoothing=0.0):
        self.from_logits = from_logits
        self.label_smoothing = float(label_smoothing)


class CategoricalCrossentropy(_Crossentropy):
    """Cross-entropy with one-hot (or probability) targets (N, C)."""

    name = "categorical_crossentropy"
    fuses = "softmax"

    def _elementwise(self, y_true, y_pred):
        y = _as_float(y_true, y_pred)
        if tuple(y.shape) != tuple(y_pred.shape):
            raise ValueError(f"[categorical_crossentropy] targets {tuple(y.shape)} and predictions "
                             f"{tuple(y_pred.shape)} differ in shape (use sparse_categorical_crossentropy for "
                             "integer labels)")
        if self.label_smoothing:
            c = y_pred.shape[-1]
            y = y * (1 - self.label_smoothing) + self.label_smoothing / c
        logp = F.log_softmax(y_pred, dim=-1) if self.from_logits else _log(y_pred.clamp(_EPS, 1 - _EPS))
        return -(y * logp).sum(-1)

    def call(self, y_true, y_pred):
        return self._elementwise(y_true, y_pred).mean()

    def per_sample(self, y_true, y_pred):
        return _per_sample_mean(self._elementwise(y_true, y_pred))


class BinaryCrossentropy(_Crossentropy):
    """Binary cross-entropy of probabilities (or logits with from_logits=True) and 0/1 targets."""

    name = "binary_crossentropy"
    fuses = "sigmoid"

    def call(self, y_true, y_pred, reduction="mean"):
        y = _as_float(y_true, y_pred)
        if self.label_smoothing:
            y = y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, y, reduction=reduction)
        return F.binary_cross_entropy(y_pred.clamp(_EPS, 1 - _EPS), y, reduction=reduction)

    def per_sample(self, y_true, y_pred):
        return _per_sample_mean(self.call(y_true, y_pred, reduction="none"))


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def call(self, y_true, y_pred):
        return F.mse_loss(y_pred, _as_float(y_true, y_pred))

    def per_sample(self, y_true, y_pred):
        return _per_sample_mean(F.mse_loss(y_pred, _as_float(y_true, y_pred), reduction="none"))


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        return F.l1_loss(y_pred, _as_float(y_true, y_pred))

    def per_sample(self, y_true, y_pred):
        return _per_sample_mean(F.l1_loss(y_pred, _as_float(y_true, y_pred), reduction="none"))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return SparseCategoricalCrossentropy(from_logits)(y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return CategoricalCrossentropy(from_logits)(y_true, y_pred)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    return BinaryCrossentropy(from_logits)(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError()(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError()(y_true, y_pred)


mse = mean_squared_error
mae = mean_absolute_error

_BY_NAME = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}


class _Callable(Loss):
    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", "loss")

    def call(self, y_true, y_pred):
        out = self.fn(y_true, y_pred)
        return out.mean() if isinstance(out, _C.Tensor) and out.numel() != 1 else out

    def per_sample(self, y_true, y_pred):
        out = self.fn(y_true, y_pred)
        if out.numel() == 1:
            raise ValueError(f"[{self.name}] sample weights need a loss function that returns one value per "
                             "sample, got a scalar")
        return _per_sample_mean(out)


def get(spec):
    """A Loss from a name, a Loss instance, or a callable fn(y_true, y_pred) (Keras's argument order)."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str):
        cls = _BY_NAME.get(spec.lower())
        if cls is None:
            raise ValueError(f"[compile] unknown loss {spec!r}; known: {', '.join(sorted(_BY_NAME))}, or a callable "
                             "fn(y_true, y_pred)")
        return cls()
    if isinstance(spec, type) and issubclass(spec, Loss):
        return spec()
    if callable(spec):
        return _Callable(spec)
    raise TypeError(f"[compile] loss must be a name, a pydl.keras.losses.Loss or a callable, got "
                    f"{type(spec).__name__}")
