"""ONNX forms of pydl's ops: one converter per op of pydl._C (and Tensor method), keyed by its name.

A converter gets the graph, the recorded op and the op's own arguments; it returns the graph
name(s) of the op's tensor output(s) (None for an output with no ONNX form). It raises
UnsupportedOperatorError for any argument it cannot express exactly.
"""
import math

import numpy as np

from .. import _C
from .._C import Tensor
from ._graph import UnsupportedOperatorError, onnx_dtype
from ._trace import SymInt

CONVERTERS = {}
# Tensor methods and operators that are the same op as a _C function
ALIASES = {
    "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div", "__pow__": "pow",
    "__matmul__": "matmul", "__floordiv__": "floor_divide", "__mod__": "remainder", "__and__": "logical_and",
    "__or__": "logical_or", "__xor__": "logical_xor", "__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le",
    "__gt__": "gt", "__ge__": "ge", "__neg__": "neg", "__abs__": "abs", "__getitem__": "getitem",
    "__iadd__": "add", "__isub__": "sub", "__imul__": "mul", "__itruediv__": "div",
    "add_": "add", "sub_": "sub", "mul_": "mul", "div_": "div", "clamp_": "clamp", "masked_fill_": "masked_fill",
    "__pos__": "clone", "contiguous": "clone", "detach": "clone", "detach_": "clone",
}
# reflected operators: the same op with the operands swapped
REFLECTED = {
    "__radd__": "add", "__rsub__": "sub", "__rmul__": "mul", "__rtruediv__": "div", "__rpow__": "pow",
    "__rmatmul__": "matmul", "__rfloordiv__": "floor_divide", "__rmod__": "remainder", "__rand__": "logical_and",
    "__ror__": "logical_or", "__rxor__": "logical_xor",
}
# ops whose result is random: a constant would freeze one draw
RANDOM = {"rand", "randn", "randint", "randperm", "bernoulli_", "uniform_", "normal_"}
# ops that change their first argument in place (the converter's result replaces it)
INPLACE = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "add_", "sub_", "mul_", "div_", "clamp_", "masked_fill_"}


def converter(*names):
    def register(fn):
        for n in names:
            CONVERTERS[n] = fn
        return fn
    return register


def _unsupported(g, what):
    raise UnsupportedOperatorError(f"[onnx.export] {what} cannot be exported to ONNX at opset {g.opset}")


def _norm(d, n):
    return d + n if d < 0 else d


def _promote(a, b):
    """The dtype pydl computes a binary op of a and b in (Python numbers take the tensor's kind)."""
    order = [_C.dtype.bool, _C.dtype.int64, _C.dtype.float32, _C.dtype.float64]
    dts = []
    for x in (a, b):
        if isinstance(x, Tensor):
            dts.append(x.dtype)
    if not dts:
        return _C.dtype.float32
    dt = max(dts, key=order.index)
    for x in (a, b):
        if not isinstance(x, Tensor) and isinstance(x, float) and not dt.is_floating_point:
            dt = _C.dtype.float32
        if not isinstance(x, Tensor) and isinstance(x, int) and not isinstance(x, bool) and dt == _C.dtype.bool:
            dt = _C.dtype.int64
    return dt


def _out(op, i=0):
    return op.out if isinstance(op.out, Tensor) else op.out[i]


# ---- elementwise -----------------------------------------------------------------------------

def _binary(onnx_op):
    def convert(g, op, a, b, alpha=1.0):
        dt = _out(op).dtype
        y = g.cast(b, dt)
        if alpha != 1:  # add_(other, alpha=...)
            y = g.node("Mul", [y, g.name(alpha if dt.is_floating_point else int(alpha), dt)])
        return g.node(onnx_op, [g.cast(a, dt), y])
    return convert


for _n, _o in {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "maximum": "Max", "minimum": "Min",
               "matmul": "MatMul"}.items():
    CONVERTERS[_n] = _binary(_o)


@converter("pow")
def _pow(g, op, a, b):
    dt = _out(op).dtype
    return g.node("Pow", [g.cast(a, dt), g.cast(b, dt)])


