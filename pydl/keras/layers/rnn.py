"""Keras recurrent layers (SimpleRNN, LSTM, GRU) and the Bidirectional / TimeDistributed
wrappers, over pydl's fused recurrent op (one C++ call per layer and direction).

Weights are Keras's: kernel (in, gates*units), recurrent_kernel (units, gates*units), bias
(gates*units), gate order LSTM (i, f, c, o), GRU (z, r, h) with reset_after=True's (2, 3*units)
bias; pydl stores them transposed (and the GRU's gates reordered to the op's r, z, n).
"""
import numpy as np

from ... import _C
from ...nn.parameter import Parameter
from .. import initializers as _inits
from .core import (Layer, _bernoulli_mask, _init_config, _no_regularizers, _tuple, to_internal, to_keras,
                   to_snake_case)

__all__ = ["SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed"]

_OP_MODE = {"SimpleRNN": 0, "LSTM": 2, "GRU": 3}


def _flip_time(x, dim):
    n = x.shape[dim]
    return _C.index_select(x, dim, _C.arange(n - 1, -1, -1, _C.dtype.int64))


class _CellView:
    """What Keras keeps in the layer's `cell` (the weights), for the .weights.h5 layout."""

    def __init__(self, layer):
        self.layer = layer
        self.name = to_snake_case(type(layer).__name__) + "_cell"

    def _keras_own_vars(self):
        return self.layer.get_weights()

    def _load_keras_own_vars(self, arrays):
        self.layer.set_weights(arrays)

    def _keras_children(self):
        return []


