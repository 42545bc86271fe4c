"""Keras callbacks: pydl.train's (same names, hooks and logs)."""
from ..train.callbacks import (Callback, CSVLogger, EarlyStopping, History, LambdaCallback,  # noqa: F401
                               LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau)
