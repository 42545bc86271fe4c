"""pydl.keras: shape inference, summary, compile / fit / evaluate / predict, weights, datasets."""
import numpy as np
import pytest

import pydl
from pydl import keras
from pydl.keras import layers

pydl.set_num_threads(1)  # the machines are shared: OpenMP teams stall under load


@pytest.fixture(autouse=True)
def _seeded():
    pydl.manual_seed(0)
    np.random.seed(0)


def _program_a(input_shape=(28, 28, 1)):
    return keras.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=input_shape),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def test_shapes_and_summary_match_keras():
    m = _program_a()
    assert m.built
    assert [l.output_shape for l in m.layers] == [(26, 26, 32), (13, 13, 32), (5408,), (128,), (10,)]
    assert [l.count_params() for l in m.layers] == [320, 0, 0, 692352, 1290]
    text = m.summary(print_fn=lambda s: None)
    assert "(None, 26, 26, 32)" in text and "Total params: 693,962" in text
    assert "Trainable params: 693,962" in text and "Non-trainable params: 0" in text
    c = keras.models.Sequential([  # program C
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    assert c.output_shape == (None, 10) and c.count_params() == 320 + 18496 + 16010


def test_shape_inference_at_first_call():
    m = keras.Sequential([layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    assert not m.built
    with pytest.raises(ValueError, match="not yet been built"):
        m.summary()
    out = m(np.zeros((3, 784), np.float32))
    assert m.built and tuple(out.shape) == (3, 10)
    assert m.layers[0].linear.weight.shape == (128, 784)
    with pytest.raises(ValueError, match=r"expected inputs of shape \(None, 784\)"):
        m(np.zeros((3, 700), np.float32))


def test_input_layer_same_padding_strides_and_pooling():
    m = keras.Sequential([
        keras.Input(shape=(9, 9, 3)),
        layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.AveragePooling2D(2, padding="same"),
        layers.Conv2D(4, (1, 1)),
        layers.GlobalAveragePooling2D(),
        layers.Activation("softmax"),
    ])
    assert [l.output_shape for l in m.layers] == [(5, 5, 8), (5, 5, 8), (3, 3, 8), (3, 3, 4), (4,), (4,)]
    out = m.predict(np.random.rand(2, 9, 9, 3).astype(np.float32))
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)
    assert m.layers[1].count_params() == 32  # gamma, beta, moving mean and variance
    assert "Non-trainable params: 16" in m.summary(print_fn=lambda s: None)


def test_channels_last_semantics_match_a_numpy_reference():
    """Conv2D (valid, 'same' with stride 2), MaxPooling2D, Flatten (NHWC order) and Dense in
    Keras's layouts, against a direct NumPy computation."""
    rng = np.random.default_rng(0)
    m = keras.Sequential([layers.Conv2D(3, (2, 2), input_shape=(5, 4, 2)), layers.MaxPooling2D((2, 2)),
                          layers.Flatten(), layers.Dense(2)])
    x = rng.normal(size=(2, 5, 4, 2)).astype(np.float32)
    k, b, w, c = m.get_weights()
    assert k.shape == (2, 2, 2, 3) and w.shape == (12 // 2, 2)
    conv = np.zeros((2, 4, 3, 3), np.float32)
    for i in range(4):
        for j in range(3):
            conv[:, i, j] = np.einsum("nhwc,hwco->no", x[:, i:i + 2, j:j + 2], k) + b
    pooled = conv[:, :4, :2].reshape(2, 2, 2, 1, 2, 3).max(axis=(2, 4))  # (2, 2, 1, 3)
    ref = pooled.reshape(2, -1) @ w + c
    np.testing.assert_allclose(m.predict(x), ref, rtol=1e-4, atol=1e-5)
    m.set_weights([kk * 2 for kk in m.get_weights()])
    np.testing.assert_allclose(m.get_weights()[0], 2 * k)
    r = keras.Sequential([layers.Reshape((2, 3, 2), input_shape=(12,)), layers.Flatten()])
    v = np.arange(24, dtype=np.float32).reshape(2, 12)
    np.testing.assert_array_equal(r.predict(v), v)  # Reshape / Flatten round trip in Keras's order


def test_glorot_uniform_and_zero_bias():
    m = keras.Sequential([layers.Dense(300, input_shape=(200,))])
    w, b = m.get_weights()
    limit = np.sqrt(6 / (200 + 300))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    assert not b.any()


def _blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 2], [-2, 2], [0, -2.5]], np.float32)
    y = rng.integers(0, 3, n)
    x = centers[y] + rng.normal(scale=0.6, size=(n, 2)).astype(np.float32)
    return x, y.astype(np.uint8)


def test_compile_fit_evaluate_predict_reaches_high_accuracy():
    x, y = _blobs()
    m = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(2,)),
                          layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, epochs=15, batch_size=32, validation_split=0.2, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert h.history["val_accuracy"][-1] > 0.95
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc > 0.95 and loss < 0.3
    p = m.predict(x)
    assert p.shape == (600, 3)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    assert (p.argmax(1) == y).mean() == pytest.approx(acc)
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert isinstance(m.evaluate(x, y, verbose=0), float)  # a scalar without metrics


