"""Keras layers (Keras's names, arguments, configs and weight layouts) built on pydl ops.

Layout: Keras images are channels-last (N, H, W, C). Inside a model every 4-D tensor is held
channels-first (N, C, H, W), transposed once where data enters the model and once where a 4-D
output leaves it, so pydl's NCHW convolution kernels run without per-layer transposes. Built-in
layers' `call` works on that internal layout (axis arguments are mapped: Keras's last axis of a
4-D tensor is dim 1 inside); a layer called directly on data (in a subclassed model's `call`)
takes and returns Keras's layout. User-written layers (`class L(keras.layers.Layer)`) always
see Keras's layout. Other ranks are the same in both layouts.

`get_weights` / `set_weights` exchange weights in Keras's layouts and order (Dense kernels
(in, out), Conv2D kernels (kh, kw, in, out), LSTM (kernel, recurrent_kernel, bias)); shapes given
to and reported by layers (`input_shape=`, `output_shape`, `summary()`) are Keras's.
"""
import inspect
import math
import re

import numpy as np

from ... import _C
from ..._C import Tensor
from ... import nn
from ...nn import functional as F
from ...nn.parameter import Parameter
from ...autograd import no_grad
from .. import initializers as _inits
from ..engine import KerasTensor, Node, ShapeLeaf, flatten, is_symbolic, map_structure, pack_like

__all__ = ["Layer", "InputLayer", "Input", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "MaxPool2D",
           "AvgPool2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "GlobalAvgPool2D", "GlobalMaxPool2D",
           "Flatten", "Dropout", "BatchNormalization", "Activation", "Reshape", "ReLU", "Softmax"]

_counters = {}


