"""keras-io examples/vision/autoencoder.py (Convolutional autoencoder for image denoising),
unchanged but the imports, the data line and the plots (left out). Run: python autoencoder.py
[--keras] [--quick]"""
import time

import numpy as np

from _backend import FRAMEWORK, QUICK, keras, layers, mnist
from keras_compat import Model  # noqa: F401  (from keras.models import Model)


def preprocess(array):
    """Normalizes the supplied array and reshapes it."""
    array = array.astype("float32") / 255.0
    array = np.reshape(array, (len(array), 28, 28, 1))
    return array


def noise(array):
    """Adds random noise to each image in the supplied array."""
    noise_factor = 0.4
    noisy_array = array + noise_factor * np.random.normal(loc=0.0, scale=1.0, size=array.shape)
    return np.clip(noisy_array, 0.0, 1.0)


np.random.seed(0)
(train_data, _), (test_data, _) = mnist()
if QUICK:
    train_data, test_data = train_data[:3000], test_data[:500]

train_data = preprocess(train_data)
test_data = preprocess(test_data)
noisy_train_data = noise(train_data)
noisy_test_data = noise(test_data)

input = layers.Input(shape=(28, 28, 1))

# Encoder
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(input)
x = layers.MaxPooling2D((2, 2), padding="same")(x)
x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
x = layers.MaxPooling2D((2, 2), padding="same")(x)

# Decoder
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

# Autoencoder
autoencoder = Model(input, x)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()

epochs = 1 if QUICK else 50
t0 = time.time()
autoencoder.fit(x=train_data, y=train_data, epochs=epochs, batch_size=128, shuffle=True,
                validation_data=(test_data, test_data), verbose=2)
predictions = autoencoder.predict(test_data)

# denoising: train on noisy inputs, clean targets
autoencoder.fit(x=noisy_train_data, y=train_data, epochs=epochs, batch_size=128, shuffle=True,
                validation_data=(noisy_test_data, test_data), verbose=2)
predictions = autoencoder.predict(noisy_test_data)
mse = float(np.mean((predictions - test_data) ** 2))
print(f"[{FRAMEWORK}] denoised test MSE: {mse:.5f} (noisy input MSE "
      f"{float(np.mean((noisy_test_data - test_data) ** 2)):.5f})  ({time.time() - t0:.0f} s)")
autoencoder.save("/tmp/autoencoder_" + FRAMEWORK.split()[0].replace(".", "_") + ".keras")
