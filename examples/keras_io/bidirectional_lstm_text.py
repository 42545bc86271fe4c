"""keras-io examples/nlp/bidirectional_lstm_imdb.py (Bidirectional LSTM on IMDB), with the IMDB
download replaced by generated token sequences (these machines are offline): the label is
whether "good" tokens outnumber "bad" ones. Run: python bidirectional_lstm_text.py [--keras]"""
import time

import numpy as np

from _backend import FRAMEWORK, QUICK, keras, layers

max_features = 2000  # Only consider the top 2k words
maxlen = 40  # Only consider the first 40 words of each sequence

rng = np.random.default_rng(0)


def generated(n):
    x = rng.integers(3, max_features, (n, maxlen))
    good = rng.integers(0, 6, n)
    bad = rng.integers(0, 6, n)
    for i in range(n):  # data generation only, not part of the model
        pos = rng.choice(maxlen, good[i] + bad[i], replace=False)
        x[i, pos[:good[i]]] = 1
        x[i, pos[good[i]:]] = 2
    y = (good > bad).astype("int64")
    keep = good != bad
    return x[keep], y[keep]


x_train, y_train = generated(2000 if QUICK else 8000)
x_val, y_val = generated(1000)

# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 128-dimensional vector
x = layers.Embedding(max_features, 32)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(32, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(32))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
t0 = time.time()
model.fit(x_train, y_train, batch_size=32, epochs=2 if QUICK else 4, validation_data=(x_val, y_val), verbose=2)
loss, acc = model.evaluate(x_val, y_val, verbose=0)
print(f"[{FRAMEWORK}] val loss: {loss:.4f}  val accuracy: {acc:.4f}  ({time.time() - t0:.0f} s)")
