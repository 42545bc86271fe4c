"""pydl.save / pydl.load: tensors, state dicts and checkpoints as safetensors files.

Tensors (and NumPy arrays) go into the safetensors body under keys "t0", "t1", ...; the
structure around them (dicts, lists, tuples, numbers, strings, None, OrderedDicts, int keys of
optimizer state) goes as JSON into the header's metadata under "pydl". Writes are atomic: the
file is written to a temporary file in the same folder, fsynced and renamed over the target,
so an interrupted save leaves the previous file intact.
"""
import json
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from . import _C
from ._C import Tensor

__all__ = ["save", "load"]

_FORMAT = "pydl.io/1"


def _contiguous(arr):
    # np.ascontiguousarray would turn a 0-d array into a 1-d one
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _encode(obj, tensors):
    if isinstance(obj, Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = _contiguous(obj.detach().numpy())
        node = {"__tensor__": key}
        if obj.requires_grad:
            node["requires_grad"] = True
        if type(obj).__name__ == "Parameter":
            node["parameter"] = True
        return node
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "OUSV":
            raise TypeError(f"[save] cannot store a NumPy array of dtype {obj.dtype}")
        key = f"t{len(tensors)}"
        tensors[key] = _contiguous(obj)
        return {"__ndarray__": key}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        items = [[_encode_key(k), _encode(v, tensors)] for k, v in obj.items()]
        return {"__dict__": items, "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, tensors) for v in obj]
    if isinstance(obj, set):
        return {"__set__": [_encode(v, tensors) for v in obj]}
    if isinstance(obj, _C.dtype):
        return {"__dtype__": str(obj)}
    raise TypeError(f"[save] cannot store an object of type {type(obj).__name__}: pydl.save takes tensors, NumPy "
                    "arrays, numbers, strings, None and dicts / lists / tuples of them (e.g. state_dict())")


def _encode_key(k):
    if isinstance(k, (str, bool, int, float)) or k is None:
        return k
    if isinstance(k, tuple):
        return {"__tuple__": [_encode_key(v) for v in k]}
    raise TypeError(f"[save] cannot store a dict key of type {type(k).__name__}")


def _decode_key(k):
    if isinstance(k, dict) and "__tuple__" in k:
        return tuple(_decode_key(v) for v in k["__tuple__"])
    return k


def _decode(node, arrays):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if "__tensor__" in node:
        arr = arrays[node["__tensor__"]]
        t = _C.from_numpy(arr)
        if node.get("parameter"):
            from .nn.parameter import Parameter
            return Parameter(t, bool(node.get("requires_grad", True)))
        if node.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__ndarray__" in node:
        return arrays[node["__ndarray__"]]
    if "__dict__" in node:
        d = OrderedDict() if node.get("ordered") else {}
        for k, v in node["__dict__"]:
            d[_decode_key(k)] = _decode(v, arrays)
        return d
    if "__tuple__" in node:
        return tuple(_decode(v, arrays) for v in node["__tuple__"])
    if "__set__" in node:
        return set(_decode(v, arrays) for v in node["__set__"])
    if "__dtype__" in node:
        return _C._parse_dtype(node["__dtype__"].replace("pydl.", ""))
    raise ValueError(f"[load] unknown node in metadata: {sorted(node)}")


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_atomic(path, data):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def save(obj, f):
    """Saves a tensor, a state dict or a checkpoint dict to `f` (a path) as a safetensors file.

    Args:
        obj: a tensor, NumPy array, or nested dicts / lists / tuples of them together with
            numbers, strings and None (model.state_dict(), optimizer.state_dict(), epoch, ...).
        f: the file path; it is replaced atomically.
    """
    from safetensors.numpy import save as st_save

    tensors = {}
    structure = _encode(obj, tensors)
    meta = {"format": _FORMAT, "pydl": json.dumps(structure, allow_nan=True)}
    data = st_save(tensors, metadata=meta)
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomic(f, data)


def _read_header(raw, name):
    if len(raw) < 8:
        raise ValueError(f"[load] {name} is not a safetensors file (only {len(raw)} bytes)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"[load] {name} is truncated or not a safetensors file (header of {n} bytes)")
    try:
        return json.loads(raw[8:8 + n])
    except ValueError as e:
        raise ValueError(f"[load] {name} is not a safetensors file ({e})") from e


def load(f, map_location=None, weights_only=None):
    """Loads what save() wrote (tensors come back as pydl tensors; a plain safetensors file loads
    as a dict of tensors).

    Args:
        f: a path (or a binary file object).
        map_location, weights_only: accepted for PyTorch compatibility (CPU only; nothing is unpickled).
    """
    from safetensors.numpy import load as st_load

    if hasattr(f, "read"):
        raw, name = f.read(), getattr(f, "name", "<file>")
    else:
        name = os.fspath(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"[load] no such file: '{name}'")
        with open(name, "rb") as fh:
            raw = fh.read()
    header = _read_header(raw, name)
    try:
        arrays = st_load(raw)
    except Exception as e:  # noqa: BLE001
        raise ValueError(f"[load] {name} is corrupt: {e}") from e
    arrays = {k: (v if v.flags.writeable else v.copy()) for k, v in arrays.items()}
    meta = header.get("__metadata__") or {}
    if "pydl" not in meta:
        return {k: _C.from_numpy(v) for k, v in arrays.items()}
    return _decode(json.loads(meta["pydl"]), arrays)
