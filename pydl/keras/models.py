"""Keras models on pydl: `Model` (functional graphs and subclassed models), `Sequential`, with
compile / fit / evaluate / predict / summary / save.

A model is a pydl.nn.Module (state_dict, parameters() and pydl.save work as for any module) and
a Keras layer (it nests inside other models). Training runs pydl's compiled ops batch by batch:
a functional graph executes its recorded layer calls in topological order on whole batches.
"""
import copy
import math
import os
import sys

import numpy as np

from .. import _C
from .._C import Tensor
from ..autograd import no_grad
from ..train import metrics as _metrics
from ..train import _distributed as _ranks
from ..train.loop import _rank_zero_voice, _train_epochs
from . import losses as _losses
from . import optimizers as _optimizers
from .engine import KerasTensor, ShapeLeaf, flatten, map_graph, map_structure, pack_like
from .layers.core import (InputLayer, Layer, _activation_name, _mode, _unique_name, as_tensor, to_internal,
                          to_keras)

__all__ = ["Model", "Functional", "Sequential", "load_model", "model_from_json", "clone_model"]


def _shape_str(shape):
    return str((None,) + tuple(shape)).replace(",)", ")") if len(shape) != 0 else "(None,)"


def _nsamples(struct, what, owner):
    ns = {int(a.shape[0]) for a in flatten(struct) if a is not None}
    if len(ns) > 1:
        raise ValueError(f"[{owner}] {what}: the arrays hold different numbers of samples: {sorted(ns)}")
    return ns.pop() if ns else 0


def _take(struct, idx):
    """Rows `idx` (an int64 tensor) of every array in a structure of tensors."""
    return map_structure(lambda t: None if t is None else _C.index_select(t, 0, idx), struct)


def _np(t):
    return t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t)


