"""export(): trace the model (twice when axes are dynamic), convert each op, assemble the ModelProto."""
from .. import _C
from .._C import Tensor
from ..autograd import enable_grad
from . import _ops
from ._graph import Graph, UnsupportedOperatorError, Value, bind_outputs, onnx_dtype, real_shape
from ._trace import SymInt, Trace, TraceError, _leaves, tensors_of, tracing


def _run(model, args, kwargs, trace):
    with enable_grad(), tracing(trace):
        return model(*args, **kwargs)


def _traceable(t):
    """A fresh tensor with t's values; floating ones require grad, so values computed outside the
    traced dispatch show up (they have a grad_fn the graph does not know)."""
    c = _C.clone(t.detach())
    if c.dtype.is_floating_point:
        c.requires_grad_(True)
    return c


def _other_sizes(t, axes):
    """t with each dynamic axis doubled (by repeating its values, so indices stay valid)."""
    for a in sorted(axes):
        t = _C.cat([t, t], a)
    return t


def _convert(g, op, fold_params):
    name, args, kwargs = op.name, op.args, op.kwargs
    if name in _ops.REFLECTED:
        canon, args = _ops.REFLECTED[name], (args[1], args[0]) + tuple(args[2:])
    else:
        canon = _ops.ALIASES.get(name, name)
    if canon in _ops.RANDOM:
        raise UnsupportedOperatorError(f"[onnx.export] op '{name}' draws random numbers: the graph would hold one "
                                       f"draw as a constant (opset {g.opset})")
    values = [g.value(t) for t in tensors_of(args) + tensors_of(kwargs)]
    dynamic = any(isinstance(v, SymInt) for v in _leaves((args, kwargs), []))
    if not dynamic and all(v.kind == "const" or (v.kind == "param" and fold_params) for v in values):
        for t in tensors_of(op.out):  # computed from constants: it is a constant
            if id(t) not in g.values:  # (an op handing back its argument keeps the argument's name)
                g.values[id(t)] = Value(None, t, "const")
        return
    fn = _ops.CONVERTERS.get(canon)
    if fn is None:
        raise UnsupportedOperatorError(f"[onnx.export] op '{name}' has no ONNX conversion (opset {g.opset})")
    bind_outputs(g, op, fn(g, op, *args, **kwargs))


def _value_info(helper, name, t, dims, dyn_names):
    shape = [dyn_names.get(d, f"{name}_dim{d}") if d in dims else int(s) for d, s in enumerate(real_shape(t))]
    return helper.make_tensor_value_info(name, onnx_dtype(t.dtype), shape)


