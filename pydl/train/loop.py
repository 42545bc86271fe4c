"""fit / evaluate / predict: the batch loop over a pydl.nn model, with metrics, callbacks,
progress bars and graceful Ctrl-C.

Python here loops over batches only; every per-sample computation runs in the C++ core
(forward, loss, backward, optimizer step, and the metrics' pydl ops).
"""
import copy
import math
import shutil
import signal
import sys
import threading
import time

import numpy as np

from .. import _C
from .._C import Tensor
from ..autograd import no_grad
from . import _distributed
from .callbacks import Callback, CallbackList, History
from .metrics import get_metric

__all__ = ["fit", "evaluate", "predict", "as_loader", "get_loss"]


# ---- data ------------------------------------------------------------------------------------

def _to_tensor(a, float_dtype=np.float32):
    if isinstance(a, Tensor):
        return a
    a = np.asarray(a)
    if a.dtype.kind == "f" and a.dtype != np.float64:
        a = a.astype(float_dtype, copy=False)
    elif a.dtype.kind in "iu" and a.dtype != np.int64:
        a = a.astype(np.int64)
    elif a.dtype.kind == "b":
        a = a.astype(np.int64)
    return _C.from_numpy(np.ascontiguousarray(a))


def as_loader(data, batch_size=32, shuffle=False):
    """A DataLoader (or any iterable of (x, y) batches) is returned as is; an (x, y) pair of
    arrays / tensors (or x alone) becomes a DataLoader over a TensorDataset."""
    from ..data import DataLoader, TensorDataset
    if isinstance(data, (tuple, list)) and 1 <= len(data) <= 2 and all(
            isinstance(d, (np.ndarray, Tensor)) for d in data):
        n = {int(d.shape[0]) for d in data}
        if len(n) != 1:
            raise ValueError(f"[fit] x and y hold different numbers of samples: {[int(d.shape[0]) for d in data]}")
        return DataLoader(TensorDataset(*[_to_tensor(d) for d in data]), batch_size=batch_size, shuffle=shuffle)
    if isinstance(data, (np.ndarray, Tensor)):
        return DataLoader(TensorDataset(_to_tensor(data)), batch_size=batch_size, shuffle=shuffle)
    if not hasattr(data, "__iter__"):
        raise TypeError(f"[fit] data must be a DataLoader, an iterable of (x, y) batches or an (x, y) pair of arrays, "
                        f"got {type(data).__name__}")
    return data


def _split(batch):
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
    if isinstance(batch, Tensor):
        return batch, None
    raise ValueError(f"[fit] each batch must be an (inputs, targets) pair, got a {type(batch).__name__}"
                     + (f" of length {len(batch)}" if hasattr(batch, "__len__") else ""))


def _batch_size(x):
    if isinstance(x, (tuple, list)):
        return _batch_size(x[0])
    return int(x.shape[0])


def _call(model, x):
    return model(*x) if isinstance(x, (tuple, list)) else model(x)


# ---- losses ----------------------------------------------------------------------------------

def get_loss(loss):
    """A loss function fn(output, target) from a callable (F.cross_entropy, nn.CrossEntropyLoss())
    or a name of pydl.nn.functional ('cross_entropy', 'nll_loss', 'mse_loss', 'l1_loss', ...)."""
    from ..nn import functional as F
    if callable(loss):
        return loss
    if isinstance(loss, str):
        aliases = {"mse": "mse_loss", "mae": "l1_loss", "l1": "l1_loss", "nll": "nll_loss", "ce": "cross_entropy",
                   "bce": "binary_cross_entropy", "bce_with_logits": "binary_cross_entropy_with_logits"}
        name = aliases.get(loss, loss)
        fn = getattr(F, name, None)
        if fn is None or name not in F.__all__:
            raise ValueError(f"[fit] unknown loss {loss!r}: pass a callable or a pydl.nn.functional loss name "
                             "(cross_entropy, nll_loss, mse_loss, l1_loss, binary_cross_entropy, ...)")
        return fn
    raise TypeError(f"[fit] loss must be a callable or a name, got {type(loss).__name__}")


# ---- progress --------------------------------------------------------------------------------

def _fmt_logs(logs):
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) and abs(v) >= 1e-3 or v == 0 else f"{k}: {v:.4g}"
                      for k, v in logs.items() if isinstance(v, (int, float)))


