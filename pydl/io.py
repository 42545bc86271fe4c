"""pydl.save / pydl.load: state dicts and checkpoints as safetensors files, and any picklable
object (whole modules, optimizers, user classes) in PyTorch's ``.pt`` zip format.

``save`` picks the format: ``format="safetensors"`` or ``format="pt"`` when given; otherwise
a ``.safetensors`` path gets safetensors, and so does any object safetensors can hold (tensors,
NumPy arrays and dicts / lists / tuples of them with numbers, strings and None: state dicts,
checkpoints); every other object is pickled into the ``.pt`` format (pydl/serialization.py).
``load`` tells the two apart by their first bytes, whatever the file is called.

Tensors (and NumPy arrays) go into the safetensors body under keys "t0", "t1", ...; the
structure around them (dicts, lists, tuples, numbers, strings, None, OrderedDicts, int keys of
optimizer state) goes as JSON into the header's metadata under "pydl". Writes are atomic: the
file is written to a temporary file in the same folder, fsynced and renamed over the target,
so an interrupted save leaves the previous file intact.
"""
import io as _io
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
        t = _as_tensor(arrays[node["__tensor__"]])
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


def _tmp_prefix(path):
    """Temporary files of a save to `path` are named .NAME.HOST-PID.XXXX.tmp: the writer's host
    and pid tell a later save whether the writer is still alive."""
    return "." + os.path.basename(path) + "."


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: someone else's live process
        return True
    return True


def _remove_stale_tmp(path, max_age_unknown=3600.0):
    """Removes what a killed writer (SIGKILL, power loss) left of an earlier save to `path`."""
    import socket
    import time

    folder = os.path.dirname(os.path.abspath(path))
    prefix, host = _tmp_prefix(path), socket.gethostname()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    now = time.time()
    for n in names:
        if not (n.startswith(prefix) and n.endswith(".tmp")):
            continue
        tag = n[len(prefix):-len(".tmp")].split(".")[0]
        h, _, pid = tag.rpartition("-")
        full = os.path.join(folder, n)
        try:
            if h and pid.isdigit():
                stale = h == host and not _pid_alive(int(pid))
            else:  # written by an older pydl, without host and pid: only when clearly abandoned
                stale = now - os.stat(full).st_mtime > max_age_unknown
            if stale:
                os.remove(full)
        except OSError:
            pass


def _write_atomic(path, data):
    import socket

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    _remove_stale_tmp(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{_tmp_prefix(path)}{socket.gethostname()}-{os.getpid()}.",
                               suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; a saved model gets open()'s usual mode
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


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True, *, format=None):  # noqa: A002
    """Saves ``obj`` to ``f`` as safetensors or in PyTorch's ``.pt`` format (see the module docstring).

    Args:
        obj: a tensor, a state dict, a checkpoint dict, or any picklable object (an nn.Module,
            an optimizer, ...).
        f: a path (replaced atomically) or a binary file object.
        pickle_protocol: the pickle protocol of the ``.pt`` format (2, as PyTorch).
        format: "safetensors", "pt", or None to choose by ``f``'s extension and ``obj``.
    """
    if pickle_module is not None and pickle_module is not __import__("pickle"):
        raise NotImplementedError("[save] pickle_module other than the standard pickle is not supported")
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("[save] _use_new_zipfile_serialization=False (PyTorch's legacy format) is not supported")
    if format not in (None, "safetensors", "pt"):
        raise ValueError(f"[save] format must be 'safetensors', 'pt' or None, got {format!r}")
    name = getattr(f, "name", None) if hasattr(f, "write") else os.fspath(f)
    if format is None and isinstance(name, str) and name.endswith(".safetensors"):
        format = "safetensors"
    data = None
    if format != "pt":
        try:
            data = _safetensors_bytes(obj)
        except TypeError:
            if format == "safetensors":
                raise
    if data is None:
        from .serialization import save_pt
        buf = _io.BytesIO()
        archive = os.path.splitext(os.path.basename(name))[0] if isinstance(name, str) and name else "archive"
        save_pt(obj, buf, pickle_protocol, archive or "archive")
        data = buf.getvalue()
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomic(f, data)


def _safetensors_bytes(obj):
    from safetensors.numpy import save as st_save

    tensors = {}
    structure = _encode(obj, tensors)
    meta = {"format": _FORMAT, "pydl": json.dumps(structure, allow_nan=True)}
    return st_save(tensors, metadata=meta)


# safetensors dtypes and what they load as: pydl's own dtypes as they are; the other common
# ones widened to the nearest pydl dtype (float16 / bfloat16 -> float32, small ints -> int64).
_ST_NATIVE = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "BOOL": np.bool_}
_ST_WIDENED = {"F16": (np.float16, np.float32), "BF16": (np.uint16, np.float32), "I32": (np.int32, np.int64),
               "I16": (np.int16, np.int64), "I8": (np.int8, np.int64), "U8": (np.uint8, np.int64),
               "U16": (np.uint16, np.int64), "U32": (np.uint32, np.int64)}