@converter("logaddexp")
def _logaddexp(g, op, a, b):  # max(a, b) + log(1 + exp(-|a - b|))
    dt = _out(op).dtype
    x, y = g.cast(a, dt), g.cast(b, dt)
    e = g.node("Exp", [g.node("Neg", [g.node("Abs", [g.node("Sub", [x, y])])])])
    return g.node("Add", [g.node("Max", [x, y]), g.node("Log", [g.node("Add", [e, g.name(1.0, _out(op))])])])


@converter("pow_scalar")
def _pow_scalar(g, op, a, e):
    return g.node("Pow", [g.name(a), g.name(float(e), a.dtype if a.dtype.is_floating_point else _C.dtype.float64)])


@converter("floor_divide")
def _floor_divide(g, op, a, b):
    dt = _out(op).dtype
    x, y = g.cast(a, dt), g.cast(b, dt)
    if dt.is_floating_point:
        return g.node("Floor", [g.node("Div", [x, y])])
    # Mod with fmod=0 takes the divisor's sign, so a - mod is an exact multiple of b
    return g.node("Div", [g.node("Sub", [x, g.node("Mod", [x, y], fmod=0)]), y])


@converter("remainder")
def _remainder(g, op, a, b):
    dt = _out(op).dtype
    x, y = g.cast(a, dt), g.cast(b, dt)
    if not dt.is_floating_point:
        return g.node("Mod", [x, y], fmod=0)
    r = g.node("Mod", [x, y], fmod=1)  # C fmod: the dividend's sign; Python's remainder takes the divisor's
    zero = g.name(0.0, dt)
    fix = g.node("And", [g.node("Not", [g.node("Equal", [r, zero])]), g.node("Less", [g.node("Mul", [r, y]), zero])])
    return g.node("Where", [fix, g.node("Add", [r, y]), r])


def _compare(onnx_op, negate=False):
    def convert(g, op, a, b):
        dt = _promote(a, b)
        out = g.node(onnx_op, [g.cast(a, dt), g.cast(b, dt)])
        return g.node("Not", [out]) if negate else out
    return convert


for _n, (_o, _neg) in {"eq": ("Equal", False), "ne": ("Equal", True), "lt": ("Less", False),
                       "le": ("LessOrEqual", False), "gt": ("Greater", False),
                       "ge": ("GreaterOrEqual", False)}.items():
    CONVERTERS[_n] = _compare(_o, _neg)


def _logical(onnx_op):
    def convert(g, op, a, b):
        return g.node(onnx_op, [g.cast(a, _C.dtype.bool), g.cast(b, _C.dtype.bool)])
    return convert


for _n, _o in {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}.items():
    CONVERTERS[_n] = _logical(_o)


def _unary(onnx_op):
    def convert(g, op, x):
        return g.node(onnx_op, [g.name(x)])
    return convert


for _n, _o in {"neg": "Neg", "abs": "Abs", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "sin": "Sin", "cos": "Cos",
               "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "sign": "Sign", "reciprocal": "Reciprocal",
               "floor": "Floor", "ceil": "Ceil", "round": "Round", "erf": "Erf"}.items():
    CONVERTERS[_n] = _unary(_o)


@converter("log1p")
def _log1p(g, op, x):
    return g.node("Log", [g.node("Add", [g.name(x), g.name(1.0, x)])])


@converter("expm1")
def _expm1(g, op, x):
    return g.node("Sub", [g.node("Exp", [g.name(x)]), g.name(1.0, x)])


@converter("rsqrt")
def _rsqrt(g, op, x):
    return g.node("Reciprocal", [g.node("Sqrt", [g.name(x)])])


@converter("square")
def _square(g, op, x):
    n = g.name(x)
    return g.node("Mul", [n, n])


@converter("clone")
def _identity(g, op, x, *rest, **kw):
    return g.value(x)  # the same value: no node


@converter("__invert__")
def _invert(g, op, x):
    if x.dtype == _C.dtype.bool:
        return g.node("Not", [g.name(x)])
    return g.node("Sub", [g.node("Neg", [g.name(x)]), g.name(1, x)])


