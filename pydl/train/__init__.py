"""pydl.train: a training loop for pydl.nn models with metrics, callbacks, progress bars,
checkpoints and learning curves.

    history = pydl.train.fit(model, train_loader, loss=F.cross_entropy, optimizer=opt, epochs=5,
                             metrics=["accuracy"], val_data=test_loader,
                             callbacks=[EarlyStopping(patience=2), ModelCheckpoint("best.safetensors",
                                                                                   save_best_only=True)])
    history.plot("curves.png")
"""
from . import metrics  # noqa: F401
from .callbacks import (Callback, CallbackList, CSVLogger, EarlyStopping, History, LambdaCallback,  # noqa: F401
                        LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau)
from .loop import as_loader, evaluate, fit, get_loss, predict  # noqa: F401
