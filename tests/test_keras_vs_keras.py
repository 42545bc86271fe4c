"""pydl.keras against Keras 3 itself (torch backend): every layer with the same weights gives the
same outputs, and .keras / .weights.h5 files move both ways with the same predictions."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")
if keras.backend.backend() != "torch":  # pragma: no cover - another backend was chosen before us
    pytest.skip("these tests compare with Keras on its torch backend", allow_module_level=True)

import pydl  # noqa: E402
from pydl import keras as pk  # noqa: E402
from pydl.keras.layers import preprocessing as P  # noqa: E402
from pydl.keras.layers.core import to_internal, to_keras  # noqa: E402

pydl.set_num_threads(1)


def _perturbed(weights, rng):
    return [w + rng.normal(scale=0.1, size=w.shape).astype(np.float32) for w in weights]


def _leaves(out):
    if isinstance(out, dict):
        return [out[k] for k in sorted(out)]
    return list(out) if isinstance(out, (list, tuple)) else [out]


SINGLE = {
    "dense": (lambda L: L.Dense(3, activation="relu"), (4,)),
    "conv_bn": (lambda L: (lambda x: L.BatchNormalization()(L.Conv2D(3, 3, padding="same")(x))), (6, 6, 2)),
    "conv1d": (lambda L: L.Conv1D(3, 3, padding="same", strides=2), (7, 2)),
    "conv1d_causal": (lambda L: L.Conv1D(3, 3, padding="causal", dilation_rate=2), (7, 2)),
    "conv2d_transpose": (lambda L: L.Conv2DTranspose(3, 3, strides=2), (5, 4, 2)),
    "conv2d_transpose_same": (lambda L: L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"),
                              (5, 4, 2)),
    "conv2d_transpose_same_k4": (lambda L: L.Conv2DTranspose(3, 4, strides=2, padding="same"), (5, 4, 2)),
    "separable_conv2d": (lambda L: L.SeparableConv2D(4, 3, padding="same", depth_multiplier=2), (6, 5, 3)),
    "depthwise_conv2d": (lambda L: L.DepthwiseConv2D(3, strides=2, depth_multiplier=2), (7, 6, 3)),
    "up_sampling2d": (lambda L: L.UpSampling2D((2, 3)), (3, 4, 2)),
    "up_sampling1d": (lambda L: L.UpSampling1D(3), (4, 2)),
    "zero_padding1d": (lambda L: L.ZeroPadding1D((2, 1)), (4, 2)),
    "cropping1d": (lambda L: L.Cropping1D((1, 2)), (6, 2)),
    "zero_padding2d": (lambda L: L.ZeroPadding2D(((1, 2), (0, 1))), (3, 4, 2)),
    "cropping2d": (lambda L: L.Cropping2D(((1, 0), (1, 2))), (5, 6, 2)),
    "max_pooling1d_same": (lambda L: L.MaxPooling1D(2, padding="same"), (7, 3)),
    "average_pooling1d": (lambda L: L.AveragePooling1D(3, strides=2), (8, 3)),
    "average_pooling2d": (lambda L: L.AveragePooling2D(2), (4, 6, 5)),
    "global_average_pooling1d": (lambda L: L.GlobalAveragePooling1D(), (8, 3)),
    "global_max_pooling1d": (lambda L: L.GlobalMaxPooling1D(), (8, 3)),
    "global_max_pooling2d": (lambda L: L.GlobalMaxPooling2D(), (4, 3, 5)),
    "permute4": (lambda L: L.Permute((2, 1, 3)), (3, 4, 2)),
    "permute3": (lambda L: L.Permute((2, 1)), (3, 4)),
    "repeat_vector": (lambda L: L.RepeatVector(3), (4,)),
    "leaky_relu": (lambda L: L.LeakyReLU(), (4, 3, 2)),
    "prelu": (lambda L: L.PReLU(shared_axes=[1, 2]), (4, 3, 2)),
    "relu_args": (lambda L: L.ReLU(max_value=6.0, negative_slope=0.1), (4, 6)),
    "rescaling": (lambda L: L.Rescaling(1 / 255.0, 0.5), (4, 3, 2)),
    "layer_normalization": (lambda L: L.LayerNormalization(), (4, 3)),
    "layer_normalization4": (lambda L: L.LayerNormalization(), (4, 3, 5)),
    "activation_softmax4": (lambda L: L.Activation("softmax"), (4, 3, 5)),
    "reshape_flatten": (lambda L: (lambda x: L.Flatten()(L.Reshape((2, 3, 2))(x))), (12,)),
    "dropout_inference": (lambda L: L.Dropout(0.5), (4, 3)),
    "random_flip_inference": (lambda L: L.RandomFlip(), (4, 6, 2)),
    "random_rotation_inference": (lambda L: L.RandomRotation(0.2), (4, 6, 2)),
    "random_zoom_inference": (lambda L: L.RandomZoom(0.2), (4, 6, 2)),
    "lstm": (lambda L: L.LSTM(4), (5, 3)),
    "lstm_sequences_backwards": (lambda L: L.LSTM(4, return_sequences=True, go_backwards=True), (5, 3)),
    "gru_sequences": (lambda L: L.GRU(4, return_sequences=True), (5, 3)),
    "gru_backwards": (lambda L: L.GRU(4, go_backwards=True), (5, 3)),
    "simple_rnn": (lambda L: L.SimpleRNN(4, return_sequences=True), (5, 3)),
    "bidirectional_lstm": (lambda L: L.Bidirectional(L.LSTM(4, return_sequences=True)), (5, 3)),
    "bidirectional_gru_sum": (lambda L: L.Bidirectional(L.GRU(4), merge_mode="sum"), (5, 3)),
    "time_distributed": (lambda L: L.TimeDistributed(L.Dense(2)), (5, 3)),
    "time_distributed_conv": (lambda L: L.TimeDistributed(L.Conv2D(2, 3)), (2, 5, 5, 1)),
    "embedding": (lambda L: L.Embedding(10, 3), (5,)),
}

MULTI = {
    "concatenate4": (lambda L, i: L.Concatenate()([i[0], i[1]]), [(4, 4, 2), (4, 4, 3)]),
    "concatenate_axis1": (lambda L, i: L.Concatenate(axis=1)([i[0], i[1]]), [(4, 4, 2), (3, 4, 2)]),
    "add": (lambda L, i: L.Add()([i[0], i[1]]), [(4, 4, 2), (4, 4, 2)]),
    "subtract": (lambda L, i: L.Subtract()([i[0], i[1]]), [(5,), (5,)]),
    "multiply": (lambda L, i: L.Multiply()([i[0], i[1]]), [(3, 5), (3, 5)]),
    "average": (lambda L, i: L.Average()([i[0], i[1]]), [(3, 5), (3, 5)]),
    "maximum": (lambda L, i: L.Maximum()([i[0], i[1]]), [(3, 5), (3, 5)]),
    "minimum": (lambda L, i: L.Minimum()([i[0], i[1]]), [(3, 5), (3, 5)]),
    "dot": (lambda L, i: L.Dot(axes=1)([i[0], i[1]]), [(5,), (5,)]),
    "dot_normalized": (lambda L, i: L.Dot(axes=(2, 2), normalize=True)([i[0], i[1]]), [(3, 5), (4, 5)]),
    "multi_head_attention": (lambda L, i: L.MultiHeadAttention(2, 3)(i[0], i[1]), [(4, 5), (6, 5)]),
    "mha_causal": (lambda L, i: L.MultiHeadAttention(2, 3, value_dim=2)(i[0], i[0], use_causal_mask=True),
                   [(4, 5)]),
    "lstm_initial_state": (lambda L, i: L.LSTM(3)(i[0], initial_state=[i[1], i[2]]), [(4, 2), (3,), (3,)]),
}


def _close(km, pm, xs):
    a, b = _leaves(km.predict(xs, verbose=0)), _leaves(pm.predict(xs))
    assert len(a) == len(b)
    for u, v in zip(a, b):
        u = np.asarray(u)
        assert u.shape == v.shape
        np.testing.assert_allclose(v, u, rtol=1e-4, atol=1e-5)


def _compare(km, pm, xs, tmp_path):
    """Same weights in, same outputs out; then each model's .keras file opens in the other
    framework (the layer's config in Keras's names) with the same outputs."""
    rng = np.random.default_rng(0)
    w = _perturbed(km.get_weights(), rng) if km.get_weights() else []
    km.set_weights(w)
    pm.set_weights(w)
    _close(km, pm, xs)
    pm.save(tmp_path / "p.keras")
    _close(keras.models.load_model(tmp_path / "p.keras"), pm, xs)
    km.save(tmp_path / "k.keras")
    _close(km, pk.models.load_model(tmp_path / "k.keras"), xs)


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_layer_matches_keras(name, tmp_path):
    make, shape = SINGLE[name]
    rng = np.random.default_rng(1)
    if name == "embedding":
        x = rng.integers(0, 10, (3,) + shape)
        ki, pi = keras.Input(shape, dtype="int32"), pk.Input(shape, dtype="int32")
    else:
        x = rng.normal(size=(3,) + shape).astype(np.float32)
        ki, pi = keras.Input(shape), pk.Input(shape)
    _compare(keras.Model(ki, make(keras.layers)(ki)), pk.Model(pi, make(pk.layers)(pi)), x, tmp_path)


@pytest.mark.parametrize("name", sorted(MULTI))
def test_multi_input_layer_matches_keras(name, tmp_path):
    make, shapes = MULTI[name]
    ki, pi = [keras.Input(s) for s in shapes], [pk.Input(s) for s in shapes]
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(3,) + s).astype(np.float32) for s in shapes]
    _compare(keras.Model(ki, make(keras.layers, ki)), pk.Model(pi, make(pk.layers, pi)), xs, tmp_path)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "nearest", "constant"])
def test_augmentation_warp_matches_keras(interpolation, fill_mode):
    x = np.random.default_rng(3).normal(size=(3, 7, 9, 2)).astype(np.float32)
    for t in (P.rotation_transform(pydl.tensor([0.3, -1.0, 2.0]), 7, 9),
              P.zoom_transform(pydl.tensor([0.7, 1.3, 1.0]), pydl.tensor([1.2, 0.8, 1.0]), 7, 9)):
        ref = keras.ops.image.affine_transform(x, t.numpy(), interpolation=interpolation, fill_mode=fill_mode)
        got = to_keras(P.affine_transform(to_internal(pydl.from_numpy(x)), t, interpolation, fill_mode))
        np.testing.assert_allclose(got.numpy(), np.asarray(ref), atol=1e-5)


def _cnn(K):
    L = K.layers
    i = K.Input((10, 10, 1))
    x = L.Conv2D(4, 3, activation="relu")(i)
    x = L.BatchNormalization()(x)
    x = L.MaxPooling2D()(x)
    x = L.Dropout(0.25)(x)
    x = L.Conv2DTranspose(2, 3, strides=2, padding="same")(x)
    x = L.GlobalAveragePooling2D()(x)
    return K.Model(i, L.Dense(3, activation="softmax")(x))


def _multi_io(K):
    L = K.layers
    i1, i2 = K.Input((8, 8, 3), name="img"), K.Input((5,), name="vec")
    x = L.Flatten()(L.MaxPooling2D()(L.Dropout(0.2)(L.BatchNormalization()(L.Conv2D(4, 3, padding="same")(i1)))))
    z = L.Concatenate()([x, L.Dense(4, activation="tanh")(i2)])
    return K.Model([i1, i2], {"cls": L.Dense(3, activation="softmax", name="cls")(z), "reg": L.Dense(1, name="reg")(z)})


def _seq_rnn(K):
    L = K.layers
    return K.Sequential([K.Input((6,), dtype="int32"), L.Embedding(20, 4), L.Bidirectional(L.LSTM(3)),
                         L.Dense(2, activation="softmax")])


def _nested(K):
    L = K.layers
    inner = K.Sequential([L.Dense(6, activation="relu"), K.Sequential([L.Dense(4), L.LayerNormalization()])],
                         name="inner")
    a, b = K.Input((5,), name="a"), K.Input((5,), name="b")
    shared = L.Dense(5, name="shared")
    merged = L.Add()([inner(shared(a)), inner(shared(b))])
    return K.Model({"a": a, "b": b}, [L.Dense(2, activation="softmax", name="p")(merged), L.Dense(1, name="q")(merged)])


def _data(name):
    rng = np.random.default_rng(4)
    if name == "cnn":
        x = rng.normal(size=(6, 10, 10, 1)).astype(np.float32)
        return x, rng.integers(0, 3, 6), {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
    if name == "multi_io":
        x = [rng.normal(size=(6, 8, 8, 3)).astype(np.float32), rng.normal(size=(6, 5)).astype(np.float32)]
        y = {"cls": rng.integers(0, 3, 6), "reg": rng.normal(size=(6, 1)).astype(np.float32)}
        return x, y, {"loss": {"cls": "sparse_categorical_crossentropy", "reg": "mse"}, "loss_weights": [1.0, 0.5]}
    if name == "nested":
        x = {"a": rng.normal(size=(6, 5)).astype(np.float32), "b": rng.normal(size=(6, 5)).astype(np.float32)}
        return x, [rng.integers(0, 2, 6), rng.normal(size=(6, 1)).astype(np.float32)], {
            "loss": ["sparse_categorical_crossentropy", "mse"], "metrics": [["accuracy"], []]}
    x = rng.integers(0, 20, (6, 6))
    return x, rng.integers(0, 2, 6), {"loss": "sparse_categorical_crossentropy"}


BUILDERS = {"cnn": _cnn, "multi_io": _multi_io, "seq_rnn": _seq_rnn, "nested": _nested}


def _max_diff(a, b):
    return max(float(np.abs(np.asarray(u) - np.asarray(v)).max()) for u, v in zip(_leaves(a), _leaves(b)))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_pydl_file_opens_in_keras(name, tmp_path):
    x, y, cc = _data(name)
    pydl.manual_seed(0)
    pm = BUILDERS[name](pk)
    pm.compile(optimizer="adam", **cc)
    pm.fit(x, y, epochs=2, batch_size=3, verbose=0)  # moving BN statistics away from their initial values
    pm.save(tmp_path / "m.keras")
    km = keras.models.load_model(tmp_path / "m.keras")
    assert _max_diff(pm.predict(x), km.predict(x, verbose=0)) <= 1e-5
    assert [l.name for l in km.layers] == [l.name for l in pm.layers]
    pm.save_weights(tmp_path / "m.weights.h5")
    km2 = BUILDERS[name](keras)
    km2.load_weights(tmp_path / "m.weights.h5")
    assert _max_diff(pm.predict(x), km2.predict(x, verbose=0)) <= 1e-5


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras_file_opens_in_pydl(name, tmp_path):
    x, y, cc = _data(name)
    keras.utils.set_random_seed(0)
    km = BUILDERS[name](keras)
    km.compile(optimizer="adam", **cc)
    km.fit(x, y, epochs=2, batch_size=3, verbose=0)
    km.save(tmp_path / "k.keras")
    pm = pk.models.load_model(tmp_path / "k.keras")
    assert _max_diff(km.predict(x, verbose=0), pm.predict(x)) <= 1e-5
    assert pm.loss is not None  # compile_config came along
    km.save_weights(tmp_path / "k.weights.h5")
    pm2 = BUILDERS[name](pk)
    pm2.load_weights(tmp_path / "k.weights.h5")
    assert _max_diff(km.predict(x, verbose=0), pm2.predict(x)) <= 1e-5


def test_subclassed_model_weights_h5_matches_keras_layout(tmp_path):
    def make(K):
        class Net(K.Model):
            def __init__(self):
                super().__init__()
                self.conv = K.layers.Dense(3)
                self.blocks = [K.layers.Dense(2), K.layers.Dense(2)]
                self.out_layer = K.layers.Dense(1)
                self._hidden = K.layers.Dense(4)

            def call(self, x, training=False):
                x = self.conv(x)
                for b in self.blocks:
                    x = b(x)
                return self.out_layer(self._hidden(x))
        return Net()

    x = np.random.default_rng(5).normal(size=(4, 5)).astype(np.float32)
    km, pm = make(keras), make(pk)
    km(x)
    pm(x)
    km.save_weights(tmp_path / "k.weights.h5")
    pm.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(pm.predict(x), km.predict(x, verbose=0), atol=1e-5)
    pm.save_weights(tmp_path / "p.weights.h5")
    km2 = make(keras)
    km2(x)
    km2.load_weights(tmp_path / "p.weights.h5")
    np.testing.assert_allclose(km2.predict(x, verbose=0), pm.predict(x), atol=1e-5)


def test_regularizers_add_keras_penalty_and_save(tmp_path):
    def make(K):
        L, R = K.layers, K.regularizers
        i = K.Input((4, 3))
        x = L.LSTM(3, kernel_regularizer=R.L2(0.01), recurrent_regularizer=R.L1(0.02), return_sequences=True)(i)
        x = L.Conv1D(2, 2, kernel_regularizer=R.L1L2(0.01, 0.02), bias_regularizer="l2")(x)
        return K.Model(i, L.Dense(1, kernel_regularizer=R.l2(0.1))(L.Flatten()(x)))

    km, pm = make(keras), make(pk)
    w = _perturbed(km.get_weights(), np.random.default_rng(6))
    km.set_weights(w)
    pm.set_weights(w)
    x = np.random.default_rng(7).normal(size=(5, 4, 3)).astype(np.float32)
    y = np.zeros((5, 1), np.float32)
    km.compile("sgd", "mse")
    pm.compile("sgd", "mse")
    assert pm.evaluate(x, y, verbose=0) == pytest.approx(km.evaluate(x, y, verbose=0), rel=1e-5)
    pm.save(tmp_path / "r.keras")
    k2 = keras.models.load_model(tmp_path / "r.keras")
    assert k2.evaluate(x, y, verbose=0) == pytest.approx(km.evaluate(x, y, verbose=0), rel=1e-5)
