"""PyTorch's ``.pt`` file format (a zip of ``data.pkl`` plus one record per storage), read and
written without PyTorch, and the ``weights_only`` safe unpickler with its allowlist.

A ``.pt`` file is an uncompressed zip whose records sit under one folder (``archive/``):
``data.pkl`` is a protocol-2 pickle of the saved object in which every tensor is the call
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)`` and
every storage a persistent id ``("storage", torch.FloatStorage, key, "cpu", numel)`` whose
bytes are the record ``data/<key>``. pydl writes tensors, parameters, dtypes, ``Size`` and
``device`` under those PyTorch names, so a state dict that pydl saves as ``.pt`` loads in
PyTorch and one PyTorch saved loads here; any other object (a whole ``nn.Module``, an
optimizer, a user class) is pickled under its own pydl / user module path.

``weights_only=True`` (the default of ``pydl.load``, as of PyTorch 2.6) unpickles only
tensors, containers, numbers, strings and the globals added with ``add_safe_globals`` /
``safe_globals``: loading a file from an untrusted source then runs no code of its choosing.
"""
import _compat_pickle
import collections
import contextlib
import io
import os
import pickle
import struct
import zipfile

import numpy as np

from . import _C
from ._C import Tensor

__all__ = ["add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals", "is_pt_file"]

_ZIP_MAGIC = b"PK\x03\x04"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # PyTorch's pre-1.6 (non-zip) format starts with this pickled int

# storage class name <-> numpy dtype; the four pydl dtypes come back as they are, the others
# PyTorch writes are widened losslessly to the pydl dtype of their kind
_STORAGE_TO_NUMPY = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64, "BoolStorage": np.bool_,
    "HalfStorage": np.float16, "BFloat16Storage": "bfloat16", "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "UntypedStorage": np.uint8,
}
_DTYPE_TO_STORAGE = {"float32": "FloatStorage", "float64": "DoubleStorage", "int64": "LongStorage",
                     "bool": "BoolStorage"}
_WIDEN = {"f": np.float32, "i": np.int64, "u": np.int64, "b": np.bool_}


# ---- the weights_only allowlist ------------------------------------------------------------

_user_safe_globals = {}  # "module.qualname" -> object, from add_safe_globals


def _global_name(obj):
    if isinstance(obj, tuple):
        obj, name = obj
        return name, obj
    mod, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if mod is None or qual is None:
        raise TypeError(f"[add_safe_globals] expected classes or functions (or (object, 'module.name') pairs), got {obj!r}")
    return f"{mod}.{qual}", obj


def add_safe_globals(safe_globals):
    """Allows these classes / functions in files loaded with ``weights_only=True``.

    Args:
        safe_globals: a list of classes or functions, or of ``(object, "module.name")`` pairs for
            objects pickled under another name.
    """
    for g in safe_globals:
        name, obj = _global_name(g)
        _user_safe_globals[name] = obj


def get_safe_globals():
    """The objects added with ``add_safe_globals``."""
    return list(_user_safe_globals.values())


def clear_safe_globals():
    """Removes every object added with ``add_safe_globals``."""
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Within the block, also allows ``safe_globals`` in ``weights_only=True`` loads."""
    saved = dict(_user_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_safe_globals.clear()
        _user_safe_globals.update(saved)


# ---- writing ---------------------------------------------------------------------------

class _Global:
    """A global written into the pickle by name (PyTorch's names, which need no torch to write)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce wants a callable; this one is never called
        raise RuntimeError(f"{self.module}.{self.name} is only a name to pickle")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_TORCH_SIZE = _Global("torch", "Size")
_TORCH_DEVICE = _Global("torch", "device")
_ORDERED_DICT = collections.OrderedDict


class _Storage:
    """The bytes of one tensor on their way to the ``data/<key>`` record."""

    def __init__(self, array):
        self.array = array


class _Pickler(pickle._Pickler):  # the Python pickler: it lets save() write globals by name
    def __init__(self, file, protocol, storages):
        super().__init__(file, protocol)
        self._storages = storages  # key -> contiguous numpy array
        self._keys = {}  # id(_Storage) -> (key, the _Storage)

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            memo = self.memo.get(id(obj))
            if memo is not None:
                self.write(self.get(memo[0]))
                return
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
            self.memoize(obj)  # the memo keeps obj alive, so its id is not reused during the dump
            return
        if isinstance(obj, _C.dtype):
            return self.save(_Global("torch", str(obj).replace("pydl.", "")))
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if not isinstance(obj, _Storage):
            return None
        if id(obj) in self._keys:
            key = self._keys[id(obj)][0]
        else:
            key = str(len(self._storages))
            self._keys[id(obj)] = (key, obj)  # holding obj keeps its id from being reused
            self._storages[key] = obj.array
        storage_type = _Global("torch", _DTYPE_TO_STORAGE[obj.array.dtype.name])
        return ("storage", storage_type, key, "cpu", int(obj.array.size))

    def reducer_override(self, obj):
        from ._size import Size
        from ._tensor import device
        if isinstance(obj, Tensor):
            if type(obj).__name__ == "Parameter":
                return (_REBUILD_PARAMETER, (obj.detach(), obj.requires_grad, _ORDERED_DICT()))
            arr = np.ascontiguousarray(obj.detach().numpy()).reshape(-1)
            shape = tuple(obj.shape)
            stride = tuple(int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape)))
            return (_REBUILD_TENSOR, (_Storage(arr), 0, shape, stride, obj.requires_grad, _ORDERED_DICT()))
        if isinstance(obj, Size):
            return (_TORCH_SIZE, (tuple(obj),))
        if isinstance(obj, device):
            return (_TORCH_DEVICE, (str(obj),))
        return NotImplemented