@converter("clamp")
def _clamp(g, op, x, min=None, max=None):  # noqa: A002
    dt = _out(op).dtype
    lo = "" if min is None else g.name(float(min) if dt.is_floating_point else int(min), dt)
    hi = "" if max is None else g.name(float(max) if dt.is_floating_point else int(max), dt)
    return g.node("Clip", [g.cast(x, dt), lo, hi])


@converter("where")
def _where(g, op, c, a, b):
    dt = _out(op).dtype
    return g.node("Where", [g.cast(c, _C.dtype.bool), g.cast(a, dt), g.cast(b, dt)])


@converter("to_dtype")
def _to_dtype(g, op, x, dt):
    return g.cast(x, _out(op).dtype)


# ---- activations ------------------------------------------------------------------------------

@converter("leaky_relu")
def _leaky_relu(g, op, x, slope):
    return g.node("LeakyRelu", [g.name(x)], alpha=float(slope))


@converter("elu")
def _elu(g, op, x, alpha):
    return g.node("Elu", [g.name(x)], alpha=float(alpha))


@converter("gelu")
def _gelu(g, op, x, tanh_approx):
    n = g.name(x)
    if g.opset >= 20:
        return g.node("Gelu", [n], approximate="tanh" if tanh_approx else "none")
    half = g.node("Mul", [n, g.name(0.5, x)])
    if tanh_approx:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [n, n]), n])
        inner = g.node("Mul", [g.node("Add", [n, g.node("Mul", [cube, g.name(0.044715, x)])]),
                               g.name(math.sqrt(2 / math.pi), x)])
        return g.node("Mul", [half, g.node("Add", [g.node("Tanh", [inner]), g.name(1.0, x)])])
    erf = g.node("Erf", [g.node("Mul", [n, g.name(1 / math.sqrt(2), x)])])
    return g.node("Mul", [half, g.node("Add", [erf, g.name(1.0, x)])])


@converter("silu")
def _silu(g, op, x):
    n = g.name(x)
    return g.node("Mul", [n, g.node("Sigmoid", [n])])


@converter("softplus")
def _softplus(g, op, x, beta, threshold):
    n = g.name(x)
    bx = n if beta == 1 else g.node("Mul", [n, g.name(float(beta), x)])
    sp = g.node("Softplus", [bx])
    if beta != 1:
        sp = g.node("Div", [sp, g.name(float(beta), x)])
    return g.node("Where", [g.node("Greater", [bx, g.name(float(threshold), x)]), n, sp])


@converter("softmax")
def _softmax(g, op, x, dim):
    return g.node("Softmax", [g.name(x)], axis=int(dim))


@converter("log_softmax")
def _log_softmax(g, op, x, dim):
    return g.node("LogSoftmax", [g.name(x)], axis=int(dim))


@converter("dropout")
def _dropout(g, op, x, p, training):
    if training and p > 0:
        _unsupported(g, "dropout in training mode (a random mask)")
    return g.value(x)


# ---- shapes -------------------------------------------------------------------------------------

@converter("view", "reshape")
def _reshape(g, op, x, shape):
    shape = list(shape)
    allowzero = None
    if any(not isinstance(s, SymInt) and int(s) == 0 for s in shape):
        if g.opset < 14:
            _unsupported(g, "a reshape to a size-0 dim")
        allowzero = 1
    return g.node("Reshape", [g.name(x), g.shape_vec(shape)], allowzero=allowzero)


@converter("transpose")
def _transpose(g, op, x, d0, d1):
    n = x.dim()
    perm = list(range(n))
    a, b = _norm(d0, n), _norm(d1, n)
    perm[a], perm[b] = perm[b], perm[a]
    return g.node("Transpose", [g.name(x)], perm=perm)


@converter("permute")
def _permute(g, op, x, dims):
    return g.node("Transpose", [g.name(x)], perm=[_norm(int(d), x.dim()) for d in dims])


@converter("expand")
def _expand(g, op, x, sizes):
    # -1 keeps a dim: Expand broadcasts a target of 1 to the input's size
    sizes = [1 if (not isinstance(s, SymInt) and int(s) == -1) else s for s in sizes]
    return g.node("Expand", [g.name(x), g.shape_vec(sizes)])


