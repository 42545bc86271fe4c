"""keras-io examples/vision/mnist_convnet.py (Simple MNIST convnet), unchanged but the imports
and the data line. Run: python mnist_convnet.py [--keras] [--quick]"""
import time

import numpy as np

from _backend import FRAMEWORK, QUICK, keras, layers, mnist

# Model / data parameters
num_classes = 10
input_shape = (28, 28, 1)

# Load the data and split it between train and test sets
(x_train, y_train), (x_test, y_test) = mnist()
if QUICK:
    x_train, y_train, x_test, y_test = x_train[:6000], y_train[:6000], x_test[:2000], y_test[:2000]

# Scale images to the [0, 1] range
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
# Make sure images have shape (28, 28, 1)
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()

batch_size = 128
epochs = 2 if QUICK else 15

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
t0 = time.time()
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=2)
score = model.evaluate(x_test, y_test, verbose=0)
print(f"[{FRAMEWORK}] Test loss: {score[0]:.4f}  Test accuracy: {score[1]:.4f}  ({time.time() - t0:.0f} s)")
