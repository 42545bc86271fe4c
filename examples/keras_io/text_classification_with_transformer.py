"""keras-io examples/nlp/text_classification_with_transformer.py (custom TransformerBlock and
TokenAndPositionEmbedding layers), with the IMDB download replaced by generated sequences (these
machines are offline): the label says whether token 1 appears more often than token 2.
Run: python text_classification_with_transformer.py [--keras] [--quick]"""
import time

import numpy as np

from _backend import FRAMEWORK, QUICK, keras, layers

ops = keras.ops  # the published program: from keras import ops


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


vocab_size = 2000  # Only consider the top 2k words
maxlen = 40  # Only consider the first 40 words of each movie review
rng = np.random.default_rng(0)


def generated(n):
    x = rng.integers(3, vocab_size, (n, maxlen))
    x[rng.random((n, maxlen)) < 0.1] = 1
    x[rng.random((n, maxlen)) < 0.1] = 2
    y = ((x == 1).sum(1) > (x == 2).sum(1)).astype("int64")
    return x, y


x_train, y_train = generated(2000 if QUICK else 10000)
x_val, y_val = generated(1000)

embed_dim = 32  # Embedding size for each token
num_heads = 2  # Number of attention heads
ff_dim = 32  # Hidden layer size in feed forward network inside transformer

inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
x = layers.Dense(20, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
t0 = time.time()
history = model.fit(x_train, y_train, batch_size=32, epochs=3 if QUICK else 6, validation_data=(x_val, y_val),
                    verbose=2)
loss, acc = model.evaluate(x_val, y_val, verbose=0)
print(f"[{FRAMEWORK}] params {model.count_params()}  val loss: {loss:.4f}  val accuracy: {acc:.4f}  "
      f"({time.time() - t0:.0f} s)")