@converter("squeeze")
def _squeeze(g, op, x, dims=None):
    shape = x.shape
    cand = range(x.dim()) if dims is None else [_norm(int(d), max(x.dim(), 1)) for d in dims]
    axes = []
    for d in cand:
        if x.dim() == 0:
            continue
        if d in g.dyn(x):
            _unsupported(g, f"squeeze of dim {d}, whose size depends on a dynamic axis")
        if shape[d] == 1:
            axes.append(d)
    return g.squeeze(g.name(x), axes) if axes else g.value(x)


@converter("unsqueeze")
def _unsqueeze(g, op, x, dim):
    return g.unsqueeze(g.name(x), [_norm(int(dim), x.dim() + 1)])


@converter("flatten")
def _flatten(g, op, x, start_dim=0, end_dim=-1):
    n = x.dim()
    if n == 0:
        return g.node("Reshape", [g.name(x), g.ints([1])])
    s, e = _norm(start_dim, n), _norm(end_dim, n)
    if s == e:
        return g.value(x)
    if e == n - 1 and s == 1:
        return g.node("Flatten", [g.name(x)], axis=1)
    # Reshape's 0 copies the input's dim at that position
    tail = [g.dim(x, d) for d in range(e + 1, n)]
    if all(isinstance(d, int) for d in tail):
        shape = g.ints([0] * s + [-1] + tail)
    else:
        parts = [g.ints([0] * s + [-1])] + [g.ints([d]) if isinstance(d, int) else g.unsqueeze(d, [0]) for d in tail]
        shape = g.node("Concat", parts, axis=0)
    return g.node("Reshape", [g.name(x), shape])


_BIG = 2 ** 62


def _bound(g, v, default):
    if v is None:
        return g.ints([default])
    if isinstance(v, SymInt):
        return g.unsqueeze(g.sym(v), [0])
    return g.ints([int(v)])


@converter("slice")
def _slice(g, op, x, dim, start=None, stop=None, step=1):
    step = g.static(step, "a slice step")
    d = _norm(int(dim), x.dim())
    if step > 0:
        starts, ends = _bound(g, start, 0), _bound(g, stop, _BIG)
    else:
        starts, ends = _bound(g, start, _BIG), _bound(g, stop, -_BIG)
    return g.node("Slice", [g.name(x), starts, ends, g.ints([d]), g.ints([step])])


@converter("select")
def _select(g, op, x, dim, index):
    return g.node("Gather", [g.name(x), g.sym(index)], axis=_norm(int(dim), x.dim()))


@converter("cat")
def _cat(g, op, tensors, dim=0):
    dt = _out(op).dtype
    parts = [t for t in tensors if not (t.dim() == 1 and t.shape[0] == 0 and len(tensors) > 1)]  # torch skips ()
    return g.node("Concat", [g.cast(t, dt) for t in parts], axis=_norm(int(dim), _out(op).dim()))


@converter("stack")
def _stack(g, op, tensors, dim=0):
    dt = _out(op).dtype
    d = _norm(int(dim), _out(op).dim())
    return g.node("Concat", [g.unsqueeze(g.cast(t, dt), [d]) for t in tensors], axis=d)


@converter("split", "split_size", "chunk")
def _split(g, op, x, _sizes, dim=0):
    d = _norm(int(dim), x.dim())
    if d in g.dyn(x):
        _unsupported(g, f"{op.name} along a dim whose size depends on a dynamic axis")
    sizes = [t.shape[d] for t in op.out]
    if len(sizes) == 1:
        return [g.value(x)]
    return g.node("Split", [g.name(x), g.ints(sizes)], n_out=len(sizes), axis=d)


# ---- reductions -------------------------------------------------------------------------------

def _axes(dims, n):
    return sorted({_norm(int(d), n) for d in (dims or [])})


def _reducer(onnx_op):
    def convert(g, op, x, dims=(), keepdim=False, *rest):
        out = _out(op)
        axes = _axes(dims, x.dim())
        if out.dtype == _C.dtype.bool:  # all / any: the min / max of 0s and 1s
            red = g.reduce(onnx_op, g.cast(x, _C.dtype.int64), axes, keepdim) if x.dim() else g.cast(x, _C.dtype.int64)
            return g.node("Cast", [red], to=onnx_dtype(_C.dtype.bool))
        n = g.cast(x, out.dtype)
        return g.reduce(onnx_op, n, axes, keepdim) if x.dim() else n
    return convert


