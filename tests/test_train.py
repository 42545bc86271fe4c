"""pydl.train: metrics against reference computations, callbacks, checkpoints, Ctrl-C."""
import csv
import os

import numpy as np
import pytest

import pydl
import pydl.nn as nn
import pydl.nn.functional as F
from pydl import train
from pydl.train import metrics as M

pydl.set_num_threads(1)  # the machines are shared: OpenMP teams stall under load


@pytest.fixture(autouse=True)
def _seeded():
    pydl.manual_seed(0)
    np.random.seed(0)


# ---- metrics -----------------------------------------------------------------------------

def _ref_confusion(t, p, c):
    cm = np.zeros((c, c), dtype=np.int64)
    for a, b in zip(t, p):  # reference only: a plain loop
        cm[a, b] += 1
    return cm


def _ref_prf(t, p):
    labels = sorted(set(t) | set(p))
    ps, rs, fs = [], [], []
    for c in labels:
        tp = sum(1 for a, b in zip(t, p) if a == c and b == c)
        pp = sum(1 for b in p if b == c)
        tt = sum(1 for a in t if a == c)
        pr = tp / pp if pp else 0.0
        rc = tp / tt if tt else 0.0
        ps.append(pr)
        rs.append(rc)
        fs.append(2 * pr * rc / (pr + rc) if pr + rc else 0.0)
    return np.mean(ps), np.mean(rs), np.mean(fs)


def test_accuracy_and_topk_match_reference():
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(200, 7)).astype(np.float32)
    target = rng.integers(0, 7, 200)
    assert M.accuracy(scores, target) == pytest.approx(np.mean([np.argmax(s) == t for s, t in zip(scores, target)]))
    for k in (1, 3, 7):
        ref = np.mean([t in np.argsort(-s)[:k] for s, t in zip(scores, target)])
        assert M.top_k_accuracy(scores, target, k) == pytest.approx(ref)
    onehot = np.eye(7)[target]
    assert M.accuracy(scores, onehot) == M.accuracy(scores, target)
    assert M.accuracy(pydl.from_numpy(scores), pydl.from_numpy(target)) == M.accuracy(scores, target)
    # binary scores are thresholded
    assert M.accuracy(np.array([0.2, 0.7, 0.9]), np.array([0, 1, 0])) == pytest.approx(2 / 3)


def test_confusion_precision_recall_f1_match_reference():
    rng = np.random.default_rng(2)
    t = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.6, t, rng.integers(0, 5, 300))
    p[p == 4] = 3  # class 4 never predicted: precision 0 for it, like sklearn's zero_division=0
    np.testing.assert_array_equal(M.confusion_matrix(t, p, 5), _ref_confusion(t, p, 5))
    np.testing.assert_allclose(M.precision_recall_f1(p, t), _ref_prf(list(t), list(p)))
    # streaming over uneven batches gives the same numbers
    ms = [M.Precision(), M.Recall(), M.F1Score(), M.ConfusionMatrix()]
    for lo, hi in ((0, 7), (7, 150), (150, 300)):
        for m in ms:
            m.update(p[lo:hi], t[lo:hi])
    np.testing.assert_allclose([m.result() for m in ms[:3]], _ref_prf(list(t), list(p)))
    np.testing.assert_array_equal(ms[3].result(), _ref_confusion(t, p, 5))


def test_regression_metrics_and_streaming_accuracy():
    rng = np.random.default_rng(3)
    o, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    assert M.mean_squared_error(o, y) == pytest.approx(((o - y) ** 2).mean())
    assert M.mean_absolute_error(o, y) == pytest.approx(np.abs(o - y).mean())
    mse, mae, acc = M.MeanSquaredError(), M.MeanAbsoluteError(), M.Accuracy()
    scores, labels = rng.normal(size=(50, 4)), rng.integers(0, 4, 50)
    for s in (slice(0, 13), slice(13, 50)):
        mse.update(o[s], y[s])
        mae.update(o[s], y[s])
        acc.update(scores[s], labels[s])
    assert mse.result() == pytest.approx(((o - y) ** 2).mean())
    assert mae.result() == pytest.approx(np.abs(o - y).mean())
    assert acc.result() == pytest.approx(M.accuracy(scores, labels))