def _unique_name(base):
    n = _counters.get(base, 0)
    _counters[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def to_snake_case(name):
    """Keras's naming.to_snake_case (layer names and the group names inside .weights.h5)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


_snake = to_snake_case


def _tuple(v, n, what, layer):
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"[{layer}] {what} must be an int or a tuple of {n} ints, got {v}")
        return tuple(int(a) for a in v)
    return (int(v),) * n


# ---- layouts ---------------------------------------------------------------------------------

def to_internal(x):
    """Keras's layout -> pydl's internal one (4-D: NHWC -> NCHW)."""
    return x.permute(0, 3, 1, 2).contiguous() if isinstance(x, Tensor) and x.dim() == 4 else x


def to_keras(x):
    """pydl's internal layout -> Keras's (4-D: NCHW -> NHWC)."""
    return x.permute(0, 2, 3, 1).contiguous() if isinstance(x, Tensor) and x.dim() == 4 else x


_to_channels_first = to_internal


def _to_channels_last(x):
    return x.permute(0, 2, 3, 1)


def internal_axis(axis, rank, layer="layer"):
    """The dim of the internal layout that holds Keras axis `axis` of a rank-`rank` tensor."""
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ValueError(f"[{layer}] axis {axis} is out of range for a tensor of rank {rank}")
    return (0, 2, 3, 1)[a] if rank == 4 else a


def as_tensor(x):
    """NumPy arrays / lists -> pydl tensors (floats as float32, integers as int64)."""
    if isinstance(x, Tensor) or x is None or isinstance(x, KerasTensor):
        return x
    a = np.asarray(x)
    if a.dtype.kind in "iub":
        a = a.astype(np.int64)
    elif a.dtype != np.float32:
        a = a.astype(np.float32)
    return _C.from_numpy(np.ascontiguousarray(a))


def _float_input(x):
    return x if x.dtype.is_floating_point else x.to(_C.dtype.float32)


# ---- activations ---------------------------------------------------------------------------

def _softmax(x):
    return F.softmax(x, dim=1 if x.dim() == 4 else -1)  # channels (Keras's last axis) are dim 1 inside


def _log_softmax(x):
    return F.log_softmax(x, dim=1 if x.dim() == 4 else -1)


def _relu6(x):
    return x.clamp(0.0, 6.0)


def _hard_sigmoid(x):
    return (x * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0)


def _selu(x):
    return F.elu(x, 1.6732632423543772) * 1.0507009873554805


_ACTIVATIONS = {
    None: None, "linear": None, "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh, "softmax": _softmax,
    "log_softmax": _log_softmax, "elu": F.elu, "gelu": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
    "swish": F.silu, "softplus": F.softplus, "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "relu6": _relu6,
    "hard_sigmoid": _hard_sigmoid, "selu": _selu, "exponential": lambda x: x.exp(),
}


def _activation(spec, layer):
    if callable(spec) and not isinstance(spec, str):
        return spec
    if isinstance(spec, dict):  # a serialized Keras activation
        spec = spec.get("config", spec.get("class_name"))
    key = spec.lower() if isinstance(spec, str) else spec
    if key not in _ACTIVATIONS:
        raise ValueError(f"[{layer}] unknown activation {spec!r}; known: "
                         f"{', '.join(k for k in _ACTIVATIONS if k)}, or a callable")
    return _ACTIVATIONS[key]


def _activation_name(spec):
    if spec is None:
        return "linear"
    return spec.lower() if isinstance(spec, str) else getattr(spec, "__name__", "custom")


def _serialize_activation(spec, layer):
    name = _activation_name(spec)
    if name not in _ACTIVATIONS:
        raise ValueError(f"[{layer}] the activation {spec!r} is a Python function, which a .keras file cannot "
                         "hold; use an activation name")
    return name


# ---- base ----------------------------------------------------------------------------------

_BASE_KWARGS = ("name", "input_shape", "input_dim", "batch_input_shape", "batch_size", "trainable", "dtype")


def _dtype_name(dtype):
    if isinstance(dtype, dict):  # a serialized DTypePolicy
        dtype = (dtype.get("config") or {}).get("name", "float32")
    return dtype


def _defined_in_pydl(cls, method):
    fn = getattr(cls, method, None)
    return getattr(fn, "__module__", "").startswith("pydl.keras")


class Layer(nn.Module):
    """Base of Keras layers.

    Built-in layers: `build(input_shape)` and `compute_output_shape(input_shape)` take Keras
    shapes without the batch dimension and `call` runs on pydl's internal layout. Layers you
    write (`class MyLayer(keras.layers.Layer)`) follow Keras: `build(input_shape)` gets the
    shape with the batch dimension, `add_weight(...)` creates weights, `call(inputs)` sees
    Keras's layout, and output shapes are found by running `call` once on zeros unless you
    define `compute_output_shape`.

    A layer called on KerasTensors (from `keras.Input`) records the call in the model graph;
    called on data, it runs at once (in inference mode unless `training=True`, as Keras).
    """

    _has_activation = False
    _is_input_layer = False
    _internal_layout = True
    _pydl_build = True
    _pydl_shape = True
    _keras_module = "keras.layers"
    # config keys of Keras's layer that pydl ignores (they do not change the computation)
    _ignored_config = ("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                       "bias_constraint", "quantization_config", "seed", "synchronized", "renorm",
                       "renorm_clipping", "renorm_momentum", "beta_regularizer", "gamma_regularizer",
                       "beta_constraint", "gamma_constraint", "zero_output_for_mask", "recurrent_regularizer",
                       "recurrent_constraint", "embeddings_regularizer", "embeddings_constraint", "sparse",
                       "ragged", "optional", "lora_rank", "lora_alpha", "autocast", "input_length")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._internal_layout = _defined_in_pydl(cls, "call")
        cls._pydl_build = _defined_in_pydl(cls, "build")
        cls._pydl_shape = _defined_in_pydl(cls, "compute_output_shape")

    def __init__(self, name=None, input_shape=None, input_dim=None, batch_input_shape=None, trainable=True,
                 dtype=None, batch_size=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"[{type(self).__name__}] unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        dtype = _dtype_name(dtype)
        if dtype not in (None, "float32"):
            raise ValueError(f"[{type(self).__name__}] only dtype='float32' is supported, got {dtype!r}")
        self.name = name or _unique_name(to_snake_case(type(self).__name__))
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_dim is not None:
            input_shape = (int(input_dim),)
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self.built = False
        self._trainable = bool(trainable)
        self.input_shape = None
        self.output_shape = None
        self._inbound_nodes = []
        self._build_shape = None
        self._n_weights = 0
        self.training = False  # Keras: inference unless fit (or training=True) says otherwise

    # ---- trainable ---------------------------------------------------------------------

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for m in self.modules():
            if isinstance(m, Layer) and m is not self:
                m._trainable = self._trainable
        for p in self._own_and_child_parameters():
            p.requires_grad_(self._trainable and not getattr(p, "_keras_frozen", False))

    def _own_and_child_parameters(self):
        return list(self.parameters())

    # ---- weights -----------------------------------------------------------------------

    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True, name=None,
                   regularizer=None, constraint=None, **kwargs):
        """Creates a weight (a pydl Parameter in Keras's shape), tracked by the layer."""
        if regularizer is not None or constraint is not None:
            raise NotImplementedError(f"[{self.name}] add_weight: regularizer / constraint are not supported")
        shape = tuple(int(d) for d in (shape or ()))
        p = Parameter(_C.zeros(list(shape), _C.dtype.float32))
        _inits.fill(p, initializer if initializer is not None else "zeros", shape, layer=self.name)
        p.requires_grad_(bool(trainable) and self._trainable)
        self.register_parameter(name or f"weight_{self._n_weights}", p) if not hasattr(
            self, name or "_") else self.register_parameter(f"weight_{self._n_weights}", p)
        self._n_weights += 1
        return p

    @property
    def weights(self):
        return list(self.parameters()) + [b for b in self.buffers() if b.dtype.is_floating_point]

    @property
    def trainable_weights(self):
        return [p for p in self.parameters() if p.requires_grad]

    @property
    def non_trainable_weights(self):
        return [p for p in self.parameters() if not p.requires_grad] + [
            b for b in self.buffers() if b.dtype.is_floating_point]

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def variables(self):
        return self.weights

    def count_params(self):
        """Weights of the layer (parameters and running statistics, like Keras)."""
        return int(sum(w.numel() for w in self.weights))

    def _non_trainable_count(self):
        return int(sum(w.numel() for w in self.non_trainable_weights))

    def get_weights(self):
        """The layer's weights as NumPy arrays, in Keras's order and layouts."""
        return [w.detach().numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        targets = self.weights
        if len(weights) != len(targets):
            raise ValueError(f"[{self.name}] set_weights expected {len(targets)} arrays, got {len(weights)}")
        self._copy_in(targets, [np.asarray(w) for w in weights])

    def _copy_in(self, targets, arrays):
        with no_grad():
            for t, a in zip(targets, arrays):
                if tuple(t.shape) != tuple(a.shape):
                    raise ValueError(f"[{self.name}] set_weights: expected shape {tuple(t.shape)}, got "
                                     f"{tuple(a.shape)}")
                t.copy_(_C.from_numpy(np.ascontiguousarray(a, dtype=np.float32)))

    def _init_weights(self, specs):
        """Draws each weight from its Keras initializer in Keras's layout: specs = [(init, shape)]."""
        self.set_weights([np.asarray(_inits.get(init, self.name)(tuple(shape)), np.float32).reshape(shape)
                          for init, shape in specs])

    def _regularize(self, **specs):
        """Stores weight regularizers by weight attribute name: kernel_regularizer -> 'kernel'."""
        from .. import regularizers as _regs
        self._regularizers = {k: _regs.get(v, type(self).__name__) for k, v in specs.items() if v is not None}

    def _regularized(self):
        """(regularizer, weight tensor) pairs; layers map their Keras weight names to tensors."""
        out = []
        for k, r in getattr(self, "_regularizers", {}).items():
            target = self._reg_target(k)
            for w in (target if isinstance(target, (list, tuple)) else [target]):
                if w is not None:
                    out.append((r, w))
        return out

    def _reg_target(self, key):
        return getattr(self, key, None)

    @property
    def losses(self):
        """The regularization penalties of this layer and its sublayers (scalar tensors)."""
        out = []
        for m in self.modules():
            if isinstance(m, Layer):
                out += [r(w) for r, w in m._regularized()]
        return out

    def _reg_config(self, *keys):
        from .. import regularizers as _regs
        regs = getattr(self, "_regularizers", {})
        return {f"{k}_regularizer": _regs.serialize(regs.get(k)) for k in keys}

    # what .weights.h5 holds for this layer: its own variables and its saveable children
    def _keras_own_vars(self):
        return self.get_weights()

    def _load_keras_own_vars(self, arrays):
        self.set_weights(arrays)

    def _keras_children(self):
        """(attribute name, layer or list of layers) in Keras's save order (sorted attribute names,
        private ones last). Default: the layers held as attributes, as Keras walks a subclass."""
        kids = [(k, v) for k, v in self._modules.items() if isinstance(v, Layer)]
        lists = getattr(self, "_layer_lists", {})
        kids += [(k, [getattr(self, k)[i] for i in range(len(getattr(self, k)))]) for k in lists]
        return sorted(kids, key=lambda kv: "~" + kv[0] if kv[0].startswith("_") else kv[0])

    def __setattr__(self, name, value):
        # Keras tracks lists of layers held as attributes (self.blocks = [Dense(..), ...])
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value) \
                and "_modules" in self.__dict__:
            for i, v in enumerate(value):
                self._modules[f"{name}.{i}"] = v
            self.__dict__.setdefault("_layer_lists", {})[name] = len(value)
            object.__setattr__(self, name, list(value))
            return
        super().__setattr__(name, value)

    # ---- building and shapes -------------------------------------------------------------

    def build(self, input_shape):
        """Creates the layer's weights for inputs of `input_shape`."""
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) if self._pydl_shape else input_shape

    def _build_and_shape(self, input_shape):
        """Builds (once) for inputs of Keras shape `input_shape` (no batch dimension; a list of
        shapes for layers taking several inputs) and returns the output shape(s)."""
        input_shape = _norm_shape(input_shape)
        if not self.built:
            self._build_shape = input_shape
            if self._pydl_build:
                self.build(input_shape)
            else:
                self.build(_with_batch(input_shape))
            self.built = True
            self.train(self.training)  # modules made in build follow the layer's mode
            if not self._trainable:
                self.trainable = False
        self.input_shape = input_shape
        if self._pydl_shape and self._internal_layout:  # a built-in layer: shapes without the batch dim
            out = self.compute_output_shape(input_shape)
        elif not self._pydl_shape:  # the user's compute_output_shape, Keras's convention
            out = _without_batch(self.compute_output_shape(_with_batch(input_shape)))
        else:  # the user's call: run it once
            out = self._shape_by_running(input_shape)
        self.output_shape = out
        return out

    def _shape_by_running(self, input_shape, args=None, kwargs=None):
        """Output shapes found by running the layer once on zeros (batch 2; unknown dims 1)."""
        def zeros(s):
            return _C.zeros([2] + [1 if d is None else d for d in s], _C.dtype.float32)

        if args is None:
            args = (pack_like(_shape_struct(input_shape), [zeros(s) for s in _shape_leaves(input_shape)]),)
        was = self.training
        self.train(False)
        try:
            with no_grad():
                out = self._run_keras_layout(args, kwargs or {})
        finally:
            self.train(was)
        return map_structure(lambda t: tuple(t.shape[1:]), out)

    # ---- calling ---------------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" in kwargs:
                args = (kwargs.pop("inputs"),)
            else:
                raise TypeError(f"[{self.name}] missing the inputs argument")
        if is_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs)
        training = kwargs.pop("training", None)
        kwargs.pop("mask", None)
        args = map_structure(as_tensor, args)
        if not self.built:
            self._build_and_shape(map_structure(lambda t: tuple(t.shape[1:]), args[0]))
        with _mode(self, training):
            return self._run_keras_layout(args, kwargs)

    def _run_keras_layout(self, args, kwargs):
        if self._internal_layout:
            return map_structure(to_keras, self._call_impl(map_structure(to_internal, args), kwargs))
        return self._call_impl(args, kwargs)

    def _run_internal(self, args, kwargs):
        """Runs a graph node: arguments and results in the internal layout."""
        kwargs = dict(kwargs)
        training = kwargs.pop("training", None)
        kwargs.pop("mask", None)
        with _mode(self, training):
            if self._internal_layout:
                return self._call_impl(args, kwargs)
            out = self._call_impl(map_structure(to_keras, args), kwargs)
            return map_structure(to_internal, out)

    def _call_impl(self, args, kwargs):
        if not self._internal_layout and _accepts(self.call, "training") and "training" not in kwargs:
            kwargs = dict(kwargs, training=self.training)
        return self.call(*args, **kwargs)

    def _symbolic_call(self, args, kwargs):
        kwargs = dict(kwargs)
        kwargs.pop("mask", None)
        out_shapes = self._symbolic_shapes(args, kwargs)
        outs = map_structure(lambda s: KerasTensor((None,) + tuple(s), "float32"), _shape_struct_to_leaves(
            out_shapes))
        Node(self, args, kwargs, flatten(outs))
        return outs

    def _symbolic_shapes(self, args, kwargs):
        shapes = map_structure(lambda t: t.shape[1:] if isinstance(t, KerasTensor) else tuple(t.shape[1:]), args[0])
        return self._build_and_shape(shapes)

    def call(self, x):
        raise NotImplementedError(f"[{type(self).__name__}] a layer needs a call(inputs) method")

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    # ---- graph bookkeeping ---------------------------------------------------------------

    def _output_at(self, node_index=0):
        return self._inbound_nodes[node_index].outputs

    @property
    def output(self):
        if not self._inbound_nodes:
            raise AttributeError(f"[{self.name}] the layer has never been called on a KerasTensor")
        outs = self._inbound_nodes[0].outputs
        return outs[0] if len(outs) == 1 else outs

    @property
    def input(self):
        if not self._inbound_nodes:
            raise AttributeError(f"[{self.name}] the layer has never been called on a KerasTensor")
        ins = self._inbound_nodes[0].input_tensors
        return ins[0] if len(ins) == 1 else ins

    # ---- config ------------------------------------------------------------------------------

    def get_config(self):
        """Keras's config of the layer (the constructor's arguments, with Keras's names)."""
        return {"name": self.name, "trainable": self.trainable, "dtype": _DTYPE_POLICY}

    @classmethod
    def from_config(cls, config):
        return cls(**_clean_config(cls, config))

    def _build_config(self):
        if self._build_shape is None:
            return None
        return {"input_shape": _to_list(_with_batch(self._build_shape))}

    # the activation applied last; models skip it to fuse softmax / sigmoid into the loss
    def _activate(self, x):
        fn = getattr(self, "_act_fn", None)
        return fn(x) if fn is not None else x

    def _pre_activation(self, x):
        return x

    def _activation_spec(self):
        return getattr(self, "activation", None)

    def extra_repr(self):
        return f"name={self.name!r}"


