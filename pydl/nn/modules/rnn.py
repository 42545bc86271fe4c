"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's parameter names,
shapes, gate order (LSTM i, f, g, o; GRU r, z, n) and initialisation.

Each layer direction over the whole sequence is one C++ op (`_C.rnn_layer`); Python only
loops over layers and directions.
"""
import math

from ... import _C
from ..._C import Tensor
from ..._args import _device_of, _on
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _reset_uniform(module):
    """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for p in module.parameters():
        init.uniform_(p, -stdv, stdv)


def _dtype(dtype):
    from ..._tensor import get_default_dtype
    return _C._parse_dtype(dtype) if dtype is not None else get_default_dtype()


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (PyTorch's RNNBase)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"[{name}] hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"[{name}] num_layers must be a positive integer, got {num_layers!r}")
        if not (isinstance(dropout, (int, float)) and 0 <= dropout <= 1) or isinstance(dropout, bool):
            raise ValueError(f"[{name}] dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if proj_size:
            raise NotImplementedError(f"[{name}] proj_size > 0 is not supported yet")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dt = _dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        num_dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * num_dirs
            for d in range(num_dirs):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                params = [("weight_ih" + sfx, (gate_size, layer_in)), ("weight_hh" + sfx, (gate_size, hidden_size))]
                if bias:
                    params += [("bias_ih" + sfx, (gate_size,)), ("bias_hh" + sfx, (gate_size,))]
                for pname, shape in params:
                    setattr(self, pname, Parameter(_C.empty(list(shape), dt)))
                    self._flat_weights_names.append(pname)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    def flatten_parameters(self):
        """Packs the weights into one cuDNN buffer on a GPU in PyTorch; pydl's CPU kernels read
        each layer's weights where they are, so there is nothing to pack."""
        return None

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _layer_params(self, layer, d):
        sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
        get = lambda n: getattr(self, n + sfx) if self.bias or not n.startswith("bias") else None  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def forward(self, input, hx=None):
        name = type(self).__name__
        is_lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, lengths = input.padded, input.lengths  # time-major (T, B, *)
            batch_first = False
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"[{name}] expected a Tensor or PackedSequence input, got {type(input).__name__}")
            x, batch_first = input, self.batch_first
        if x.ndim not in (2, 3):
            raise ValueError(f"[{name}] expected input to be 2D (unbatched) or 3D, got {x.ndim}D of shape "
                             f"{tuple(x.shape)}")
        unbatched = x.ndim == 2 and not packed
        if unbatched:
            x = x.unsqueeze(1)
        elif batch_first:
            x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"[{name}] input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]}")
        T, B = x.shape[0], x.shape[1]
        num_dirs = 2 if self.bidirectional else 1
        expected = (self.num_layers * num_dirs, B, self.hidden_size)

        def state(t, what):
            if t is None:
                return _on(_C.zeros(list(expected), x.dtype), _device_of(x))
            if unbatched:
                if t.ndim != 2:
                    raise ValueError(f"[{name}] for unbatched 2-D input, {what} should also be 2-D but got "
                                     f"{t.ndim}-D tensor")
                t = t.unsqueeze(1)
            if packed and input.sorted_indices is not None:
                pass  # states are given in the caller's batch order; we never reorder the batch
            if tuple(t.shape) != expected:
                raise ValueError(f"[{name}] Expected {what} size {expected}, got {tuple(t.shape)}")
            return t

        if is_lstm:
            if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"[{name}] hx must be a tuple (h_0, c_0)")
            h0 = state(None if hx is None else hx[0], "hidden[0]")
            c0 = state(None if hx is None else hx[1], "hidden[1]")
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"[{name}] hx must be a Tensor, got a tuple")
            h0, c0 = state(hx, "hidden"), None

        mode = _MODES[self.mode]
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(num_dirs):
                i = layer * num_dirs + d
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, d)
                out, h, c = _C.rnn_layer(mode, x, h0[i], c0[i] if is_lstm else None, w_ih, w_hh, b_ih, b_hh,
                                         d == 1, lengths)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            x = outs[0] if num_dirs == 1 else _C.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = _C.stack(hs, 0)
        c_n = _C.stack(cs, 0) if is_lstm else None

        if packed:
            output = PackedSequence._from_padded(x, lengths, input.sorted_indices, input.unsorted_indices)
        elif unbatched:
            output = x.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        else:
            output = x.transpose(0, 1) if batch_first else x
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[RNN] unknown nonlinearity '{nonlinearity}'; use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity='{self.nonlinearity}'" if self.nonlinearity != "tanh" else "")


class LSTM(RNNBase):
    """Long short-term memory; returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit; returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class _CellBase(Module):
    """One time step; runs the same C++ layer op on a length-1 sequence."""

    _mode = None

    def __init__(self, input_size, hidden_size, bias=True, num_gates=1, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dt = _dtype(dtype)
        self.weight_ih = Parameter(_C.empty([num_gates * hidden_size, input_size], dt))
        self.weight_hh = Parameter(_C.empty([num_gates * hidden_size, hidden_size], dt))
        if bias:
            self.bias_ih = Parameter(_C.empty([num_gates * hidden_size], dt))
            self.bias_hh = Parameter(_C.empty([num_gates * hidden_size], dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_uniform(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        return s

    def _step(self, input, h, c):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"[{name}] Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"[{name}] input has inconsistent input_size: got {input.shape[-1]} expected "
                             f"{self.input_size}")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        B = x.shape[0]

        def state(t):
            if t is None:
                return _on(_C.zeros([B, self.hidden_size], x.dtype), _device_of(x))
            t = t.unsqueeze(0) if unbatched else t
            if tuple(t.shape) != (B, self.hidden_size):
                raise ValueError(f"[{name}] Expected hidden size {(B, self.hidden_size)}, got {tuple(t.shape)}")
            return t

        out, h1, c1 = _C.rnn_layer(self._mode, x.unsqueeze(0), state(h), None if c is False else state(c),
                                   self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, False, None)
        if unbatched:
            h1 = h1.squeeze(0)
            c1 = c1.squeeze(0) if c1 is not None else None
        return h1, c1


class RNNCell(_CellBase):
    """One step of an Elman RNN: returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[RNNCell] unknown nonlinearity '{nonlinearity}'")
        self.nonlinearity = nonlinearity
        self._mode = 0 if nonlinearity == "tanh" else 1
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx, False)[0]


class LSTMCell(_CellBase):
    """One LSTM step: returns (h', c')."""

    _mode = 2

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        h, c = (None, None) if hx is None else hx
        return self._step(input, h, c)


class GRUCell(_CellBase):
    """One GRU step: returns h'."""

    _mode = 3

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._step(input, hx, False)[0]