class Model(Layer):
    """A Keras model.

    `Model(inputs, outputs)` builds a functional model from KerasTensors (one or many inputs and
    outputs, as a tensor, a list or a dict); `class Net(Model)` with `__init__` and
    `call(inputs, training=False)` makes a subclassed model, built at its first call.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if args or "inputs" in kwargs:  # a functional subclass: super().__init__(inputs, outputs)
            Functional.__init__(self, *args, name=name, trainable=trainable, **kwargs)
            return
        if "input_shape" in kwargs or "input_dim" in kwargs:
            raise TypeError(f"[{type(self).__name__}] a Model takes no input_shape; call build((None, ...)) or call "
                            "the model on data")
        super().__init__(name=name or _unique_name(_model_base_name(type(self))), trainable=trainable, **kwargs)
        self._init_training_state()

    def _init_training_state(self):
        self.optimizer = None
        self._keras_optimizer = None
        self.loss = None
        self.compiled_loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self._compile_config = None
        self._emit_logits = False

    # ---- structure ---------------------------------------------------------------------

    # a model reports Keras shapes with the batch dimension; inside, shapes are kept without it
    @property
    def output_shape(self):
        s = self.__dict__.get("_out_shape")
        return None if s is None else _add_batch(s)

    @output_shape.setter
    def output_shape(self, value):
        self.__dict__["_out_shape"] = value

    @property
    def input_shape(self):
        s = self.__dict__.get("_in_shape")
        return None if s is None else _add_batch(s)

    @input_shape.setter
    def input_shape(self, value):
        self.__dict__["_in_shape"] = value

    @property
    def layers(self):
        kids = []
        for k, v in self._modules.items():
            if isinstance(v, Layer) and v not in kids:
                kids.append(v)
        return kids

    def get_layer(self, name=None, index=None):
        """A layer by name or by index in model.layers."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"[{self.name}] get_layer: index {index} is out of range ({len(self.layers)} layers)")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"[{self.name}] no such layer: {name!r}; layers: {[l.name for l in self.layers]}")

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"[{self.name}] {what}: this model has not yet been built. Build it by passing "
                             "input_shape= to the first layer (or an Input(shape=...) first), by calling build(), or "
                             "by calling the model on a batch of data (fit does).")

    def build(self, input_shape):
        """Creates the weights for inputs of `input_shape` (with the batch dimension, e.g.
        (None, 28, 28, 1)), running the model once on zeros for a subclassed model."""
        shapes = _strip_batch(input_shape)
        self._build_and_shape(shapes)

    def _build_and_shape(self, input_shape):
        # a subclassed model: run it once on zeros (building every sublayer), then read the shape
        if not self.built:
            self.built = True
            self._build_shape = input_shape
        out = self._shape_by_running(input_shape)
        self.input_shape = input_shape
        self.output_shape = out
        return out

    def _output_names(self):
        return ["output"]

    # ---- inputs --------------------------------------------------------------------------

    def _prepare_x(self, x):
        """x as given to fit / predict -> the structure the model is called on (tensors)."""
        return map_structure(as_tensor, x)

    def _forward(self, x, logits=False):
        """One batch: outputs as a flat list of Keras-layout tensors; with logits=True the outputs
        whose softmax / sigmoid fuses into the loss come out before that activation."""
        out = self(x)
        return [as_tensor(o) for o in flatten(out)]

    def _fusable(self):
        return []

    # ---- compile -----------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, auto_scale_loss=None, **kwargs):
        """Configures training.

        Args:
            optimizer: 'adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adamw' (Keras's default
                learning rates), a pydl.keras.optimizers optimizer, or a pydl.optim optimizer.
            loss: a loss name ('sparse_categorical_crossentropy', 'categorical_crossentropy',
                'binary_crossentropy', 'mse', 'mae', ...), a pydl.keras.losses.Loss, a callable
                fn(y_true, y_pred), or one per output as a list or a dict keyed by output name.
            loss_weights: a list or dict of per-output weights of the total loss.
            metrics: metric names ('accuracy', 'mae', 'top_5_accuracy', 'precision', ...), as a list
                (applied to every output), a list of lists or a dict keyed by output name.
        """
        if kwargs:
            raise TypeError(f"[{self.name}] compile: unsupported argument(s): {', '.join(sorted(kwargs))}")
        if weighted_metrics is not None:
            raise NotImplementedError(f"[{self.name}] compile: weighted_metrics is not supported")
        if loss is None:
            raise ValueError(f"[{self.name}] compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        self._compile_config = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                                "metrics": metrics}
        self.loss = loss
        self._loss_spec, self._loss_weights_spec, self._metrics_spec = loss, loss_weights, metrics
        self._check_losses_now()
        if isinstance(metrics, str):
            metrics = [metrics]
        for m in flatten(metrics if metrics is not None else []):
            if m is not None:
                _metrics.get_metric(m)  # fail now on an unknown name
        self.compiled_metrics = list(metrics) if isinstance(metrics, (list, tuple)) else metrics or []
        self._keras_optimizer = _optimizers.get(optimizer)
        self.optimizer = self._keras_optimizer
        self._opt_params = None
        if self.built and isinstance(self._keras_optimizer, _optimizers.Optimizer):
            self._make_optimizer()

    def _check_losses_now(self):
        for spec in flatten(self._loss_spec) if isinstance(self._loss_spec, (list, tuple, dict)) else [
                self._loss_spec]:
            if spec is not None:
                _losses.get(spec)

    def _make_optimizer(self):
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"[{self.name}] the model has no trainable weights")
        ids = [id(p) for p in params]
        if isinstance(self._keras_optimizer, _optimizers.Optimizer):
            if getattr(self, "_opt_params", None) != ids:
                self.optimizer = self._keras_optimizer.build(params)
                self._opt_params = ids
        else:
            self.optimizer = self._keras_optimizer

    def _require_compiled(self, what):
        if self.loss is None:
            raise RuntimeError(f"[{self.name}] {what}: you must compile the model before training/testing; use "
                               "model.compile(optimizer, loss)")

    def _per_output(self, spec, names, what, default=None):
        """A compile argument given once, as a list or as a dict -> one entry per output name."""
        n = len(names)
        if isinstance(spec, dict):
            unknown = sorted(set(spec) - set(names))
            if unknown:
                raise ValueError(f"[{self.name}] compile: {what} for unknown output(s) {unknown}; the outputs are "
                                 f"{names}")
            vals = [spec.get(k, default) for k in names]
            if what == "metrics":
                vals = [[v] if isinstance(v, str) else list(v or []) for v in vals]
            return vals
        if isinstance(spec, (list, tuple)) and what != "metrics":
            if len(spec) != n:
                raise ValueError(f"[{self.name}] compile: {len(spec)} {what} for {n} outputs {names}")
            return list(spec)
        if what == "metrics":
            spec = list(spec or [])
            if n > 1 and spec and all(isinstance(s, (list, tuple)) or s is None for s in spec):
                if len(spec) != n:
                    raise ValueError(f"[{self.name}] compile: {len(spec)} metric lists for {n} outputs {names}")
                return [list(s or []) for s in spec]
            return [list(spec) for _ in names]
        return [spec] * n

    def _setup_training(self, owner):
        names = self._output_names()
        self._out_names = names
        self._loss_fns = [None if s is None else _losses.get(s) for s in
                          self._per_output(self._loss_spec, names, "losses")]
        self._loss_ws = [1.0 if w is None else float(w) for w in
                         self._per_output(self._loss_weights_spec, names, "loss_weights", 1.0)]
        specs = self._per_output(self._metrics_spec, names, "metrics")
        self._metric_objs = [[_metric(m) for m in ms] for ms in specs]
        # softmax / sigmoid outputs compiled with the matching cross-entropy take logits (stable)
        fusable = self._fusable()
        self._fused = []
        for i, (fn, act) in enumerate(zip(self._loss_fns, fusable + [None] * (len(names) - len(fusable)))):
            if fn is not None and act is not None and fn.fuses is not None and not fn.from_logits \
                    and _activation_name(act[0]) == fn.fuses:
                self._loss_fns[i] = fn.with_logits()
                self._fused.append((i, act[1]))
        self._fused_idx = {i: f for i, f in self._fused}

    # ---- data ----------------------------------------------------------------------------

    def _targets_for(self, y, owner):
        """y as given -> a flat list of target tensors (None where an output has no target)."""
        names = self._out_names
        if y is None:
            return [None] * len(names)
        if isinstance(y, dict):
            unknown = sorted(set(y) - set(names))
            if unknown:
                raise ValueError(f"[{owner}] targets for unknown output(s) {unknown}; the outputs are {names}")
            ys = [y.get(k) for k in names]
        elif isinstance(y, (list, tuple)) and len(names) > 1:
            if len(y) != len(names):
                raise ValueError(f"[{owner}] {len(y)} target arrays for {len(names)} outputs {names}")
            ys = list(y)
        else:
            ys = [y] + [None] * (len(names) - 1) if len(names) > 1 else [y]
            if len(names) > 1:
                raise ValueError(f"[{owner}] the model has {len(names)} outputs {names}: pass y as a list or a dict")
        return [None if t is None else self._target_tensor(t, fn, owner) for t, fn in zip(ys, self._loss_fns)]

    def _target_tensor(self, y, loss, owner):
        if isinstance(y, Tensor):
            return y
        a = np.asarray(y)
        if isinstance(loss, _losses.SparseCategoricalCrossentropy):
            if a.dtype.kind == "f" and not np.all(a == np.rint(a)):
                raise ValueError(f"[{owner}] sparse_categorical_crossentropy needs integer class labels, got "
                                 "non-integer floats (use categorical_crossentropy for one-hot targets)")
            a = a.astype(np.int64)
        else:
            a = a.astype(np.float32)
        return _C.from_numpy(np.ascontiguousarray(a))

    def _weights_for(self, sample_weight, class_weight, ys, owner):
        names = self._out_names
        if class_weight is not None:
            if len(names) > 1:
                raise ValueError(f"[{owner}] class_weight is only supported for models with one output")
            if sample_weight is not None:
                raise ValueError(f"[{owner}] pass class_weight or sample_weight, not both")
            y = _np(ys[0])
            labels = y.argmax(-1) if y.ndim >= 2 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
            labels = np.rint(labels).astype(np.int64)
            table = np.ones(int(max(labels.max(), max(class_weight)) + 1), np.float32)
            for k, v in class_weight.items():
                table[int(k)] = float(v)
            return [_C.from_numpy(table[labels])]
        if sample_weight is None:
            return [None] * len(names)
        if isinstance(sample_weight, dict):
            sw = [sample_weight.get(k) for k in names]
        elif isinstance(sample_weight, (list, tuple)) and len(names) > 1:
            sw = list(sample_weight)
        else:
            sw = [sample_weight] * len(names)
        return [None if w is None else _C.from_numpy(np.ascontiguousarray(np.asarray(w, np.float32).reshape(-1)))
                for w in sw]

    # ---- one step --------------------------------------------------------------------------

    def _step_losses(self, outs, ys, ws):
        """Total loss and the per-output losses of one batch."""
        total, parts = None, []
        for i, (o, y, fn, lw) in enumerate(zip(outs, ys, self._loss_fns, self._loss_ws)):
            if fn is None or y is None:
                parts.append(None)
                continue
            li = fn(y, o, sample_weight=ws[i]) if ws[i] is not None else fn(y, o)
            if not isinstance(li, Tensor) or li.numel() != 1:
                raise ValueError(f"[{self.name}] the loss of output {self._out_names[i]!r} must be a scalar tensor")
            parts.append(li)
            total = li * lw if total is None else total + li * lw
        if total is None:
            raise ValueError(f"[{self.name}] no output has both a loss and targets")
        for penalty in self.losses:  # weight regularizers, part of the total loss as in Keras
            total = total + penalty
        return total, parts

    def _update_metrics(self, outs, ys):
        with no_grad():
            for i, ms in enumerate(self._metric_objs):
                if not ms or ys[i] is None:
                    continue
                o = outs[i]
                if i in self._fused_idx:
                    o = self._fused_idx[i](o)
                o, t = _np(o), _np(ys[i])
                for m in ms:
                    m.update(o, t)

    def _logs(self, sums, count, prefix=""):
        names = self._out_names
        multi = len(names) > 1
        logs = {prefix + "loss": sums[0] / count if count else float("nan")}
        if multi:
            for i, k in enumerate(names):
                if self._loss_fns[i] is not None and sums[1 + i] is not None:
                    logs[f"{prefix}{k}_loss"] = sums[1 + i] / count
        for i, ms in enumerate(self._metric_objs):
            for m in ms:
                r = m.result()
                if np.ndim(r) == 0:
                    logs[f"{prefix}{names[i]}_{m.name}" if multi else prefix + m.name] = float(r)
        return logs

    def _reset_metrics(self):
        for ms in self._metric_objs:
            for m in ms:
                m.reset()

    def _run_epoch(self, x, ys, ws, n, batch_size, shuffle, train, cblist=None, progress=None, guard=None,
                   ranks=None):
        order = _C.randperm(n, _C.dtype.int64) if shuffle else _C.arange(0, n, 1, _C.dtype.int64)
        if ranks is not None:
            order = _share(order, n, ranks, train)
        sums = [0.0] + [0.0 if fn is not None else None for fn in self._loss_fns]
        count = 0
        self._reset_metrics()
        logs = {}
        n_local = int(order.shape[0])
        steps = math.ceil(n_local / batch_size)
        for step in range(steps):
            idx = _C.slice(order, 0, step * batch_size, min(n_local, (step + 1) * batch_size), 1)
            xb, yb, wb = _take(x, idx), _take(ys, idx), _take(ws, idx)
            nb = int(idx.shape[0])
            if cblist is not None:
                cblist.on_train_batch_begin(step, {"batch": step, "size": nb})
            if train:
                self.optimizer.zero_grad()
                outs = self._forward(xb, logits=True)
                total, parts = self._step_losses(outs, yb, wb)
                total.backward()
                if ranks is not None:
                    _average_gradients(self, ranks)
                self.optimizer.step()
            else:
                with no_grad():
                    outs = self._forward(xb, logits=True)
                    total, parts = self._step_losses(outs, yb, wb) if any(t is not None for t in yb) else (
                        None, [None] * len(yb))
            count += nb
            if total is not None:
                sums[0] += total.item() * nb
                for i, p in enumerate(parts):
                    if p is not None:
                        sums[1 + i] += p.item() * nb
            self._update_metrics(outs, yb)
            logs = self._logs(sums, count)
            if progress is not None:
                progress.update(logs)
            if cblist is not None:
                cblist.on_train_batch_end(step, logs)
                if total is not None and not math.isfinite(total.item()) and progress is not None \
                        and progress.verbose:
                    print(f"\nwarning: the loss is {total.item()} at batch {step + 1}", file=sys.stderr)
            if guard is not None and guard.requested and ranks is None:
                raise KeyboardInterrupt
        if ranks is not None:  # every rank logs the numbers of the whole epoch
            for ms in self._metric_objs:
                for m in ms:
                    m.all_reduce()
            got = ranks.sums(*[v for v in sums if v is not None], count)
            it = iter(got[:-1])
            sums = [None if v is None else next(it) for v in sums]
            logs = self._logs(sums, int(got[-1]))
        return logs

    def _arrays(self, x, y, sample_weight, class_weight, owner):
        x = self._prepare_x(x)
        ys = self._targets_for(y, owner)
        ws = self._weights_for(sample_weight, class_weight, ys, owner)
        n = _nsamples([x, ys, ws], "x, y and sample weights", owner)
        return x, ys, ws, n

    def _ensure_built(self, x):
        if not self.built:
            self._build_and_shape(map_structure(lambda t: tuple(t.shape[1:]), x))

    # ---- fit / evaluate / predict ------------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains on arrays (a tensor, a list or a dict per input; targets per output) and returns
        a History (`history.history['loss']`, `['val_accuracy']`, ...)."""
        self._require_compiled("fit")
        if steps_per_epoch is not None or validation_steps is not None:
            raise NotImplementedError(f"[{self.name}] fit: steps_per_epoch / validation_steps are not supported "
                                      "(fit takes whole arrays)")
        if x is not None and y is None and not isinstance(x, (np.ndarray, Tensor, list, tuple, dict)):
            x, y = _from_loader(x, self.name)
        batch_size = 32 if batch_size is None else int(batch_size)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"[{self.name}] validation_split must be in [0, 1), got {validation_split}")
        self._setup_training(self.name)
        x, ys, ws, n = self._arrays(x, y, sample_weight, class_weight, "fit")
        if validation_split and validation_data is None:
            n_val = int(n * validation_split)
            if n_val == 0:
                raise ValueError(f"[{self.name}] validation_split={validation_split} of {n} samples leaves no "
                                 "validation samples")
            # like Keras: the last samples, taken before shuffling
            tr = _C.arange(0, n - n_val, 1, _C.dtype.int64)
            va = _C.arange(n - n_val, n, 1, _C.dtype.int64)
            val = (_take(x, va), _take(ys, va), _take(ws, va), n_val)
            x, ys, ws, n = _take(x, tr), _take(ys, tr), _take(ws, tr), n - n_val
        elif validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                validation_data = _from_loader(validation_data, self.name)
            vx, vy = validation_data[0], validation_data[1]
            vw = validation_data[2] if len(validation_data) == 3 else None
            val = self._arrays(vx, vy, vw, None, "validation_data")
        else:
            val = None
        if n == 0:
            raise ValueError(f"[{self.name}] fit: no training samples")
        self._ensure_built(x)
        self._make_optimizer()
        verbose = 1 if verbose == "auto" else int(verbose)
        ranks = _ranks.ranks()
        if ranks is not None:  # data-parallel over MPI ranks, as pydl.train.fit
            _broadcast_state(self, ranks)
        callbacks, verbose = _rank_zero_voice(callbacks or [], verbose, ranks)

        def run_epoch(epoch, cblist, progress, guard):
            self.train(True)
            logs = self._run_epoch(x, ys, ws, n, batch_size, shuffle, True, cblist, progress, guard, ranks)
            self.train(False)
            if val is not None and (epoch + 1 - initial_epoch) % validation_freq == 0:
                vlogs = self._run_epoch(val[0], val[1], val[2], val[3], validation_batch_size or
                                        max(batch_size, 256), False, False, ranks=ranks)
                logs.update({"val_" + k: v for k, v in vlogs.items()})
            logs = dict(logs)
            logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
            return logs

        self.history = _train_epochs(self, self.optimizer, callbacks, epochs=epochs, initial_epoch=initial_epoch,
                                     steps=math.ceil(n / batch_size), verbose=verbose, ranks=ranks,
                                     run_epoch=run_epoch, final_mode=False)
        return self.history

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, return_dict=False,
                 **kwargs):
        """Loss and metrics on (x, y): the loss alone without metrics on one output, else
        [loss, ...] in the order of the logs, or a dict with return_dict=True."""
        self._require_compiled("evaluate")
        if kwargs:
            raise TypeError(f"[{self.name}] evaluate: unsupported argument(s): {', '.join(sorted(kwargs))}")
        if x is not None and y is None and not isinstance(x, (np.ndarray, Tensor, list, tuple, dict)):
            x, y = _from_loader(x, self.name)
        self._setup_training(self.name)
        x, ys, ws, n = self._arrays(x, y, sample_weight, None, "evaluate")
        self._ensure_built(x)
        with _mode(self, False):
            logs = self._run_epoch(x, ys, ws, n, batch_size or 256, False, False)
        if verbose and verbose != "auto":
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """Model outputs (after the last activation) as NumPy arrays: one array, or a list / dict
        of arrays for a model with several outputs."""
        if not isinstance(x, (np.ndarray, Tensor, list, tuple, dict)):
            x, _ = _from_loader(x, self.name, need_y=False)
        x = self._prepare_x(x)
        n = _nsamples(x, "x", self.name)
        if n == 0:
            raise ValueError(f"[{self.name}] predict: the data is empty")
        self._ensure_built(x)
        bs = batch_size or 256
        chunks = []
        with _mode(self, False), no_grad():
            for start in range(0, n, bs):
                idx = _C.arange(start, min(n, start + bs), 1, _C.dtype.int64)
                out = self(_take(x, idx))
                chunks.append([_np(o).copy() for o in flatten(out)])
                struct = out
        leaves = [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
        return pack_like(struct, leaves)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=_nsamples(self._prepare_x(x), "x", self.name))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimisation step on one batch; returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        self._setup_training(self.name)
        x, ys, ws, n = self._arrays(x, y, sample_weight, class_weight, "train_on_batch")
        self._ensure_built(x)
        self._make_optimizer()
        with _mode(self, True):
            logs = self._run_epoch(x, ys, ws, n, n, False, True)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=_nsamples(self._prepare_x(x), "x", self.name), verbose=0,
                             sample_weight=sample_weight, return_dict=return_dict)

    # ---- inspection ----------------------------------------------------------------------

    def count_params(self):
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self._unique_layers())

    def _unique_layers(self):
        return self.layers

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                **kwargs):
        """Prints the layer table (name (type), output shape, weights, and for graphs with merges
        the layers each one is connected to) and the totals, like Keras."""
        self._require_built("summary")
        rows = self._summary_rows()
        connected = any(len(r) > 3 for r in rows)
        cols = [29, 26, 10] + ([30] if connected else [])
        for r in rows:
            for i, c in enumerate(r):
                cols[i] = max(cols[i], len(c) + 2)
        width = line_length or sum(cols)
        total = self.count_params()
        non_trainable = sum(layer._non_trainable_count() for layer in self._unique_layers())

        def size(n):
            b = 4 * n
            return f"{b / 1024 ** 2:.2f} MB" if b >= 1024 ** 2 else f"{b / 1024:.2f} KB" if b >= 1024 else f"{b} B"

        heads = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
        lines = [f'Model: "{self.name}"', "_" * width, "".join(h.ljust(c) for h, c in zip(heads, cols)), "=" * width]
        for i, r in enumerate(rows):
            lines.append("".join(v.ljust(c) for v, c in zip(list(r) + [""] * (len(cols) - len(r)), cols)).rstrip())
            lines.append(("_" if i < len(rows) - 1 else "=") * width)
        lines += [f"Total params: {total:,} ({size(total)})",
                  f"Trainable params: {total - non_trainable:,} ({size(total - non_trainable)})",
                  f"Non-trainable params: {non_trainable:,} ({size(non_trainable)})", "_" * width]
        text = "\n".join(lines)
        (print_fn or print)(text)
        return None if print_fn is None else text

    def _summary_rows(self):
        rows = []
        for layer in self.layers:
            shape = _raw_shape(layer)
            s = "?" if shape is None else _shape_str(shape) if isinstance(shape, tuple) else ", ".join(
                _shape_str(v) for v in flatten(_leafify(shape)))
            rows.append((f"{layer.name} ({type(layer).__name__})", s, f"{layer.count_params():,}"))
        return rows

    def get_weights(self):
        """Every layer's weights as NumPy arrays in Keras's layouts, layer by layer."""
        self._require_built("get_weights")
        return [w for layer in self._unique_layers() for w in layer.get_weights()]

    def set_weights(self, weights):
        self._require_built("set_weights")
        weights = list(weights)
        for layer in self._unique_layers():
            k = len(layer.get_weights())
            layer.set_weights(weights[:k])
            weights = weights[k:]
        if weights:
            raise ValueError(f"[{self.name}] set_weights got {len(weights)} arrays too many")

    @property
    def weights(self):
        return [w for layer in self._unique_layers() for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._unique_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._unique_layers() for w in layer.non_trainable_weights]

    # ---- saving ----------------------------------------------------------------------------

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Writes Keras 3's `.keras` file (config.json, metadata.json, model.weights.h5)."""
        from . import saving
        saving.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights: Keras's `.weights.h5` layout for a `.h5` path, else pydl's
        safetensors state_dict."""
        from . import saving
        self._require_built("save_weights")
        saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Reads weights written by save_weights (or by Keras, for a `.weights.h5` file)."""
        from . import saving
        saving.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs):
        import json
        from . import saving
        return json.dumps(saving.serialize(self), **kwargs)

    def get_compile_config(self):
        from . import saving
        return saving.compile_config(self)

    def export(self, filepath, format="onnx", verbose=None, input_signature=None, **kwargs):
        """Exports for inference (Keras's `model.export(path, format="onnx")`) through pydl.onnx:
        inputs in Keras's layout with a dynamic batch dimension, outputs after the last
        activation."""
        if format != "onnx":
            raise ValueError(f"[{self.name}] export: only format='onnx' is supported, got {format!r}")
        if input_signature is not None:
            raise NotImplementedError(f"[{self.name}] export: input_signature is not supported (the model's input "
                                      "shapes are used)")
        from .. import onnx as _onnx
        self._require_built("export")
        if isinstance(self, Functional):
            shapes, names = [t.shape[1:] for t in self.inputs], self.input_names
            dtypes = [t.dtype for t in self.inputs]
        elif self.__dict__.get("_in_shape") is not None and isinstance(self.__dict__["_in_shape"], tuple):
            shapes, names, dtypes = [self.__dict__["_in_shape"]], ["input"], ["float32"]
        else:
            raise ValueError(f"[{self.name}] export needs the model's input shape; call build() first")
        if any(d is None for s in shapes for d in s):
            raise NotImplementedError(f"[{self.name}] export: inputs with unknown non-batch dimensions {shapes} are "
                                      "not supported")
        args = tuple(_C.zeros([1] + list(s), _C.dtype.int64 if d.startswith("int") else _C.dtype.float32)
                     for s, d in zip(shapes, dtypes))
        model = self

        def run(*xs):
            out = model(list(xs) if len(xs) > 1 else xs[0])
            return tuple(flatten(out)) if isinstance(out, (list, tuple, dict)) else out

        outs = self._output_names()
        axes = {n: [0] for n in list(names) + list(outs)}
        with _mode(self, False):
            return _onnx.export(run, args, os.fspath(filepath), input_names=list(names), output_names=list(outs),
                                dynamic_axes=axes, **kwargs)

    def extra_repr(self):
        return f"name={self.name!r}"