def _write_record(zf, name, data):
    # PyTorch aligns each record's data to 64 bytes (it mmaps storages); pad the local
    # header's extra field the same way, with its "FB" padding id
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = zf.fp.tell() + 30 + len(name.encode("utf-8"))
    pad = (-(start + 4)) % 64
    info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    zf.writestr(info, data)


def save_pt(obj, f, pickle_protocol=2, archive="archive"):
    """Writes ``obj`` in PyTorch's zip format to the binary file object ``f``, its records under
    ``archive/`` (PyTorch names the folder after the file: "model" for model.pt)."""
    if pickle_protocol < 2:
        raise ValueError(f"[save] pickle_protocol must be at least 2, got {pickle_protocol}")
    storages = {}
    buf = io.BytesIO()
    try:
        _Pickler(buf, pickle_protocol, storages).dump(obj)
    except (pickle.PicklingError, TypeError, AttributeError) as e:
        raise TypeError(f"[save] cannot pickle {type(obj).__name__}: {e}") from e
    archive = "".join(c if c.isalnum() or c in "_-" else "_" for c in archive) or "archive"
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_record(zf, f"{archive}/data.pkl", buf.getvalue())
        _write_record(zf, f"{archive}/byteorder", b"little")
        for key, arr in storages.items():
            _write_record(zf, f"{archive}/data/{key}", arr.tobytes())
        _write_record(zf, f"{archive}/version", b"3\n")
        _write_record(zf, f"{archive}/.data/serialization_id", b"pydl")


# ---- reading ---------------------------------------------------------------------------

class _StorageType:
    """What ``torch.FloatStorage`` and its kin stand for when reading: the dtype of the bytes."""

    def __init__(self, name):
        self.name = name
        self.np_dtype = _STORAGE_TO_NUMPY[name]


def _to_supported(arr):
    """``arr`` itself for pydl's four dtypes; PyTorch's others widened to float32 / int64."""
    if arr.dtype in (np.float32, np.float64, np.int64, np.bool_):
        return arr
    return arr.astype(_WIDEN[arr.dtype.kind])


def _bfloat16_to_float32(raw):
    return (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    itemsize = storage.itemsize
    n = len(size)
    if any(s == 0 for s in size):
        arr = np.zeros(size, dtype=storage.dtype)
    else:
        span = 1 + sum((sz - 1) * st for sz, st in zip(size, stride))
        if storage_offset < 0 or storage_offset + span > storage.size or any(st < 0 for st in stride):
            raise ValueError(f"[load] a tensor of size {tuple(size)} and stride {tuple(stride)} at offset "
                             f"{storage_offset} does not fit its storage of {storage.size} elements")
        arr = np.lib.stride_tricks.as_strided(storage[storage_offset:], shape=tuple(size),
                                              strides=tuple(st * itemsize for st in stride)) if n else \
            storage[storage_offset:storage_offset + 1].reshape(())
    arr = _to_supported(arr)
    t = _C.from_numpy(arr) if arr.flags.writeable and all(s >= 0 for s in arr.strides) else _C._to_tensor(arr, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    return _rebuild_tensor(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata)


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    from .nn.parameter import Parameter
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad)
    for k, v in (state or {}).items():
        setattr(p, k, v)
    return p


def _rebuild_from_type_v2(func, new_type, args, state):
    from .nn.parameter import Parameter
    ret = func(*args)
    if new_type is Parameter and not isinstance(ret, Parameter):
        ret = Parameter(ret, ret.requires_grad)
    for k, v in (state or {}).items():
        setattr(ret, k, v)
    return ret


def _torch_names():
    """PyTorch's globals that a tensor file holds, and what each becomes here."""
    from ._size import Size
    from ._tensor import device
    from .nn.parameter import Parameter
    names = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch", "Size"): Size,
        ("torch", "device"): device,
        ("torch", "Tensor"): Tensor,
        ("torch.nn.parameter", "Parameter"): Parameter,
        ("torch", "float32"): _C.dtype.float32, ("torch", "float"): _C.dtype.float32,
        ("torch", "float64"): _C.dtype.float64, ("torch", "double"): _C.dtype.float64,
        ("torch", "int64"): _C.dtype.int64, ("torch", "long"): _C.dtype.int64,
        ("torch", "bool"): _C.dtype.bool,
    }
    for s in _STORAGE_TO_NUMPY:
        names[("torch", s)] = _StorageType(s)
        names[("torch.storage", s)] = _StorageType(s)
    return names


