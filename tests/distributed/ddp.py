"""Run under mpiexec -n 2 by tests/test_distributed.py: DistributedDataParallel against one process."""
import numpy as np

import pydl
import pydl.distributed as dist
import pydl.nn as nn
import pydl.nn.functional as F
from pydl.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
pydl.set_num_threads(1)
rng = np.random.default_rng(0)
X = rng.standard_normal((20, 64, 12)).astype(np.float32)  # 20 steps of a global batch of 64
Y = rng.integers(0, 5, size=(20, 64)).astype(np.int64)
per = 64 // world


def make(seed, cls=None):
    pydl.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 5))


def params(m):
    return [p.detach().numpy().copy() for p in m.parameters()]


def train(model, batches, steps=20):
    opt = pydl.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for s in range(steps):
        x, y = batches(s)
        opt.zero_grad()
        F.cross_entropy(model(pydl.from_numpy(x)), pydl.from_numpy(y)).backward()
        opt.step()
    return model


reference = params(train(make(100), lambda s: (X[s], Y[s])))  # one process, batch 64, rank 0's init
mine = slice(rank * per, (rank + 1) * per)
for kwargs in [{}, {"bucket_cap_mb": 0.001}, {"bucket_cap_mb": 0.001, "gradient_as_bucket_view": True}]:
    ddp = DDP(make(100 + rank), **kwargs)  # different inits: construction broadcasts rank 0's
    assert isinstance(ddp.module, nn.Sequential)
    if kwargs:
        assert len(ddp._buckets) > 2, len(ddp._buckets)
    got = params(train(ddp, lambda s: (X[s][mine], Y[s][mine])))
    for g, r in zip(got, reference):
        rel = np.abs(g - r).max() / np.abs(r).max()
        assert rel <= 1e-5, (kwargs, rel)
        worst = max(globals().get("worst", 0), rel)
    everyone = [None] * world
    dist.all_gather_object(everyone, got)
    for other in everyone:
        for a, b in zip(other, got):
            assert a.tobytes() == b.tobytes(), "ranks' parameters differ"
ddp = DDP(make(100 + rank))
for p, q in zip(ddp.parameters(), make(100).parameters()):
    assert np.array_equal(p.detach().numpy(), q.detach().numpy())

# overlap: with small buckets, the first allreduce starts while backward still has gradients to make
launched = []
orig = dist.all_reduce


def spy(t, *a, **k):
    launched.append(sum(ddp._ready))
    return orig(t, *a, **k)


ddp = DDP(make(0), bucket_cap_mb=0.001)
dist.all_reduce = spy
F.cross_entropy(ddp(pydl.from_numpy(X[0][mine])), pydl.from_numpy(Y[0][mine])).backward()
dist.all_reduce = orig
n = len(ddp._params)
assert len(launched) == len(ddp._buckets) and launched[0] < n, (launched, n)
assert all(p.grad is not None for p in ddp.parameters())

# no_sync: accumulate two local micro-batches, then sync: the average of the full-batch grads
ref = make(0)
F.cross_entropy(ref(pydl.from_numpy(X[1])), pydl.from_numpy(Y[1])).backward()
ddp = DDP(make(0))
half = per // 2
idx = [slice(rank * per, rank * per + half), slice(rank * per + half, (rank + 1) * per)]
with ddp.no_sync():
    (F.cross_entropy(ddp(pydl.from_numpy(X[1][idx[0]])), pydl.from_numpy(Y[1][idx[0]])) / 2).backward()
g_local = [p.grad.numpy().copy() for p in ddp.parameters()]
(F.cross_entropy(ddp(pydl.from_numpy(X[1][idx[1]])), pydl.from_numpy(Y[1][idx[1]])) / 2).backward()
for p, q, gl in zip(ddp.parameters(), ref.parameters(), g_local):
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert not np.allclose(gl, q.grad.numpy(), atol=1e-6)  # under no_sync they were still local


# find_unused_parameters: a branch only rank 0 uses, and a layer nobody uses
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 3)
        self.b = nn.Linear(3, 3)
        self.never = nn.Linear(3, 3)

    def forward(self, x, use_b):
        h = self.a(x)
        return self.b(h) if use_b else h


pydl.manual_seed(0)
ddp = DDP(Branchy(), find_unused_parameters=True)
x = pydl.from_numpy(X[2][:8, :4])
for _ in range(2):  # twice: the reduction of the first iteration finished
    ddp.zero_grad()
    ddp(x, use_b=rank == 0).sum().backward()
pydl.manual_seed(0)
solo = Branchy()
solo(x, True).sum().backward()
np.testing.assert_allclose(ddp.module.b.weight.grad.numpy(), solo.b.weight.grad.numpy() / world, rtol=1e-5)
assert ddp.module.never.weight.grad is None

# without find_unused_parameters, an unused parameter stalls the reduction: a clear error next forward
pydl.manual_seed(0)
ddp = DDP(Branchy())
ddp(x, use_b=False).sum().backward()
try:
    ddp(x, use_b=False)
except RuntimeError as e:
    assert "Expected to have finished reduction" in str(e) and "find_unused_parameters=True" in str(e), e
else:
    raise AssertionError("no error for unused parameters")

# buffers: rank 0's are broadcast before each forward
pydl.manual_seed(0)
bn = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
ddp = DDP(bn)
with pydl.no_grad():
    bn[1].running_mean.fill_(float(rank + 1))
ddp.eval()
ddp(x)
assert np.all(bn[1].running_mean.numpy() == 1.0)

# state_dict: the wrapped module's keys; PyTorch's "module." prefix is accepted on load
sd = ddp.state_dict()
assert list(sd) == list(bn.state_dict()) and not any(k.startswith("module.") for k in sd)
plain = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
plain.load_state_dict(sd)
ddp.load_state_dict({"module." + k: v for k, v in sd.items()})
assert [n for n, _ in ddp.named_parameters()][0] == "module.0.weight"

# every rank must hold the same parameters: a mismatch raises on every rank instead of hanging
try:
    DDP(nn.Linear(4, 3 + rank))
except RuntimeError as e:
    assert "same parameters" in str(e) and "(3, 4)" in str(e) and "(4, 4)" in str(e), e
else:
    raise AssertionError("no error for different parameter shapes")
dist.barrier()
print(f"rank {rank}: ddp OK (max relative difference to one process: {worst:.2e})", flush=True)