_DTYPE_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                 "registered_name": None}


class _mode:
    """Sets a layer's training mode for one call (training=None keeps it)."""

    def __init__(self, layer, training):
        self.layer, self.training = layer, training

    def __enter__(self):
        self.was = self.layer.training
        if self.training is not None and bool(self.training) != self.was:
            self.layer.train(bool(self.training))
        return self

    def __exit__(self, *exc):
        if self.layer.training != self.was:
            self.layer.train(self.was)
        return False


def _accepts(fn, name):
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _is_shape(s):
    return isinstance(s, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in s)


def _norm_shape(s):
    if _is_shape(s) or (isinstance(s, list) and all(d is None or isinstance(d, (int, np.integer)) for d in s)
                        and not any(isinstance(d, (list, tuple)) for d in s)):
        return tuple(None if d is None else int(d) for d in s)
    if isinstance(s, dict):
        return {k: _norm_shape(v) for k, v in s.items()}
    return [_norm_shape(v) for v in s]


def _shape_leaves(s):
    if _is_shape(s):
        return [s]
    if isinstance(s, dict):
        return [x for k in sorted(s) for x in _shape_leaves(s[k])]
    return [x for v in s for x in _shape_leaves(v)]


def _shape_struct(s):
    """The nesting of a shape structure with each shape replaced by a leaf marker."""
    if _is_shape(s):
        return 0
    if isinstance(s, dict):
        return {k: _shape_struct(v) for k, v in s.items()}
    return [_shape_struct(v) for v in s]


