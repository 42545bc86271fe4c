"""The functional API's graph: symbolic KerasTensors, the Nodes that record layer calls, and
Keras's topological order of a graph (`map_graph`), which fixes `model.layers`, the execution
order and the layer order inside saved files (so files pydl writes line up with Keras's).

A KerasTensor carries a Keras shape (with the batch dimension, channels-last); the values that
flow through a running graph are pydl tensors in pydl's internal layout (see layers.core).
"""
import collections

__all__ = ["KerasTensor", "Node", "flatten", "pack_like", "map_graph", "is_symbolic"]


class ShapeLeaf(tuple):
    """A shape held as one leaf of a structure (plain tuples are containers)."""


def flatten(struct):
    """Leaves of nested lists / tuples / dicts (dict values by sorted key, as Keras's tree)."""
    if isinstance(struct, ShapeLeaf):
        return [struct]
    if isinstance(struct, dict):
        return [leaf for k in sorted(struct) for leaf in flatten(struct[k])]
    if isinstance(struct, (list, tuple)):
        return [leaf for s in struct for leaf in flatten(s)]
    return [struct]


def pack_like(struct, leaves):
    """Rebuilds `struct`'s nesting from a flat list of leaves (inverse of flatten)."""
    it = iter(leaves)

    def build(s):
        if isinstance(s, ShapeLeaf):
            return next(it)
        if isinstance(s, dict):
            vals = {k: build(s[k]) for k in sorted(s)}
            return {k: vals[k] for k in s}
        if isinstance(s, (list, tuple)):
            return type(s)(build(v) for v in s)
        return next(it)

    return build(struct)


def map_structure(fn, struct):
    return pack_like(struct, [fn(leaf) for leaf in flatten(struct)])


def is_symbolic(*structs):
    return any(isinstance(leaf, KerasTensor) for s in structs for leaf in flatten(s))


class KerasTensor:
    """A symbolic tensor: shape (batch first, None where unknown), dtype, and the layer call that
    made it (`_keras_history` = (layer, node_index, tensor_index))."""

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.name = name
        self._keras_history = None

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        layer = self._keras_history[0].name if self._keras_history else None
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name or layer}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __bool__(self):
        raise TypeError("[KerasTensor] a symbolic tensor has no truth value (it holds no data until the model "
                        "runs)")

    def __len__(self):
        raise TypeError("[KerasTensor] a symbolic tensor has no length; use .shape")

    # arithmetic records an op layer, as Keras does for `x + y` on symbolic tensors
    def _op(self, name, *args):
        from . import ops
        return getattr(ops, name)(*args)

    def __add__(self, o):
        return self._op("add", self, o)

    def __radd__(self, o):
        return self._op("add", o, self)

    def __sub__(self, o):
        return self._op("subtract", self, o)

    def __rsub__(self, o):
        return self._op("subtract", o, self)

    def __mul__(self, o):
        return self._op("multiply", self, o)

    def __rmul__(self, o):
        return self._op("multiply", o, self)

    def __truediv__(self, o):
        return self._op("divide", self, o)

    def __rtruediv__(self, o):
        return self._op("divide", o, self)

    def __neg__(self):
        return self._op("negative", self)

    def __pow__(self, o):
        return self._op("power", self, o)

    def __matmul__(self, o):
        return self._op("matmul", self, o)

    def __getitem__(self, idx):
        from . import ops
        return ops._getitem(self, idx)


class Node:
    """One call of a layer inside a graph: the call's arguments (KerasTensors in place of data)
    and the KerasTensors it produced."""

    def __init__(self, layer, args, kwargs, outputs):
        self.layer = layer
        self.args = tuple(args)
        self.kwargs = dict(kwargs)
        self.outputs = list(outputs)
        self.input_tensors = [t for t in flatten([list(self.args), self.kwargs]) if isinstance(t, KerasTensor)]
        layer._inbound_nodes.append(self)
        index = len(layer._inbound_nodes) - 1
        for i, t in enumerate(self.outputs):
            t._keras_history = (layer, index, i)

    @property
    def is_input(self):
        return getattr(self.layer, "_is_input_layer", False)

    @property
    def parent_nodes(self):
        return [t._keras_history[0]._inbound_nodes[t._keras_history[1]] for t in self.input_tensors
                if t._keras_history is not None]


def map_graph(inputs, outputs, owner="Model"):
    """Keras's map_graph: nodes in execution order and layers in Keras's order (by decreasing
    depth, ties by first traversal), checking that every output is computable from `inputs`."""
    finished, in_progress, ordered, op_index = set(), set(), [], {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor):
        if tensor._keras_history is None:
            raise ValueError(f"[{owner}] {tensor} was not produced by a Keras layer (use keras.Input(...) and call "
                             "layers on it)")
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if node in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(node)
            return
        if node in in_progress:
            raise ValueError(f"[{owner}] tensor {tensor} from layer {layer.name!r} is part of a cycle")
        op_index.setdefault(layer, len(op_index))
        in_progress.add(node)
        if not node.is_input:
            for t in node.input_tensors:
                visit(t)
        finished.add(node)
        in_progress.discard(node)
        ordered.append(node)

    for t in outputs:
        visit(t)
    in_graph = set(ordered)
    node_depth, op_depth = {}, {}
    for node in reversed(ordered):
        depth = node_depth.setdefault(node, 0)
        depth = max(depth, op_depth.get(node.layer, 0))
        op_depth[node.layer] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            if parent in in_graph:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for t in inputs:  # inputs that no output uses still belong to the model
        layer, node_index, _ = t._keras_history
        if layer not in op_depth and layer._inbound_nodes[node_index].is_input:
            op_depth[layer] = 0
            op_index[layer] = -1
            node_depth[layer._inbound_nodes[node_index]] = 0
    layers_by_depth = collections.defaultdict(list)
    for layer, d in op_depth.items():
        layers_by_depth[d].append(layer)
    layers = []
    for d in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[d], key=lambda op: op_index[op]))
    nodes_by_depth = collections.defaultdict(list)
    for node, d in node_depth.items():
        nodes_by_depth[d].append(node)
    nodes = [n for d in sorted(nodes_by_depth, reverse=True) for n in nodes_by_depth[d]]
    computable = {id(t) for t in inputs}
    for node in nodes:
        if node.is_input and not any(id(t) in computable for t in node.outputs):
            raise ValueError(f"[{owner}] graph disconnected: the outputs depend on input {node.layer.name!r}, which "
                             "is not among the model's inputs")
        for t in node.input_tensors:
            if id(t) not in computable:
                raise ValueError(f"[{owner}] graph disconnected: cannot compute {t} (an input of layer "
                                 f"{node.layer.name!r}) from the model's inputs")
        computable.update(id(t) for t in node.outputs)
    names = [layer.name for layer in layers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"[{owner}] layer names must be unique inside a model; used more than once: {dup}")
    return nodes, layers
