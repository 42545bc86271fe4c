"""pydl.onnx: export a model to ONNX (torch.onnx.export's interface) and check it on ONNX Runtime.

``export`` runs the model once on example inputs with pydl's dispatch in tracing mode, records
every op as it runs and writes the ONNX graph with the ``onnx`` package (parameters become
initializers named after them). ``verify`` runs the file on ONNX Runtime and reports the largest
difference from pydl. Both need ``pip install "pydl[onnx]"`` (onnx, onnxruntime); importing this
module does not.
"""
import enum
import inspect
import os

from .._C import Tensor
from ._graph import UnsupportedOperatorError
from ._trace import TraceError

__all__ = ["export", "verify", "TrainingMode", "UnsupportedOperatorError", "TraceError"]

MIN_OPSET, MAX_OPSET = 13, 21


class TrainingMode(enum.IntEnum):
    """torch.onnx.TrainingMode: which mode the model is exported in (pydl exports EVAL only)."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def _require(pkg):
    try:
        return __import__(pkg)
    except ImportError:
        raise ImportError(f"[onnx.export] the {pkg!r} package is needed: pip install \"pydl[onnx]\"") from None


def _split_args(args):
    if isinstance(args, Tensor):
        return (args,), {}
    if isinstance(args, list):
        args = tuple(args)
    if not isinstance(args, tuple):
        raise TypeError(f"[onnx.export] args must be a Tensor or a tuple of model arguments, got {type(args).__name__}")
    if args and isinstance(args[-1], dict):
        return args[:-1], dict(args[-1])
    return args, {}


def _forward_names(model, n):
    fn = getattr(model, "forward", model)
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    if n == 1:
        return [params[0] if params else "input"]
    return [params[i] if i < len(params) else f"input_{i}" for i in range(n)]


def _dynamic_spec(dynamic_axes, names):
    """{tensor name: {axis: dim name}} from torch's forms ({name: [axes]} or {name: {axis: dim name}})."""
    spec = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"[onnx.export] dynamic_axes names {name!r}, which is not an input or output name "
                             f"(names: {sorted(names)})")
        if isinstance(axes, dict):
            spec[name] = {int(a): str(d) for a, d in axes.items()}
        elif isinstance(axes, (list, tuple)):
            spec[name] = {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        else:
            raise TypeError(f"[onnx.export] dynamic_axes[{name!r}] must be a list of axes or a dict axis -> name")
    return spec


def _named_tensors(model):
    """id -> name for the model's parameters and buffers (the first name of a shared one)."""
    names = {}
    if hasattr(model, "named_parameters"):
        for n, p in model.named_parameters():
            names.setdefault(id(p), (n, p))
        for n, b in model.named_buffers():
            if b is not None:
                names.setdefault(id(b), (n, b))
    return names


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=17,
           do_constant_folding=True, export_params=True, *, kwargs=None, verbose=False, training=TrainingMode.EVAL,
           keep_initializers_as_inputs=False, dynamo=False, **unsupported):
    """Exports `model` to ONNX by running it once on `args` and recording its ops.

    Args:
        model: a pydl.nn.Module (exported in eval mode) or a function of tensors.
        args: the example inputs: a Tensor, or a tuple of arguments (a trailing dict gives keyword arguments).
            Tensor arguments become the graph's inputs, in order.
        f: a file path or a writable binary file object.
        input_names, output_names: names of the graph's inputs and outputs (default: forward's argument names,
            "output" / "output_0", ...).
        dynamic_axes: {name: [axis, ...]} or {name: {axis: "dim name"}}: axes of inputs/outputs whose size may
            change. Sizes taken from them stay computed in the graph (Shape/Gather), never fixed numbers.
        opset_version: the ONNX opset, 13 to 21.
        do_constant_folding: ops on parameters and constants only are computed at export time.
        export_params: parameters as initializers (else they become graph inputs).
        kwargs: keyword arguments of the model (torch's newer form of the trailing dict).
        verbose: prints the graph.
        training: TrainingMode.EVAL (the default); other modes are not supported.
        keep_initializers_as_inputs: also list the initializers as graph inputs.
        dynamo: accepted for torch's interface; pydl has one exporter.

    Raises:
        UnsupportedOperatorError: an op of the model has no exact ONNX form at this opset.
        TraceError: the model cannot be traced faithfully (e.g. a dynamic size went through int()).
    """
    if unsupported:
        raise TypeError(f"[onnx.export] argument(s) not supported: {', '.join(sorted(unsupported))}")
    if training != TrainingMode.EVAL:
        raise ValueError(f"[onnx.export] only training=TrainingMode.EVAL is supported, got {training!r}")
    if not isinstance(opset_version, int) or not MIN_OPSET <= opset_version <= MAX_OPSET:
        raise ValueError(f"[onnx.export] opset_version must be an int from {MIN_OPSET} to {MAX_OPSET}, got "
                         f"{opset_version!r}")
    onnx = _require("onnx")
    from ._export import build_model
    args, kw = _split_args(args)
    kw.update(kwargs or {})
    model_proto = build_model(model, args, kw, input_names, output_names, dynamic_axes, opset_version,
                              do_constant_folding, export_params, keep_initializers_as_inputs)
    if verbose:
        print(onnx.helper.printable_graph(model_proto.graph))
    data = model_proto.SerializeToString()
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            fh.write(data)
    elif hasattr(f, "write"):
        f.write(data)
    else:
        raise TypeError(f"[onnx.export] f must be a path or a writable binary file, got {type(f).__name__}")
    return None


