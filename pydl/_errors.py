"""Op-named messages for calls with arguments of the wrong type.

The compiled core sends every call that matches none of a function's signatures here
(csrc/python/errors.cpp), and the Python layer wraps its public functions with `op_errors`;
both produce `[op] expected a Tensor for argument 'input', got NoneType`. Nothing here runs
on a successful call.
"""
import functools
import inspect
import re

import numpy as np

_HAS_PREFIX = re.compile(r"^\[[\w.]+\]")
_SIG_LINE = re.compile(r"^\s*\d+\.\s*\((.*)\)\s*->")


def _split_top(text, sep=","):
    """Splits on `sep` outside brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def _params(sig):
    """[(name, type, has_default)] of one pybind11 signature's parameter list."""
    out = []
    for p in _split_top(sig):
        if p.startswith("*"):
            out.append((p.split(":")[0].strip(), "object", True))
            continue
        name, _, rest = p.partition(":")
        typ, eq, _ = rest.partition(" = ")
        out.append((name.strip(), typ.strip(), bool(eq)))
    return out


def _is_int(v):
    if isinstance(v, (float, np.floating)):
        return False
    try:
        v.__index__()
        return True
    except (AttributeError, TypeError):
        return False


def _is_number(v):
    return _is_int(v) or isinstance(v, (float, np.floating)) or (hasattr(v, "__float__") and not isinstance(v, str))


def _accepts(typ, v):
    alts = [a.strip() for a in _split_top(typ, "|")]
    if len(alts) > 1:
        if "None" in alts and v is None:
            return True
        if "typing.SupportsInt" in alts and "typing.SupportsFloat" not in alts:
            return _is_int(v)
        if "typing.SupportsFloat" in alts:
            return _is_number(v)
        return any(_accepts(a, v) for a in alts if a != "None")
    from . import _C
    if typ == "pydl._C.Tensor":
        return isinstance(v, _C.Tensor)
    if typ == "pydl._C.dtype":
        return isinstance(v, _C.dtype)
    if typ == "bool":
        return isinstance(v, (bool, np.bool_))
    if typ == "str":
        return isinstance(v, str)
    if typ in ("typing.SupportsInt", "int"):
        return _is_int(v)
    if typ in ("typing.SupportsFloat", "float"):
        return _is_number(v)
    if typ == "numpy.ndarray":
        return isinstance(v, np.ndarray)
    m = re.match(r"^(?:collections\.abc\.Sequence|list|typing\.List)\[(.*)\]$", typ)
    if m:
        if isinstance(v, (str, bytes)) or not hasattr(v, "__len__") or not hasattr(v, "__getitem__"):
            return False
        try:
            return all(_accepts(m.group(1), x) for x in v)
        except Exception:  # noqa: BLE001 - a broken sequence is not a sequence
            return False
    return True  # object, callables and anything unknown: not the culprit


def _describe(typ):
    alts = [a.strip() for a in _split_top(typ, "|")]
    if "None" in alts and len(alts) > 1:
        return _describe(" | ".join(a for a in alts if a != "None")) + " or None"
    if "typing.SupportsFloat" in alts:
        return "a number"
    if "typing.SupportsInt" in alts:
        return "an int"
    m = re.match(r"^(?:collections\.abc\.Sequence|list|typing\.List)\[(.*)\]$", typ)
    if m:
        inner = _describe(m.group(1)).split(" ", 1)[-1]
        return f"a sequence of {inner}s"
    return {"pydl._C.Tensor": "a Tensor", "pydl._C.dtype": "a pydl dtype", "bool": "a bool", "str": "a string",
            "numpy.ndarray": "a NumPy array"}.get(typ, typ)


def _tname(v):
    return type(v).__name__


def _arg_label(name, typ, index):
    if re.fullmatch(r"arg\d+", name):
        return "'input'" if index == 0 and typ == "pydl._C.Tensor" else f"{index + 1}"
    return f"'{name}'"


def _first_bad(params, args, kwargs):
    """(position, label, expected, got) of the first argument that does not fit, or None."""
    for i, (name, typ, _) in enumerate(params):
        if name.startswith("*"):
            return None
        if i < len(args):
            v = args[i]
        elif name in kwargs:
            v = kwargs[name]
        else:
            continue
        if not _accepts(typ, v):
            got = _tname(v)
            if isinstance(v, (list, tuple)):
                inner = typ.partition("[")[2][:-1]
                bad = [x for x in v if inner and not _accepts(inner, x)]
                got += f" containing {_tname(bad[0])}" if bad else ""
            return i, _arg_label(name, typ, i), _describe(typ), got
    return None


def describe_bad_call(message, args, kwargs):
    """The text of the TypeError for a call of a compiled function that matched no signature."""
    name = message.split("(", 1)[0].strip()
    sigs = [m.group(1) for m in (_SIG_LINE.match(line) for line in message.splitlines()) if m]
    best = None
    for sig in sigs:
        params = _params(sig)
        bad = _first_bad(params, args, kwargs)
        if bad and (best is None or bad[0] > best[0]):
            best = bad
    if best is not None:
        _, label, expected, got = best
        return f"[{name}] expected {expected} for argument {label}, got {got}"
    got = ", ".join([_tname(a) for a in args] + [f"{k}={_tname(v)}" for k, v in kwargs.items()])
    wanted = " or ".join(f"({s})" for s in sigs) or "other arguments"
    return f"[{name}] invalid arguments ({got}); expected {wanted}"