class _Recurrent(Layer):
    """Keras recurrent layer over (batch, timesteps, features) inputs.

    Args:
        units: size of the state.
        activation: 'tanh' (or 'relu' for SimpleRNN).
        return_sequences: the whole output sequence instead of the last output.
        return_state: also return the final state(s) ([output, h] or LSTM's [output, h, c]).
        go_backwards: run over the reversed sequence (the returned sequence is in that order).
        stateful: carry the final states of a batch over as the initial states of the next
            (call reset_states() between sequences).
        dropout: dropout on the inputs (one mask per sequence, as Keras).
        recurrent_dropout: dropout on the recurrent state (one mask per sequence); in training
            it runs the sequence step by step (each step one op over the whole batch).
    """

    _gates = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        _no_regularizers(cls, activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint)
        self._regularize(kernel=kernel_regularizer, recurrent=recurrent_regularizer, bias=bias_regularizer)
        if int(units) <= 0:
            raise ValueError(f"[{cls}] units must be a positive integer, got {units}")
        if cls == "SimpleRNN":
            if activation not in ("tanh", "relu"):
                raise NotImplementedError(f"[SimpleRNN] activation={activation!r} is not supported (tanh or relu)")
        elif activation != "tanh" or recurrent_activation != "sigmoid":
            raise NotImplementedError(f"[{cls}] only activation='tanh' with recurrent_activation='sigmoid' is "
                                      f"supported, got {activation!r} / {recurrent_activation!r}")
        if cls == "GRU" and not reset_after:
            raise NotImplementedError("[GRU] only reset_after=True (Keras 3's default) is supported")
        for what, v in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= v < 1:
                raise ValueError(f"[{cls}] {what} must be in [0, 1), got {v}")
        self.units = int(units)
        self.activation = activation
        self.recurrent_activation = recurrent_activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _inits.get(kernel_initializer, cls)
        self.recurrent_initializer = _inits.get(recurrent_initializer, cls)
        self.bias_initializer = _inits.get(bias_initializer, cls)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), bool(stateful), bool(unroll)
        self.seed = seed
        self._states = None

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"[{type(self).__name__}] expected inputs of shape (batch, timesteps, features), got "
                             f"{(None,) + tuple(input_shape)}")
        f, u, g = input_shape[-1], self.units, self._gates
        self.w_ih = Parameter(_C.zeros([g * u, f], _C.dtype.float32))
        self.w_hh = Parameter(_C.zeros([g * u, u], _C.dtype.float32))
        if self.use_bias:
            self.b_ih = Parameter(_C.zeros([g * u], _C.dtype.float32))
            if isinstance(self, GRU):
                self.b_hh = Parameter(_C.zeros([g * u], _C.dtype.float32))
        kernel = np.asarray(self.kernel_initializer((f, g * u)), np.float32)
        rec = np.asarray(self.recurrent_initializer((u, g * u)), np.float32)
        ws = [kernel, rec]
        if self.use_bias:
            shape = (2, g * u) if isinstance(self, GRU) else (g * u,)
            b = np.asarray(self.bias_initializer(shape), np.float32)
            if isinstance(self, LSTM) and self.unit_forget_bias:
                b[u:2 * u] = 1.0  # Keras's unit_forget_bias
            ws.append(b)
        self.set_weights(ws)

    def compute_output_shape(self, input_shape):
        t = input_shape[0]
        out = (t, self.units) if self.return_sequences else (self.units,)
        if self.return_state:
            return [out] + [(self.units,)] * (2 if isinstance(self, LSTM) else 1)
        return out

    # Keras layout <-> the op's layout
    def _to_op(self, a):
        return a

    def _from_op(self, a):
        return a

    def get_weights(self):
        ws = [self._from_op(self.w_ih.detach().numpy().T), self._from_op(self.w_hh.detach().numpy().T)]
        if self.use_bias:
            ws.append(self._bias_to_keras())
        return [w.copy() for w in ws]

    def _bias_to_keras(self):
        return self._from_op(self.b_ih.detach().numpy())

    def set_weights(self, weights):
        n = 3 if self.use_bias else 2
        if len(weights) != n:
            raise ValueError(f"[{self.name}] set_weights expected {n} arrays, got {len(weights)}")
        k, r = np.asarray(weights[0]), np.asarray(weights[1])
        targets = [self.w_ih, self.w_hh]
        arrays = [self._to_op(k).T, self._to_op(r).T]
        if self.use_bias:
            targets, arrays = self._bias_targets(targets, arrays, np.asarray(weights[2]))
        self._copy_in(targets, arrays)

    def _bias_targets(self, targets, arrays, b):
        return targets + [self.b_ih], arrays + [self._to_op(b)]

    def _reg_target(self, key):
        if not self.built:
            return None
        return {"kernel": self.w_ih, "recurrent": self.w_hh,
                "bias": [self._parameters.get("b_ih"), self._parameters.get("b_hh")]}.get(key)

    def _keras_own_vars(self):
        return []

    def _load_keras_own_vars(self, arrays):
        if arrays:
            raise ValueError(f"[{self.name}] unexpected weights outside the cell")

    def _keras_children(self):
        return [("cell", _CellView(self))]

    def reset_states(self, states=None):
        """Clears the carried states of a stateful layer (or sets them)."""
        self._states = None if states is None else [s if isinstance(s, _C.Tensor) else _C.from_numpy(
            np.ascontiguousarray(s, np.float32)) for s in states]

    reset_state = reset_states

    def call(self, x, initial_state=None, mask=None):
        if x.dim() != 3:
            raise ValueError(f"[{self.name}] expected a 3-D input (batch, timesteps, features), got shape "
                             f"{tuple(x.shape)}")
        if not x.dtype.is_floating_point:
            x = x.to(_C.dtype.float32)
        n = x.shape[0]
        lstm = isinstance(self, LSTM)
        if initial_state is None and self.stateful and self._states is not None:
            initial_state = self._states
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != (2 if lstm else 1):
                raise ValueError(f"[{self.name}] initial_state needs {2 if lstm else 1} tensor(s), got {len(states)}")
            h0 = states[0]
            c0 = states[1] if lstm else None
        else:
            h0 = _C.zeros([n, self.units], x.dtype)
            c0 = _C.zeros([n, self.units], x.dtype) if lstm else None
        if self.training and self.dropout:
            x = x * _bernoulli_mask([n, 1, x.shape[2]], 1 - self.dropout)
        mode = 1 if (type(self).__name__ == "SimpleRNN" and self.activation == "relu") else _OP_MODE[
            type(self).__name__]
        b_ih = self.b_ih if self.use_bias else None
        b_hh = getattr(self, "b_hh", None) if self.use_bias else None
        xt = x.transpose(0, 1)
        if self.training and self.recurrent_dropout:
            # variational recurrent dropout: one mask on h_{t-1} for the whole sequence
            m = _bernoulli_mask([n, self.units], 1 - self.recurrent_dropout)
            steps = range(xt.shape[0] - 1, -1, -1) if self.go_backwards else range(xt.shape[0])
            outs, h, c = [], h0, c0
            for t in steps:
                o, h, c2 = _C.rnn_layer(mode, _C.slice(xt, 0, t, t + 1, 1), h * m, c, self.w_ih, self.w_hh, b_ih,
                                        b_hh, False, None)
                c = c2 if lstm else None
                outs.append(o)
            out = _C.cat(outs, 0)
        else:
            out, h, c = _C.rnn_layer(mode, xt, h0, c0, self.w_ih, self.w_hh, b_ih, b_hh, self.go_backwards, None)
            if self.go_backwards and self.return_sequences:
                out = _flip_time(out, 0)  # Keras returns the sequence in processing order
        if self.stateful:
            self._states = [h.detach()] + ([c.detach()] if lstm else [])
        result = out.transpose(0, 1).contiguous() if self.return_sequences else h
        if self.return_state:
            return [result, h] + ([c] if lstm else [])
        return result

    def get_config(self):
        cfg = {**super().get_config(), "return_sequences": self.return_sequences, "return_state": self.return_state,
               "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
               "zero_output_for_mask": False, "units": self.units, "activation": self.activation,
               "use_bias": self.use_bias, "kernel_initializer": _init_config(self.kernel_initializer),
               "recurrent_initializer": _init_config(self.recurrent_initializer),
               "bias_initializer": _init_config(self.bias_initializer), "dropout": self.dropout,
               "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
               **self._reg_config("kernel", "recurrent", "bias")}
        if not isinstance(self, SimpleRNN):
            cfg["recurrent_activation"] = self.recurrent_activation
        if isinstance(self, LSTM):
            cfg["unit_forget_bias"] = self.unit_forget_bias
        if isinstance(self, GRU):
            cfg["reset_after"] = True
        return cfg