def _share(order, n, ranks, train):
    """This rank's strided share of an epoch's sample order (the same order on every rank);
    training shares are padded to equal length so that the ranks step together."""
    from .. import distributed as dist
    dist.broadcast(order, src=0)
    if train and n % ranks.size:
        extra = ranks.size - n % ranks.size
        order = _C.cat([order, _C.slice(order, 0, 0, extra, 1)], 0)
    return _C.slice(order, 0, ranks.rank, int(order.shape[0]), ranks.size)


def _broadcast_state(model, ranks):
    """Rank 0's weights and buffers everywhere (DDP's start)."""
    from .. import distributed as dist
    with no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            dist.broadcast(t, src=0)


def _average_gradients(model, ranks):
    from .. import distributed as dist
    for p in model.parameters():
        if p.requires_grad:  # every rank reduces every weight, used in its batch or not
            g = p.grad if p.grad is not None else _C.zeros(list(p.shape), p.dtype)
            dist.all_reduce(g)
            g.mul_(1.0 / ranks.size)
            if p.grad is None:
                p.grad = g
    with no_grad():  # BatchNorm statistics follow rank 0, as DDP's broadcast_buffers
        for b in model.buffers():
            dist.broadcast(b, src=0)


def _metric(spec):
    """A metric for compile: names and Metric objects as pydl.train's; a function is Keras's
    fn(y_true, y_pred) (called per batch on tensors, averaged over batches)."""
    if callable(spec) and not isinstance(spec, (_metrics.Metric, type)):
        def fn(output, target):
            v = spec(as_tensor(target), as_tensor(output))
            return float(v.detach().mean().item()) if isinstance(v, Tensor) else float(np.mean(v))
        fn.__name__ = getattr(spec, "__name__", "metric")
        return _metrics.get_metric(fn)
    m = _metrics.get_metric(spec)
    return copy.deepcopy(m) if m is spec else m