def _shape_struct_to_leaves(s):
    """Shape structure -> the same nesting with shapes as opaque leaves (for map_structure)."""
    if _is_shape(s):
        return ShapeLeaf(s)
    if isinstance(s, dict):
        return {k: _shape_struct_to_leaves(v) for k, v in s.items()}
    return [_shape_struct_to_leaves(v) for v in s]


def _with_batch(s):
    if _is_shape(s):
        return (None,) + tuple(s)
    if isinstance(s, dict):
        return {k: _with_batch(v) for k, v in s.items()}
    return [_with_batch(v) for v in s]


def _without_batch(s):
    if _is_shape(s) or (isinstance(s, list) and s and not isinstance(s[0], (list, tuple))):
        return tuple(s)[1:]
    if isinstance(s, dict):
        return {k: _without_batch(v) for k, v in s.items()}
    return [_without_batch(v) for v in s]


def _to_list(s):
    if isinstance(s, tuple):
        return list(s)
    if isinstance(s, dict):
        return {k: _to_list(v) for k, v in s.items()}
    return [_to_list(v) for v in s]


def _clean_config(cls, config):
    """A Keras config -> constructor kwargs: the dtype policy becomes its name, keys Keras has and
    pydl ignores are dropped when they hold their neutral value, any other unknown key raises."""
    cfg = dict(config)
    if "dtype" in cfg:
        cfg["dtype"] = _dtype_name(cfg["dtype"])
    accepted = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            accepted.update(p for p in inspect.signature(init).parameters if p not in ("self", "args", "kwargs"))
    accepted.update(_BASE_KWARGS)
    out = {}
    for k, v in cfg.items():
        if k in accepted:
            out[k] = v
        elif k in cls._ignored_config and (v in (None, False, 0, 0.99, 2.0, 16, "float32") or k in (
                "seed", "zero_output_for_mask")):  # masks are not supported, so zero_output_for_mask changes nothing
            continue
        else:
            raise NotImplementedError(f"[{cls.__name__}] the config key {k}={v!r} is not supported by pydl.keras")
    return out