for _n, _o in {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax", "amin": "ReduceMin",
               "logsumexp": "ReduceLogSumExp"}.items():
    CONVERTERS[_n] = _reducer(_o)


@converter("prod")
def _prod(g, op, x, dim=None, keepdim=False, dtype=None):  # the cast to dtype is the one to the result's
    n = g.cast(x, _out(op).dtype)
    return g.reduce("ReduceProd", n, [] if dim is None else [_norm(int(dim), x.dim())], keepdim)


@converter("max_dim", "min_dim")
def _max_dim(g, op, x, dim, keepdim=False):
    d = _norm(int(dim), max(x.dim(), 1))
    n = g.name(x)
    red, arg = ("ReduceMax", "ArgMax") if op.name == "max_dim" else ("ReduceMin", "ArgMin")
    return [g.reduce(red, n, [d], keepdim), g.node(arg, [n], axis=d, keepdims=int(keepdim))]


@converter("argmax", "argmin")
def _argmax(g, op, x, dim=None, keepdim=False):
    onnx_op = "ArgMax" if op.name == "argmax" else "ArgMin"
    if dim is None:
        out = g.node(onnx_op, [g.node("Reshape", [g.name(x), g.ints([-1])])], axis=0, keepdims=0)
        return g.node("Reshape", [out, g.ints([1] * x.dim())]) if keepdim else out
    return g.node(onnx_op, [g.name(x)], axis=_norm(int(dim), x.dim()), keepdims=int(keepdim))


def _count(g, x, axes, dt):
    """The number of elements reduced over axes, as a scalar of dtype dt."""
    dims = [g.dim(x, d) for d in (axes or range(x.dim()))]
    if all(isinstance(d, int) for d in dims):
        return g.name(float(np.prod(dims)), dt)
    total = None
    for d in dims:
        s = g.scalar(d)
        total = s if total is None else g.node("Mul", [total, s])
    return g.node("Cast", [total], to=onnx_dtype(dt))


@converter("var", "std")
def _var(g, op, x, dims, correction, keepdim=False):
    axes = _axes(dims, x.dim())
    n = g.name(x)
    mean = g.reduce("ReduceMean", n, axes, True)
    diff = g.node("Sub", [n, mean])
    ss = g.reduce("ReduceSum", g.node("Mul", [diff, diff]), axes, keepdim)
    denom = g.node("Sub", [_count(g, x, axes, x.dtype), g.name(float(correction), x)])
    var = g.node("Div", [ss, g.node("Max", [denom, g.name(0.0, x)])])
    return g.node("Sqrt", [var]) if op.name == "std" else var


@converter("cumsum")
def _cumsum(g, op, x, dim):
    return g.node("CumSum", [g.cast(x, _out(op).dtype), g.const(np.array(_norm(int(dim), x.dim()), np.int64))])


@converter("topk")
def _topk(g, op, x, k, dim=-1, largest=True):
    vals, idx = g.node("TopK", [g.name(x), g.unsqueeze(g.sym(k), [0])], n_out=2, axis=_norm(int(dim), x.dim()),
                       largest=int(bool(largest)), sorted=1)
    return [vals, idx]


@converter("sort")
def _sort(g, op, x, dim=-1, descending=False):
    d = _norm(int(dim), x.dim())
    k = g.dim(x, d)
    k = g.ints([k]) if isinstance(k, int) else g.unsqueeze(k, [0])
    vals, idx = g.node("TopK", [g.name(x), k], n_out=2, axis=d, largest=int(bool(descending)), sorted=1)
    return [vals, idx]


# ---- indexing -----------------------------------------------------------------------------------

