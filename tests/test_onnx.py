"""pydl.onnx: export by tracing, checked with onnx.checker and ONNX Runtime (at other batch sizes too)."""
import io
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import pydl  # noqa: E402
import pydl.nn.functional as F  # noqa: E402
import pydl.onnx  # noqa: E402
from pydl import nn  # noqa: E402

TOL = 1e-5


def _export(model, args, tmp_path, name="m", **kw):
    path = tmp_path / f"{name}.onnx"
    pydl.onnx.export(model, args, path, **kw)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    return path


def _ort(path, *inputs):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.ascontiguousarray(t.numpy()) for i, t in zip(sess.get_inputs(), inputs)}
    return sess.run(None, feeds)


class Fn(nn.Module):
    """A model from a function of its inputs (for the op-level cases)."""

    def __init__(self, fn, *modules):
        super().__init__()
        self.fn = fn
        self.mods = nn.ModuleList(modules)

    def forward(self, x, *more):
        return self.fn(self.mods, x, *more)


# ---- the models of the issue ------------------------------------------------------------------

class MnistNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(self.conv2(x), 2)
        x = pydl.flatten(self.dropout1(x), 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.fc(out[:, -1, :])


class EmbeddingGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 12)
        self.gru = nn.GRU(12, 16, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(32, 4)

    def forward(self, idx):
        out, h = self.gru(self.emb(idx))
        return self.fc(out.mean(1)), h


class ConvBNConvTPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.up_weight = nn.Parameter(pydl.randn(8, 2, 3, 3) * 0.2)
        self.up_bias = nn.Parameter(pydl.randn(4) * 0.1)
        self.pool = nn.AvgPool2d(2)
        with pydl.no_grad():  # running statistics that are not the identity
            self.bn.running_mean.copy_(pydl.randn(8) * 0.1)
            self.bn.running_var.copy_(pydl.rand(8) + 0.5)
            self.bn.weight.copy_(pydl.rand(8) + 0.5)
            self.bn.bias.copy_(pydl.randn(8) * 0.1)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = F.conv_transpose2d(x, self.up_weight, self.up_bias, stride=2, padding=1, output_padding=1, groups=2)
        return self.pool(x)


def _keras_cnn():
    from pydl import keras
    return keras.Sequential([
        keras.layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)),
            lambda b: pydl.randn(b, 1, 28, 28), 1),
    "mnistnet": (MnistNet, lambda b: pydl.randn(b, 1, 28, 28), 1),
    "lstm": (LSTMClassifier, lambda b: pydl.randn(b, 7, 8), 1),
    "embedding_gru": (EmbeddingGRU, lambda b: pydl.randint(0, 50, (b, 9)), 2),
    "conv_bn_convt_pool": (ConvBNConvTPool, lambda b: pydl.randn(b, 3, 10, 10), 1),
    "keras_cnn": (_keras_cnn, lambda b: pydl.rand(b, 28, 28, 1), 1),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_issue_models_match_onnx_runtime_at_other_batch_sizes(name, tmp_path):
    pydl.manual_seed(0)
    make, inputs, n_out = MODELS[name]
    model = make()
    out_names = ["logits", "h_n"][:n_out]
    dyn = {"x": {0: "batch"}, "logits": {0: "batch"}}
    if n_out == 2:
        dyn["h_n"] = {1: "batch"}
    path = _export(model, (inputs(2),), tmp_path, input_names=["x"], output_names=out_names, dynamic_axes=dyn)
    proto = onnx.load(str(path))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert [o.name for o in proto.graph.output] == out_names
    for b in (1, 3):
        assert pydl.onnx.verify(model, (inputs(b),), path) < TOL


def test_traced_at_batch_one_runs_at_batch_five(tmp_path):
    pydl.manual_seed(1)
    model = _keras_cnn()
    path = _export(model, pydl.rand(1, 28, 28, 1), tmp_path, dynamic_axes={"x": [0], "output": [0]})
    assert pydl.onnx.verify(model, pydl.rand(5, 28, 28, 1), path) < TOL