class SimpleRNN(_Recurrent):
    """Fully connected RNN: h_t = activation(x_t W + h_{t-1} U + b)."""

    _gates = 1


class LSTM(_Recurrent):
    """Long short-term memory layer (Hochreiter and Schmidhuber)."""

    _gates = 4


def _gru_perm(a):
    """Keras's GRU gate blocks (z, r, h) <-> the op's (r, z, n) along the last axis (its own inverse)."""
    u = a.shape[-1] // 3
    return np.concatenate([a[..., u:2 * u], a[..., :u], a[..., 2 * u:]], axis=-1)


class GRU(_Recurrent):
    """Gated recurrent unit (reset_after=True, Keras 3's default, which is the op's formulation)."""

    _gates = 3

    def _to_op(self, a):
        return _gru_perm(a)

    def _from_op(self, a):
        return _gru_perm(a)

    def _bias_to_keras(self):
        return np.stack([_gru_perm(self.b_ih.detach().numpy()), _gru_perm(self.b_hh.detach().numpy())])

    def _bias_targets(self, targets, arrays, b):
        if b.shape != (2, 3 * self.units):
            raise ValueError(f"[{self.name}] set_weights: the GRU bias must have shape (2, {3 * self.units}), got "
                             f"{b.shape}")
        return targets + [self.b_ih, self.b_hh], arrays + [_gru_perm(b[0]), _gru_perm(b[1])]


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards and merges their outputs
    (merge_mode 'concat', 'sum', 'mul', 'ave' or None for a list)."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, _Recurrent):
            raise ValueError(f"[Bidirectional] needs a SimpleRNN / LSTM / GRU layer, got {type(layer).__name__}")
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(f"[Bidirectional] merge_mode must be 'concat', 'sum', 'mul', 'ave' or None, got "
                             f"{merge_mode!r}")
        if weights is not None:
            raise NotImplementedError("[Bidirectional] weights= is not supported; use set_weights")
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        cfg = layer.get_config()
        cfg["name"] = "forward_" + layer.name
        self.forward_layer = type(layer).from_config(cfg)
        if backward_layer is None:
            cfg = layer.get_config()
            cfg["name"] = "backward_" + layer.name
            cfg["go_backwards"] = not cfg["go_backwards"]
            backward_layer = type(layer).from_config(cfg)
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def build(self, input_shape):
        self.forward_layer._build_and_shape(input_shape)
        self.backward_layer._build_and_shape(input_shape)

    def compute_output_shape(self, input_shape):
        f = self.forward_layer.compute_output_shape(input_shape)
        b = self.backward_layer.compute_output_shape(input_shape)
        fo, bo = (f[0], b[0]) if self.return_state else (f, b)
        out = fo[:-1] + (fo[-1] + bo[-1],) if self.merge_mode == "concat" else fo
        outs = [out] if self.merge_mode is not None else [fo, bo]
        if self.return_state:
            return outs + list(f[1:]) + list(b[1:])
        return outs[0] if self.merge_mode is not None else outs

    def call(self, x, initial_state=None, mask=None):
        fs = bs = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fs, bs = initial_state[:half], initial_state[half:]
        f = self.forward_layer.call(x, initial_state=fs)
        b = self.backward_layer.call(x, initial_state=bs)
        if self.return_state:
            f, f_states = f[0], f[1:]
            b, b_states = b[0], b[1:]
        if self.return_sequences:
            b = _flip_time(b, 1)
        if self.merge_mode == "concat":
            out = _C.cat([f, b], -1)
        elif self.merge_mode == "sum":
            out = f + b
        elif self.merge_mode == "mul":
            out = f * b
        elif self.merge_mode == "ave":
            out = (f + b) * 0.5
        else:
            out = [f, b]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + list(f_states) + list(b_states)
        return out

    def get_weights(self):
        return self.forward_layer.get_weights() + self.backward_layer.get_weights()

    def set_weights(self, weights):
        k = len(self.forward_layer.get_weights())
        self.forward_layer.set_weights(weights[:k])
        self.backward_layer.set_weights(weights[k:])

    def _keras_own_vars(self):
        return []

    def _load_keras_own_vars(self, arrays):
        pass

    def _keras_children(self):
        return [("backward_layer", self.backward_layer), ("forward_layer", self.forward_layer)]

    def get_config(self):
        from ..saving import serialize
        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": serialize(self.forward_layer),
                "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        from ..saving import deserialize
        cfg = dict(config)
        layer = deserialize(cfg.pop("layer"))
        back = cfg.pop("backward_layer", None)
        back = deserialize(back) if back is not None else None
        obj = cls(layer, backward_layer=back, **{k: v for k, v in cfg.items() if k in ("merge_mode", "name",
                                                                                        "trainable")})
        if layer.name.startswith("forward_"):
            obj.forward_layer.name = layer.name
        return obj