@converter("getitem")
def _getitem(g, op, x, idx):
    items = list(idx) if isinstance(idx, tuple) else [idx]
    consumes = sum(1 for it in items if it is not None and it is not Ellipsis and not isinstance(it, bool))
    if sum(isinstance(it, (Tensor, list)) for it in items) > 1:
        _unsupported(g, "indexing with more than one index tensor")
    out, pos = g.name(x), 0
    for it in items:
        if it is Ellipsis:
            pos += x.dim() - consumes
        elif it is None:
            out = g.unsqueeze(out, [pos])
            pos += 1
        elif isinstance(it, bool):
            _unsupported(g, "indexing with a Python bool")
        elif isinstance(it, slice):
            if not (it.start is None and it.stop is None and it.step in (None, 1)):
                step = 1 if it.step is None else g.static(it.step, "a slice step")
                if step > 0:
                    s, e = _bound(g, it.start, 0), _bound(g, it.stop, _BIG)
                else:
                    s, e = _bound(g, it.start, _BIG), _bound(g, it.stop, -_BIG)
                out = g.node("Slice", [out, s, e, g.ints([pos]), g.ints([step])])
            pos += 1
        elif isinstance(it, (Tensor, list)):
            t = it if isinstance(it, Tensor) else None
            if t is not None and t.dtype == _C.dtype.bool:
                _unsupported(g, "indexing with a bool mask (its result's size depends on the data)")
            ind = g.name(t) if t is not None else g.const(np.array(it, np.int64))
            out = g.node("Gather", [out, ind], axis=pos)
            pos += t.dim() if t is not None else np.asarray(it).ndim
        else:  # an int
            out = g.node("Gather", [out, g.sym(it)], axis=pos)
    return out


@converter("index_select")
def _index_select(g, op, x, dim, index):
    ind = g.name(index)
    if index.dim() == 0:
        ind = g.unsqueeze(ind, [0])
    return g.node("Gather", [g.name(x), ind], axis=_norm(int(dim), x.dim()))


@converter("gather")
def _gather(g, op, x, dim, index):
    return g.node("GatherElements", [g.name(x), g.name(index)], axis=_norm(int(dim), x.dim()))


@converter("masked_fill")
def _masked_fill(g, op, x, mask, value):
    dt = _out(op).dtype
    v = g.cast(value, dt) if isinstance(value, Tensor) else g.name(float(value) if dt.is_floating_point else
                                                                    int(value), dt)
    return g.node("Where", [g.cast(mask, _C.dtype.bool), v, g.name(x)])


@converter("embedding")
def _embedding(g, op, weight, indices, padding_idx=None):
    return g.node("Gather", [g.name(weight), g.name(indices)], axis=0)


@converter("one_hot")
def _one_hot(g, op, t, num_classes=-1):
    if num_classes < 0:
        _unsupported(g, "one_hot with num_classes=-1 (the size comes from the data)")
    return g.node("OneHot", [g.name(t), g.ints([num_classes]), g.ints([0, 1])], axis=-1)


# ---- factories ------------------------------------------------------------------------------------

@converter("zeros", "empty", "full")
def _fill(g, op, shape, *rest):
    out = _out(op)
    value = 0.0 if op.name != "full" else rest[0]
    from ._graph import _NP
    return g.node("ConstantOfShape", [g.shape_vec(shape)],
                  value=g.numpy_helper.from_array(np.array([value], _NP[out.dtype])))


@converter("arange")
def _arange(g, op, start, end, step, dt):
    out = _out(op)
    return g.node("Range", [g.name(s, out.dtype) for s in (start, end, step)])


# ---- neural-network layers ------------------------------------------------------------------------

@converter("linear")
def _linear(g, op, x, w, b=None):
    if x.dim() == 2:
        inputs = [g.name(x), g.name(w)] + ([g.name(b)] if b is not None else [])
        return g.node("Gemm", inputs, transB=1)
    y = g.node("MatMul", [g.name(x), g.node("Transpose", [g.name(w)], perm=[1, 0]) if w.dim() == 2 else g.name(w)])
    return g.node("Add", [y, g.name(b)]) if b is not None else y


@converter("conv2d")
def _conv2d(g, op, x, w, b, stride, pad, dilation, groups):
    if x.dim() != 4:
        _unsupported(g, f"conv2d of a {x.dim()}-D input")
    top, bottom, left, right = (int(p) for p in pad)
    inputs = [g.name(x), g.name(w)] + ([g.name(b)] if b is not None else [])
    return g.node("Conv", inputs, kernel_shape=list(w.shape[2:]), strides=[int(s) for s in stride],
                  pads=[top, left, bottom, right], dilations=[int(d) for d in dilation], group=int(groups))


