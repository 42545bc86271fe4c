"""Keras 3's file formats: `.keras` archives (config.json + metadata.json + model.weights.h5)
and `.weights.h5` files, read and written in Keras's own layer names, arguments, weight
layouts and h5 group names, so files move between pydl and Keras 3 both ways.

h5py is needed for these formats (`pip install pydl[keras]`); pydl's own safetensors weights
(`save_weights("w.safetensors")`) need nothing more.
"""
import datetime
import io
import json
import os
import tempfile
import zipfile

import numpy as np

from . import initializers as _inits
from . import losses as _losses
from . import optimizers as _optimizers
from .engine import KerasTensor, flatten
from .layers.core import InputLayer, Layer, to_snake_case

__all__ = ["register_keras_serializable", "get_registered_object", "get_registered_name", "serialize",
           "deserialize", "save_model", "load_model", "save_weights", "load_weights", "serialize_keras_object",
           "deserialize_keras_object"]

_KERAS_VERSION = "3.15.1"
_REGISTRY = {}


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("[keras] .keras and .weights.h5 files need h5py: pip install h5py (or pydl[keras])") \
            from None
    return h5py


def register_keras_serializable(package="Custom", name=None):
    """Decorator: makes a layer / model class loadable from a .keras file by its registered name
    ('package>Name'), as Keras's."""
    def decorator(cls):
        key = f"{package}>{name or cls.__name__}"
        if key in _REGISTRY and _REGISTRY[key] is not cls:
            raise ValueError(f"[register_keras_serializable] {key!r} is already registered")
        _REGISTRY[key] = cls
        cls._registered_name = key
        return cls
    return decorator


def get_registered_object(name, custom_objects=None, module_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _REGISTRY.get(name)


def get_registered_name(obj):
    return getattr(obj, "_registered_name", None) or getattr(obj, "__name__", type(obj).__name__)


# ---- configs ---------------------------------------------------------------------------------

def _class_info(obj):
    from .models import Functional, Sequential
    cls = type(obj)
    reg = cls.__dict__.get("_registered_name")
    if reg is not None:
        return cls.__module__, cls.__name__, reg
    if isinstance(obj, Functional) and cls is Functional:
        return "keras.src.models.functional", "Functional", "Functional"
    if cls is Sequential:
        return "keras", "Sequential", None
    if not cls.__module__.startswith("pydl.keras"):
        raise ValueError(f"[save] {cls.__name__} is a custom class: decorate it with "
                         "@keras.saving.register_keras_serializable() (and give it get_config) to save it")
    return getattr(cls, "_keras_module", "keras.layers"), cls.__name__, None


def serialize(layer):
    """A layer or model -> Keras's serialized dict (module, class_name, config, build_config)."""
    module, class_name, registered = _class_info(layer)
    out = {"module": module, "class_name": class_name, "config": layer.get_config(), "registered_name": registered}
    bc = layer._build_config()
    if bc is not None:
        out["build_config"] = bc
    return out


serialize_keras_object = serialize


def _lookup(entry, custom_objects=None):
    from . import layers as _layers, models as _models
    name = entry.get("class_name")
    reg = entry.get("registered_name")
    custom_objects = custom_objects or {}
    for key in (reg, name):
        if key and key in custom_objects:
            return custom_objects[key]
        if key and key in _REGISTRY:
            return _REGISTRY[key]
    if name in ("Functional", "Model"):
        return _models.Functional
    if name == "Sequential":
        return _models.Sequential
    cls = getattr(_layers, name, None)
    if isinstance(cls, type) and issubclass(cls, Layer):
        return cls
    raise ValueError(f"[load_model] unknown layer class {name!r} (registered name {reg!r}); pydl.keras has no such "
                     "layer. Custom classes need @register_keras_serializable or custom_objects=")


def deserialize(entry, custom_objects=None):
    """Keras's serialized dict -> a layer or model."""
    cls = _lookup(entry, custom_objects)
    from .models import Functional, Sequential
    cfg = entry.get("config", {})
    if issubclass(cls, (Functional, Sequential)):
        obj = cls.from_config(cfg, custom_objects)
    else:
        obj = cls.from_config(cfg)
    return obj


deserialize_keras_object = deserialize


def _tensor_config(t, reindex):
    layer, node_index, tensor_index = t._keras_history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": t.dtype,
                       "keras_history": [layer.name, reindex[(id(layer), node_index)], tensor_index]}}


