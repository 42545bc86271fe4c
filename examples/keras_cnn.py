"""Program A of the specification with pydl.keras in place of tf.keras: a small CNN on MNIST.

    python examples/keras_cnn.py [--epochs 5] [--limit N] [--threads N]

Reaches about 98-99% test accuracy in its 5 epochs. MNIST comes from $PYDL_DATA or
../shared/data (see pydl.keras.datasets.mnist.load_data).
"""
import argparse

import numpy as np

import pydl
from pydl import keras

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
parser.add_argument("--threads", type=int, default=None)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
if args.threads:
    pydl.set_num_threads(args.threads)
pydl.manual_seed(args.seed)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = (x_train[:args.limit] / 255.0).astype(np.float32)[..., None]  # (N, 28, 28, 1), channels-last
y_train = y_train[:args.limit]
x_test = (x_test / 255.0).astype(np.float32)[..., None]

# 定义模型
model = keras.Sequential([
  keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
  keras.layers.MaxPooling2D((2, 2)),
  keras.layers.Flatten(),
  keras.layers.Dense(128, activation='relu'),
  keras.layers.Dense(10, activation='softmax')
])
model.summary()

# 编译模型
model.compile(optimizer='adam',
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

# 训练模型
model.fit(x_train, y_train, epochs=args.epochs)

# 评估模型
loss, accuracy = model.evaluate(x_test, y_test)
print(f"Test accuracy: {100 * accuracy:.2f}% (loss {loss:.4f}) on {len(x_test):,} images")