def _read_header(raw, name):
    if len(raw) < 8:
        raise ValueError(f"[load] {name} is not a safetensors file (only {len(raw)} bytes)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"[load] {name} is truncated or not a safetensors file (header of {n} bytes)")
    try:
        header = json.loads(raw[8:8 + n])
    except (ValueError, RecursionError) as e:
        raise ValueError(f"[load] {name} is not a safetensors file (header: {e})") from e
    if not isinstance(header, dict):
        raise ValueError(f"[load] {name} is not a safetensors file (its header is a {type(header).__name__}, not an object)")
    return header, 8 + n


def _read_tensors(raw, header, body_start, name):
    """The arrays of a safetensors file, each checked against the size of the file."""
    body = memoryview(raw)[body_start:]
    arrays = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        where = f"[load] {name}: tensor '{key}'"
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise ValueError(f"{where} has a damaged header entry: {info!r}")
        dt, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
            raise ValueError(f"{where} has an invalid shape {shape!r}")
        if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int) for o in offs)
                and 0 <= offs[0] <= offs[1] <= len(body)):
            raise ValueError(f"{where} has data offsets {offs!r} outside the file's {len(body)}-byte body "
                             "(the file is truncated or damaged)")
        if dt in _ST_NATIVE:
            src, dst = _ST_NATIVE[dt], None
        elif dt in _ST_WIDENED:
            src, dst = _ST_WIDENED[dt]
        else:
            raise TypeError(f"{where} has dtype {dt}, which pydl cannot load (it has float32, float64, int64 and bool; "
                            f"it widens {', '.join(sorted(_ST_WIDENED))})")
        count = 1
        for d in shape:
            count *= d
        if (offs[1] - offs[0]) != count * np.dtype(src).itemsize:
            raise ValueError(f"{where} of dtype {dt} and shape {tuple(shape)} needs {count * np.dtype(src).itemsize} "
                             f"bytes, the file holds {offs[1] - offs[0]}")
        arr = np.frombuffer(body[offs[0]:offs[1]], dtype=np.dtype(src).newbyteorder("<")).reshape(shape)
        if dt == "BF16":  # the top half of a float32 (NumPy has no bfloat16)
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = arr.astype(arr.dtype.newbyteorder("="), copy=True)  # writable, native, owned
        arrays[key] = arr
    return arrays


def _as_tensor(arr):
    """A pydl tensor of a loaded array, widened to the nearest pydl dtype where needed."""
    if arr.dtype.kind == "f" and arr.itemsize < 4:
        arr = arr.astype(np.float32)
    elif arr.dtype.kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    return _C.from_numpy(arr)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Loads what save() (or PyTorch's torch.save) wrote: a safetensors file or a ``.pt`` file.

    safetensors dtypes that pydl does not have are widened: F16 and BF16 load as float32; I8, I16,
    I32, U8, U16 and U32 as int64. Other dtypes (F8, U64, ...) raise a TypeError naming the key.

    Args:
        f: a path (or a binary file object).
        map_location: None, "cpu", a cpu device, or a dict mapping locations to "cpu" (tensors
            live on the CPU); another device raises RuntimeError.
        weights_only: for ``.pt`` files, unpickle only tensors, containers, plain values and the
            globals allowed by ``pydl.serialization.add_safe_globals`` (True, the default, as
            PyTorch >= 2.6); False unpickles anything, so use it only on files you trust.
            Safetensors files never run code and ignore it.
        mmap: accepted for PyTorch compatibility; the file is read into memory either way.
    """
    from .serialization import check_legacy, is_pt_file, load_pt

    if pickle_module is not None and pickle_module is not __import__("pickle"):
        raise NotImplementedError("[load] pickle_module other than the standard pickle is not supported")
    if pickle_load_args:
        raise TypeError(f"[load] unexpected keyword arguments: {sorted(pickle_load_args)}")
    if hasattr(f, "read"):
        raw, name = f.read(), getattr(f, "name", "<file>")
    else:
        name = os.fspath(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"[load] no such file: '{name}'")
        if os.path.isdir(name):
            raise IsADirectoryError(f"[load] '{name}' is a directory, not a file")
        with open(name, "rb") as fh:
            raw = fh.read()
    if is_pt_file(raw):
        return load_pt(raw, name, map_location, weights_only=weights_only is None or bool(weights_only))
    check_legacy(raw, name)
    header, body_start = _read_header(raw, name)
    arrays = _read_tensors(raw, header, body_start, name)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or "pydl" not in meta:
        return {k: _as_tensor(v) for k, v in arrays.items()}
    try:
        return _decode(json.loads(meta["pydl"]), arrays)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as e:
        what = f"names a tensor the file does not hold: {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
        raise ValueError(f"[load] {name}: the pydl structure in its metadata is damaged ({what})") from None