def _ser_args(value, reindex):
    if isinstance(value, KerasTensor):
        return _tensor_config(value, reindex)
    if isinstance(value, dict):
        return {k: _ser_args(v, reindex) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_ser_args(v, reindex) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise ValueError(f"[save] a layer call argument of type {type(value).__name__} cannot be saved")


def functional_config(model):
    in_model = set(model._nodes)
    reindex = {}
    for layer in model.layers:
        k = 0
        for i, node in enumerate(layer._inbound_nodes):
            if node in in_model:
                reindex[(id(layer), i)] = k
                k += 1
    layers = []
    for layer in model.layers:
        entry = serialize(layer)
        entry["name"] = layer.name
        nodes = [n for n in layer._inbound_nodes if n in in_model and not n.is_input]
        entry["inbound_nodes"] = [{"args": _ser_args(list(n.args), reindex), "kwargs": _ser_args(n.kwargs, reindex)}
                                  for n in nodes]
        layers.append(entry)

    def refs(struct):
        if isinstance(struct, KerasTensor):
            return [_tensor_ref(struct, reindex)]
        if isinstance(struct, dict):
            return {k: _tensor_ref(v, reindex) for k, v in struct.items()}
        return [_tensor_ref(t, reindex) for t in struct]

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": refs(model._inputs_struct), "output_layers": refs(model._outputs_struct)}


def _tensor_ref(t, reindex):
    layer, node_index, tensor_index = t._keras_history
    return [layer.name, reindex[(id(layer), node_index)], tensor_index]


def functional_from_config(config, custom_objects=None):
    from .models import Functional
    created = {}
    pending = []
    for entry in config["layers"]:
        layer = deserialize(entry, custom_objects)
        name = entry.get("name", layer.name)
        if layer.name != name:
            layer.name = name
        created[name] = layer
        for node in entry.get("inbound_nodes", []):
            pending.append((layer, node))

    def tensor(name, node_index, tensor_index):
        layer = created.get(name)
        if layer is None or node_index >= len(layer._inbound_nodes):
            raise _NotReady
        return layer._inbound_nodes[node_index].outputs[tensor_index]

    def des(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return tensor(*value["config"]["keras_history"])
        if isinstance(value, dict):
            return {k: des(v) for k, v in value.items()}
        if isinstance(value, list):
            return [des(v) for v in value]
        return value

    while pending:
        left = []
        for layer, node in pending:
            try:
                if isinstance(node, dict) and "args" in node:
                    args, kwargs = des(node["args"]), des(node.get("kwargs", {}))
                else:  # Keras 2 style [[name, node, tensor, kwargs], ...]
                    ins = [tensor(n[0], n[1], n[2]) for n in node]
                    args, kwargs = [ins[0] if len(ins) == 1 else ins], {}
            except _NotReady:
                left.append((layer, node))
                continue
            # Keras records the training flag its symbolic call saw; when run, the model's mode decides
            kwargs = {k: v for k, v in kwargs.items() if k not in ("mask", "training")}
            layer(*args, **kwargs)
        if len(left) == len(pending):
            raise ValueError(f"[load_model] the graph of {config.get('name')!r} cannot be rebuilt: layers "
                             f"{sorted({l.name for l, _ in left})} wait for inputs that never come")
        pending = left

    def refs(struct):
        if isinstance(struct, list) and len(struct) == 3 and isinstance(struct[0], str):
            return tensor(*struct)
        if isinstance(struct, dict):
            return {k: refs(v) for k, v in struct.items()}
        return [refs(v) for v in struct]

    inputs, outputs = refs(config["input_layers"]), refs(config["output_layers"])
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return Functional(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


class _NotReady(Exception):
    pass


def sequential_config(model):
    layers = []
    if model._input_layer is not None or model._input_shape is not None:
        il = model._input_layer
        layers.append(serialize(il) if il is not None else {
            "module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
            "config": {"batch_shape": [None] + list(model._input_shape), "dtype": "float32", "sparse": False,
                       "ragged": False, "name": f"{model.name}_input", "optional": False}})
    layers += [serialize(layer) for layer in model.layers]
    cfg = {"name": model.name, "trainable": model.trainable, "dtype": _inits_dtype(), "layers": layers}
    if model._input_shape is not None:
        cfg["build_input_shape"] = [None] + list(model._input_shape)
    return cfg


def _inits_dtype():
    from .layers.core import _DTYPE_POLICY
    return dict(_DTYPE_POLICY)


def sequential_from_config(config, custom_objects=None):
    from .models import Sequential
    model = Sequential(name=config.get("name"), trainable=config.get("trainable", True))
    for entry in config["layers"]:
        layer = deserialize(entry, custom_objects)
        model.add(layer)
    if not model.built and config.get("build_input_shape"):
        model.build(tuple(config["build_input_shape"]))
    return model


# ---- compile config --------------------------------------------------------------------------

_OPT_KEYS = {"SGD": ("learning_rate", "momentum", "nesterov", "weight_decay"),
             "Adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "weight_decay"),
             "AdamW": ("learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"),
             "RMSprop": ("learning_rate", "rho", "momentum", "epsilon", "centered", "weight_decay"),
             "Adagrad": ("learning_rate", "initial_accumulator_value", "epsilon", "weight_decay"),
             "Adadelta": ("learning_rate", "rho", "epsilon", "weight_decay")}


def _ser_loss(spec):
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return {k: _ser_loss(v) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_ser_loss(v) for v in spec]
    if isinstance(spec, _losses.Loss) and type(spec).__module__.startswith("pydl.keras"):
        cfg = {"name": spec.name, "reduction": "sum_over_batch_size"}
        if hasattr(spec, "from_logits") and not isinstance(spec, (_losses.MeanSquaredError,
                                                                 _losses.MeanAbsoluteError)):
            cfg["from_logits"] = bool(spec.from_logits)
        return {"module": "keras.losses", "class_name": type(spec).__name__, "config": cfg, "registered_name": None}
    raise _NoCompile


class _NoCompile(Exception):
    pass


def compile_config(model):
    """Keras's compile_config, or None when the optimizer / losses are not Keras-serializable."""
    cc = getattr(model, "_compile_config", None)
    if not cc:
        return None
    try:
        opt = _optimizers.get(cc["optimizer"]) if not hasattr(cc["optimizer"], "param_groups") else None
        if opt is None:
            raise _NoCompile
        cls = type(opt).__name__
        ocfg = {"name": to_snake_case(cls) if cls != "RMSprop" else "rmsprop"}
        for k in _OPT_KEYS[cls]:
            v = getattr(opt, k)
            ocfg[k] = None if (k == "weight_decay" and not v and cls != "AdamW") else v
        metrics = cc["metrics"]
        for m in flatten(metrics or []):
            if m is not None and not isinstance(m, str):
                raise _NoCompile
        return {"optimizer": {"module": "keras.optimizers", "class_name": cls, "config": ocfg,
                              "registered_name": None},
                "loss": _ser_loss(cc["loss"]), "loss_weights": cc["loss_weights"], "metrics": metrics,
                "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}
    except (_NoCompile, KeyError):
        return None


def _compile_from_config(model, cc):
    opt = cc.get("optimizer")
    if isinstance(opt, dict):
        cls = getattr(_optimizers, opt.get("class_name"), None)
        if cls is None or not isinstance(cls, type):
            raise ValueError(f"[load_model] unknown optimizer {opt.get('class_name')!r}")
        ocfg = opt.get("config", {})
        for k in ("clipnorm", "clipvalue", "global_clipnorm"):
            if ocfg.get(k) is not None:
                raise NotImplementedError(f"[load_model] the optimizer's {k} is not supported by pydl.keras")
        keys = _OPT_KEYS.get(opt["class_name"], ("learning_rate",))
        lr = ocfg.get("learning_rate", 0.001)
        if isinstance(lr, dict):
            raise NotImplementedError("[load_model] learning-rate schedules are not supported by pydl.keras")
        opt = cls(**{k: ocfg[k] for k in keys if k in ocfg})

    def loss(spec):
        if isinstance(spec, dict) and "class_name" in spec:
            lc = getattr(_losses, spec["class_name"], None)
            if lc is None:
                raise ValueError(f"[load_model] unknown loss {spec['class_name']!r}")
            cfg = {k: v for k, v in spec.get("config", {}).items() if k in ("from_logits", "label_smoothing")}
            return lc(**cfg)
        if isinstance(spec, dict):
            return {k: loss(v) for k, v in spec.items()}
        if isinstance(spec, list):
            return [loss(v) for v in spec]
        return spec

    metrics = cc.get("metrics")
    model.compile(optimizer=opt or "rmsprop", loss=loss(cc.get("loss")), loss_weights=cc.get("loss_weights"),
                  metrics=_plain_metrics(metrics))


def _plain_metrics(metrics):
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {k: _plain_metrics(v) for k, v in metrics.items()}
    if isinstance(metrics, list):
        return [_plain_metrics(m) for m in metrics]
    if isinstance(metrics, dict) and "class_name" in metrics:
        return to_snake_case(metrics["class_name"])
    return metrics


# ---- weights (h5) ----------------------------------------------------------------------------

def _container_children(obj):
    from .models import Functional, Sequential, Model
    if isinstance(obj, Functional):
        return [("layers", obj.layers)]
    if isinstance(obj, Sequential):
        return [("layers", obj.layers)]
    kids = obj._keras_children()
    if isinstance(obj, Model):  # a subclassed model: Keras also walks its `layers` property
        kids = sorted(kids + [("layers", obj.layers)], key=lambda kv: "~" + kv[0] if kv[0].startswith("_") else kv[0])
    return kids


def _walk(obj, path, visit, seen):
    """Visits obj and its saveable children in Keras's order, with Keras's h5 paths."""
    if id(obj) in seen:
        return
    visit(obj, path)
    seen[id(obj)] = obj  # kept alive so that a temporary view's id is not reused
    for attr, child in _container_children(obj):
        sub = f"{path}/{attr}" if path else attr
        if isinstance(child, (list, tuple)):
            used = {}
            for item in child:
                base = to_snake_case(type(item).__name__) if not getattr(item, "_keras_class_name", None) else \
                    to_snake_case(item._keras_class_name)
                if base in used:
                    used[base] += 1
                    name = f"{base}_{used[base]}"
                else:
                    used[base] = 0
                    name = base
                _walk(item, f"{sub}/{name}", visit, seen)
        else:
            _walk(child, sub, visit, seen)


def _write_h5(model, f, with_optimizer=False):
    def visit(obj, path):
        g = f.require_group(f"{path}/vars" if path else "vars")
        g.attrs["name"] = obj.name
        for i, a in enumerate(obj._keras_own_vars() if not _is_model(obj) else []):
            g.create_dataset(str(i), data=np.asarray(a))
    _walk(model, "", visit, {})
    if with_optimizer:
        g = f.require_group("optimizer/vars")
        g.attrs["name"] = "optimizer"
        g.create_dataset("0", data=np.int64(0))
        g.create_dataset("1", data=np.float32(getattr(_optimizers.get(model._compile_config["optimizer"]),
                                                       "learning_rate", 0.001)))


def _is_model(obj):
    from .models import Model
    return isinstance(obj, Model)


def _read_h5(model, f, skip_mismatch=False):
    problems = []

    def visit(obj, path):
        key = f"{path}/vars" if path else "vars"
        if _is_model(obj):
            return
        if key not in f:
            want = obj._keras_own_vars()
            if want:
                problems.append(f"{key} is missing (layer {obj.name!r} has {len(want)} weights)")
            return
        g = f[key]
        arrays = [np.asarray(g[str(i)]) for i in range(len(g.keys()))]
        try:
            obj._load_keras_own_vars(arrays)
        except ValueError as e:
            problems.append(f"{key}: {e}")
    _walk(model, "", visit, {})
    if problems and not skip_mismatch:
        raise ValueError("[load_weights] the file does not fit the model: " + "; ".join(problems[:5]))


def save_weights(model, filepath, overwrite=True):
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"[{model.name}] save_weights: {path} exists (overwrite=False)")
    if path.endswith(".h5"):
        h5py = _h5py()
        tmp = path + ".tmp"
        with h5py.File(tmp, "w") as f:
            _write_h5(model, f)
        os.replace(tmp, path)
        return
    if path.endswith(".keras"):
        raise ValueError(f"[{model.name}] save_weights writes weights only: use a .weights.h5 path (model.save() "
                         "writes .keras files)")
    from ..io import save
    save(model.state_dict(), path)


def load_weights(model, filepath, skip_mismatch=False):
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"[{model.name}] load_weights: no such file: {path}")
    model._require_built("load_weights")
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as z:
            data = z.read("model.weights.h5")
        h5py = _h5py()
        with h5py.File(io.BytesIO(data), "r") as f:
            _read_h5(model, f, skip_mismatch)
        return
    if path.endswith(".h5"):
        h5py = _h5py()
        with h5py.File(path, "r") as f:
            if "layers" not in f and "vars" not in f:
                raise ValueError(f"[load_weights] {path} is not a Keras 3 .weights.h5 file (legacy Keras 2 h5 "
                                 "files are not supported)")
            _read_h5(model, f, skip_mismatch)
        return
    from ..io import load
    model.load_state_dict(load(path), strict=not skip_mismatch)


# ---- .keras archives ---------------------------------------------------------------------------

def save_model(model, filepath, overwrite=True):
    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        raise ValueError(f"[{model.name}] save: the file name must end in .keras (Keras 3's format), got {path!r}; "
                         "use save_weights for weights only")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"[{model.name}] save: {path} exists (overwrite=False)")
    model._require_built("save")
    h5py = _h5py()
    config = serialize(model)
    if type(model).__name__ == "Functional" or "build_config" not in config:
        config["build_config"] = {"input_shape": None} if type(model).__name__ == "Functional" else \
            config.get("build_config")
    cc = compile_config(model)
    config["compile_config"] = cc
    meta = {"keras_version": _KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        _write_h5(model, f, with_optimizer=cc is not None)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".keras.tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr("metadata.json", json.dumps(meta))
            z.writestr("config.json", json.dumps(config))
            z.writestr("model.weights.h5", buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_model(filepath, custom_objects=None, compile=True):
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"[load_model] no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"[load_model] {path} is not a Keras 3 .keras archive (legacy .h5 models and SavedModel "
                         "folders are not supported)")
    h5py = _h5py()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        if "config.json" not in names or "model.weights.h5" not in names:
            raise ValueError(f"[load_model] {path} lacks config.json or model.weights.h5 (files: {names})")
        config = json.loads(z.read("config.json"))
        weights = z.read("model.weights.h5")
    model = deserialize(config, custom_objects)
    if not model.built:
        bc = config.get("build_config") or {}
        if bc.get("input_shape"):
            model.build(tuple(bc["input_shape"]))
    with h5py.File(io.BytesIO(weights), "r") as f:
        _read_h5(model, f)
    if compile and config.get("compile_config"):
        _compile_from_config(model, config["compile_config"])
    return model