class TimeDistributed(Layer):
    """Applies a layer to every time step: (N, T, ...) -> (N, T, ...') with the layer's weights
    shared across steps (the steps are folded into the batch, one call)."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"[TimeDistributed] needs a Keras layer, got {type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"[TimeDistributed] expected inputs of rank >= 3 (batch, time, ...), got "
                             f"{(None,) + tuple(input_shape)}")
        self.layer._build_and_shape(tuple(input_shape[1:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(tuple(input_shape[1:]))
        return (input_shape[0],) + tuple(inner)

    def call(self, x, mask=None):
        x = to_keras(x)
        n, t = x.shape[0], x.shape[1]
        y = x.reshape([n * t] + list(x.shape[2:]))
        y = to_keras(self.layer._run_internal([to_internal(y)], {}))
        return to_internal(y.reshape([n, t] + list(y.shape[1:])))

    def get_weights(self):
        return self.layer.get_weights()

    def set_weights(self, weights):
        self.layer.set_weights(weights)

    def _keras_own_vars(self):
        return []

    def _load_keras_own_vars(self, arrays):
        pass

    def _keras_children(self):
        return [("layer", self.layer)]

    def get_config(self):
        from ..saving import serialize
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config):
        from ..saving import deserialize
        cfg = dict(config)
        return cls(deserialize(cfg.pop("layer")), **{k: v for k, v in cfg.items() if k in ("name", "trainable")})