# non-torch globals a weights_only load accepts (PyTorch's list, less what pydl has no use for)
_SAFE_BUILTINS = {
    ("collections", "OrderedDict"), ("collections", "Counter"), ("collections", "defaultdict"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray"), ("builtins", "complex"),
    ("builtins", "slice"), ("builtins", "range"), ("_codecs", "encode"),
    ("pydl._size", "Size"), ("pydl._tensor", "device"),
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, read_record, weights_only, name):
        super().__init__(file)
        self._read_record = read_record
        self._weights_only = weights_only
        self._name = name
        self._torch = _torch_names()
        self._storages = {}

    def find_class(self, module, name):
        # protocol-2 pickles name Python 2's modules (__builtin__.set): map them as pickle does
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        mapped = self._torch.get((module, name))
        if mapped is not None:
            return mapped
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(
                f"[load] {self._name} pickles the PyTorch object {module}.{name}, which pydl cannot rebuild: save "
                "its state_dict() in PyTorch and load that into the pydl model instead")
        if self._weights_only:
            key = f"{module}.{name}"
            if key in _user_safe_globals:
                return _user_safe_globals[key]
            if (module, name) not in _SAFE_BUILTINS:
                raise pickle.UnpicklingError(
                    f"[load] weights_only load of {self._name} failed: it pickles the global {key}, which is not "
                    "allowed (weights_only=True unpickles only tensors, containers and plain values). If you trust "
                    f"the file, load it with weights_only=False, or allow the class with "
                    f"pydl.serialization.add_safe_globals([{name}]) or the pydl.serialization.safe_globals([...]) "
                    "context manager")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"[load] {self._name}: unknown persistent id {pid!r}")
        _, storage_type, key, location, numel = pid
        if key in self._storages:
            return self._storages[key]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"[load] {self._name}: unknown storage type {storage_type!r}")
        raw = self._read_record(f"data/{key}")
        if storage_type.np_dtype == "bfloat16":
            arr = _bfloat16_to_float32(raw)
        else:
            arr = np.frombuffer(bytearray(raw), dtype=storage_type.np_dtype)
        self._storages[key] = arr
        return arr


def is_pt_file(raw):
    """True when the bytes ``raw`` start like a zip file (PyTorch's format since 1.6)."""
    return raw[:4] == _ZIP_MAGIC


def _check_map_location(map_location):
    from ._tensor import device
    if map_location is None:
        return
    if callable(map_location) and not isinstance(map_location, device):
        raise NotImplementedError("[load] map_location as a function is not supported; pydl tensors live on the CPU, "
                                  "so pass map_location='cpu' or leave it out")
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for t in targets:
        if device(t).type != "cpu":
            raise RuntimeError(f"[load] map_location={map_location!r}: device {t} is not available, this pydl build "
                               "runs on the CPU only")


def load_pt(raw, name, map_location=None, weights_only=True):
    """Reads a PyTorch zip-format file from the bytes ``raw`` (see the module docstring)."""
    _check_map_location(map_location)
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        names = zf.namelist()
    except (zipfile.BadZipFile, ValueError) as e:
        raise ValueError(f"[load] {name} is a corrupt .pt (zip) file: {e}") from e
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkl:
        raise ValueError(f"[load] {name} is a zip file but not a PyTorch .pt file (no <archive>/data.pkl record)")
    prefix = pkl[0][: -len("data.pkl")]
    byteorder = prefix + "byteorder"
    if byteorder in names and zf.read(byteorder).strip() not in (b"little", b""):
        raise ValueError(f"[load] {name} was written on a big-endian machine, which pydl does not read")

    def read_record(rec):
        try:
            return zf.read(prefix + rec)
        except KeyError:
            raise ValueError(f"[load] {name} is corrupt: record {prefix + rec} is missing") from None

    try:
        return _Unpickler(io.BytesIO(zf.read(pkl[0])), read_record, weights_only, name).load()
    except (pickle.UnpicklingError, ValueError, NotImplementedError, RuntimeError, TypeError, ImportError,
            AttributeError):
        raise
    except Exception as e:  # noqa: BLE001 - e.g. EOFError / struct errors from a truncated pickle
        raise ValueError(f"[load] {name} is corrupt: {type(e).__name__}: {e}") from e


def check_legacy(raw, name):
    """Raises a clear error for PyTorch's pre-1.6 format (a bare pickle starting with its magic number)."""
    if raw[:14] == b"\x80\x02\x8a\x0a" + _LEGACY_MAGIC.to_bytes(10, "little"):
        raise ValueError(f"[load] {name} is in PyTorch's legacy (pre-1.6) format, which pydl does not read: load "
                         "it in PyTorch and save it again with torch.save (the zip format)")