@converter("conv_transpose2d")
def _conv_transpose2d(g, op, x, w, b, stride, padding, output_padding, groups, dilation):
    if x.dim() != 4:
        _unsupported(g, f"conv_transpose2d of a {x.dim()}-D input")
    ph, pw = (int(p) for p in padding)
    inputs = [g.name(x), g.name(w)] + ([g.name(b)] if b is not None else [])
    return g.node("ConvTranspose", inputs, kernel_shape=list(w.shape[2:]), strides=[int(s) for s in stride],
                  pads=[ph, pw, ph, pw], output_padding=[int(p) for p in output_padding],
                  dilations=[int(d) for d in dilation], group=int(groups))


@converter("max_pool2d")
def _max_pool2d(g, op, x, k, s, pad, dilation, ceil_mode):
    ph, pw = (int(p) for p in pad)
    out = g.node("MaxPool", [g.name(x)], kernel_shape=[int(v) for v in k], strides=[int(v) for v in s],
                 pads=[ph, pw, ph, pw], dilations=[int(v) for v in dilation], ceil_mode=int(bool(ceil_mode)))
    return [out, None]  # pydl's indices count within each plane, ONNX's over the whole tensor


@converter("avg_pool2d")
def _avg_pool2d(g, op, x, k, s, pad, ceil_mode, count_include_pad, divisor_override=None):
    ph, pw = (int(p) for p in pad)
    if ceil_mode and (ph or pw) and count_include_pad:
        # the windows that hang over the padded edge are averaged differently by ONNX Runtime
        _unsupported(g, "avg_pool2d with ceil_mode, padding and count_include_pad together")
    out = g.node("AveragePool", [g.name(x)], kernel_shape=[int(v) for v in k], strides=[int(v) for v in s],
                 pads=[ph, pw, ph, pw], ceil_mode=int(bool(ceil_mode)),
                 count_include_pad=int(bool(count_include_pad or divisor_override)))
    if divisor_override:
        if ceil_mode:
            _unsupported(g, "avg_pool2d with divisor_override and ceil_mode")
        out = g.node("Mul", [out, g.name(float(k[0] * k[1]) / float(divisor_override), x)])
    return out


@converter("adaptive_avg_pool2d")
def _adaptive_avg_pool2d(g, op, x, osz):
    oh, ow = (int(v) for v in osz)
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", [g.name(x)])
    if {x.dim() - 2, x.dim() - 1} & g.dyn(x):
        _unsupported(g, f"adaptive_avg_pool2d to {(oh, ow)} over a dynamic height or width")
    h, w = x.shape[-2:]
    if h % oh or w % ow:
        _unsupported(g, f"adaptive_avg_pool2d from {(h, w)} to {(oh, ow)} (windows of unequal sizes)")
    kh, kw = h // oh, w // ow
    return g.node("AveragePool", [g.name(x)], kernel_shape=[kh, kw], strides=[kh, kw])


@converter("batch_norm")
def _batch_norm(g, op, x, mean, var, w, b, training, momentum, eps):
    if training or mean is None or var is None:
        _unsupported(g, "batch_norm with batch statistics (training mode or track_running_stats=False)")
    c = x.shape[1]
    scale = g.name(w) if w is not None else g.const(np.ones(c, _np(x)), hint="bn_scale")
    bias = g.name(b) if b is not None else g.const(np.zeros(c, _np(x)), hint="bn_bias")
    return g.node("BatchNormalization", [g.name(x), scale, bias, g.name(mean), g.name(var)], epsilon=float(eps))


def _np(t):
    from ._graph import _NP
    return _NP[t.dtype]