def test_batch_reshape_goes_through_shape_not_a_number(tmp_path):
    lin = nn.Linear(12, 5)
    model = Fn(lambda m, x: m[0](x.view(x.size(0), -1)).reshape(x.shape[0], 5, 1), lin)
    path = _export(model, pydl.randn(2, 3, 4), tmp_path, dynamic_axes={"x": {0: "n"}})
    ops = [nd.op_type for nd in onnx.load(str(path)).graph.node]
    assert "Shape" in ops and "Gather" in ops and "Concat" in ops
    for init in onnx.load(str(path)).graph.initializer:  # no baked-in batch of 2
        if init.data_type == onnx.TensorProto.INT64:
            assert 2 not in onnx.numpy_helper.to_array(init).reshape(-1).tolist()
    assert pydl.onnx.verify(model, pydl.randn(7, 3, 4), path) < TOL


def test_lstm_with_dynamic_batch_and_sequence_length(tmp_path):
    pydl.manual_seed(2)
    model = nn.LSTM(5, 6, num_layers=2, bidirectional=True, batch_first=True)
    path = _export(model, pydl.randn(2, 4, 5), tmp_path, input_names=["x"], output_names=["y", "h", "c"],
                   dynamic_axes={"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}})
    assert pydl.onnx.verify(model, pydl.randn(3, 9, 5), path) < TOL


def test_rnn_relu_and_time_major_gru(tmp_path):
    pydl.manual_seed(3)
    rnn, gru = nn.RNN(4, 5, nonlinearity="relu", num_layers=2), nn.GRU(5, 3)
    model = Fn(lambda m, x: m[1](m[0](x)[0])[0], rnn, gru)
    path = _export(model, pydl.randn(6, 2, 4), tmp_path, dynamic_axes={"x": [1]})
    assert pydl.onnx.verify(model, pydl.randn(6, 5, 4), path) < TOL


# ---- op coverage: each case is a small model and its input -------------------------------------

def _case(fn, shape, *modules, int_input=False):
    return fn, shape, modules, int_input


CASES = {
    "conv_groups_dilation_padding": _case(lambda m, x: m[0](x), (2, 4, 9, 9), nn.Conv2d(4, 6, 3, stride=2,
                                                                                           padding=2, dilation=2,
                                                                                           groups=2)),
    "conv_same_and_conv1d": _case(lambda m, x: m[1](m[0](x).flatten(2)), (2, 3, 6, 6),
                                  nn.Conv2d(3, 4, 3, padding="same"), nn.Conv1d(4, 2, 5, padding=2)),
    "conv_transpose_dilation": _case(lambda m, x: F.conv_transpose2d(x, pydl.ones(3, 2, 2, 2) * 0.1, None, stride=2,
                                                                    dilation=2), (2, 3, 5, 5)),
    "max_pool_padding_dilation_ceil": _case(lambda m, x: F.max_pool2d(x, 3, 2, padding=1, dilation=1,
                                                                      ceil_mode=True), (2, 3, 10, 10)),
    "avg_pool_no_pad_count": _case(lambda m, x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False),
                                   (2, 3, 9, 9)),
    "adaptive_pools": _case(lambda m, x: pydl.cat([F.adaptive_avg_pool2d(x, 1).flatten(1),
                                                   F.adaptive_avg_pool2d(x, (2, 2)).flatten(1)], 1), (2, 3, 8, 8)),
    "layer_norm_batch_norm1d": _case(lambda m, x: m[1](m[0](x)), (4, 6), nn.LayerNorm(6), nn.BatchNorm1d(6)),
    "activations": _case(lambda m, x: pydl.stack([F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x), F.elu(x, 0.7),
                                                  F.leaky_relu(x, 0.2), F.softplus(x, beta=2.0, threshold=3.0),
                                                  pydl.sigmoid(x), pydl.tanh(x), F.relu(x)], 0), (3, 5)),
    "elementwise": _case(lambda m, x: (x.abs() + 1).sqrt() * 2 - (x.clamp(-0.5, 0.5) ** 2) / 3
                         + pydl.exp(x).log1p() + pydl.where(x > 0, x, -x).rsqrt() + 1.0 / (x.abs() + 2)
                         + pydl.maximum(x, x.neg()) + x.expm1() + pydl.minimum(x, pydl.zeros(5)), (3, 5)),
    "compare_and_cast": _case(lambda m, x: ((x > 0) & (x < 1)).float() + (x == x).float() * 2
                              + (x >= 0.5).logical_not().float(), (3, 5)),
    "softmax_logsoftmax": _case(lambda m, x: F.softmax(x, dim=1) + F.log_softmax(x, dim=-1).exp(), (2, 3, 4)),
    "reductions": _case(lambda m, x: pydl.cat([x.sum(1), x.mean((1, 2)).unsqueeze(1).expand(-1, 4),
                                               x.amax(1), x.var(1), x.std(1, correction=0), pydl.logsumexp(x, 1),
                                               x.max(1).values, x.argmax(1).float(), x.prod(1)], 1), (2, 3, 4)),
    "indexing": _case(lambda m, x: pydl.cat([x[:, 1:3].flatten(1), x[:, -1], x[..., ::2].flatten(1),
                                             x[:, None, 0].flatten(1), x[:, pydl.tensor([2, 0])].flatten(1),
                                             x.index_select(2, pydl.tensor([3, 1])).flatten(1)], 1), (2, 3, 4)),
    "shapes": _case(lambda m, x: pydl.cat([x.permute(0, 2, 1).reshape(x.shape[0], -1), x.transpose(1, 2).flatten(1),
                                           pydl.stack(x.split(2, dim=2), 1).flatten(1),
                                           pydl.cat(x.chunk(2, dim=2)[::-1], 2).flatten(1),
                                           x.unsqueeze(1).squeeze(1).flatten(1), x.repeat(1, 2, 1).flatten(1)], 1),
                    (2, 3, 4)),
    "embedding_gather": _case(lambda m, x: m[0](x).sum(1) + m[0].weight[x[:, 0]], (3, 5), nn.Embedding(10, 4),
                              int_input=True),
    "pad_modes": _case(lambda m, x: pydl.cat([F.pad(x, (1, 2, 0, 1)).flatten(1), F.pad(x, (2, 1), mode="reflect")
                                              .flatten(1), F.pad(x, (1, 1, 1, 1), mode="replicate").flatten(1),
                                              m[0](x).flatten(1)], 1), (2, 3, 5, 5),
                       nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect")),
    "inplace_and_scalars": _case(lambda m, x: (lambda y: (y.__iadd__(1), y.mul_(0.5), 2 - y / 3 + y ** 2)[-1])(x * 2),
                                 (2, 4)),
    "keras_dense_on_sequences": _case(lambda m, x: m[0](x) * 2, (2, 3, 4), nn.Linear(4, 2)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_ops_match_onnx_runtime(name, tmp_path):
    pydl.manual_seed(4)
    fn, shape, modules, int_input = CASES[name]
    model = Fn(fn, *modules)
    make = (lambda b: pydl.randint(0, 10, (b,) + shape[1:])) if int_input else (lambda b: pydl.randn(b, *shape[1:]))
    path = _export(model, make(shape[0]), tmp_path, dynamic_axes={"x": [0]})
    assert pydl.onnx.verify(model, make(shape[0]), path) < TOL
    assert pydl.onnx.verify(model, make(shape[0] + 3), path) < TOL


@pytest.mark.parametrize("opset", [13, 17, 18, 20])
def test_opsets(opset, tmp_path):
    pydl.manual_seed(5)
    model = Fn(lambda m, x: F.gelu(m[0](x)).mean(-1, keepdim=True) + m[0](x).amax(-1, keepdim=True), nn.LayerNorm(6))
    path = _export(model, pydl.randn(3, 6), tmp_path, opset_version=opset, dynamic_axes={"x": [0]})
    assert onnx.load(str(path)).opset_import[0].version == opset
    assert pydl.onnx.verify(model, pydl.randn(5, 6), path) < TOL


# ---- interface --------------------------------------------------------------------------------

def test_file_object_names_params_and_no_constant_folding(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    buf = io.BytesIO()
    pydl.onnx.export(model, (pydl.randn(2, 3),), buf, input_names=["feat"], do_constant_folding=False)
    proto = onnx.load_from_string(buf.getvalue())
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias"}
    assert proto.graph.input[0].name == "feat"
    x = pydl.randn(2, 3)
    np.testing.assert_allclose(_ort_bytes(buf.getvalue(), x)[0], model(x).detach().numpy(), atol=TOL)


def _ort_bytes(data, *inputs):
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return sess.run(None, {i.name: t.numpy() for i, t in zip(sess.get_inputs(), inputs)})


def test_export_params_false_makes_parameters_inputs(tmp_path):
    model = nn.Linear(3, 2)
    path = _export(model, pydl.randn(4, 3), tmp_path, export_params=False)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    assert not proto.graph.initializer
    assert pydl.onnx.verify(model, pydl.randn(4, 3), path) < TOL


def test_model_left_as_it_was_and_dispatch_restored(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    add, tadd, shape, mul = pydl._C.add, pydl.Tensor.__add__, pydl.Tensor.shape, pydl.mul
    _export(model, pydl.randn(2, 3), tmp_path)
    assert model.training  # exported in eval mode, handed back in training mode
    assert pydl._C.add is add and pydl.Tensor.__add__ is tadd and pydl.Tensor.shape is shape
    assert pydl.mul is mul and pydl.nn.functional._C.relu is pydl._C.relu


def test_bad_arguments(tmp_path):
    model = nn.Linear(3, 2)
    x = pydl.randn(2, 3)
    with pytest.raises(ValueError, match=r"\[onnx.export\] opset_version"):
        pydl.onnx.export(model, x, tmp_path / "a.onnx", opset_version=9)
    with pytest.raises(ValueError, match="dynamic_axes names 'nope'"):
        pydl.onnx.export(model, x, tmp_path / "a.onnx", dynamic_axes={"nope": [0]})
    with pytest.raises(TypeError, match="operator_export_type"):
        pydl.onnx.export(model, x, tmp_path / "a.onnx", operator_export_type=1)


# ---- never a graph that computes something else -----------------------------------------------

def test_unsupported_op_names_the_op_and_opset(tmp_path):
    model = Fn(lambda m, x: pydl.atan2(x, x + 1))
    with pytest.raises(pydl.onnx.UnsupportedOperatorError, match=r"'atan2'.*opset 17"):
        pydl.onnx.export(model, pydl.randn(2, 3), tmp_path / "a.onnx")


def test_max_pool_indices_are_refused(tmp_path):
    model = Fn(lambda m, x: F.max_pool2d(x, 2, return_indices=True)[1].float())
    with pytest.raises(pydl.onnx.UnsupportedOperatorError, match="max_pool2d"):
        pydl.onnx.export(model, pydl.randn(1, 1, 4, 4), tmp_path / "a.onnx")


def test_a_dynamic_size_through_int_is_refused(tmp_path):
    model = Fn(lambda m, x: x.reshape(int(x.shape[0]) * 3, -1))
    pydl.onnx.export(model, pydl.randn(2, 3, 2), tmp_path / "static.onnx")  # fine without dynamic axes
    with pytest.raises(pydl.onnx.TraceError, match="plain Python value"):
        pydl.onnx.export(model, pydl.randn(2, 3, 2), tmp_path / "a.onnx", dynamic_axes={"x": [0]})


def test_data_dependent_values_are_refused(tmp_path):
    model = Fn(lambda m, x: x * x.sum().item())
    with pytest.raises(pydl.onnx.TraceError, match=r"item\(\)"):
        pydl.onnx.export(model, pydl.randn(2, 3), tmp_path / "a.onnx")
    model = Fn(lambda m, x: pydl.from_numpy(np.tanh(x.detach().numpy())))
    with pytest.raises(pydl.onnx.TraceError):
        pydl.onnx.export(model, pydl.randn(2, 3), tmp_path / "b.onnx")


def test_import_without_onnx_packages(tmp_path):
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('onnx', 'onnxruntime'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pydl, pydl.onnx\n"
        "try:\n"
        "    pydl.onnx.export(pydl.nn.Linear(2, 2), pydl.randn(1, 2), 'x.onnx')\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    # cwd outside the repository: from its root, `import pydl` would find the unbuilt source folder
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ}, cwd=tmp_path)
    assert 'pip install "pydl[onnx]"' in out.stdout
