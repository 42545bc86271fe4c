"""Keras callbacks: pydl.train's (same names, hooks and logs), with Keras 3's ModelCheckpoint
(a `.keras` path saves the whole model, `.weights.h5` the weights, in Keras's formats)."""
import os

from ..train.callbacks import (Callback, CSVLogger, EarlyStopping, History, LambdaCallback,  # noqa: F401
                               LearningRateScheduler, ReduceLROnPlateau)
from ..train.callbacks import ModelCheckpoint as _Checkpoint

__all__ = ["Callback", "CSVLogger", "EarlyStopping", "History", "LambdaCallback", "LearningRateScheduler",
           "ReduceLROnPlateau", "ModelCheckpoint"]


class ModelCheckpoint(_Checkpoint):
    """Saves the model after epochs, as Keras 3: `filepath` ending in `.keras` writes
    model.save (save_weights_only=False, the default), `.weights.h5` writes save_weights;
    other paths keep pydl's safetensors checkpoints."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        path = os.fspath(filepath)
        if save_weights_only and path.endswith(".keras"):
            raise ValueError("[ModelCheckpoint] with save_weights_only=True the file name must end in .weights.h5")
        if not save_weights_only and path.endswith(".weights.h5"):
            save_weights_only = True
        super().__init__(path, monitor=monitor, verbose=verbose, save_best_only=save_best_only,
                         save_weights_only=save_weights_only, mode=mode, save_freq=save_freq)
        self.best = initial_value_threshold

    def on_train_begin(self, logs=None):
        best = self.best
        super().on_train_begin(logs)
        self.best = best

    def _save(self, path, epoch):
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        if path.endswith(".keras"):
            self.model.save(path)
        elif path.endswith(".h5"):
            self.model.save_weights(path)
        else:
            super()._save(path, epoch)