class InputLayer(Layer):
    """Declares a model input: its shape (without the batch dimension), dtype and name."""

    _is_input_layer = True

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
                 input_shape=None, input_tensor=None, optional=False, ragged=None, **kwargs):
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("[Input] needs shape=(...) (without the batch dimension)")
        if isinstance(shape, int):
            shape = (shape,)
        if sparse or ragged:
            raise NotImplementedError("[Input] sparse / ragged inputs are not supported")
        dtype = _dtype_name(dtype) or "float32"
        if dtype not in ("float32", "float64", "int32", "int64", "int8", "uint8", "int16", "bool", "float16"):
            raise ValueError(f"[Input] unknown dtype {dtype!r}")
        super().__init__(name=name or _unique_name("input_layer"), input_shape=tuple(shape), **kwargs)
        self.input_dtype = dtype
        self.batch_size = batch_size
        self.shape = (batch_size,) + tuple(shape)
        self.built = True
        self._build_shape = tuple(shape)
        self.output_shape = tuple(shape)
        t = KerasTensor(self.shape, dtype, name=self.name)
        Node(self, (), {}, [t])

    def call(self, x):
        return x

    def get_config(self):
        return {"batch_shape": list(self.shape), "dtype": self.input_dtype, "sparse": False, "ragged": False,
                "name": self.name, "optional": False}

    def _build_config(self):
        return None


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, batch_shape=None, tensor=None,
          optional=False, **kwargs):
    """A symbolic input for the functional API (`x = keras.Input((28, 28, 1))`); in a Sequential's
    layer list it declares the input shape."""
    if tensor is not None:
        raise NotImplementedError("[Input] tensor= is not supported")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       name=name, **kwargs)
    return layer._inbound_nodes[0].outputs[0]


# ---- core layers ---------------------------------------------------------------------------

def _init_config(init):
    return _inits.serialize(_inits.get(init))


class Dense(Layer):
    """y = activation(x @ kernel + bias) over the last axis.

    Args:
        units: output features.
        activation: a name ('relu', 'softmax', 'sigmoid', 'tanh', ...), a callable or None.
        use_bias: add a bias.
        kernel_initializer, bias_initializer: 'glorot_uniform' and 'zeros' by default (Keras's).
    """

    _has_activation = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        _no_regularizers("Dense", activity_regularizer, kernel_constraint, bias_constraint)
        self._regularize(kernel=kernel_regularizer, bias=bias_regularizer)
        if int(units) <= 0:
            raise ValueError(f"[Dense] units must be a positive integer, got {units}")
        self.units = int(units)
        self.activation = activation
        self._act_fn = _activation(activation, "Dense")
        self.use_bias = use_bias
        self.kernel_initializer = _inits.get(kernel_initializer, "Dense")
        self.bias_initializer = _inits.get(bias_initializer, "Dense")

    def build(self, input_shape):
        if len(input_shape) < 1 or input_shape[-1] is None:
            raise ValueError(f"[Dense] the last dimension of the input must be known, got shape {input_shape}")
        self.linear = nn.Linear(input_shape[-1], self.units, bias=self.use_bias)
        self._init_weights([(self.kernel_initializer, (input_shape[-1], self.units))]
                           + ([(self.bias_initializer, (self.units,))] if self.use_bias else []))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _pre_activation(self, x):
        x = _float_input(x)
        if x.dim() == 4:  # an image: Dense acts on channels, Keras's last axis
            return _to_channels_first(self.linear(_to_channels_last(x)))
        return self.linear(x)

    def call(self, x):
        return self._activate(self._pre_activation(x))

    def get_weights(self):
        w = [self.linear.weight.detach().numpy().T.copy()]
        return w + ([self.linear.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        arrays = [np.asarray(weights[0]).T] + [np.asarray(w) for w in weights[1:]]
        params = [self.linear.weight] + ([self.linear.bias] if self.use_bias else [])
        if len(arrays) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, arrays)

    def _reg_target(self, key):
        return {"kernel": self.linear.weight, "bias": self.linear.bias}.get(key) if self.built else None

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": _serialize_activation(self.activation, self.name), "use_bias": self.use_bias,
                "kernel_initializer": _init_config(self.kernel_initializer),
                "bias_initializer": _init_config(self.bias_initializer), **self._reg_config("kernel", "bias")}