def build_model(model, args, kwargs, input_names, output_names, dynamic_axes, opset, do_constant_folding,
                export_params, keep_initializers_as_inputs):
    import onnx
    from onnx import helper

    from . import _dynamic_spec, _forward_names, _named_tensors
    tensor_args = [a for a in args if isinstance(a, Tensor)] + [v for v in kwargs.values() if isinstance(v, Tensor)]
    if any(isinstance(a, (list, tuple, dict)) and tensors_of(a) for a in list(args) + list(kwargs.values())):
        raise TypeError("[onnx.export] tensors nested in lists, tuples or dicts are not supported as inputs; pass "
                        "each tensor as its own argument")
    n_in = len(tensor_args)
    in_names = list(input_names or [])
    if len(in_names) > n_in:
        raise ValueError(f"[onnx.export] {len(in_names)} input_names for {n_in} tensor inputs")
    in_names += _forward_names(model, n_in)[len(in_names):]
    if len(set(in_names)) != len(in_names):
        raise ValueError(f"[onnx.export] input names repeat: {in_names}")

    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        # names of outputs are known only after a run; the dynamic spec is checked against inputs first
        probe_out_names = list(output_names or [])
        spec = _dynamic_spec(dynamic_axes, set(in_names) | set(probe_out_names) | set((dynamic_axes or {}).keys()))
        in_dyn = [frozenset(spec.get(n, {})) for n in in_names]
        for n, t, dims in zip(in_names, tensor_args, in_dyn):
            bad = [d for d in dims if not 0 <= d < t.dim()]
            if bad:
                raise ValueError(f"[onnx.export] dynamic_axes for input {n!r}: axis {bad[0]} is out of range for its "
                                 f"{t.dim()} dims")

        def prepared(tensors):
            it = iter(tensors)
            a = tuple(next(it) if isinstance(x, Tensor) else x for x in args)
            k = {key: next(it) if isinstance(v, Tensor) else v for key, v in kwargs.items()}
            return a, k

        reference = None
        if any(in_dyn):
            others = [_traceable(_other_sizes(t, dims)) for t, dims in zip(tensor_args, in_dyn)]
            ref = Trace(list(zip(others, in_dyn)))
            a, k = prepared(others)
            try:
                _run(model, a, k, ref)
            except TraceError:
                raise
            except Exception as e:  # noqa: BLE001  (any failure of the model at the other sizes)
                raise TraceError(f"[onnx.export] the model does not run when its dynamic axes change size (tried "
                                 f"doubling them: {e})") from e
            reference = ref.ops
        inputs = [_traceable(t) for t in tensor_args]
        trace = Trace(list(zip(inputs, in_dyn)), reference)
        a, k = prepared(inputs)
        out = _run(model, a, k, trace)
        if reference is not None and len(trace.ops) != len(reference):
            raise TraceError(f"[onnx.export] the model ran {len(reference)} ops at other sizes of the dynamic axes "
                             f"and {len(trace.ops)} at the traced ones: its control flow depends on a dynamic size")
    finally:
        if was_training:
            model.train(True)

    outs = tensors_of(out)
    if not outs:
        raise TypeError("[onnx.export] the model returned no tensors")
    out_names = list(output_names or [])
    if len(out_names) > len(outs):
        raise ValueError(f"[onnx.export] {len(out_names)} output_names for {len(outs)} outputs")
    default = ["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))]
    out_names += default[len(out_names):]
    names = set(in_names) | set(out_names)
    spec = _dynamic_spec(dynamic_axes, names)

    g = Graph(opset, trace, do_constant_folding)
    named = _named_tensors(model)
    g.param_names = {i: n for i, (n, _) in named.items()}
    for n in in_names + out_names:
        g._names.add(n)
    graph_inputs = []
    for n, t, dims in zip(in_names, inputs, in_dyn):
        g.values[id(t)] = Value(n, t, "input", dims)
        graph_inputs.append(_value_info(helper, n, t, dims, spec.get(n, {})))
    param_inputs = {}
    for i, (pname, p) in named.items():
        if export_params:
            g.values[i] = Value(None, p, "param")  # its initializer is written on first use
        else:
            g._names.add(pname)
            g.values[i] = Value(pname, p, "input")
            param_inputs[pname] = p
    fold_params = do_constant_folding and export_params
    for op in trace.ops:
        _convert(g, op, fold_params)

    graph_outputs, renames = [], {}
    produced = {o for nd in g.nodes for o in nd.output}
    for n, t in zip(out_names, outs):
        v = g.value(t)
        src = g.name(t)
        if src in produced and src not in renames and v.kind == "node":
            renames[src] = n
        else:
            g.nodes.append(helper.make_node("Identity", [src], [n], name=f"/Identity_{n}"))
        graph_outputs.append(_value_info(helper, n, t, v.dyn, spec.get(n, {})))
    for nd in g.nodes:
        for j, o in enumerate(nd.output):
            if o in renames:
                nd.output[j] = renames[o]
        for j, o in enumerate(nd.input):
            if o in renames:
                nd.input[j] = renames[o]

    # nodes no output depends on (states a model computes and drops) go
    needed, kept = {gi.name for gi in graph_outputs}, []
    for nd in reversed(g.nodes):
        if any(o in needed for o in nd.output):
            kept.append(nd)
            needed.update(nd.input)
    g.nodes = kept[::-1]
    used = {i for nd in g.nodes for i in nd.input}
    initializers = [init for name, init in g.initializers.items() if name in used]
    for pname, p in param_inputs.items():
        if pname in used:
            graph_inputs.append(helper.make_tensor_value_info(pname, onnx_dtype(p.dtype), list(real_shape(p))))
    if keep_initializers_as_inputs:
        for init in initializers:
            graph_inputs.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    graph = helper.make_graph(g.nodes, getattr(model, "name", None) if isinstance(getattr(model, "name", None), str)
                              else type(model).__name__, graph_inputs, graph_outputs, initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="pydl",
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto, full_check=True)
    return proto