def test_get_metric_names_and_errors():
    assert isinstance(M.get_metric("acc"), M.Accuracy)
    assert M.get_metric("top_3_accuracy").k == 3
    assert M.get_metric("f1").name == "f1"
    with pytest.raises(ValueError, match="unknown metric"):
        M.get_metric("accuracy_typo")
    with pytest.raises(ValueError, match="different numbers of samples"):
        M.accuracy(np.zeros((3, 2)), np.zeros(4, dtype=np.int64))


# ---- the loop ----------------------------------------------------------------------------

def _problem(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


def _model():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))


def test_fit_learns_and_logs_history(tmp_path):
    x, y = _problem()
    model = _model()
    opt = pydl.optim.Adam(model.parameters(), lr=0.02)
    h = train.fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=6, metrics=["accuracy", "f1"],
                  val_data=(x, y), verbose=0, batch_size=32)
    assert h.epoch == list(range(6))
    assert set(h.history) == {"loss", "accuracy", "f1", "val_loss", "val_accuracy", "val_f1", "lr"}
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] > 0.95
    logs = train.evaluate(model, (x, y), loss="cross_entropy", metrics=["accuracy", "confusion_matrix"])
    assert logs["accuracy"] == pytest.approx(h.history["val_accuracy"][-1])
    assert logs["confusion_matrix"].sum() == len(y)
    pred = train.predict(model, x)
    assert pred.shape == (len(x), 2)
    assert M.accuracy(pred, y) == pytest.approx(logs["accuracy"])
    h.to_csv(tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text().splitlines()[0].startswith("epoch,loss")


def test_fit_with_dataloader_and_scheduler():
    x, y = _problem()
    loader = pydl.data.DataLoader(pydl.data.TensorDataset(pydl.from_numpy(x), pydl.from_numpy(y)), batch_size=64,
                                  shuffle=True)
    model = _model()
    opt = pydl.optim.SGD(model.parameters(), lr=0.1)
    sched = pydl.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = train.fit(model, loader, loss=F.cross_entropy, optimizer=opt, epochs=3, scheduler=sched, verbose=0)
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025])


