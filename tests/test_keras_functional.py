"""pydl.keras without Keras: the functional API, subclassed models, multi-output training,
custom layers, saving round trips inside pydl."""
import numpy as np
import pytest

import pydl
from pydl import keras
from pydl.keras import layers

pydl.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded():
    pydl.manual_seed(0)
    np.random.seed(0)
    keras.backend.clear_session()  # automatic layer names start again from "dense"


def _two_in_two_out():
    a, b = keras.Input((6,), name="a"), keras.Input((4, 4, 1), name="b")
    shared = layers.Dense(5, activation="relu", name="shared")
    x = layers.Concatenate()([shared(a), layers.Flatten()(layers.Conv2D(2, 3, padding="same")(b))])
    cls = layers.Dense(3, activation="softmax", name="cls")(x)
    reg = layers.Dense(1, name="reg")(layers.Add()([x, x]))
    return keras.Model(inputs=[a, b], outputs={"cls": cls, "reg": reg})


def test_graph_structure_layers_and_summary():
    m = _two_in_two_out()
    names = [l.name for l in m.layers]
    assert set(names[:2]) == {"a", "b"} and "shared" in names and "cls" in names and m.get_layer("cls").units == 3
    assert m.input_names == ["a", "b"] and m.output_names == ["cls", "reg"]
    assert m.get_layer(index=0) is m.layers[0]
    with pytest.raises(ValueError, match="no such layer"):
        m.get_layer("nope")
    text = m.summary(print_fn=lambda s: None)
    assert "Connected to" in text and "concatenate (Concatenate)" in text and "(None, 37)" in text
    assert m.count_params() == sum(l.count_params() for l in m.layers)
    from pydl.keras.models import Model as M2
    assert isinstance(m, M2)


def test_multi_output_fit_loss_weights_and_sample_weight():
    m = _two_in_two_out()
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(64, 6)).astype(np.float32), rng.normal(size=(64, 4, 4, 1)).astype(np.float32)
    y_cls, y_reg = (xa[:, 0] > 0).astype(np.int64), xa[:, 1:2]
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
              loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    h = m.fit({"a": xa, "b": xb}, {"cls": y_cls, "reg": y_reg}, epochs=3, batch_size=16, verbose=0,
              validation_split=0.25)
    assert set(h.history) >= {"loss", "cls_loss", "reg_loss", "cls_accuracy", "val_loss", "val_cls_accuracy"}
    logs = m.evaluate([xa, xb], {"cls": y_cls, "reg": y_reg}, return_dict=True, verbose=0)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-4)
    # sample weights: zero weight on half the samples equals training-free evaluation of the rest
    w = np.r_[np.ones(32), np.zeros(32)].astype(np.float32)
    full = m.evaluate([xa[:32], xb[:32]], {"cls": y_cls[:32], "reg": y_reg[:32]}, return_dict=True, verbose=0)
    half = m.evaluate([xa, xb], {"cls": y_cls, "reg": y_reg}, sample_weight=w, return_dict=True, verbose=0)
    assert half["cls_loss"] == pytest.approx(full["cls_loss"] / 2, rel=1e-4)  # Keras: sum(w*l) / batch
    out = m.predict([xa, xb])
    assert set(out) == {"cls", "reg"} and out["cls"].shape == (64, 3)


def test_class_weight_initial_epoch_and_callbacks():
    x = np.random.default_rng(1).normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    inp = keras.Input((3,))
    m = keras.Model(inp, layers.Dense(2, activation="softmax")(inp))
    m.compile("sgd", "sparse_categorical_crossentropy")
    base = m.evaluate(x, y, verbose=0)
    seen = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))
    m.fit(x, y, epochs=4, initial_epoch=2, verbose=0, class_weight={0: 1.0, 1: 3.0}, callbacks=[cb], shuffle=False)
    assert seen == [2, 3] and m.evaluate(x, y, verbose=0) != base
    with pytest.raises(ValueError, match="class_weight"):
        _two_in_two_out().compile("adam", "mse") or None
        mm = _two_in_two_out()
        mm.compile("adam", loss=["sparse_categorical_crossentropy", "mse"])
        mm.fit([x[:, :2].repeat(3, 1), np.zeros((40, 4, 4, 1))], [y, y], class_weight={0: 1, 1: 2}, verbose=0)


