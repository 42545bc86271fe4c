"""pydl.keras: Keras 3's API on pydl: Sequential, the functional API (`keras.Input`,
`keras.Model(inputs, outputs)`), subclassed models, compile / fit / evaluate / predict, and
Keras 3's `.keras` / `.weights.h5` files (read and written in Keras's own format).

    from pydl import keras
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(32, 3, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5)
    model.save("model.keras")          # opens in Keras 3 with the same predictions

Images are channels-last (N, H, W, C) like Keras; see pydl.keras.layers.core for the layout
inside. `.keras` / `.h5` files need h5py (`pip install pydl[keras]`).
"""
from . import callbacks, datasets, initializers, layers, losses, metrics, optimizers, utils  # noqa: F401
from . import activations, backend, models, ops, preprocessing, regularizers, saving  # noqa: F401
from .layers import Input, InputLayer, Layer  # noqa: F401
from .models import Functional, Model, Sequential, load_model  # noqa: F401
from .saving import register_keras_serializable  # noqa: F401

__version__ = "3.15.1-pydl"