def _add_batch(s):
    if isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s):
        return (None,) + s
    if isinstance(s, dict):
        return {k: _add_batch(v) for k, v in s.items()}
    return [_add_batch(v) for v in s]


def _raw_shape(layer):
    return layer.__dict__["_out_shape"] if "_out_shape" in layer.__dict__ else layer.output_shape


def _leafify(s):
    from .engine import ShapeLeaf
    if isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s):
        return ShapeLeaf(s)
    if isinstance(s, dict):
        return {k: _leafify(v) for k, v in s.items()}
    return [_leafify(v) for v in s]


def _strip_batch(shape):
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [tuple(s)[1:] for s in shape]
    if isinstance(shape, dict):
        return {k: tuple(v)[1:] for k, v in shape.items()}
    return tuple(shape)[1:]


def _model_base_name(cls):
    from .layers.core import to_snake_case
    return "functional" if cls is Functional else to_snake_case(cls.__name__)


def _from_loader(data, owner, need_y=True):
    """A pydl DataLoader / iterable of (x, y) batches -> whole arrays (fit takes arrays)."""
    xs, ys = [], []
    for batch in data:
        if isinstance(batch, (tuple, list)) and len(batch) == 2:
            xs.append(_np(batch[0]))
            ys.append(_np(batch[1]))
        elif not need_y:
            xs.append(_np(batch[0] if isinstance(batch, (tuple, list)) else batch))
        else:
            raise ValueError(f"[{owner}] each batch must be an (x, y) pair")
    if not xs:
        raise ValueError(f"[{owner}] the data is empty")
    return np.concatenate(xs), (np.concatenate(ys) if ys else None)


