"""Callbacks for pydl.train.fit and pydl.keras (Keras's names, hooks and `logs` dicts).

Hooks, in the order fit calls them::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)
        on_train_batch_begin / on_batch_begin(batch, logs)
        on_train_batch_end / on_batch_end(batch, logs)      logs: running 'loss' and metrics
      on_epoch_end(epoch, logs)                             logs: 'loss', metrics, 'val_*', 'lr'
    on_train_end(logs)

Every callback has `self.model`, `self.optimizer` and `self.params` ({'epochs', 'steps',
'verbose'}); setting `self.model.stop_training = True` ends training after the epoch.
"""
import copy
import csv
import math
import os
import sys
import warnings

import numpy as np

from ..optim._plateau import PlateauState, is_better

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
           "ReduceLROnPlateau", "CSVLogger", "LambdaCallback"]


class Callback:
    """Base class: override any of the hooks. epoch and batch are 0-based, like Keras."""

    def __init__(self):
        self.model = None
        self.optimizer = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)


class LambdaCallback(Callback):
    """A callback from functions: LambdaCallback(on_epoch_end=lambda epoch, logs: ...)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None):
        super().__init__()
        for name, fn in dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_batch_begin=on_batch_begin,
                             on_batch_end=on_batch_end, on_train_begin=on_train_begin,
                             on_train_end=on_train_end).items():
            if fn is not None:
                setattr(self, name, fn)


class CallbackList:
    """Calls each hook on every callback in order."""

    def __init__(self, callbacks, model=None, optimizer=None, params=None):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"[fit] callbacks must be pydl.train.Callback instances, got {type(cb).__name__}")
            cb.set_model(model)
            cb.optimizer = optimizer
            cb.set_params(params or {})

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)


class History(Callback):
    """Per-epoch logs: `history` maps 'loss', metric names, 'val_*' and 'lr' to lists; `epoch`
    lists the epoch numbers; `interrupted` says whether Ctrl-C ended training early."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.interrupted = False

    def on_train_begin(self, logs=None):
        self.interrupted = False

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        last = {k: round(v[-1], 4) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last}{', interrupted' if self.interrupted else ''})"

    def to_csv(self, path, separator=","):
        """Writes one row per epoch ('epoch' then the logged keys) to `path`."""
        keys = list(self.history)
        with open(path, "w", newline="") as f:
            w = csv.writer(f, delimiter=separator)
            w.writerow(["epoch"] + keys)
            for i, e in enumerate(self.epoch):
                w.writerow([e] + [self.history[k][i] if i < len(self.history[k]) else "" for k in keys])

    def plot(self, path, metrics=None, title=None):
        """Draws learning curves (one panel per metric, train and validation) into a PNG.

        Args:
            path: the image file to write.
            metrics: names to draw ('loss', 'accuracy', ...); all logged ones (except 'lr') by default.

        Raises:
            ImportError: matplotlib (a dependency of pydl) is missing from this environment.
        """
        try:
            import matplotlib
            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
            from matplotlib.ticker import MaxNLocator
        except ImportError as e:
            raise ImportError("History.plot needs matplotlib, a dependency of pydl that is missing from this "
                              "environment: pip install matplotlib") from e
        if metrics is None:
            metrics = [k for k in self.history if not k.startswith("val_") and k != "lr"]
            metrics += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in metrics]
        if not metrics:
            raise ValueError("[History.plot] nothing to plot: the history is empty")
        fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
        epochs = [e + 1 for e in self.epoch]
        for ax, name in zip(axes[0], metrics):
            for key, label in ((name, "train"), ("val_" + name, "validation")):
                if key in self.history:
                    ax.plot(epochs[:len(self.history[key])], self.history[key], marker="o", label=label)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(name)
            ax.set_title(name)
            ax.grid(True, alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


def _auto_mode(mode, monitor):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    m = monitor.lower()
    return "max" if any(s in m for s in ("acc", "f1", "precision", "recall", "auc")) else "min"


class _Monitor(Callback):
    """Shared: reads `monitor` from logs (falling back from 'val_x' to 'x' with a warning when
    there is no validation data) and compares with `min_delta`."""

    def __init__(self, monitor, mode, min_delta=0.0):
        super().__init__()
        self.monitor = monitor
        self.mode = _auto_mode(mode, monitor)
        self.min_delta = abs(min_delta)
        self._warned = False

    def _current(self, logs):
        logs = logs or {}
        if self.monitor in logs:
            return logs[self.monitor]
        if self.monitor.startswith("val_") and self.monitor[4:] in logs:
            if not self._warned:
                warnings.warn(f"{type(self).__name__}: '{self.monitor}' is not logged (no validation data); "
                              f"monitoring '{self.monitor[4:]}' instead", RuntimeWarning, stacklevel=3)
                self._warned = True
            return logs[self.monitor[4:]]
        if not self._warned:
            warnings.warn(f"{type(self).__name__}: '{self.monitor}' is not logged; available: "
                          f"{', '.join(sorted(logs))}", RuntimeWarning, stacklevel=3)
            self._warned = True
        return None

    def _improved(self, current, best):
        return is_better(current, best, self.mode, self.min_delta)


class EarlyStopping(_Monitor):
    """Stops training when `monitor` has not improved by `min_delta` for `patience` epochs.

    Args:
        monitor: logged quantity ('val_loss' by default).
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: 'min', 'max' or 'auto' (max for accuracy-like names).
        baseline: stop if the monitored value does not beat it within `patience` epochs.
        restore_best_weights: load the weights of the best epoch when stopping.
        start_from_epoch: epochs to wait before monitoring.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = None
        self.best = self.baseline
        self.best_epoch = None
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self._improved(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.clone() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping ({self.monitor} did not improve for "
                  f"{self.patience} epochs; best {self.best:.4f} at epoch {(self.best_epoch or 0) + 1})")
        if self.restore_best_weights and self.best_weights is not None and self.stopped_epoch is not None:
            self.model.load_state_dict(self.best_weights)
            if self.verbose:
                print(f"Restored the weights of epoch {self.best_epoch + 1}")


class ModelCheckpoint(_Monitor):
    """Saves the model (safetensors via pydl.save, written atomically) after epochs.

    With save_best_only=False the file is rewritten every epoch (the last epoch is kept); with
    save_best_only=True only when `monitor` improves (the best epoch is kept). `filepath` may
    hold format fields: 'ckpt-{epoch:02d}-{val_loss:.3f}.safetensors' (epoch is 1-based there,
    like Keras). Because writes go to a temporary file renamed over the target, a crash or
    Ctrl-C during a save leaves the previous checkpoint intact.

    Args:
        save_weights_only: save model.state_dict() (True, default) or a dict with 'model',
            'optimizer' (state dicts) and 'epoch'.
    """

    _rank_zero_only = True  # fit runs it on rank 0 only when training on several ranks

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=True,
                 mode="auto", save_freq="epoch", min_delta=0.0):
        super().__init__(monitor, mode, min_delta)
        if save_freq != "epoch":
            raise ValueError(f"[ModelCheckpoint] only save_freq='epoch' is supported, got {save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.best = None
        self.last_saved = None

    def on_train_begin(self, logs=None):
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = self._current(logs)
            if current is None or not self._improved(current, self.best):
                return
            if self.verbose:
                prev = "inf" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {prev} to {current:.5f}, saving model")
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **logs)
        self._save(path, epoch)
        self.last_saved = path
        if self.verbose and not self.save_best_only:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")

    def _save(self, path, epoch):
        from ..io import save
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            save(self.model.state_dict(), path)
        else:
            obj = {"model": self.model.state_dict(), "epoch": epoch + 1}
            if self.optimizer is not None:
                obj["optimizer"] = self.optimizer.state_dict()
            save(obj, path)


def _set_lr(optimizer, lr):
    for group in optimizer.param_groups:
        group["lr"] = float(lr)


def _get_lr(optimizer):
    return float(optimizer.param_groups[0]["lr"])


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch: schedule(epoch, lr) -> new lr (or
    schedule(epoch)), epoch 0-based, like Keras."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        if self.optimizer is None:
            raise RuntimeError("[LearningRateScheduler] the callback has no optimizer (use it through fit)")
        lr = _get_lr(self.optimizer)
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        new = float(new)
        if not math.isfinite(new) or new < 0:
            raise ValueError(f"[LearningRateScheduler] the schedule returned an invalid learning rate: {new}")
        _set_lr(self.optimizer, new)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")


class ReduceLROnPlateau(_Monitor, PlateauState):
    """Multiplies the learning rate by `factor` when `monitor` has not improved by `min_delta`
    for `patience` epochs (then waits `cooldown` epochs); never below `min_lr`."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode, min_delta)
        if factor >= 1.0:
            raise ValueError(f"[ReduceLROnPlateau] factor must be < 1.0, got {factor}")
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr

    threshold_mode = "abs"
    threshold = property(lambda self: self.min_delta)
    wait = property(lambda self: self.num_bad_epochs)  # Keras's name

    def on_train_begin(self, logs=None):
        self.best, self.num_bad_epochs, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None:
            return
        if self._plateau_step(current, "keras"):
            old = _get_lr(self.optimizer)
            new = max(old * self.factor, self.min_lr)
            if old - new > 1e-12:
                _set_lr(self.optimizer, new)
                if logs is not None:
                    logs["lr"] = new
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")


class CSVLogger(Callback):
    """Writes one row per epoch ('epoch' and every logged key) to a CSV file, flushed each epoch.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (no second header) instead of overwriting it.
    """

    _rank_zero_only = True  # fit runs it on rank 0 only when training on several ranks

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.isfile(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.sep)
        self._header_written = exists
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
            if not self._header_written:
                self._writer.writerow(["epoch"] + self._keys)
                self._header_written = True
        self._writer.writerow([epoch] + [_fmt(logs.get(k, "")) for k in self._keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _fmt(v):
    if isinstance(v, (np.floating, float)):
        return repr(float(v))
    return v
