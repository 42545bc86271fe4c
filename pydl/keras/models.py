"""Keras's Sequential model on pydl: compile / fit / evaluate / predict / summary over NumPy arrays.

The model is a pydl.nn.Module (its state_dict, parameters() and pydl.save work as for any
module). Training runs through pydl.train.fit, so Keras callbacks here are pydl.train's.
"""
import copy

import numpy as np

from .. import _C
from .._C import Tensor
from .. import nn
from .. import train as _train
from ..io import load as _load, save as _save
from . import losses as _losses
from . import optimizers as _optimizers
from .layers import InputLayer, Layer, _activation_name, _to_channels_first, _unique_name

__all__ = ["Sequential"]


def _shape_str(shape):
    return str((None,) + tuple(shape)).replace(",)", ")") if len(shape) != 0 else "(None,)"


def _as_input(x):
    if isinstance(x, Tensor):
        return x if x.dtype.is_floating_point else x.to(_C.dtype.float32)
    a = np.asarray(x)
    if a.dtype != np.float32:
        a = a.astype(np.float32)
    return _C.from_numpy(np.ascontiguousarray(a))


class Sequential(nn.Module):
    """A linear stack of Keras layers.

    Args:
        layers: list of layers (an Input(shape=...) first, or input_shape= on the first layer,
            builds the model at once; otherwise it is built at the first call / fit).
        name: the model's name in summary().
    """

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__()
        self.name = name or _unique_name("sequential")
        self._klayers = []
        self._input_shape = None
        self.built = False
        self.optimizer = None
        self.loss = None
        self.compiled_metrics = []
        self.stop_training = False
        self.history = None
        self._emit_logits = False
        for layer in layers or []:
            self.add(layer)

    # ---- structure ---------------------------------------------------------------------

    @property
    def layers(self):
        return list(self._klayers)

    def add(self, layer):
        """Appends a layer (an Input / InputLayer only as the first entry)."""
        if isinstance(layer, InputLayer):
            if self._klayers:
                raise ValueError(f"[{self.name}] an Input must come first")
            self._input_shape = layer._input_shape_arg
            self._maybe_build()
            return
        if not isinstance(layer, Layer):
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
            self.build((None,) + tuple(self._input_shape))

    def build(self, input_shape):
        """Creates every layer's weights for inputs of `input_shape` (with the batch dimension,
        e.g. (None, 28, 28, 1))."""
        shape = tuple(input_shape)[1:]
        if not self._klayers:
            raise ValueError(f"[{self.name}] the model has no layers")
        self._input_shape = shape
        for layer in self._klayers:
            try:
                shape = layer._build_and_shape(shape)
            except ValueError as e:
                msg = str(e)
                if not msg.startswith("["):
                    msg = f"[{layer.name}] {msg}"
                raise ValueError(f"{msg} (building {self.name} for inputs {_shape_str(self._input_shape)})") from None
        self.built = True
        if self.loss is not None and isinstance(self.optimizer, _optimizers.Optimizer):
            self._make_optimizer()

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return (None,) + tuple(self._klayers[-1].output_shape)

    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"[{self.name}] {what}: this model has not yet been built. Build it by passing "
                             "input_shape= to the first layer (or an Input(shape=...) first), by calling build(), or "
                             "by calling the model on a batch of data (fit does).")

    # ---- forward ---------------------------------------------------------------------

    def forward(self, x):
        x = _as_input(x)
        if not self.built:
            self.build((None,) + tuple(x.shape[1:]))
        expected = self._input_shape
        got = tuple(x.shape[1:])
        if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
            raise ValueError(f"[{self.name}] expected inputs of shape {_shape_str(expected)}, got "
                             f"{tuple(x.shape)}")
        if x.dim() == 4:  # channels-last in, channels-first inside (once)
            x = _to_channels_first(x)
        layers = self._klayers
        for layer in layers[:-1]:
            x = layer(x)
        last = layers[-1]
        x = last._pre_activation(x) if self._emit_logits else last(x)
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1).contiguous()
        return x

    # ---- compile / fit / evaluate / predict ----------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs):
        """Configures training.

        Args:
            optimizer: 'adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adamw' (Keras's default
                learning rates), a pydl.keras.optimizers optimizer, or a pydl.optim optimizer.
            loss: 'sparse_categorical_crossentropy', 'categorical_crossentropy',
                'binary_crossentropy', 'mse', 'mae', a pydl.keras.losses.Loss, or fn(y_true, y_pred).
            metrics: list of metric names ('accuracy', 'mae', 'top_5_accuracy', 'precision', ...).
        """
        if loss is None:
            raise ValueError(f"[{self.name}] compile needs a loss, e.g. loss='sparse_categorical_crossentropy'")
        if loss_weights is not None or weighted_metrics is not None or kwargs:
            extra = sorted(kwargs) + [k for k, v in (("loss_weights", loss_weights),
                                                       ("weighted_metrics", weighted_metrics)) if v is not None]
            raise TypeError(f"[{self.name}] compile: unsupported argument(s): {', '.join(extra)}")
        self.loss = _losses.get(loss)
        self.optimizer = _optimizers.get(optimizer)
        if isinstance(metrics, (str, dict)):
            metrics = [metrics]
        self.compiled_metrics = list(metrics or [])
        for m in self.compiled_metrics:
            _train.metrics.get_metric(m)  # fail now on an unknown name
        if self.built and isinstance(self.optimizer, _optimizers.Optimizer):
            self._make_optimizer()

    def _make_optimizer(self):
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"[{self.name}] the model has no trainable weights")
        self.optimizer = self.optimizer.build(params)

    def _require_compiled(self, what):
        if self.loss is None:
            raise RuntimeError(f"[{self.name}] {what}: you must compile the model before training/testing; use "
                               "model.compile(optimizer, loss)")

    def _loss_and_output_fn(self):
        """The loss on logits when the last activation can fuse into it (softmax + cross-entropy,
        sigmoid + binary cross-entropy): stable log-softmax and no NaN."""
        last = self._klayers[-1]
        loss = self.loss
        if (last._has_activation and loss.fuses is not None and not loss.from_logits
                and _activation_name(last._activation_spec()) == loss.fuses):
            return loss.with_logits(), last._act_fn, True
        return loss, None, False

    def _targets(self, y):
        if isinstance(y, Tensor):
            return y
        a = np.asarray(y)
        if isinstance(self.loss, _losses.SparseCategoricalCrossentropy):
            if a.dtype.kind == "f" and not np.all(a == np.rint(a)):
                raise ValueError(f"[{self.name}] sparse_categorical_crossentropy needs integer class labels, got "
                                 "non-integer floats (use categorical_crossentropy for one-hot targets)")
            a = a.astype(np.int64)
        elif a.dtype.kind in "fb" or isinstance(self.loss, (_losses.CategoricalCrossentropy,
                                                             _losses.BinaryCrossentropy, _losses.MeanSquaredError,
                                                             _losses.MeanAbsoluteError)):
            a = a.astype(np.float32)
        else:
            a = a.astype(np.int64)
        return _C.from_numpy(np.ascontiguousarray(a))

    def _data(self, x, y, batch_size, shuffle, what):
        from ..data import DataLoader, TensorDataset
        if y is None and not isinstance(x, (np.ndarray, Tensor, list)):
            return _train.as_loader(x), None  # a DataLoader / iterable of (x, y) batches
        if y is None:
            raise ValueError(f"[{self.name}] {what}: y is missing (pass targets with x arrays)")
        xt, yt = _as_input(x), self._targets(y)
        if xt.shape[0] != yt.shape[0]:
            raise ValueError(f"[{self.name}] {what}: x and y hold different numbers of samples: {xt.shape[0]} and "
                             f"{yt.shape[0]}")
        return DataLoader(TensorDataset(xt, yt), batch_size=batch_size, shuffle=shuffle), tuple(xt.shape[1:])

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains on NumPy arrays (or a pydl DataLoader as x) and returns a pydl.train.History."""
        self._require_compiled("fit")
        if class_weight is not None or sample_weight is not None:
            raise NotImplementedError(f"[{self.name}] fit: class_weight / sample_weight are not supported")
        batch_size = 32 if batch_size is None else int(batch_size)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"[{self.name}] validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is None and y is not None:
            xa, ya = (x if isinstance(x, Tensor) else np.asarray(x)), (y if isinstance(y, Tensor) else np.asarray(y))
            n_val = int(len(xa) * validation_split)
            if n_val == 0:
                raise ValueError(f"[{self.name}] validation_split={validation_split} of {len(xa)} samples leaves no "
                                 "validation samples")
            # like Keras: the last samples, taken before shuffling
            x, y, validation_data = xa[:-n_val], ya[:-n_val], (xa[-n_val:], ya[-n_val:])
        loader, shape = self._data(x, y, batch_size, shuffle, "fit")
        if not self.built:
            if shape is None:
                first = next(iter(loader))
                shape = tuple(first[0].shape[1:])
            self.build((None,) + shape)
        if isinstance(self.optimizer, _optimizers.Optimizer):
            self._make_optimizer()
        val = None
        if validation_data is not None:
            if isinstance(validation_data, (tuple, list)):
                if len(validation_data) == 3:
                    raise NotImplementedError(f"[{self.name}] fit: validation sample weights are not supported")
                val, _ = self._data(validation_data[0], validation_data[1],
                                    validation_batch_size or max(batch_size, 256), False, "validation_data")
            else:
                val = _train.as_loader(validation_data)
        loss, output_fn, fused = self._loss_and_output_fn()
        self._emit_logits = fused
        try:
            self.history = _train.fit(self, loader, loss=lambda out, target: loss(target, out), optimizer=self.optimizer,
                                      epochs=epochs, metrics=self._fresh_metrics(), val_data=val,
                                      callbacks=list(callbacks or []), verbose=1 if verbose == "auto" else verbose,
                                      output_fn=output_fn, initial_epoch=initial_epoch)
        finally:
            self._emit_logits = False
        return self.history

    def _fresh_metrics(self):
        return [copy.deepcopy(m) if isinstance(m, _train.metrics.Metric) else m for m in self.compiled_metrics]

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False, **kwargs):
        """Loss and metrics on (x, y): [loss, *metrics] (a scalar without metrics), or a dict."""
        self._require_compiled("evaluate")
        loader, shape = self._data(x, y, batch_size or 256, False, "evaluate")
        if not self.built:
            self.build((None,) + shape)
        loss, output_fn, fused = self._loss_and_output_fn()
        self._emit_logits = fused
        try:
            logs = _train.evaluate(self, loader, loss=lambda out, target: loss(target, out),
                                   metrics=self._fresh_metrics(), verbose=1 if verbose == "auto" else verbose,
                                   output_fn=output_fn)
        finally:
            self._emit_logits = False
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose=0, **kwargs):
        """Model outputs (after the last activation) as a NumPy array."""
        was = self._emit_logits
        self._emit_logits = False
        try:
            if isinstance(x, (np.ndarray, Tensor, list)):
                return _train.predict(self, (_as_input(x),), batch_size=batch_size or 256)
            return _train.predict(self, x, batch_size=batch_size or 256)
        finally:
            self._emit_logits = was

    def __call__(self, x, training=None):
        if training is None:
            return super().__call__(x)
        was = self.training
        self.train(bool(training))
        try:
            return super().__call__(x)
        finally:
            self.train(was)

    # ---- inspection and weights ------------------------------------------------------------

    def count_params(self):
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self._klayers)

    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Prints the layer table (name (type), output shape, weights) and the totals, like Keras."""
        self._require_built("summary")
        rows = [(f"{layer.name} ({type(layer).__name__})", _shape_str(layer.output_shape), f"{layer.count_params():,}")
                for layer in self._klayers]
        w0 = max([29] + [len(r[0]) + 2 for r in rows])
        w1 = max([26] + [len(r[1]) + 2 for r in rows])
        w2 = max([10] + [len(r[2]) + 2 for r in rows])
        width = line_length or (w0 + w1 + w2)
        total = self.count_params()
        non_trainable = sum(layer._non_trainable_count() for layer in self._klayers)

        def size(n):
            b = 4 * n
            return f"{b / 1024 ** 2:.2f} MB" if b >= 1024 ** 2 else f"{b / 1024:.2f} KB" if b >= 1024 else f"{b} B"

        lines = [f'Model: "{self.name}"', "_" * width,
                 "Layer (type)".ljust(w0) + "Output Shape".ljust(w1) + "Param #".ljust(w2), "=" * width]
        for i, (a, b, c) in enumerate(rows):
            lines.append(a.ljust(w0) + b.ljust(w1) + c.ljust(w2))
            lines.append(("_" if i < len(rows) - 1 else "=") * width)
        lines += [f"Total params: {total:,} ({size(total)})",
                  f"Trainable params: {total - non_trainable:,} ({size(total - non_trainable)})",
                  f"Non-trainable params: {non_trainable:,} ({size(non_trainable)})", "_" * width]
        text = "\n".join(lines)
        (print_fn or print)(text)
        return None if print_fn is None else text

    def get_weights(self):
        """Every layer's weights as NumPy arrays in Keras's layouts, layer by layer."""
        self._require_built("get_weights")
        return [w for layer in self._klayers for w in layer.get_weights()]

    def set_weights(self, weights):
        self._require_built("set_weights")
        weights = list(weights)
        for layer in self._klayers:
            n = len(layer.get_weights())
            layer.set_weights(weights[:n])
            weights = weights[n:]
        if weights:
            raise ValueError(f"[{self.name}] set_weights got {len(weights)} arrays too many")

    def save_weights(self, filepath, overwrite=True):
        """Writes the weights (state_dict) to a safetensors file, atomically."""
        self._require_built("save_weights")
        import os
        if not overwrite and os.path.exists(filepath):
            raise FileExistsError(f"[{self.name}] save_weights: {filepath} exists (overwrite=False)")
        _save(self.state_dict(), filepath)

    def load_weights(self, filepath, skip_mismatch=False):
        """Loads weights written by save_weights (the model must be built with the same layers)."""
        self._require_built("load_weights")
        self.load_state_dict(_load(filepath), strict=not skip_mismatch)

    def extra_repr(self):
        return f"name={self.name!r}"