class Recorder(train.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin{epoch}")

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin{batch}")

    def on_batch_end(self, batch, logs=None):
        assert "loss" in logs
        self.calls.append(f"batch_end{batch}")

    def on_epoch_end(self, epoch, logs=None):
        assert "val_loss" in logs and "loss" in logs
        self.calls.append(f"epoch_end{epoch}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_callback_order():
    x, y = _problem(64)
    model = _model()
    rec = Recorder()
    train.fit(model, (x, y), loss=F.cross_entropy, optimizer=pydl.optim.SGD(model.parameters(), lr=0.1), epochs=2,
              batch_size=32, val_data=(x, y), callbacks=[rec], verbose=0)
    epoch = ["batch_begin0", "batch_end0", "batch_begin1", "batch_end1"]
    assert rec.calls == (["train_begin", "epoch_begin0"] + epoch + ["epoch_end0", "epoch_begin1"] + epoch
                         + ["epoch_end1", "train_end"])
    assert rec.model is model and rec.params["epochs"] == 2 and rec.params["steps"] == 2


def test_early_stopping_restores_best_weights():
    x, y = _problem(64)
    model = _model()
    losses = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    snapshots = {}

    class FakeVal(train.Callback):  # writes a scripted val_loss before EarlyStopping reads it
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            snapshots[epoch] = model.state_dict()["0.weight"].numpy().copy()

    es = train.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = train.fit(model, (x, y), loss=F.cross_entropy, optimizer=pydl.optim.SGD(model.parameters(), lr=0.5),
                  epochs=8, callbacks=[FakeVal(), es], verbose=0)
    assert len(h.epoch) == 4  # best at epoch 1, then 2 epochs without improvement
    assert es.stopped_epoch == 3 and es.best_epoch == 1
    np.testing.assert_array_equal(model.state_dict()["0.weight"].numpy(), snapshots[1])


def test_early_stopping_min_delta_and_mode():
    es = train.EarlyStopping(monitor="val_accuracy", min_delta=0.01, patience=1)
    assert es.mode == "max"

    class M_:
        stop_training = False

    es.set_model(M_())
    es.on_train_begin()
    for e, v in enumerate([0.5, 0.505]):
        es.on_epoch_end(e, {"val_accuracy": v})
    assert es.model.stop_training  # +0.005 < min_delta


def test_model_checkpoint_best_and_last(tmp_path):
    x, y = _problem(64)
    model = _model()
    vals = iter([0.5, 0.4, 0.6])

    class FakeVal(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(vals)

    best = train.ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_loss", save_best_only=True)
    last = train.ModelCheckpoint(tmp_path / "ep{epoch:02d}.safetensors")
    train.fit(model, (x, y), loss=F.cross_entropy, optimizer=pydl.optim.SGD(model.parameters(), lr=0.1), epochs=3,
              callbacks=[FakeVal(), best, last], verbose=0)
    assert best.best == 0.4
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "ep01.safetensors", "ep02.safetensors",
                                            "ep03.safetensors"]
    sd = pydl.load(tmp_path / "ep03.safetensors")
    np.testing.assert_array_equal(sd["2.bias"].numpy(), model.state_dict()["2.bias"].numpy())
    fresh = _model()
    fresh.load_state_dict(pydl.load(tmp_path / "best.safetensors"))


def test_checkpoint_atomic_under_simulated_crash(tmp_path, monkeypatch):
    x, y = _problem(64)
    model = _model()
    path = tmp_path / "ckpt.safetensors"
    ck = train.ModelCheckpoint(path)
    opt = pydl.optim.SGD(model.parameters(), lr=0.1)
    train.fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=1, callbacks=[ck], verbose=0)
    good = path.read_bytes()

    import pydl.io as io
    real_fdopen = io.os.fdopen

    class Crashing:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:len(data) // 2])  # half the bytes reach the disk, then the "crash"
            raise OSError("simulated crash while writing")

        def __getattr__(self, name):
            return getattr(self.f, name)

    monkeypatch.setattr(io.os, "fdopen", lambda fd, mode: Crashing(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="simulated crash"):
        train.fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=1, callbacks=[ck], verbose=0)
    monkeypatch.undo()
    assert path.read_bytes() == good  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind
    pydl.load(path)


def test_keyboard_interrupt_stops_after_batch_and_keeps_history(tmp_path):
    x, y = _problem(128)
    model = _model()

    class CtrlC(train.Callback):
        def on_batch_end(self, batch, logs=None):
            if self.epoch == 2 and batch == 1:
                raise KeyboardInterrupt

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    ck = train.ModelCheckpoint(tmp_path / "last.safetensors")
    csv_path = tmp_path / "h.csv"
    before = None

    class Snap(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            nonlocal before
            before = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    h = train.fit(model, (x, y), loss=F.cross_entropy, optimizer=pydl.optim.SGD(model.parameters(), lr=0.1),
                  epochs=5, batch_size=32, callbacks=[ck, Snap(), CtrlC(), train.CSVLogger(csv_path)], verbose=0)
    assert h.interrupted
    assert h.epoch == [0, 1]  # the interrupted epoch is not recorded
    saved = pydl.load(tmp_path / "last.safetensors")
    for k, v in before.items():  # the checkpoint holds the last completed epoch
        np.testing.assert_array_equal(saved[k].numpy(), v)
    rows = list(csv.reader(open(csv_path)))
    assert len(rows) == 3 and rows[0][0] == "epoch"  # header + 2 epochs, file closed


def test_sigint_handler_stops_after_current_batch():
    import signal
    x, y = _problem(128)
    model = _model()
    seen = []

    class SendSigint(train.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(batch)
            if batch == 1:
                os.kill(os.getpid(), signal.SIGINT)  # handled: the batch still completes

    h = train.fit(model, (x, y), loss=F.cross_entropy, optimizer=pydl.optim.SGD(model.parameters(), lr=0.1),
                  epochs=3, batch_size=32, callbacks=[SendSigint()], verbose=0)
    assert h.interrupted and seen == [0, 1] and h.epoch == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_learning_rate_scheduler_and_reduce_on_plateau():
    x, y = _problem(64)
    model = _model()
    opt = pydl.optim.SGD(model.parameters(), lr=0.1)
    vals = iter([1.0, 1.0, 1.0, 1.0, 1.0])

    class FakeVal(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(vals)

    h = train.fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=3, verbose=0,
                  callbacks=[train.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)])
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    opt = pydl.optim.SGD(model.parameters(), lr=0.1)
    rl = train.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=0.03)
    train.fit(model, (x, y), loss=F.cross_entropy, optimizer=opt, epochs=5, verbose=0, callbacks=[FakeVal(), rl])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.03)