@pytest.mark.parametrize("loss,target", [("categorical_crossentropy", "onehot"), ("mse", "onehot")])
def test_other_losses(loss, target):
    x, y = _blobs(300)
    t = keras.utils.to_categorical(y)
    assert t.shape == (300, 3) and (t.argmax(1) == y).all()
    m = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")])
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=loss, metrics=["accuracy"])
    m.fit(x, t, epochs=10, verbose=0)
    assert m.evaluate(x, t, verbose=0)[1] > 0.9


def test_binary_crossentropy_with_sigmoid():
    x, y = _blobs(300)
    yb = (y == 0).astype(np.float32)
    m = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01), loss="binary_crossentropy",
              metrics=["accuracy"])
    m.fit(x, yb, epochs=10, verbose=0)
    assert m.evaluate(x, yb, verbose=0)[1] > 0.9


def test_softmax_cross_entropy_is_fused_and_stable():
    m = keras.Sequential([layers.Dense(3, activation="softmax", input_shape=(2,))])
    with pydl.no_grad():
        m.layers[0].linear.weight.copy_(pydl.tensor([[500.0, 0.0], [-500.0, 0.0], [0.0, 0.0]]))
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.array([[1.0, 0.0], [1.0, 0.0]], np.float32)
    y = np.array([1, 0])
    loss = m.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and loss == pytest.approx(500.0, rel=1e-3)  # logits [500, -500, 0]: -log p(1) = 1000
    h = m.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][0])
    assert np.isfinite(m.get_weights()[0]).all()


def test_optimizer_names_and_defaults():
    m = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    for name, lr in [("adam", 1e-3), ("sgd", 1e-2), ("rmsprop", 1e-3), ("adagrad", 1e-3), ("adadelta", 1e-3),
                     ("adamw", 1e-3)]:
        m.compile(optimizer=name, loss="mse")
        assert m.optimizer.param_groups[0]["lr"] == pytest.approx(lr)
    opt = pydl.optim.SGD(m.parameters(), lr=0.5)
    m.compile(optimizer=opt, loss="mse")
    assert m.optimizer is opt
    with pytest.raises(ValueError, match="unknown optimizer"):
        m.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="unknown loss"):
        m.compile(optimizer="adam", loss="crossentropy")
    with pytest.raises(RuntimeError, match="compile"):
        keras.Sequential([layers.Dense(2)]).fit(np.zeros((4, 3)), np.zeros(4))


def test_save_and_load_weights(tmp_path):
    x, _ = _blobs(20)
    m = keras.Sequential([layers.Dense(4, activation="relu", input_shape=(2,)), layers.Dropout(0.5),
                          layers.Dense(3, activation="softmax")])
    m.save_weights(tmp_path / "w.safetensors")
    m2 = keras.Sequential([layers.Dense(4, activation="relu", input_shape=(2,)), layers.Dropout(0.5),
                           layers.Dense(3, activation="softmax")])
    m2.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(m.predict(x), m2.predict(x))  # dropout is off in predict


