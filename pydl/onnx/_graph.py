"""Builds an ONNX graph from a trace: one converter per recorded op (see _ops.py)."""
import numpy as np

from .. import _C
from .._C import Tensor
from ._trace import SymInt, TraceError, real_shape

_NP = {_C.dtype.float32: np.float32, _C.dtype.float64: np.float64, _C.dtype.int64: np.int64, _C.dtype.bool: np.bool_}


class UnsupportedOperatorError(TraceError):
    """An op of the traced model has no ONNX form at the requested opset."""


class Value:
    """What a traced tensor is in the graph.

    kind: "input" (a graph input), "param" (a parameter or buffer of the model, an initializer named after
    it), "const" (computed from constants only: folded), "node" (computed by the graph) or "unsupported"
    (an output the exporter cannot express: `why` says which; using it raises).
    """

    __slots__ = ("name", "tensor", "kind", "dyn", "why")

    def __init__(self, name, tensor, kind, dyn=frozenset(), why=None):
        self.name, self.tensor, self.kind, self.dyn, self.why = name, tensor, kind, dyn, why


def onnx_dtype(dt):
    from onnx import TensorProto
    return {_C.dtype.float32: TensorProto.FLOAT, _C.dtype.float64: TensorProto.DOUBLE,
            _C.dtype.int64: TensorProto.INT64, _C.dtype.bool: TensorProto.BOOL}[dt]


def to_numpy(t):
    return np.array(t.detach().numpy(), copy=True)