def test_nested_models_and_shared_layers_share_weights():
    inner = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)], name="inner")
    a, b = keras.Input((3,)), keras.Input((3,))
    out = layers.Subtract()([inner(a), inner(b)])
    m = keras.Model([a, b], out)
    x = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(m.predict([x, x]), 0, atol=1e-6)  # the same weights on both branches
    y = m.predict([x, np.zeros_like(x)])
    np.testing.assert_allclose(y, inner.predict(x) - inner.predict(np.zeros_like(x)), atol=1e-6)
    i = keras.Input((3,))
    sub = keras.Model(i, layers.Dense(2, name="d2")(i), name="sub")
    j = keras.Input((3,))
    top = keras.Model(j, layers.Activation("softmax")(sub(j)))
    np.testing.assert_allclose(top.predict(x).sum(1), 1, rtol=1e-5)
    assert top.count_params() == 8


def test_subclassed_model_builds_on_first_call_and_trains():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = layers.Conv2D(4, 3, activation="relu")
            self.pool = layers.GlobalAveragePooling2D()
            self.blocks = [layers.Dense(8, activation="relu"), layers.Dropout(0.5)]
            self.head = layers.Dense(2, activation="softmax")

        def call(self, x, training=False):
            x = self.pool(self.conv(x))
            for blk in self.blocks:
                x = blk(x, training=training)
            return self.head(x)

    n = Net()
    assert not n.built
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 6, 6, 1)).astype(np.float32)
    y = (x.mean((1, 2, 3)) > 0).astype(np.int64)
    n.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = n.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert n.built and len(n.layers) == 5 and len(n.trainable_weights) == 6
    assert h.history["loss"][-1] < h.history["loss"][0]
    p1, p2 = n.predict(x[:4]), n.predict(x[:4])
    np.testing.assert_array_equal(p1, p2)  # inference: dropout off


def test_custom_layer_add_weight_ops_and_register(tmp_path):
    @keras.saving.register_keras_serializable(package="t")
    class Scale(layers.Layer):
        def __init__(self, init=2.0, **kwargs):
            super().__init__(**kwargs)
            self.init = init

        def build(self, input_shape):
            assert input_shape[0] is None  # Keras's convention: with the batch dimension
            self.w = self.add_weight(shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init))

        def call(self, x):
            return keras.ops.relu(x) * self.w

        def get_config(self):
            return {**super().get_config(), "init": self.init}

    i = keras.Input((2, 2, 3))
    o = Scale()(layers.Conv2D(3, 1, use_bias=False, kernel_initializer="ones")(i))
    m = keras.Model(i, keras.ops.sum(o, axis=[1, 2]) if False else layers.GlobalAveragePooling2D()(o))
    x = np.ones((2, 2, 2, 3), np.float32)
    np.testing.assert_allclose(m.predict(x), 6.0)
    m.save(tmp_path / "m.keras")
    m2 = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(m2.predict(x), m.predict(x))
    s = keras.ops.add(i, i)  # ops on symbolic tensors record a node
    assert s.shape == (None, 2, 2, 3)
    np.testing.assert_allclose(keras.Model(i, s + 1.0).predict(x), 3.0)


def test_stateful_and_return_state_rnn():
    x = np.random.default_rng(4).normal(size=(2, 6, 3)).astype(np.float32)
    inp = keras.Input((6, 3))
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inp)
    m = keras.Model(inp, [seq, h, c])
    s, hh, cc = m.predict(x)
    np.testing.assert_allclose(s[:, -1], hh, atol=1e-6)
    # stateful: two halves in a row equal the whole sequence
    st = layers.GRU(4, stateful=True)
    whole = layers.GRU(4)
    whole(x)
    st(x[:, :3])
    st.set_weights(whole.get_weights())
    st.reset_states()
    st(x[:, :3])
    np.testing.assert_allclose(st(x[:, 3:]).detach().numpy(), whole(x).detach().numpy(), atol=1e-5)
    # recurrent dropout only in training
    rd = layers.LSTM(4, recurrent_dropout=0.5, dropout=0.2)
    a = rd(x).detach().numpy()
    np.testing.assert_array_equal(a, rd(x).detach().numpy())
    assert not np.allclose(rd(x, training=True).detach().numpy(), a)


