"""Tracing mode: while a model runs once, every op of pydl's dispatch is recorded.

The dispatch points are the functions of ``pydl._C`` (which every Python-level op, nn.functional
and Tensor method ends in), the C++ methods and operators of ``Tensor`` and the aliases of ``_C``
functions held by modules (pydl's own ``pydl.exp = _C.exp``, a user's ``from pydl import exp``).
``tracing()`` swaps each of them for a recording wrapper and puts the originals back on exit, so
outside an export they cost nothing at all.

Sizes of dynamic axes reach Python as ``SymInt``: an int (its traced value) that remembers how to
compute it from a tensor's shape, so ``x.view(x.size(0), -1)`` exports as Shape/Gather/Concat.
Which dims are dynamic is learned by comparing with a reference trace taken at other sizes of the
dynamic axes; a plain int argument that differs between the two traces (a size that went through
``int()`` or ``len()``) is an error, never a baked-in number.
"""
import contextlib
import sys
import threading

from .. import _C
from .._C import Tensor
from .._tensor_methods import native_methods

# _C functions that are not ops (nothing to record, or not tensors)
_NOT_OPS = {
    "Tensor", "dtype", "Node", "_parse_dtype", "set_num_threads", "get_num_threads", "manual_seed", "initial_seed",
    "empty_cache", "cached_bytes", "is_grad_enabled", "set_grad_enabled", "run_backward", "cuda_device_count",
    "cuda_self_test", "parse_shape", "build_config", "_device_of", "check_device", "is_pinned", "cuda_synchronize",
    "cuda_memory_allocated", "cuda_memory_reserved", "cuda_empty_cache", "cublas_library", "add_cublas_search_dir",
    "cuda_manual_seed_all",
}
# Tensor methods that only read metadata
_METADATA = {
    "__hash__", "__len__", "__dlpack_device__", "data_ptr", "dim", "ndimension", "numel", "nelement", "element_size",
    "stride", "storage_offset", "is_contiguous", "is_floating_point", "retain_grad", "_base_is_view", "requires_grad_",
}
# Tensor methods that turn a tensor into Python values: fine on constants, an error on a value that
# depends on the inputs (the graph would hold one traced number)
_ESCAPES = {"item", "tolist", "numpy", "__array__", "__float__", "__int__", "__index__", "__bool__", "__dlpack__"}

_active = None  # the Trace being recorded, or None
_REAL_SHAPE = vars(Tensor)["shape"]


def real_shape(t):
    """t's shape as plain ints, even while tracing."""
    return tuple(_REAL_SHAPE.__get__(t))


class TraceError(RuntimeError):
    """The model cannot be traced into a graph that computes what it computes."""