@converter("layer_norm")
def _layer_norm(g, op, x, shape, w=None, b=None, eps=1e-5):
    k = len(shape)
    axes = list(range(x.dim() - k, x.dim()))
    if g.opset >= 17:
        scale = g.name(w) if w is not None else g.const(np.ones(tuple(shape), _np(x)), hint="ln_scale")
        inputs = [g.name(x), scale] + ([g.name(b)] if b is not None else [])
        return g.node("LayerNormalization", inputs, axis=-k, epsilon=float(eps))
    n = g.name(x)
    diff = g.node("Sub", [n, g.reduce("ReduceMean", n, axes, True)])
    var = g.reduce("ReduceMean", g.node("Mul", [diff, diff]), axes, True)
    y = g.node("Div", [diff, g.node("Sqrt", [g.node("Add", [var, g.name(float(eps), x)])])])
    if w is not None:
        y = g.node("Mul", [y, g.name(w)])
    if b is not None:
        y = g.node("Add", [y, g.name(b)])
    return y


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@converter("pad")
def _pad(g, op, x, pad, mode="constant", value=0.0):
    if mode not in _PAD_MODES or (mode == "circular" and g.opset < 19):
        _unsupported(g, f"pad mode {mode!r}")
    n = x.dim()
    begins, ends = [0] * n, [0] * n
    for i in range(len(pad) // 2):
        d = n - 1 - i
        begins[d], ends[d] = g.static(pad[2 * i], "a pad width"), g.static(pad[2 * i + 1], "a pad width")
    inputs = [g.name(x), g.ints(begins + ends)]
    if mode == "constant":
        inputs.append(g.name(float(value) if x.dtype.is_floating_point else int(value), x))
    return g.node("Pad", inputs, mode=_PAD_MODES[mode])


# pydl (and PyTorch) keep gates in the order LSTM (i, f, g, o), GRU (r, z, n); ONNX wants
# LSTM (i, o, f, c) and GRU (z, r, h)
_GATE_ORDER = {2: [0, 3, 1, 2], 3: [1, 0, 2], 0: [0], 1: [0]}


def _gates(a, mode):
    parts = np.split(a, len(_GATE_ORDER[mode]), axis=0)
    return np.concatenate([parts[i] for i in _GATE_ORDER[mode]], axis=0)


def _rnn_weight(g, t, mode, hint):
    """A weight of an RNN in ONNX's gate order, with the leading num_directions axis."""
    v = g.value(t)
    if v.kind not in ("param", "const"):
        _unsupported(g, "a recurrent layer whose weights are computed from the inputs")
    from ._graph import to_numpy
    return _gates(to_numpy(t), mode)[None]


@converter("rnn_layer")
def _rnn_layer(g, op, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, lengths):
    if lengths is not None:
        _unsupported(g, "a recurrent layer over a PackedSequence")
    pname = g.param_names.get(id(w_ih), "rnn")
    base = pname.replace("weight_ih", "{}")
    hidden = w_hh.shape[1]
    W = g.initializer(_rnn_weight(g, w_ih, mode, pname), base.format("W"))
    R = g.initializer(_rnn_weight(g, w_hh, mode, pname), base.format("R"))
    dt = _np(x)
    gates = w_ih.shape[0]
    wb = _rnn_weight(g, b_ih, mode, pname) if b_ih is not None else np.zeros((1, gates), dt)
    rb = _rnn_weight(g, b_hh, mode, pname) if b_hh is not None else np.zeros((1, gates), dt)
    B = g.initializer(np.concatenate([wb, rb], axis=1), base.format("B"))
    inputs = [g.name(x), W, R, B, "", g.unsqueeze(g.name(h0), [0])]
    kw = {"hidden_size": hidden, "direction": "reverse" if reverse else "forward"}
    if mode == 2:
        onnx_op = "LSTM"
        inputs.append(g.unsqueeze(g.name(c0), [0]))
        n_out = 3
    elif mode == 3:
        onnx_op, n_out = "GRU", 2
        kw["linear_before_reset"] = 1  # PyTorch's GRU: r multiplies (W_hn h + b_hn)
    else:
        onnx_op, n_out = "RNN", 2
        kw["activations"] = ["Tanh" if mode == 0 else "Relu"]
    outs = g.node(onnx_op, inputs, n_out=n_out, **kw)
    y = g.squeeze(outs[0], [1])           # (T, 1, B, H) -> (T, B, H)
    h = g.squeeze(outs[1], [0])           # (1, B, H) -> (B, H)
    c = g.squeeze(outs[2], [0]) if mode == 2 else None
    return [y, h, c] if op.out[2] is not None else [y, h, None]