def _no_regularizers(layer, *values):
    if any(v is not None for v in values):
        raise NotImplementedError(f"[{layer}] activity regularizers and weight constraints are not supported by "
                                  "pydl.keras (kernel / bias regularizers are)")


def _same_pads(size, k, s, d=1):
    """Keras/TensorFlow 'same' padding: (before, after), the extra one after."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _out_size(size, k, s, padding, d=1):
    if size is None:
        return None
    if padding == "same":
        return -(-size // s)
    if padding == "causal":
        return (size - 1) // s + 1
    return (size - d * (k - 1) - 1) // s + 1


def _check_padding(padding, layer, causal=False):
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same") + (("causal",) if causal else ()):
        raise ValueError(f"[{layer}] padding must be 'valid'" + (", 'same' or 'causal'" if causal else " or 'same'")
                         + f", got {padding!r}")
    return p


def _check_format(data_format, layer):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"[{layer}] only data_format='channels_last' is supported (inputs are (N, H, W, C)), "
                         f"got {data_format!r}")


def _check_image(input_shape, layer):
    if len(input_shape) != 3:
        raise ValueError(f"[{layer}] expected images of shape (height, width, channels) (plus the batch dimension), "
                         f"got an input of shape {(None,) + tuple(input_shape)}; reshape grey images to "
                         "(N, H, W, 1)")


def _check_seq(input_shape, layer):
    if len(input_shape) != 2:
        raise ValueError(f"[{layer}] expected inputs of shape (steps, channels) (plus the batch dimension), got "
                         f"{(None,) + tuple(input_shape)}")


class _Conv(Layer):
    """Shared by the convolutions: arguments, 'same' padding pads, output sizes, config."""

    _has_activation = True
    _rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        _no_regularizers(cls, activity_regularizer, kernel_constraint, bias_constraint)
        self._regularize(kernel=kernel_regularizer, bias=bias_regularizer)
        _check_format(data_format, cls)
        n = self._rank
        self.filters = None if filters is None else int(filters)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", cls)
        self.strides = _tuple(strides, n, "strides", cls)
        self.dilation_rate = _tuple(dilation_rate, n, "dilation_rate", cls)
        self.padding = _check_padding(padding, cls, causal=n == 1)
        self.activation = activation
        self._act_fn = _activation(activation, cls)
        self.use_bias = use_bias
        self.kernel_initializer = _inits.get(kernel_initializer, cls)
        self.bias_initializer = _inits.get(bias_initializer, cls)

    def _pads_for(self, sizes):
        pads = []
        for size, k, s, d in zip(sizes, self.kernel_size, self.strides, self.dilation_rate):
            if self.padding == "same":
                if size is None:
                    raise ValueError(f"[{self.name}] padding='same' needs known spatial sizes")
                pads += list(_same_pads(size, k, s, d))
            elif self.padding == "causal":
                pads += [d * (k - 1), 0]
            else:
                pads += [0, 0]
        return pads

    def _spatial_out(self, sizes):
        out = tuple(_out_size(sz, k, s, self.padding, d) for sz, k, s, d in
                    zip(sizes, self.kernel_size, self.strides, self.dilation_rate))
        if any(v is not None and v <= 0 for v in out):
            raise ValueError(f"[{self.name}] the input {(None,) + tuple(sizes)} is too small for a "
                             f"{self.kernel_size} kernel with padding='valid' (output would be {out})")
        return out

    def call(self, x):
        return self._activate(self._pre_activation(x))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": "channels_last",
                "dilation_rate": list(self.dilation_rate), "activation": _serialize_activation(self.activation,
                                                                                               self.name),
                "use_bias": self.use_bias, "kernel_initializer": _init_config(self.kernel_initializer),
                "bias_initializer": _init_config(self.bias_initializer), **self._reg_config("kernel", "bias")}

    def _reg_target(self, key):
        if not self.built:
            return None
        conv = self.__dict__.get("_modules", {}).get("conv")
        if conv is not None:
            return {"kernel": conv.weight, "bias": conv.bias}.get(key)
        return {"kernel": self._parameters.get("kernel", self._parameters.get("depthwise_kernel")),
                "bias": self._parameters.get("bias")}.get(key)


class Conv2D(_Conv):
    """2-D convolution over channels-last images.

    Args:
        filters: output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same' (TensorFlow's: the extra row/column goes at the bottom/right).
        activation, use_bias, kernel_initializer, bias_initializer: as Dense.
        dilation_rate: int or tuple.
        groups: grouped convolution (input channels and filters divisible by it).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, **kwargs)
        self.groups = int(groups)

    def build(self, input_shape):
        _check_image(input_shape, "Conv2D")
        cin = input_shape[-1]
        if cin % self.groups or self.filters % self.groups:
            raise ValueError(f"[Conv2D] input channels ({cin}) and filters ({self.filters}) must be divisible by "
                             f"groups ({self.groups})")
        self.conv = nn.Conv2d(cin, self.filters, self.kernel_size, stride=self.strides, dilation=self.dilation_rate,
                              groups=self.groups, bias=self.use_bias)
        kh, kw = self.kernel_size
        self._init_weights([(self.kernel_initializer, (kh, kw, cin // self.groups, self.filters))]
                           + ([(self.bias_initializer, (self.filters,))] if self.use_bias else []))
        self._pads = self._pads_for(input_shape[:2])

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, "Conv2D")
        return self._spatial_out(input_shape[:2]) + (self.filters,)

    def _pre_activation(self, x):
        if x.dim() != 4:
            raise ValueError(f"[{self.name}] expected a 4-D input (N, H, W, C), got shape {tuple(x.shape)}")
        c = self.conv
        return _C.conv2d(_float_input(x), c.weight, c.bias, list(self.strides), self._pads, list(self.dilation_rate),
                         self.groups)

    def get_weights(self):
        w = [self.conv.weight.detach().numpy().transpose(2, 3, 1, 0).copy()]  # (O, I, kh, kw) -> (kh, kw, I, O)
        return w + ([self.conv.bias.detach().numpy().copy()] if self.use_bias else [])

    def set_weights(self, weights):
        arrays = [np.asarray(weights[0]).transpose(3, 2, 0, 1)] + [np.asarray(w) for w in weights[1:]]
        params = [self.conv.weight] + ([self.conv.bias] if self.use_bias else [])
        if len(arrays) != len(params):
            raise ValueError(f"[{self.name}] set_weights expected {len(params)} arrays, got {len(weights)}")
        self._copy_in(params, arrays)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


class _Pool(Layer):
    """The arguments and config of the max / average pooling layers over _rank spatial dims (channels last)."""
    _avg = False
    _rank = 2

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name, n = type(self).__name__, self._rank
        _check_format(data_format, name)
        self.pool_size = _tuple(pool_size, n, "pool_size", name)
        self.strides = self.pool_size if strides is None else _tuple(strides, n, "strides", name)
        self.padding = _check_padding(padding, name)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "padding": self.padding,
                "strides": list(self.strides), "data_format": "channels_last"}


class _Pool2D(_Pool):

    def build(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        self._pad, self._ceil = (0, 0), False
        if self.padding == "same":
            pads, ceil = [], False
            for size, k, s in zip(input_shape[:2], self.pool_size, self.strides):
                before, after = _same_pads(size, k, s)
                if after not in (before, before + 1) or (after != before and
                                                         -(-(size + 2 * before - k) // s) + 1 != -(-size // s)):
                    raise NotImplementedError(f"[{self.name}] padding='same' with pool {self.pool_size} and "
                                              f"strides {self.strides} on {input_shape} is not supported")
                ceil = ceil or after != before
                pads.append(before)
            self._pad, self._ceil = tuple(pads), ceil

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        h, w, c = input_shape
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        out = (_out_size(h, kh, sh, self.padding), _out_size(w, kw, sw, self.padding), c)
        if any(v is not None and v <= 0 for v in out[:2]):
            raise ValueError(f"[{self.name}] the input {(None,) + tuple(input_shape)} is smaller than the pool "
                             f"{self.pool_size}")
        return out

    def call(self, x):
        if self._avg:
            return F.avg_pool2d(x, self.pool_size, self.strides, self._pad, ceil_mode=self._ceil,
                                count_include_pad=False)
        return F.max_pool2d(x, self.pool_size, self.strides, self._pad, ceil_mode=self._ceil)


class MaxPooling2D(_Pool2D):
    """Max over pool_size windows (strides default to pool_size; padding 'valid' or 'same')."""


class AveragePooling2D(_Pool2D):
    """Mean over pool_size windows (padding is left out of the mean, like Keras)."""

    _avg = True


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D


class _GlobalPool(Layer):
    """The arguments and config of the global pooling layers; _fn is "mean" or "max"."""

    _fn = "mean"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, type(self).__name__)
        self.keepdims = keepdims

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last", "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPool):
    """Mean over height and width: (N, H, W, C) -> (N, C) (or (N, 1, 1, C) with keepdims)."""

    def compute_output_shape(self, input_shape):
        _check_image(input_shape, type(self).__name__)
        return (1, 1, input_shape[-1]) if self.keepdims else (input_shape[-1],)

    def call(self, x):
        out = x.mean((2, 3)) if self._fn == "mean" else x.amax((2, 3))
        return out.reshape(list(out.shape) + [1, 1]) if self.keepdims else out


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    """Max over height and width."""

    _fn = "max"


GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D


class Flatten(Layer):
    """Flattens all but the batch dimension, in Keras's channels-last order."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_format(data_format, "Flatten")

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape):
            return (None,)
        return (int(np.prod(input_shape, dtype=np.int64)),)

    def call(self, x):
        if x.dim() == 4:  # channels-first inside: flatten as (H, W, C) like Keras
            x = _to_channels_last(x)
        return x.reshape([x.shape[0], -1])

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


class Reshape(Layer):
    """Reshapes to target_shape (Keras shape without the batch dimension; one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"[Reshape] at most one dimension may be -1, got {self.target_shape}")

    def compute_output_shape(self, input_shape):
        if -1 not in self.target_shape:
            if None not in input_shape and int(np.prod(input_shape)) != int(np.prod(self.target_shape)):
                raise ValueError(f"[{self.name}] cannot reshape {(None,) + tuple(input_shape)} to "
                                 f"{(None,) + self.target_shape}: total sizes differ")
            return self.target_shape
        if None in input_shape:
            return tuple(None if d == -1 else d for d in self.target_shape)
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        total = int(np.prod(input_shape))
        if known == 0 or total % known:
            raise ValueError(f"[{self.name}] cannot reshape {(None,) + tuple(input_shape)} to "
                             f"{(None,) + self.target_shape}")
        return tuple(total // known if d == -1 else d for d in self.target_shape)

    def call(self, x):
        if x.dim() == 4:
            x = _to_channels_last(x)
        out = x.reshape([x.shape[0]] + list(self.target_shape))
        return _to_channels_first(out) if out.dim() == 4 else out

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """Zeroes inputs with probability `rate` in training (scaling the rest by 1/(1-rate)).

    noise_shape (Keras's, without or with the batch dimension, None entries taken from the
    input) shares one draw along the dimensions where it is 1.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"[Dropout] rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, x):
        if not self.training or self.rate == 0:
            return x
        if self.noise_shape is None:
            return F.dropout(x, self.rate, True)
        keras_shape = tuple(x.permute(0, 2, 3, 1).shape) if x.dim() == 4 else tuple(x.shape)
        ns = [k if n is None else int(n) for n, k in zip(self.noise_shape, keras_shape)]
        return x * _bernoulli_mask(ns if x.dim() != 4 else [ns[0], ns[3], ns[1], ns[2]], 1 - self.rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


def _bernoulli_mask(shape, keep):
    """A float mask of `shape`: 1/keep with probability keep, else 0."""
    m = _C.rand([int(d) for d in shape], _C.dtype.float32)
    return (m < keep).to(_C.dtype.float32) * (1.0 / keep)


class BatchNormalization(Layer):
    """Batch normalisation over the channel axis (Keras's last axis).

    Keras's momentum m (moving = m * moving + (1 - m) * batch) maps to pydl's 1 - m. The moving
    variance is updated with the unbiased batch variance (PyTorch's rule; Keras uses the biased
    one), so after training it differs from Keras's by a factor n / (n - 1) of the batch.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if not isinstance(axis, (list, tuple)) else (axis[0] if len(axis) == 1 else axis)
        if isinstance(self.axis, (list, tuple)):
            raise NotImplementedError(f"[BatchNormalization] only one axis is supported, got {axis}")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.inits = [_inits.get(i, "BatchNormalization") for i in (gamma_initializer, beta_initializer,
                                                                     moving_mean_initializer,
                                                                     moving_variance_initializer)]

    def build(self, input_shape):
        rank = len(input_shape) + 1
        ax = self.axis + rank if self.axis < 0 else self.axis
        if ax != rank - 1:
            raise NotImplementedError(f"[BatchNormalization] only the last axis (channels) is supported, got "
                                      f"axis={self.axis} for inputs of rank {rank}")
        c = input_shape[-1]
        self.bn = nn.BatchNorm2d(c, eps=self.epsilon, momentum=1.0 - self.momentum) if rank == 4 else \
            nn.BatchNorm1d(c, eps=self.epsilon, momentum=1.0 - self.momentum)
        for p, on in ((self.bn.weight, self.scale), (self.bn.bias, self.center)):
            if not on:  # the missing gamma / beta stays at 1 / 0
                p.requires_grad_(False)
                p._keras_frozen = True
        self._init_weights([(i, (c,)) for i, on in zip(self.inits, (self.scale, self.center, True, True)) if on])

    def call(self, x):
        if x.dim() == 3:  # (N, T, F): normalise F, which BatchNorm1d wants at dim 1
            return self.bn(x.transpose(1, 2).contiguous()).transpose(1, 2)
        if x.dim() not in (2, 4):
            raise ValueError(f"[{self.name}] expected inputs of rank 2, 3 or 4, got {tuple(x.shape)}")
        return self.bn(x)

    def _tensors(self):
        b = self.bn
        return [t for t, on in ((b.weight, self.scale), (b.bias, self.center), (b.running_mean, True),
                                (b.running_var, True)) if on]

    @property
    def weights(self):
        return self._tensors()

    @property
    def trainable_weights(self):
        return [t for t in self._tensors()[:self.scale + self.center] if t.requires_grad]

    @property
    def non_trainable_weights(self):
        t = self._tensors()
        return [w for w in t[:self.scale + self.center] if not w.requires_grad] + t[self.scale + self.center:]

    def get_config(self):
        names = ("gamma_initializer", "beta_initializer", "moving_mean_initializer", "moving_variance_initializer")
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                **{n: _init_config(i) for n, i in zip(names, self.inits)}}


class Activation(Layer):
    """Applies an activation ('relu', 'softmax', ...) element-wise (softmax over channels)."""

    _has_activation = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation
        self._act_fn = _activation(activation, "Activation")

    def call(self, x):
        return self._activate(x)

    def get_config(self):
        return {**super().get_config(), "activation": _serialize_activation(self.activation, self.name)}


class ReLU(Layer):
    """max(x, 0), with Keras's max_value, negative_slope and threshold."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)

    def call(self, x):
        if self.negative_slope == 0 and self.threshold == 0:
            y = F.relu(x)
        else:
            y = _C.where(x >= self.threshold, x, (x - self.threshold) * self.negative_slope)
        return y if self.max_value is None else y.clamp(max=self.max_value)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class Softmax(Layer):
    """Softmax over `axis` (Keras's axes)."""

    _has_activation = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.activation = "softmax" if axis == -1 else None
        self._act_fn = self._softmax

    def _softmax(self, x):
        return F.softmax(x, dim=internal_axis(self.axis, x.dim(), self.name))

    def call(self, x):
        return self._softmax(x)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