class SymInt(int):
    """A size that depends on a dynamic axis: its traced value, and `expr` to compute it.

    expr is ("dim", tensor, d) or (op, a, b) with op one of add/sub/mul/floordiv/mod, or ("neg", a).
    """

    def __new__(cls, value, expr):
        obj = int.__new__(cls, value)
        obj.expr = expr
        return obj

    def _op(op, py):  # noqa: N805  (builds methods)
        def fwd(self, other):
            if not isinstance(other, int) or isinstance(other, bool):
                return py(int(self), other)
            return SymInt(py(int(self), int(other)), (op, self, other))

        def rev(self, other):
            if not isinstance(other, int) or isinstance(other, bool):
                return py(other, int(self))
            return SymInt(py(int(other), int(self)), (op, other, self))
        return fwd, rev

    __add__, __radd__ = _op("add", lambda a, b: a + b)
    __sub__, __rsub__ = _op("sub", lambda a, b: a - b)
    __mul__, __rmul__ = _op("mul", lambda a, b: a * b)
    __floordiv__, __rfloordiv__ = _op("floordiv", lambda a, b: a // b)
    __mod__, __rmod__ = _op("mod", lambda a, b: a % b)
    del _op

    def __neg__(self):
        return SymInt(-int(self), ("neg", self))

    def __pos__(self):
        return self

    def __repr__(self):
        return f"SymInt({int(self)})"


class Op:
    """One recorded call: name, the raw arguments (tensors, ints, SymInts, lists) and the result."""

    __slots__ = ("name", "args", "kwargs", "out")

    def __init__(self, name, args, kwargs, out):
        self.name, self.args, self.kwargs, self.out = name, args, kwargs, out

    def __repr__(self):
        return f"Op({self.name})"


def tensors_of(obj):
    """The tensors in a (nested) result or argument, in order."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in tensors_of(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in tensors_of(o)]
    return []


def _leaves(obj, out):
    """Non-tensor leaves of an argument structure, with a marker for each tensor (to compare traces)."""
    if isinstance(obj, Tensor):
        out.append(("T", obj.dim()))
    elif isinstance(obj, (tuple, list)):
        out.append(("(", len(obj)))
        for o in obj:
            _leaves(o, out)
    elif isinstance(obj, dict):
        for k in sorted(obj):
            out.append(("k", k))
            _leaves(obj[k], out)
    elif isinstance(obj, slice):
        _leaves((obj.start, obj.stop, obj.step), out)
    else:
        out.append(obj)
    return out


def is_dynamic(v):
    """True if `v` (an int, SymInt or expression operand) depends on a dynamic axis."""
    return isinstance(v, SymInt)


class Trace:
    """The ops recorded by one run, and which dims of which tensors are dynamic.

    Args:
        inputs: the graph input tensors, each with the set of its dims that are dynamic.
        reference: the ops of a trace taken at other sizes of the dynamic axes (None: no dynamic axes,
            or this is that reference trace).
    """

    def __init__(self, inputs, reference=None):
        self.ops = []
        self.reference = reference
        self.dyn = {}          # id(tensor) -> frozenset of dynamic dims
        self.keep = []         # keeps every seen tensor alive, so ids stay unique
        self.input_ids = set()
        self.depth = 0
        self.thread = threading.get_ident()  # other threads' ops run untraced
        for t, dims in inputs:
            self.keep.append(t)
            self.input_ids.add(id(t))
            if reference is not None and dims:
                self.dyn[id(t)] = frozenset(dims)
        self.derived = set(self.input_ids)  # ids of tensors computed from the inputs

    def depends(self, t):
        return id(t) in self.derived

    def record(self, name, args, kwargs, out):
        k = len(self.ops)
        op = Op(name, args, kwargs, out)
        self.ops.append(op)
        ins = tensors_of(args) + tensors_of(kwargs)
        outs = tensors_of(out)
        self.keep.extend(ins)
        self.keep.extend(outs)
        from_inputs = any(id(t) in self.derived for t in ins) or any(
            is_dynamic(v) for v in _leaves((args, kwargs), []))
        for t in outs:
            if from_inputs:
                self.derived.add(id(t))
            else:
                self.derived.discard(id(t))  # a factory reusing nothing: a constant
        if self.reference is None:
            return
        if k >= len(self.reference):
            raise TraceError(f"[onnx.export] the model ran more ops at the traced sizes than at other sizes of the "
                             f"dynamic axes (from op {k}: {name}): its Python control flow depends on a dynamic size")
        ref = self.reference[k]
        if ref.name != name:
            raise TraceError(f"[onnx.export] the model runs different ops at other sizes of the dynamic axes (op {k}: "
                             f"{name} here, {ref.name} there): its Python control flow depends on a dynamic size")
        mine, theirs = _leaves((args, kwargs), []), _leaves((ref.args, ref.kwargs), [])
        if len(mine) != len(theirs):
            raise TraceError(f"[onnx.export] op {k} ({name}) gets different arguments at other sizes of the dynamic "
                             f"axes: its Python code depends on a dynamic size")
        for a, b in zip(mine, theirs):
            if a != b and not is_dynamic(a):
                raise TraceError(
                    f"[onnx.export] an argument of op {k} ({name}) is {a!r} here and {b!r} at other sizes of the "
                    f"dynamic axes, but it reached the op as a plain Python value (a size taken through int(), len(), "
                    f".item() or numpy?): the graph would hold a fixed number. Use tensor.shape / tensor.size(d) "
                    f"directly in the call")
        rout = tensors_of(ref.out)
        for t, r in zip(outs, rout):
            dims = frozenset(d for d, (a, b) in enumerate(zip(t.shape, r.shape)) if a != b)
            if dims:
                self.dyn[id(t)] = dims

    # the shape of a tensor during tracing: dynamic dims come back as SymInt
    def shape(self, t, shape):
        dims = self.dyn.get(id(t))
        if not dims:
            return shape
        return tuple(SymInt(s, ("dim", t, d)) if d in dims else s for d, s in enumerate(shape))


def _recording(name, fn):
    def op(*args, **kwargs):
        t = _active
        if t is None or t.depth or t.thread != threading.get_ident():
            return fn(*args, **kwargs)
        t.depth += 1
        try:
            out = fn(*args, **kwargs)
        finally:
            t.depth -= 1
        t.record(name, args, kwargs, out)
        return out
    op.__name__ = op.__qualname__ = name
    op.__doc__ = getattr(fn, "__doc__", None)
    return op


def _guarded(name, fn):
    def method(self, *args, **kwargs):
        t = _active
        if t is not None and not t.depth and t.thread == threading.get_ident() and t.depends(self):
            raise TraceError(f"[onnx.export] Tensor.{name.strip('_')}() was called on a value computed from the "
                             f"model's inputs: the exported graph would hold the traced number as a constant. Keep "
                             f"the computation in tensor ops")
        return fn(self, *args, **kwargs)
    return method


def _shape_property(prop):
    def get(self):
        s = prop.__get__(self)
        t = _active
        return s if t is None or t.thread != threading.get_ident() else t.shape(self, s)
    return property(get)


def _size_method(fn):
    def size(self, dim=None):
        t = _active
        if t is None or t.thread != threading.get_ident():
            return fn(self, dim)
        s = t.shape(self, tuple(fn(self, None)))
        return s if dim is None else s[dim]
    return size


def _index_keeping_symint(v, op):
    """pydl._args._index while tracing: a SymInt stays a SymInt (operator.index would strip it)."""
    if isinstance(v, SymInt):
        return v
    return _orig_index(v, op)


_orig_index = None


@contextlib.contextmanager
def tracing(trace):
    """Records into `trace` every op the calling thread runs inside the block (not re-entrant)."""
    global _active, _orig_index
    if _active is not None:
        raise TraceError("[onnx.export] an export is already tracing (exports do not nest)")
    from .. import _args
    wrappers = {}
    for name, fn in vars(_C).items():
        if callable(fn) and not name.startswith("__") and name not in _NOT_OPS and not isinstance(fn, type):
            wrappers[id(fn)] = (fn, _recording(name, fn))
    saved = []  # (owner, name, original)

    def swap(owner, name, new):
        saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, new)

    try:
        # every module's aliases of _C functions (pydl's own, and a user's `from pydl import exp`)
        for mod in list(sys.modules.values()):
            try:
                items = list(vars(mod).items())
            except TypeError:
                continue
            for name, val in items:
                w = wrappers.get(id(val))
                if w is not None and w[0] is val:
                    swap(mod, name, w[1])
        for name in native_methods():  # the Python methods end in _C functions, swapped above
            val = vars(Tensor)[name]
            kind = type(val).__name__
            if name == "shape":
                swap(Tensor, name, _shape_property(val))
            elif name == "size":
                swap(Tensor, name, _size_method(val))
            elif name in _ESCAPES:
                swap(Tensor, name, _guarded(name, val))
            elif name == "data" and isinstance(val, property):
                swap(Tensor, name, property(_recording("detach", val.fget), val.fset))
            elif kind == "instancemethod" and name not in _METADATA:
                swap(Tensor, name, _recording(name, val))
        _orig_index = _args._index
        for mod in list(sys.modules.values()):  # each module that parses sizes with it holds its own name
            if getattr(mod, "__dict__", {}).get("_index") is _orig_index:
                swap(mod, "_index", _index_keeping_symint)
        _active = trace
        yield trace
    finally:
        _active = None
        for owner, name, val in reversed(saved):
            setattr(owner, name, val)