def test_history_plot(tmp_path):
    pytest.importorskip("matplotlib")
    h = train.History()
    for e, (l, vl) in enumerate([(1.0, 1.1), (0.5, 0.7)]):
        h.on_epoch_end(e, {"loss": l, "accuracy": 0.5 + e / 4, "val_loss": vl, "val_accuracy": 0.5, "lr": 0.1})
    out = h.plot(tmp_path / "curves.png")
    assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="empty"):
        train.History().plot(tmp_path / "x.png")


def test_history_plot_without_matplotlib(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def fake_import(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    h = train.History()
    h.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ImportError, match="dependency of pydl.*pip install matplotlib"):
        h.plot(tmp_path / "c.png")


def test_bad_arguments_raise_clear_errors():
    x, y = _problem(16)
    model = _model()
    opt = pydl.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown loss"):
        train.fit(model, (x, y), loss="nope", optimizer=opt, verbose=0)
    with pytest.raises(ValueError, match="different numbers of samples"):
        train.fit(model, (x, y[:5]), loss=F.cross_entropy, optimizer=opt, verbose=0)
    with pytest.raises(ValueError, match="scalar"):
        train.fit(model, (x, y), loss=lambda o, t: F.cross_entropy(o, t, reduction="none"), optimizer=opt,
                  verbose=0)


def test_reduce_lr_on_plateau_callback_matches_keras():
    """Keras's rule (absolute min_delta, the last cooldown epoch counted) on a metric sequence with
    improvements inside and outside min_delta, read against keras.callbacks.ReduceLROnPlateau."""
    os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on the torch backend, as CI installs it
    keras = pytest.importorskip("keras")
    seq = [1.0, 0.99, 0.98, 0.97, 0.9, 0.89, 0.89, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75]
    kw = dict(monitor="val_loss", factor=0.5, patience=2, cooldown=1, min_delta=0.05)
    km = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    km.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    kcb = keras.callbacks.ReduceLROnPlateau(**kw)
    kcb.set_model(km)
    kcb.on_train_begin()
    opt = pydl.optim.SGD(_model().parameters(), lr=0.1)
    cb = train.ReduceLROnPlateau(**kw)
    cb.optimizer = opt
    cb.on_train_begin()
    for e, v in enumerate(seq):
        kcb.on_epoch_end(e, {"val_loss": v})
        cb.on_epoch_end(e, {"val_loss": v})
        assert opt.param_groups[0]["lr"] == pytest.approx(float(keras.ops.convert_to_numpy(km.optimizer.learning_rate)))