class _Progress:
    """A tqdm bar per epoch on a terminal (verbose=1); one summary line per epoch otherwise
    (verbose 1 or 2); nothing with verbose=0."""

    def __init__(self, verbose, total, desc, file=None):
        self.file = file or sys.stderr
        self.verbose = verbose
        self.bar = None
        self.desc = desc
        self.start = time.time()
        self._last = 0.0
        if verbose == 1 and _isatty(self.file):
            try:
                from tqdm.auto import tqdm
            except ImportError:  # pragma: no cover - tqdm is optional
                tqdm = None
            if tqdm is not None:
                cols = shutil.get_terminal_size((100, 20)).columns
                self.bar = tqdm(total=total, desc=desc, file=self.file, leave=True, unit="batch", mininterval=0.2,
                                dynamic_ncols=cols > 0, ncols=None if cols > 0 else 100)

    def update(self, logs):
        if self.bar is None:
            return
        now = time.time()
        if now - self._last > 0.2:
            self.bar.set_postfix_str(_fmt_logs(logs).replace(" - ", ", "), refresh=False)
            self._last = now
        self.bar.update(1)

    def close(self, logs):
        if self.bar is not None:
            text = _fmt_logs({k: v for k, v in logs.items() if k != "lr"})
            self.bar.set_postfix_str(text.replace(" - ", ", "), refresh=False)
            self.bar.close()
            width = self.bar.ncols or shutil.get_terminal_size((100, 20)).columns or 100
            if len(text) + 60 > width:  # the bar cut the epoch's numbers: give them a line of their own
                print(f"  {text}", file=self.file, flush=True)
        elif self.verbose:
            print(f"{self.desc} - {time.time() - self.start:.1f}s - {_fmt_logs(logs)}", file=sys.stdout, flush=True)


def _isatty(f):
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


# ---- Ctrl-C ----------------------------------------------------------------------------------

def _epoch_stop(stop, ranks):
    """Whether training stops after this epoch; over MPI, all ranks agree (after rank 0's writes)."""
    if ranks is not None:
        ranks.barrier()  # rank 0 may be writing a checkpoint
        stop = ranks.any(stop)
    return stop


class _InterruptGuard:
    """While active (main thread only), the first Ctrl-C asks the loop to stop after the current
    batch; a second one raises KeyboardInterrupt at once."""

    def __init__(self, verbose):
        self.requested = False
        self.verbose = verbose
        self._old = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.verbose:
            print("\nInterrupted: stopping after the current batch (Ctrl-C again to abort now)", file=sys.stderr,
                  flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._old = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):  # pragma: no cover - e.g. embedded interpreters
                self._old = None
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


# ---- the loop ----------------------------------------------------------------------------------

def _metric_list(metrics):
    ms = [get_metric(m) for m in metrics]
    names = [m.name for m in ms]
    if len(set(names)) != len(names):
        raise ValueError(f"[fit] metric names must be unique, got {names}")
    return ms


def _metric_logs(loss_sum, count, ms, prefix=""):
    logs = {prefix + "loss": loss_sum / count if count else float("nan")}
    for m in ms:
        r = m.result()
        if np.ndim(r) == 0:
            logs[prefix + m.name] = float(r)
    return logs


def _update_metrics(ms, out, y, output_fn):
    if not ms or y is None:
        return
    with no_grad():
        o = output_fn(out) if output_fn is not None else out
        o = o.detach() if isinstance(o, Tensor) else np.asarray(o)
    t = y.detach() if isinstance(y, Tensor) else np.asarray(y)
    for m in ms:
        m.update(o, t)


def _loss_value(l, name="fit"):
    if not isinstance(l, Tensor):
        raise TypeError(f"[{name}] the loss function must return a pydl Tensor, got {type(l).__name__}")
    if l.numel() != 1:
        raise ValueError(f"[{name}] the loss must be a scalar to call backward(), got shape {tuple(l.shape)}; use "
                         "reduction='mean'")
    return l


def _rank_zero_voice(callbacks, verbose, ranks):
    """On ranks other than 0: silent, without rank-zero-only callbacks (EarlyStopping & co. print on rank 0)."""
    callbacks = list(callbacks)
    if ranks is None or ranks.rank == 0:
        return callbacks, verbose
    callbacks = [cb for cb in callbacks if not getattr(cb, "_rank_zero_only", False)]
    for cb in callbacks:
        if isinstance(getattr(cb, "verbose", None), int):
            cb.verbose = 0
    return callbacks, 0