# ---- functional ------------------------------------------------------------------------------

class Functional(Model):
    """A model defined by a graph of layer calls from `inputs` to `outputs` (KerasTensors, or
    lists / dicts of them)."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or _unique_name("functional"), trainable=trainable, **kwargs)
        self._init_training_state()
        for t in flatten([inputs, outputs]):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"[{self.name}] inputs and outputs must be KerasTensors (from keras.Input and layer "
                                f"calls), got {type(t).__name__}")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        self._nodes, self._layers = map_graph(self.inputs, self.outputs, self.name)
        for layer in self._layers:
            if layer is self:
                raise ValueError(f"[{self.name}] a model cannot contain itself")
            self.add_module(layer.name, layer)
        self._run_nodes = [n for n in self._nodes if not n.is_input]
        self.built = True
        self.input_shape = [t.shape[1:] for t in self.inputs]
        self.output_shape = _plain_shapes(pack_like(outputs, [ShapeLeaf(t.shape[1:]) for t in self.outputs]))
        self._build_shape = None

    @property
    def layers(self):
        return list(self._layers)

    def _unique_layers(self):
        return list(self._layers)

    @property
    def input_names(self):
        return [t._keras_history[0].name for t in self.inputs]

    def _output_names(self):
        if isinstance(self._outputs_struct, dict):
            return sorted(self._outputs_struct)
        return [t._keras_history[0].name for t in self.outputs]

    output_names = property(_output_names)

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    def _build_and_shape(self, input_shape):
        shape = self.output_shape
        return [tuple(s) for s in shape] if isinstance(shape, list) else (
            {k: tuple(v) for k, v in shape.items()} if isinstance(shape, dict) else shape)

    def _prepare_x(self, x):
        """Inputs as a tensor, a list (in the order of model.inputs) or a dict by input name ->
        a flat list of tensors (floats as float32, integer inputs as int64)."""
        names = self.input_names
        if isinstance(x, dict):
            missing = [k for k in names if k not in x]
            if missing:
                raise ValueError(f"[{self.name}] missing input(s) {missing}; the inputs are {names}")
            xs = [x[k] for k in names]
        elif isinstance(x, (list, tuple)) and len(self.inputs) > 1:
            if len(x) != len(names):
                raise ValueError(f"[{self.name}] expected {len(names)} input arrays ({names}), got {len(x)}")
            xs = list(x)
        elif isinstance(x, (list, tuple)) and len(x) == 1:
            xs = list(x)
        else:
            xs = [x]
            if len(names) != 1:
                raise ValueError(f"[{self.name}] the model has {len(names)} inputs {names}: pass a list or a dict")
        out = []
        for a, t in zip(xs, self.inputs):
            v = as_tensor(a)
            want_int = t.dtype.startswith("int") or t.dtype.startswith("uint") or t.dtype == "bool"
            if want_int and v.dtype.is_floating_point:
                v = v.to(_C.dtype.int64)
            elif not want_int and not v.dtype.is_floating_point:
                v = v.to(_C.dtype.float32)
            got, exp = tuple(v.shape[1:]), t.shape[1:]
            if len(got) != len(exp) or any(e is not None and e != g for e, g in zip(exp, got)):
                raise ValueError(f"[{self.name}] input {t._keras_history[0].name!r} expects shape "
                                 f"{_shape_str(exp)}, got {tuple(v.shape)}")
            out.append(v)
        return out

    def _run_graph(self, values, logits=()):
        """Runs the recorded nodes on `values` (internal layout, in the order of self.inputs)."""
        env = {id(t): v for t, v in zip(self.inputs, values)}
        logit_ids = {id(self.outputs[i]) for i in logits}
        for node in self._run_nodes:
            args = map_structure(lambda a: env[id(a)] if isinstance(a, KerasTensor) else a, list(node.args))
            kwargs = map_structure(lambda a: env[id(a)] if isinstance(a, KerasTensor) else a, node.kwargs)
            if len(node.outputs) == 1 and id(node.outputs[0]) in logit_ids:
                out = node.layer._pre_activation(*args)
            else:
                out = node.layer._run_internal(args, kwargs)
            for t, v in zip(node.outputs, flatten(out)):
                env[id(t)] = v
        return [env[id(t)] for t in self.outputs]

    def call(self, inputs, training=None, mask=None):
        xs = inputs if isinstance(inputs, list) and len(inputs) == len(self.inputs) else self._prepare_x(inputs)
        outs = self._run_graph(xs)
        return pack_like(self._outputs_struct, outs)

    def __call__(self, *args, **kwargs):
        if not args and "inputs" in kwargs:
            args = (kwargs.pop("inputs"),)
        if args and not _any_symbolic(args) and len(args) == 1:
            training = kwargs.pop("training", None)
            xs = [to_internal(v) for v in self._prepare_x(args[0])]
            with _mode(self, training):
                outs = self._run_graph(xs)
            return pack_like(self._outputs_struct, [to_keras(o) for o in outs])
        return super().__call__(*args, **kwargs)

    def _symbolic_shapes(self, args, kwargs):
        return self._build_and_shape(None)

    def _run_internal(self, args, kwargs):
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        x = args[0]
        xs = list(x) if isinstance(x, (list, tuple)) else [x[k] for k in self.input_names] if isinstance(
            x, dict) else [x]
        with _mode(self, training):
            return pack_like(self._outputs_struct, self._run_graph(xs))

    def _fusable(self):
        acts = []
        for t in self.outputs:
            layer = t._keras_history[0]
            consumers = sum(1 for n in self._run_nodes for it in n.input_tensors if it is t)
            fn = getattr(layer, "_act_fn", None)
            if layer._has_activation and layer._internal_layout and consumers == 0 and fn is not None \
                    and len(layer._inbound_nodes) >= 1:
                acts.append((layer._activation_spec(), fn))
            else:
                acts.append(None)
        return acts

    def _forward(self, x, logits=False):
        xs = [to_internal(v) for v in x]
        outs = self._run_graph(xs, logits=[i for i, _ in self._fused] if logits else ())
        return [to_keras(o) for o in outs]

    def _summary_rows(self):
        rows = []
        connected = any(len(n.input_tensors) > 1 for n in self._run_nodes) or len(self.inputs) > 1
        for layer in self._layers:
            nodes = [n for n in layer._inbound_nodes if n in self._nodes]
            shapes = [t.shape for n in nodes[:1] for t in n.outputs]
            s = ", ".join(str(sh).replace(",)", ")") for sh in shapes) if shapes else "?"
            row = [f"{layer.name} ({type(layer).__name__})", s, f"{layer.count_params():,}"]
            if connected:
                row.append(", ".join(f"{t._keras_history[0].name}[{t._keras_history[1]}][{t._keras_history[2]}]"
                                     for n in nodes for t in n.input_tensors) or "-")
            rows.append(tuple(row))
        return rows

    def get_config(self):
        from . import saving
        return saving.functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from . import saving
        return saving.functional_from_config(config, custom_objects)


def _plain_shapes(s):
    if isinstance(s, ShapeLeaf):
        return tuple(s)
    if isinstance(s, dict):
        return {k: _plain_shapes(v) for k, v in s.items()}
    return [_plain_shapes(v) for v in s]


def _any_symbolic(args):
    return any(isinstance(a, KerasTensor) for a in flatten(list(args)))


# ---- sequential ------------------------------------------------------------------------------

class Sequential(Model):
    """A linear stack of Keras layers.

    Args:
        layers: list of layers (an Input(shape=...) first, or input_shape= on the first layer,
            builds the model at once; otherwise it is built at the first call / fit).
        name: the model's name in summary().
    """

    def __init__(self, layers=None, name=None, trainable=True):
        Layer.__init__(self, name=name or _unique_name("sequential"), trainable=trainable)
        self._init_training_state()
        self._klayers = []
        self._input_shape = None
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._klayers)

    def add(self, layer):
        """Appends a layer (an Input / InputLayer only as the first entry)."""
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._klayers:
                raise ValueError(f"[{self.name}] an Input must come first")
            self._input_layer = layer
            self._input_shape = layer._input_shape_arg
            self._maybe_build()
            return
        if not isinstance(layer, Layer):
            from .. import nn
            raise TypeError(f"[{self.name}] Sequential takes pydl.keras.layers layers, got {type(layer).__name__}"
                            + (" (wrap pydl.nn modules in a pydl.nn model instead)" if isinstance(layer, nn.Module)
                               else ""))
        if layer in self._klayers:
            raise ValueError(f"[{self.name}] layer {layer.name!r} was added twice")
        if not self._klayers and layer._input_shape_arg is not None and self._input_shape is None:
            self._input_shape = layer._input_shape_arg
        # registered by position (state_dict keys "0.linear.weight", ...), not by the global
        # layer names, so weights saved from one model load into another of the same structure
        self.add_module(str(len(self._klayers)), layer)
        self._klayers.append(layer)
        self.built = False
        self._maybe_build()

    def pop(self):
        """Removes the last layer."""
        if not self._klayers:
            raise TypeError(f"[{self.name}] there are no layers to pop")
        layer = self._klayers.pop()
        for k, v in list(self._modules.items()):
            if v is layer:
                del self._modules[k]
        return layer

    def _maybe_build(self):
        if self._input_shape is not None and self._klayers:
            self._build_and_shape(tuple(self._input_shape))

    def build(self, input_shape=None):
        """Creates every layer's weights for inputs of `input_shape` (with the batch dimension,
        e.g. (None, 28, 28, 1))."""
        if input_shape is None:
            if self._input_shape is None:
                raise ValueError(f"[{self.name}] build() needs an input shape")
            input_shape = (None,) + tuple(self._input_shape)
        self._build_and_shape(tuple(input_shape)[1:])

    def _build_and_shape(self, input_shape):
        shape = tuple(input_shape)
        if not self._klayers:
            raise ValueError(f"[{self.name}] the model has no layers")
        self._input_shape = shape
        self._build_shape = shape
        for layer in self._klayers:
            try:
                shape = layer._build_and_shape(shape)
            except ValueError as e:
                msg = str(e)
                if not msg.startswith("["):
                    msg = f"[{layer.name}] {msg}"
                raise ValueError(f"{msg} (building {self.name} for inputs {_shape_str(self._input_shape)})") from None
        self.built = True
        self.input_shape = tuple(self._input_shape)
        self.output_shape = shape
        if self.loss is not None and isinstance(self._keras_optimizer, _optimizers.Optimizer):
            self._make_optimizer()
        return shape

    def _check_input(self, x):
        expected = self._input_shape
        got = tuple(x.shape[1:])
        if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
            raise ValueError(f"[{self.name}] expected inputs of shape {_shape_str(expected)}, got {tuple(x.shape)}")

    def call(self, x, logits=False):
        layers = self._klayers
        for layer in layers[:-1]:
            x = layer._run_internal([x], {})
        last = layers[-1]
        return last._pre_activation(x) if logits else last._run_internal([x], {})

    def _prepare_x(self, x):
        t = as_tensor(x)
        first = self._klayers[0] if self._klayers else None
        if not getattr(first, "_int_input", False) and not t.dtype.is_floating_point:
            t = t.to(_C.dtype.float32)
        return t

    def __call__(self, *args, **kwargs):
        if args and not _any_symbolic(args) and len(args) == 1:
            training = kwargs.pop("training", None)
            x = self._prepare_x(args[0])
            if not self.built:
                self._build_and_shape(tuple(x.shape[1:]))
            self._check_input(x)
            with _mode(self, training):
                return to_keras(self.call(to_internal(x)))
        return super().__call__(*args, **kwargs)

    def forward(self, x):
        return self(x)

    def _run_internal(self, args, kwargs):
        kwargs = dict(kwargs)
        with _mode(self, kwargs.pop("training", None)):
            return self.call(args[0])

    def _forward(self, x, logits=False):
        self._check_input(x)
        return [to_keras(self.call(to_internal(x), logits=bool(logits and self._fused)))]

    def _fusable(self):
        last = self._klayers[-1]
        if last._has_activation and last._internal_layout and getattr(last, "_act_fn", None) is not None:
            return [(last._activation_spec(), last._act_fn)]
        return [None]

    def _output_names(self):
        return [self._klayers[-1].name] if self._klayers else ["output"]

    def get_config(self):
        from . import saving
        return saving.sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from . import saving
        return saving.sequential_from_config(config, custom_objects)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Reads a `.keras` file (written by pydl or by Keras 3)."""
    from . import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile)


def model_from_json(json_string, custom_objects=None):
    import json
    from . import saving
    return saving.deserialize(json.loads(json_string), custom_objects)


def clone_model(model, custom_objects=None):
    """A new model of the same architecture with freshly initialised weights."""
    from . import saving
    return saving.deserialize(saving.serialize(model), custom_objects)