class Graph:
    """The graph under construction: nodes, initializers and the Value of every traced tensor."""

    def __init__(self, opset, trace, do_constant_folding=True):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.opset = opset
        self.trace = trace
        self.fold = do_constant_folding
        self.nodes = []
        self.initializers = {}
        self.values = {}        # id(tensor) -> Value
        self._names = set()
        self._consts = {}       # (dtype, shape, bytes) -> name, for small constants
        self._syms = {}         # id(SymInt) -> name of an int64 scalar
        self._dims = {}         # (name, d) -> name of an int64 scalar
        self.param_names = {}   # id(parameter or buffer) -> its name in the model

    # ---- names, nodes, constants ---------------------------------------------------------

    def fresh(self, hint):
        name, i = hint, 1
        while name in self._names:
            name = f"{hint}_{i}"
            i += 1
        self._names.add(name)
        return name

    def node(self, op_type, inputs, n_out=1, **attrs):
        """Appends a node; returns its output name (or a list of n_out names)."""
        outs = [self.fresh(f"/{op_type}_{len(self.nodes)}_out{i}" if n_out > 1 else f"/{op_type}_{len(self.nodes)}")
                for i in range(n_out)]
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs, name=f"/{op_type}_{len(self.nodes)}",
                                                **attrs))
        return outs[0] if n_out == 1 else outs

    def initializer(self, array, name):
        name = self.fresh(name)
        self.initializers[name] = self.numpy_helper.from_array(np.asarray(array, order="C"), name)
        return name

    def const(self, array, dtype=None, hint="const"):
        """An initializer holding `array` (small ones shared by value)."""
        a = np.asarray(array, dtype=dtype)
        if a.size <= 64:
            key = (a.dtype.str, a.shape, a.tobytes())
            if key not in self._consts:
                self._consts[key] = self.initializer(a, f"onnx::{hint}")
            return self._consts[key]
        return self.initializer(a, f"onnx::{hint}")

    def ints(self, values):
        """A 1-D int64 constant."""
        return self.const(np.array(list(values), np.int64), hint="ints")

    # ---- values ----------------------------------------------------------------------------

    def value(self, t):
        v = self.values.get(id(t))
        if v is None:
            if t.grad_fn is not None:
                raise TraceError("[onnx.export] the model used a tensor that was computed outside pydl's ops (through "
                                 "a function the tracer does not see, e.g. a NumPy round trip): the graph would hold "
                                 "it as a constant")
            v = self.values[id(t)] = Value(None, t, "const")
        if v.kind == "unsupported":
            raise UnsupportedOperatorError(f"[onnx.export] {v.why} (opset {self.opset})")
        return v

    def name(self, t, like=None):
        """The graph name of a tensor, or a constant for a Python number (of `like`'s dtype, a tensor or dtype)."""
        if isinstance(t, SymInt):
            n = self.sym(t)
            dt = like.dtype if isinstance(like, Tensor) else like
            return n if dt in (None, _C.dtype.int64) else self.node("Cast", [n], to=onnx_dtype(dt))
        if not isinstance(t, Tensor):
            dt = like.dtype if isinstance(like, Tensor) else like
            if dt is None:
                dt = _C.dtype.bool if isinstance(t, bool) else (
                    _C.dtype.int64 if isinstance(t, int) else _C.dtype.float32)
            return self.const(np.array(t, dtype=_NP[dt]), hint="scalar")
        v = self.value(t)
        if v.name is None:  # a parameter or constant used by a node for the first time
            v.name = self.initializer(to_numpy(t), self.param_names.get(id(t), "onnx::const"))
        return v.name

    def cast(self, t, dt):
        """The name of tensor/number t as dtype dt (a Cast node where needed)."""
        if not isinstance(t, Tensor):
            return self.name(t, dt)
        n = self.name(t)
        return n if t.dtype == dt else self.node("Cast", [n], to=onnx_dtype(dt))

    def bind(self, t, name):
        dyn = self.trace.dyn.get(id(t), frozenset())
        self.values[id(t)] = Value(name, t, "node", dyn)

    def dyn(self, t):
        v = self.values.get(id(t))
        return v.dyn if v is not None else frozenset()

    # ---- sizes -------------------------------------------------------------------------------

    def static(self, v, what):
        """v as a Python int; an error if it depends on a dynamic axis."""
        if isinstance(v, SymInt):
            raise UnsupportedOperatorError(f"[onnx.export] {what} depends on a dynamic axis, but the ONNX operator "
                                           f"needs a fixed number there (opset {self.opset})")
        return int(v)

    def dim(self, t, d):
        """Size of dim d of tensor t: an int if static, else the name of an int64 scalar."""
        d = d % max(t.dim(), 1)
        if d not in self.dyn(t):
            return int(real_shape(t)[d])
        key = (self.name(t), d)
        if key not in self._dims:
            shape = self.node("Shape", [self.name(t)])
            self._dims[key] = self.node("Gather", [shape, self.const(np.array(d, np.int64))], axis=0)
        return self._dims[key]

    def sym(self, s):
        """An int64 scalar computing SymInt s (or a constant for an int)."""
        if not isinstance(s, SymInt):
            return self.const(np.array(int(s), np.int64))
        if id(s) in self._syms:
            return self._syms[id(s)]
        e = s.expr
        if e[0] == "dim":
            d = self.dim(e[1], e[2])
            out = d if isinstance(d, str) else self.const(np.array(d, np.int64))
        elif e[0] == "neg":
            out = self.node("Neg", [self.sym(e[1])])
        else:
            a, b = self.sym(e[1]), self.sym(e[2])
            if e[0] == "floordiv":  # sizes are >= 0, where Div's truncation is a floor
                out = self.node("Div", [self.node("Sub", [a, self.node("Mod", [a, b])]), b])
            else:
                out = self.node({"add": "Add", "sub": "Sub", "mul": "Mul", "mod": "Mod"}[e[0]], [a, b])
        self._syms[id(s)] = out
        return out

    def shape_vec(self, sizes):
        """A 1-D int64 tensor of sizes (ints and SymInts): a constant, or a Concat of the dynamic parts."""
        sizes = list(sizes)
        if not any(isinstance(s, SymInt) for s in sizes):
            return self.ints(int(s) for s in sizes)
        parts = []
        for s in sizes:
            if isinstance(s, SymInt):
                parts.append(self.unsqueeze(self.sym(s), [0]))
            else:
                parts.append(self.ints([int(s)]))
        return self.node("Concat", parts, axis=0)

    def scalar(self, d, dt=None):
        """An int or the name of an int64 scalar, as a graph scalar of dtype dt."""
        n = self.const(np.array(d, np.int64)) if isinstance(d, int) else d
        return n if dt in (None, _C.dtype.int64) else self.node("Cast", [n], to=onnx_dtype(dt))

    # ---- opset-dependent helpers -------------------------------------------------------------

    def unsqueeze(self, x, axes):
        return self.node("Unsqueeze", [x, self.ints(axes)])

    def squeeze(self, x, axes):
        return self.node("Squeeze", [x, self.ints(axes)])

    def reduce(self, op_type, x, axes, keepdims):
        """A Reduce* node over axes ([] or None: all), axes as an input where the opset wants one."""
        axes = list(axes or [])
        as_input = op_type == "ReduceSum" or self.opset >= 18
        if as_input:
            inputs = [x, self.ints(axes)] if axes else [x]
            return self.node(op_type, inputs, keepdims=int(keepdims))
        return self.node(op_type, [x], keepdims=int(keepdims), axes=axes or None)


def bind_outputs(g, op, names):
    """Binds the tensors of op.out to names (a name, or a list with None for a skipped output)."""
    outs = op.out if isinstance(op.out, (tuple, list)) else [op.out]
    names = names if isinstance(names, (tuple, list)) else [names]
    if len(names) != len(outs):
        raise AssertionError(f"converter for {op.name} gave {len(names)} outputs for {len(outs)}")
    for t, n in zip(outs, names):
        if isinstance(t, Tensor):
            if isinstance(n, Value):
                g.values[id(t)] = n
            elif n is None:
                g.values[id(t)] = Value(None, t, "unsupported", why=f"output of {op.name} that has no ONNX form")
            else:
                g.bind(t, n)