def _train_epochs(model, optimizer, callbacks, *, epochs, initial_epoch, steps, verbose, ranks, run_epoch,
                  end_epoch=None, final_mode=True):
    """The epoch loop that pydl.train.fit and keras Model.fit share: History and callbacks, progress, the
    end-of-epoch stop rule, graceful Ctrl-C. `run_epoch(epoch, cblist, progress, guard)` trains one epoch
    and returns its logs (validation and lr included); `end_epoch(logs)` runs after the callbacks saw them.
    The model is left in train(final_mode)."""
    history = History()
    cblist = CallbackList([history] + list(callbacks), model=model, optimizer=optimizer,
                          params={"epochs": epochs, "steps": steps, "verbose": verbose})
    model.stop_training = False
    logs = {}
    cblist.on_train_begin(logs)
    with _InterruptGuard(verbose) as guard:
        try:
            for epoch in range(initial_epoch, epochs):
                cblist.on_epoch_begin(epoch, {})
                progress = _Progress(verbose, steps, f"Epoch {epoch + 1}/{epochs}")
                logs = run_epoch(epoch, cblist, progress, guard)
                progress.close(logs)
                cblist.on_epoch_end(epoch, logs)
                if end_epoch is not None:
                    end_epoch(logs)
                if _epoch_stop(model.stop_training or guard.requested, ranks):
                    break
        except KeyboardInterrupt:
            history.interrupted = True
            if verbose:
                done = len(history.epoch)
                print(f"\nTraining interrupted: returning the history of the {done} completed epoch"
                      f"{'s' if done != 1 else ''}", file=sys.stderr, flush=True)
        finally:
            model.train(final_mode)
    cblist.on_train_end(logs)
    return history


def fit(model, train_data, *, loss, optimizer, epochs=1, metrics=(), val_data=None, callbacks=(), scheduler=None,
        verbose=1, batch_size=32, shuffle=True, output_fn=None, initial_epoch=0):
    """Trains `model` and returns a History of per-epoch loss and metrics.

    Args:
        model: a pydl.nn.Module (called on each batch's inputs).
        train_data: a DataLoader (or an iterable of (x, y) batches), or an (x, y) pair of NumPy
            arrays / tensors, batched with `batch_size` and shuffled each epoch.
        loss: fn(output, target) -> scalar tensor, or a pydl.nn.functional loss name.
        optimizer: a pydl.optim optimizer over the model's parameters.
        epochs: number of epochs (training runs epochs initial_epoch .. epochs-1).
        metrics: names ('accuracy', 'top_5_accuracy', 'precision', 'recall', 'f1', 'mse', 'mae'),
            pydl.train.metrics.Metric instances or fn(output, target) functions.
        val_data: evaluated after every epoch (same forms as train_data); logged as 'val_*'.
        callbacks: pydl.train.Callback instances.
        scheduler: a pydl.optim.lr_scheduler stepped once per epoch (ReduceLROnPlateau gets
            'val_loss', or 'loss' without validation data).
        verbose: 0 silent, 1 progress bar (a line per epoch when not a terminal), 2 a line per epoch.
        output_fn: applied to outputs before metrics (e.g. softmax when the model returns logits).

    After pydl.distributed.init_process_group on several ranks, fit trains data-parallel: see
    pydl/train/_distributed.py (DDP, split data, logs reduced over ranks, rank 0 writes).

    Returns:
        History: `history.history['loss']`, `['val_accuracy']`, ...; `history.interrupted` is
        True when Ctrl-C stopped training (after the batch in progress, keeping the epochs done).
    """
    from ..optim.lr_scheduler import ReduceLROnPlateau as _Plateau
    loss_fn = get_loss(loss)
    loader = as_loader(train_data, batch_size, shuffle)
    val_loader = as_loader(val_data, batch_size, False) if val_data is not None else None
    ranks = _distributed.ranks()
    train_model = model
    if ranks is not None:
        train_model = ranks.wrap(model)
        model = train_model.module if train_model is model else model
        loader = ranks.shard(loader, train=True)
        val_loader = ranks.shard(val_loader, train=False) if val_loader is not None else None
    callbacks, verbose = _rank_zero_voice(callbacks, verbose, ranks)
    ms = _metric_list(metrics)
    val_ms = [copy.deepcopy(m) for m in ms] if val_loader is not None else []
    try:
        steps = len(loader)
    except TypeError:
        steps = None

    def run_epoch(epoch, cblist, progress, guard):
        model.train()
        if ranks is not None:
            ranks.set_epoch(loader, epoch)
        for m in ms:
            m.reset()
        loss_sum, count = 0.0, 0
        batch_logs = {}
        for step, batch in enumerate(loader):
            x, y = _split(batch)
            cblist.on_train_batch_begin(step, {"batch": step, "size": _batch_size(x)})
            optimizer.zero_grad()
            out = _call(train_model, x)
            l = _loss_value(loss_fn(out, y) if y is not None else loss_fn(out))
            l.backward()
            optimizer.step()
            n = _batch_size(x)
            lv = l.item()
            loss_sum += lv * n
            count += n
            _update_metrics(ms, out, y, output_fn)
            batch_logs = _metric_logs(loss_sum, count, ms)
            progress.update(batch_logs)
            cblist.on_train_batch_end(step, batch_logs)
            if not math.isfinite(lv) and verbose:
                print(f"\nwarning: the loss is {lv} at epoch {epoch + 1}, batch {step + 1}", file=sys.stderr)
            if guard.requested and ranks is None:  # ranks stop together, at the end of the epoch
                raise KeyboardInterrupt
        if ranks is not None:
            loss_sum, count = ranks.reduce(loss_sum, count, ms)
            batch_logs = _metric_logs(loss_sum, count, ms)
        logs = dict(batch_logs) if batch_logs else {"loss": float("nan")}
        if val_loader is not None:
            logs.update(_evaluate(model, val_loader, loss_fn, val_ms, output_fn, prefix="val_", ranks=ranks))
        if isinstance(scheduler, _Plateau):
            scheduler.step(logs.get("val_loss", logs["loss"]))
        logs["lr"] = float(optimizer.param_groups[0]["lr"])
        return logs

    def end_epoch(logs):
        if scheduler is not None and not isinstance(scheduler, _Plateau):
            scheduler.step()

    history = _train_epochs(model, optimizer, callbacks, epochs=epochs, initial_epoch=initial_epoch, steps=steps,
                            verbose=verbose, ranks=ranks, run_epoch=run_epoch, end_epoch=end_epoch)
    if ranks is not None:
        ranks.barrier()
    return history


