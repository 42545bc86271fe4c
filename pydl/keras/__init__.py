"""pydl.keras: Keras's Sequential API (layers, compile / fit / evaluate / predict) on pydl.

    from pydl import keras
    model = keras.Sequential([
        keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation='softmax'),
    ])
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=5)

Images are channels-last (N, H, W, C) like Keras; see pydl.keras.layers for the layout inside.
"""
from . import callbacks, datasets, layers, losses, metrics, optimizers, utils  # noqa: F401
from . import models  # noqa: F401
from .layers import Input  # noqa: F401
from .models import Sequential  # noqa: F401