# ---- the Python layer -------------------------------------------------------------------

_TENSOR_PARAMS = {"input", "other", "tensor", "self", "mat2", "vec2", "target", "x", "a", "b", "exponent", "condition",
                  "index", "src", "mask"}
_REWRAP = (TypeError, ValueError, IndexError, RuntimeError, AttributeError, KeyError, ZeroDivisionError,
           OverflowError, NotImplementedError, MemoryError)


def _explain(op, fn, args, kwargs, err):
    """The op-named message for `err`, raised by fn(*args, **kwargs) from inside the Python layer."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as e:  # wrong number or names of arguments
        return TypeError, f"[{op}] {e}"
    except ValueError:
        bound = None
    if bound is not None and isinstance(err, (AttributeError, TypeError)):
        from . import _C
        for pname, v in bound.arguments.items():
            if pname in _TENSOR_PARAMS and v is None or (pname in ("input", "self") and not isinstance(
                    v, (_C.Tensor, np.ndarray, list, tuple, int, float, bool, np.generic))):
                return TypeError, f"[{op}] expected a Tensor for argument '{pname}', got {_tname(v)}"
    if isinstance(err, KeyError):  # str(KeyError) quotes its text; an unknown option named
        return _OpKeyError, f"[{op}] unknown value {err.args[0]!r}" if err.args else f"[{op}] unknown key"
    kind = TypeError if isinstance(err, AttributeError) else type(err)
    return kind, f"[{op}] {err}"


class _OpKeyError(KeyError):
    """A KeyError whose str() is its message (KeyError's own str() adds quotes)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


_SELF_TYPE = "<type of self>"


def op_errors(fn, op=None):
    """Wraps a public Python function so that every exception it lets out names the op.

    Exceptions whose message already starts with "[" pass unchanged; others (an
    AttributeError for a None argument, a bare ValueError from NumPy) become
    "[op] expected a Tensor for argument 'input', got NoneType" or "[op] <message>".
    """
    name = op or getattr(fn, "__name__", "call")
    if getattr(fn, "_pydl_op_errors", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except _REWRAP as e:
            if _HAS_PREFIX.match(str(e)):
                raise
            # a constructor or forward inherited from a base class names the class called
            here = name
            if op is _SELF_TYPE and args:
                here = args[0].__name__ if isinstance(args[0], type) else type(args[0]).__name__
            kind, text = _explain(here, fn, args, kwargs, e)
            try:
                new = kind(text)
            except Exception:  # noqa: BLE001 - a type with another constructor (numpy's UFuncTypeError)
                new = next(b for b in kind.__mro__ if b in _REWRAP)(text)
            raise new from e

    wrapper._pydl_op_errors = True
    return wrapper


def _wrap_namespace(ns, names=None):
    """Wraps the Python functions among ns's public attributes (in place)."""
    for name in list(names if names is not None else vars(ns)):
        if name.startswith("_"):
            continue
        fn = getattr(ns, name, None)
        if inspect.isfunction(fn) and getattr(fn, "__module__", "").startswith("pydl"):
            setattr(ns, name, op_errors(fn, name))


def install_op_errors():
    """Makes every public function of pydl, pydl.nn.functional and the nn layers' constructors and forward
    raise op-named errors (called once by pydl; Tensor's Python methods are wrapped as the registry,
    pydl/_tensor_methods.py, attaches them)."""
    import pydl
    from . import special
    from .nn import functional, modules
    from .nn.modules.module import Module

    _wrap_namespace(pydl)
    _wrap_namespace(functional)
    _wrap_namespace(special)
    # constructors of pydl's Python classes (device, no_grad, ...) and of every nn layer, with
    # the layers' forward: named after the class the user called
    classes = {v for v in vars(pydl).values() if isinstance(v, type) and v.__module__.startswith("pydl")}

    def subclasses(c):
        for s in c.__subclasses__():
            if s.__module__.startswith("pydl."):
                yield s
                yield from subclasses(s)

    classes |= {Module, *subclasses(Module)}
    for cls in classes:
        meths = ("__init__",)
        if issubclass(cls, Module):
            meths = ("__init__", "forward") if cls is Module else ("__init__", "forward", "__call__")
        for meth in meths:
            fn = cls.__dict__.get(meth) if issubclass(cls, Module) else getattr(cls, meth, None)
            if inspect.isfunction(fn):
                setattr(cls, meth, op_errors(fn, _SELF_TYPE))
        new = cls.__dict__.get("__new__")
        if isinstance(new, staticmethod) and inspect.isfunction(new.__func__):
            cls.__new__ = staticmethod(op_errors(new.__func__, _SELF_TYPE))