def _evaluate(model, loader, loss_fn, ms, output_fn, prefix="", ranks=None):
    was_training = model.training
    model.eval()
    for m in ms:
        m.reset()
    loss_sum, count = 0.0, 0
    try:
        with no_grad():
            for batch in loader:
                x, y = _split(batch)
                out = _call(model, x)
                n = _batch_size(x)
                if y is not None:
                    loss_sum += _loss_value(loss_fn(out, y), "evaluate").item() * n
                count += n
                _update_metrics(ms, out, y, output_fn)
    finally:
        model.train(was_training)
    if ranks is not None:
        loss_sum, count = ranks.reduce(loss_sum, count, ms)
    return _metric_logs(loss_sum, count, ms, prefix)


def evaluate(model, data, *, loss, metrics=(), batch_size=256, verbose=0, output_fn=None):
    """Loss and metrics of `model` over `data` (in eval mode, without gradients).

    Returns:
        dict: {'loss': ..., 'accuracy': ..., ...}; a ConfusionMatrix metric's matrix is under its name.
    """
    ms = _metric_list(metrics)
    t0 = time.time()
    logs = _evaluate(model, as_loader(data, batch_size, False), get_loss(loss), ms, output_fn)
    for m in ms:
        if np.ndim(m.result()) != 0:
            logs[m.name] = m.result()
    if verbose and (_distributed.ranks() is None or _distributed.ranks().rank == 0):
        print(f"evaluate - {time.time() - t0:.1f}s - {_fmt_logs(logs)}", flush=True)
    return logs


def predict(model, data, *, batch_size=256, output_fn=None):
    """Model outputs over `data` (arrays, tensors or a DataLoader of x or (x, y) batches),
    concatenated into one NumPy array (in eval mode, without gradients)."""
    loader = as_loader(data if not isinstance(data, (np.ndarray, Tensor)) else (data,), batch_size, False)
    outs = []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for batch in loader:
                x, _ = _split(batch)
                out = _call(model, x)
                if output_fn is not None:
                    out = output_fn(out)
                outs.append(out.detach().numpy().copy())
    finally:
        model.train(was_training)
    if not outs:
        raise ValueError("[predict] the data is empty")
    return np.concatenate(outs)