def test_callbacks_and_early_stopping_through_keras(tmp_path):
    x, y = _blobs(200)
    m = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    seen = []

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.model)
            if epoch == 1:
                self.model.stop_training = True

    h = m.fit(x, y, epochs=10, verbose=0, validation_data=(x, y),
              callbacks=[Stop(), keras.callbacks.CSVLogger(tmp_path / "log.csv")])
    assert len(h.epoch) == 2 and seen[0] is m
    assert (tmp_path / "log.csv").read_text().count("\n") == 3


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="unknown activation"):
        layers.Dense(4, activation="relu6x")
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(4, units_typo=3)
    with pytest.raises(ValueError, match=r"\(height, width, channels\)"):
        keras.Sequential([layers.Conv2D(4, 3, input_shape=(28, 28))])
    with pytest.raises(ValueError, match="too small"):
        keras.Sequential([layers.Conv2D(4, 5, input_shape=(3, 3, 1))])


def test_mnist_load_data_like_keras():
    from pydl.data.datasets import DatasetNotFoundError
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except DatasetNotFoundError:
        pytest.skip("MNIST files not available")
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(y_train), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])


def test_load_data_offline_error(tmp_path, monkeypatch):
    from pydl.data.datasets import DatasetNotFoundError
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYDL_DATA", str(tmp_path))
    monkeypatch.setenv("PYDL_CACHE", str(tmp_path / "cache"))
    import pydl._datapath as dp
    monkeypatch.setattr(dp, "candidate_roots", lambda name, data=None, shared=True, cache=True: [str(tmp_path)])
    with pytest.raises(DatasetNotFoundError, match="not found"):
        keras.datasets.fashion_mnist.load_data()


@pytest.mark.parametrize("cls,gates", [("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_recurrent_layers(cls, gates):
    if not hasattr(pydl.nn, "LSTM"):
        pytest.skip("pydl.nn.LSTM is not in this build")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 3)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    layer = getattr(layers, cls)(8, input_shape=(6, 3))
    m = keras.Sequential([layer, layers.Dense(2, activation="softmax")])
    assert layer.output_shape == (8,)
    # Keras's counts: one bias vector (two for the GRU's reset_after=True)
    assert layer.count_params() == gates * 8 * (3 + 8) + (2 if cls == "GRU" else 1) * gates * 8
    if cls == "LSTM":
        b = layer.get_weights()[2]
        assert (b[8:16] == 1).all() and not b[:8].any()  # unit_forget_bias
    seq = keras.Sequential([getattr(layers, cls)(5, return_sequences=True, input_shape=(6, 3))])
    assert seq.predict(x[:2]).shape == (2, 6, 5)
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    h = m.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert h.history["accuracy"][-1] > 0.85


def test_same_padding_is_tensorflows_asymmetric_padding():
    """'same' with stride 2 on an even input pads only at the bottom / right, like TensorFlow."""
    rng = np.random.default_rng(1)
    m = keras.Sequential([layers.Conv2D(2, 3, strides=2, padding="same", input_shape=(4, 6, 1))])
    x = rng.normal(size=(1, 4, 6, 1)).astype(np.float32)
    k, b = m.get_weights()
    xp = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))  # totals: H 1 -> (0, 1), W 1 -> (0, 1)
    ref = np.zeros((1, 2, 3, 2), np.float32)
    for i in range(2):
        for j in range(3):
            ref[:, i, j] = np.einsum("nhwc,hwco->no", xp[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3], k) + b
    np.testing.assert_allclose(m.predict(x), ref, rtol=1e-4, atol=1e-5)
    p = keras.Sequential([layers.MaxPooling2D(2, padding="same", input_shape=(3, 3, 1))])
    v = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(p.predict(v)[0, :, :, 0], [[4, 5], [7, 8]])
