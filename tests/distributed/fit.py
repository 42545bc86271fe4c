"""Run under mpiexec -n 2 by tests/test_distributed.py: pydl.train.fit and the Keras facade on 2 ranks."""
import csv
import os
import sys

import numpy as np

import pydl
import pydl.distributed as dist
import pydl.nn as nn
from pydl import keras, train

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
out_dir = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.standard_normal((200, 6)).astype(np.float32)
y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
xv, yv = x[:50] + 0.1, y[:50]


class Count(train.Callback):
    batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


pydl.manual_seed(rank)  # different inits: DDP makes them rank 0's
model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
count = Count()
ckpt = os.path.join(out_dir, "ckpt.safetensors")
hist = train.fit(model, (x, y), loss="cross_entropy", optimizer=pydl.optim.SGD(model.parameters(), lr=0.1),
                 epochs=3, metrics=["accuracy"], val_data=(xv, yv), batch_size=20, verbose=0,
                 callbacks=[count, train.CSVLogger(os.path.join(out_dir, "log.csv")), train.ModelCheckpoint(ckpt)])
assert count.batches == 3 * 100 // 20, count.batches  # each rank read half of every epoch
everyone = [None] * world
dist.all_gather_object(everyone, (hist.history, [p.detach().numpy() for p in model.parameters()]))
for h, ps in everyone:
    assert h == hist.history  # logs were reduced over ranks: the same everywhere
    assert all(np.array_equal(a, b.detach().numpy()) for a, b in zip(ps, model.parameters()))
# the logged validation numbers are those of the whole validation set
full = train.evaluate(model, (xv, yv), loss="cross_entropy", metrics=["accuracy"])
assert abs(full["loss"] - hist.history["val_loss"][-1]) < 1e-6 and full["accuracy"] == hist.history["val_accuracy"][-1]
dist.barrier()
if rank == 0:
    rows = list(csv.reader(open(os.path.join(out_dir, "log.csv"))))
    assert len(rows) == 4 and rows[0][0] == "epoch", rows  # one writer
    saved = pydl.load(ckpt)
    assert all(np.array_equal(saved[k].numpy(), v.numpy()) for k, v in model.state_dict().items())

# the Keras facade trains data-parallel through the same loop
pydl.manual_seed(rank)
km = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
km.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
           metrics=["accuracy"])
kh = km.fit(x, y, batch_size=25, epochs=2, verbose=0, validation_data=(xv, yv))
everyone = [None] * world
dist.all_gather_object(everyone, (kh.history, [w.copy() for w in km.get_weights()]))
for h, ws in everyone:
    assert h == kh.history
    assert all(np.array_equal(a, b) for a, b in zip(ws, km.get_weights()))
print(f"rank {rank}: fit OK", flush=True)
