"""Run under mpiexec -n 2 by tests/test_distributed.py: SyncBatchNorm against BatchNorm on the global batch."""
import numpy as np

import pydl
import pydl.distributed as dist
import pydl.nn as nn
import pydl.nn.functional as F
from pydl.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(0)

for shape, sizes in [((4, 3, 5, 5), [3, 5]), ((6, 4), [2, 4]), ((5, 2, 7), [5, 5])]:
    sizes = (sizes * world)[:world]  # uneven local batches: the statistics weigh ranks by their counts
    c = shape[1]
    xs = [(rng.standard_normal((n,) + shape[1:]) * 3 + 2).astype(np.float64) for n in sizes]
    gs = [rng.standard_normal(x.shape) for x in xs]
    w0, b0 = rng.standard_normal(c), rng.standard_normal(c)

    def bn(cls):
        m = cls(c, momentum=0.3).double()
        with pydl.no_grad():
            m.weight.copy_(pydl.from_numpy(w0))
            m.bias.copy_(pydl.from_numpy(b0))
        return m

    ref = bn(nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d)
    x_all = pydl.from_numpy(np.concatenate(xs)).requires_grad_()
    out_all = ref(x_all)
    (out_all * pydl.from_numpy(np.concatenate(gs))).sum().backward()

    sync = bn(nn.SyncBatchNorm)
    x = pydl.from_numpy(xs[rank].copy()).requires_grad_()
    out = sync(x)
    (out * pydl.from_numpy(gs[rank])).sum().backward()
    lo = sum(sizes[:rank])
    np.testing.assert_allclose(out.detach().numpy(), out_all.detach().numpy()[lo:lo + sizes[rank]], rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(x.grad.numpy(), x_all.grad.numpy()[lo:lo + sizes[rank]], rtol=1e-8, atol=1e-9)
    for p, q in [(sync.weight, ref.weight), (sync.bias, ref.bias)]:
        g = p.grad.clone()
        dist.all_reduce(g)  # each rank holds its share of the parameter gradients
        np.testing.assert_allclose(g.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sync.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-9)
    np.testing.assert_allclose(sync.running_var.numpy(), ref.running_var.numpy(), rtol=1e-9)
    sync.eval()
    ref.eval()
    np.testing.assert_allclose(sync(x).detach().numpy(), ref(x).detach().numpy(), rtol=1e-9)

# convert_sync_batchnorm + DDP: two ranks train as one process on the whole batch
def net():
    pydl.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


X = rng.standard_normal((5, 16, 2, 6, 6)).astype(np.float32)
Y = rng.integers(0, 3, size=(5, 16)).astype(np.int64)
solo = net()
model = nn.SyncBatchNorm.convert_sync_batchnorm(net())
assert isinstance(model[1], nn.SyncBatchNorm) and not isinstance(solo[1], nn.SyncBatchNorm)
ddp = DDP(model)
per = 16 // world
for m, part in [(solo, slice(None)), (ddp, slice(rank * per, (rank + 1) * per))]:
    opt = pydl.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    for s in range(5):
        opt.zero_grad()
        F.cross_entropy(m(pydl.from_numpy(X[s][part])), pydl.from_numpy(Y[s][part])).backward()
        opt.step()
for (name, p), q in zip(solo.state_dict().items(), model.state_dict().values()):
    a, b = p.numpy(), q.numpy()
    assert np.allclose(a, b, rtol=1e-4, atol=1e-5), (name, np.abs(a - b).max())
print(f"rank {rank}: syncbn OK", flush=True)