def verify(model, args, path, rtol=None, atol=None):
    """Runs the ONNX file on ONNX Runtime and compares its outputs with pydl's on the same inputs.

    Args:
        model: the pydl model that was exported (run in eval mode, without gradients).
        args: its inputs, as given to export (any batch size the dynamic axes allow).
        path: the .onnx file (a path, or the model's bytes).
        rtol, atol: if given, raise AssertionError when a difference exceeds atol + rtol * |pydl's value|.

    Returns:
        The largest absolute difference over all outputs (a float).
    """
    np = _require("numpy")
    ort = _require("onnxruntime")
    from .. import no_grad
    from ._trace import tensors_of
    args, kw = _split_args(args)
    src = path if isinstance(path, bytes) else os.fspath(path)
    sess = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
    inputs = [t for t in list(args) + list(kw.values()) if isinstance(t, Tensor)]
    graph_inputs = sess.get_inputs()
    if len(graph_inputs) < len(inputs):
        raise ValueError(f"[onnx.verify] the model file has {len(graph_inputs)} inputs, but {len(inputs)} tensors "
                         "were given")
    feeds = {gi.name: np.ascontiguousarray(t.detach().numpy()) for gi, t in zip(graph_inputs, inputs)}
    if len(graph_inputs) > len(inputs):  # export_params=False: the parameters are inputs too
        named = dict(_param_items(model))
        for gi in graph_inputs[len(inputs):]:
            if gi.name not in named:
                raise ValueError(f"[onnx.verify] no tensor for the graph input {gi.name!r}")
            feeds[gi.name] = np.ascontiguousarray(named[gi.name].detach().numpy())
    was = getattr(model, "training", None)
    if was is not None:
        model.eval()
    try:
        with no_grad():
            out = model(*args, **kw)
    finally:
        if was:
            model.train(True)
    ours = [t.detach().numpy() for t in tensors_of(out)]
    theirs = sess.run(None, feeds)
    if len(ours) != len(theirs):
        raise AssertionError(f"[onnx.verify] pydl gives {len(ours)} outputs, ONNX Runtime {len(theirs)}")
    worst = 0.0
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a.shape != b.shape:
            raise AssertionError(f"[onnx.verify] output {i}: pydl's shape {a.shape}, ONNX Runtime's {b.shape}")
        if a.size:
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            worst = max(worst, float(np.max(d)))
            if rtol is not None or atol is not None:
                tol = (atol or 0.0) + (rtol or 0.0) * np.abs(a.astype(np.float64))
                if np.any(d > tol):
                    raise AssertionError(f"[onnx.verify] output {i} differs by up to {float(np.max(d)):.3g} "
                                         f"(tolerance atol={atol}, rtol={rtol})")
    return worst


def _param_items(model):
    if not hasattr(model, "named_parameters"):
        return []
    return list(model.named_parameters()) + [(n, b) for n, b in model.named_buffers() if b is not None]