def test_functional_keras_file_round_trip_in_pydl(tmp_path):
    m = _two_in_two_out()
    x = [np.random.default_rng(5).normal(size=(3, 6)).astype(np.float32),
         np.random.default_rng(6).normal(size=(3, 4, 4, 1)).astype(np.float32)]
    m.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"})
    m.save(tmp_path / "m.keras")
    m2 = keras.models.load_model(tmp_path / "m.keras")
    for k in ("cls", "reg"):
        np.testing.assert_allclose(m2.predict(x)[k], m.predict(x)[k], atol=1e-6)
    assert m2.loss == {"cls": "sparse_categorical_crossentropy", "reg": "mse"}
    m.save_weights(tmp_path / "m.weights.h5")
    m3 = _two_in_two_out()
    m3.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(m3.predict(x)["reg"], m.predict(x)["reg"], atol=1e-6)
    with pytest.raises(ValueError, match=".keras"):
        m.save(tmp_path / "m.h5")
    lam = keras.Model(m.inputs[0], layers.Lambda(lambda t: t * 2)(m.inputs[0]))
    with pytest.raises(ValueError, match="Lambda"):
        lam.save(tmp_path / "l.keras")


def test_errors_are_clear():
    a = keras.Input((3,))
    with pytest.raises(ValueError, match="disconnected"):
        keras.Model(keras.Input((3,)), layers.Dense(2)(a))
    with pytest.raises(ValueError, match="Concatenate"):
        layers.Concatenate()([keras.Input((3, 2)), keras.Input((4, 3))])
    m = keras.Model(a, layers.Dense(2)(a))
    with pytest.raises(ValueError, match="expects shape"):
        m.predict(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="KerasTensor"):
        keras.Model(np.zeros(3), a)
    with pytest.raises(NotImplementedError, match="mask_zero"):
        layers.Embedding(10, 2, mask_zero=True)


def test_export_onnx_matches_predict(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    i, j = keras.Input((8, 8, 1)), keras.Input((3,))
    x = layers.Flatten()(layers.MaxPooling2D()(layers.BatchNormalization()(
        layers.Conv2D(2, 3, padding="same", activation="relu")(i))))
    m = keras.Model([i, j], layers.Dense(2, activation="softmax")(layers.Concatenate()([x, j])))
    m.export(tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"))
    rng = np.random.default_rng(7)
    xs = [rng.normal(size=(4, 8, 8, 1)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)]
    got = sess.run(None, dict(zip(m.input_names, xs)))[0]
    np.testing.assert_allclose(got, m.predict(xs), atol=1e-5)


def test_augmentation_layers_only_in_training():
    x = np.random.default_rng(8).normal(size=(64, 5, 7, 2)).astype(np.float32)
    flip = layers.RandomFlip("horizontal")
    np.testing.assert_array_equal(flip(x).numpy(), x)  # inference: identity, as Keras
    y = flip(x, training=True).numpy()
    same, flipped = np.all(y == x, axis=(1, 2, 3)), np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    assert (same | flipped).all() and 10 < flipped.sum() < 54
    rot = layers.RandomRotation(0.1, fill_mode="constant")
    r = rot(x, training=True).numpy()
    assert r.shape == x.shape and not np.allclose(r, x)
    zoom = layers.RandomZoom((-0.3, -0.3), fill_mode="nearest")  # always zoom in by 1 - 0.3
    z = zoom(np.ones_like(x), training=True).numpy()
    np.testing.assert_allclose(z, 1.0, atol=1e-6)  # a constant image stays constant


def test_checkpoint_metric_functions_regularizers_and_utils(tmp_path):
    np.testing.assert_array_equal(keras.utils.pad_sequences([[1, 2, 3], [4]], maxlen=2), [[2, 3], [0, 4]])
    np.testing.assert_array_equal(keras.preprocessing.sequence.pad_sequences([[1], [2, 3]], padding="post"),
                                  [[1, 0], [2, 3]])
    i = keras.Input((3,))
    m = keras.Model(i, layers.Dense(1, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.5))(i))
    seen = []

    def err(y_true, y_pred):  # Keras's argument order
        seen.append((tuple(y_true.shape), tuple(y_pred.shape)))
        return keras.ops.mean(y_pred - y_true)

    m.compile("sgd", "mse", metrics=[err])
    x, y = np.zeros((4, 3), np.float32), np.full((4, 1), 2.0, np.float32)
    logs = m.evaluate(x, y, return_dict=True, verbose=0)
    assert logs["loss"] == pytest.approx(4.0 + 0.5 * 3) and logs["err"] == pytest.approx(-2.0)
    ck = tmp_path / "best.keras"
    m.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
          callbacks=[keras.callbacks.ModelCheckpoint(ck, save_best_only=True)])
    np.testing.assert_allclose(keras.models.load_model(ck).predict(x), m.predict(x), atol=1e-6)
    keras.callbacks.ModelCheckpoint(tmp_path / "w.weights.h5").set_model(m)
