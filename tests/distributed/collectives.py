"""Run under mpiexec -n 2 (or more) by tests/test_distributed.py: every collective against NumPy."""
import numpy as np

import pydl
import pydl.distributed as dist

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi" and world >= 2
assert pydl.get_num_threads() >= 1


def data(r, shape=(3, 4), dtype=np.float32):
    """What rank r holds (every rank can compute every rank's data)."""
    return (np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * (r + 1) + r).astype(dtype)


def t(a):
    return pydl.from_numpy(np.ascontiguousarray(a))


everyone = np.stack([data(r) for r in range(world)])

# all_reduce: every op, in place and zero copy
refs = {dist.ReduceOp.SUM: everyone.sum(0), dist.ReduceOp.AVG: everyone.mean(0),
        dist.ReduceOp.PRODUCT: everyone.prod(0), dist.ReduceOp.MIN: everyone.min(0),
        dist.ReduceOp.MAX: everyone.max(0)}
for op, ref in refs.items():
    a = data(rank)
    x = pydl.from_numpy(a)
    ptr = x.data_ptr()
    assert dist.all_reduce(x, op=op) is None
    np.testing.assert_allclose(a, ref, rtol=1e-6, err_msg=str(op))  # the NumPy array shares the tensor's memory
    assert x.data_ptr() == ptr
xi = t(np.array([rank + 1, 10 * rank], dtype=np.int64))
dist.all_reduce(xi, op=dist.ReduceOp.BOR)
assert xi.tolist() == [np.bitwise_or.reduce(np.arange(1, world + 1)), np.bitwise_or.reduce(10 * np.arange(world))]
xd = t(data(rank, dtype=np.float64))
dist.all_reduce(xd)
np.testing.assert_allclose(xd.numpy(), everyone.astype(np.float64).sum(0))
xb = t(np.array([rank == 0, True, False]))
dist.all_reduce(xb, op=dist.ReduceOp.MAX)
assert xb.tolist() == [True, True, False]

# async_op returns a Work
x = t(data(rank))
w = dist.all_reduce(x, op=dist.ReduceOp.AVG, async_op=True)
assert isinstance(w, dist.Work)
assert w.wait() is True and w.is_completed()
np.testing.assert_allclose(x.numpy(), everyone.mean(0), rtol=1e-6)
x = t(data(rank))
w = dist.all_reduce(x, async_op=True)
while not w.is_completed():
    pass
np.testing.assert_allclose(x.numpy(), everyone.sum(0), rtol=1e-6)

# a tensor autograd saved cannot be overwritten by a collective behind its back
w = pydl.ones(3, requires_grad=True)
h = w * 1
y = (h * h).sum()
dist.all_reduce(h)
try:
    y.backward()
except RuntimeError as e:
    assert "modified by an inplace operation" in str(e) or "in-place" in str(e) or "inplace" in str(e), e
else:
    raise AssertionError("no error for a tensor changed by all_reduce after it was saved")
# Work.wait(timeout): a receive nobody sends to times out instead of hanging
w = dist.irecv(pydl.zeros(1), src=0, tag=99) if rank == 1 else None
if rank == 1:
    try:
        w.wait(timeout=0.05)
    except RuntimeError as e:
        assert str(e).startswith("[Work.wait] the collective did not finish within 0.05 s"), e
    else:
        raise AssertionError("no timeout")
dist.barrier()
if rank == 0:
    dist.send(pydl.zeros(1), dst=1, tag=99)  # let the pending receive complete
else:
    w.wait()

# broadcast from the last rank
src = world - 1
x = t(data(rank))
dist.broadcast(x, src=src)
np.testing.assert_array_equal(x.numpy(), data(src))
x = t(data(rank))
dist.broadcast(x, src=0, async_op=True).wait()
np.testing.assert_array_equal(x.numpy(), data(0))

# reduce to rank 1
x = t(data(rank))
dist.reduce(x, dst=1, op=dist.ReduceOp.SUM)
np.testing.assert_allclose(x.numpy(), everyone.sum(0) if rank == 1 else data(rank), rtol=1e-6)

# all_gather (into a list, into one tensor), also async
outs = [pydl.zeros(3, 4) for _ in range(world)]
dist.all_gather(outs, t(data(rank)))
for r in range(world):
    np.testing.assert_array_equal(outs[r].numpy(), data(r))
outs = [pydl.zeros(3, 4) for _ in range(world)]
dist.all_gather(outs, t(data(rank)), async_op=True).wait()
np.testing.assert_array_equal(outs[world - 1].numpy(), data(world - 1))
big = pydl.zeros(world * 3, 4)
dist.all_gather_into_tensor(big, t(data(rank)))
np.testing.assert_array_equal(big.numpy(), everyone.reshape(world * 3, 4))

# reduce_scatter: rank r gets the sum over ranks of their input_list[r]
inputs = [t(data(rank) + 100 * i) for i in range(world)]
out = pydl.zeros(3, 4)
dist.reduce_scatter(out, inputs)
np.testing.assert_allclose(out.numpy(), everyone.sum(0) + 100 * rank * world, rtol=1e-6)
out = pydl.zeros(3, 4)
dist.reduce_scatter_tensor(out, t(np.concatenate([data(rank) + 100 * i for i in range(world)])),
                           op=dist.ReduceOp.AVG)
np.testing.assert_allclose(out.numpy(), everyone.mean(0) + 100 * rank, rtol=1e-6)

# gather to rank 0, scatter from rank 1
lst = [pydl.zeros(3, 4) for _ in range(world)] if rank == 0 else None
dist.gather(t(data(rank)), lst, dst=0)
if rank == 0:
    for r in range(world):
        np.testing.assert_array_equal(lst[r].numpy(), data(r))
x = pydl.zeros(3, 4)
dist.scatter(x, [t(data(i) * 7) for i in range(world)] if rank == 1 else None, src=1)
np.testing.assert_array_equal(x.numpy(), data(rank) * 7)

# all_to_all_single: block j of rank i goes to rank j
inp = t(np.arange(world * 2, dtype=np.float32) + 100 * rank)
out = pydl.zeros(world * 2)
dist.all_to_all_single(out, inp)
np.testing.assert_array_equal(out.numpy(), np.concatenate([np.arange(2 * rank, 2 * rank + 2) + 100 * r
                                                           for r in range(world)]))

# objects
objs = [None] * world
dist.all_gather_object(objs, {"rank": rank, "s": "x" * rank})
assert objs == [{"rank": r, "s": "x" * r} for r in range(world)]
lst = [rank, "mine"] if rank == 0 else [None, None]
dist.broadcast_object_list(lst, src=0)
assert lst == [0, "mine"]
got = [None] * world if rank == 0 else None
dist.gather_object(("g", rank), got, dst=0)
if rank == 0:
    assert got == [("g", r) for r in range(world)]
o = [None]
dist.scatter_object_list(o, [f"to{r}" for r in range(world)] if rank == 0 else None, src=0)
assert o == [f"to{rank}"]

# point to point: a ring
x = t(data(rank))
y = pydl.zeros(3, 4)
nxt, prv = (rank + 1) % world, (rank - 1) % world
if rank % 2 == 0:
    dist.send(x, nxt)
    assert dist.recv(y, prv) == prv
else:
    assert dist.recv(y, prv) == prv
    dist.send(x, nxt)
np.testing.assert_array_equal(y.numpy(), data(prv))
reqs = [dist.isend(x, nxt, tag=3), dist.irecv(y, src=prv, tag=3)]
for r in reqs:
    r.wait()
np.testing.assert_array_equal(y.numpy(), data(prv))

# a subgroup of rank 0 alone: rank 1 is no member, its collectives are no-ops
g = dist.new_group([0])
if rank == 0:
    assert dist.get_world_size(g) == 1 and dist.get_rank(g) == 0
    x = t(data(rank))
    dist.all_reduce(x, group=g)
    np.testing.assert_array_equal(x.numpy(), data(0))
else:
    assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
    assert dist.all_reduce(t(data(rank)), group=g) is None
g2 = dist.new_group(list(range(world))[::-1])
x = t(data(rank))
dist.broadcast(x, src=1, group=g2)  # src is a global rank
np.testing.assert_array_equal(x.numpy(), data(1))
dist.destroy_process_group(g2)

# clear errors
for bad, exc, text in [
        (lambda: dist.all_reduce(pydl.zeros(4, 3).t()), ValueError, "[all_reduce] tensor must be contiguous"),
        (lambda: dist.all_reduce(np.zeros(3)), TypeError, "[all_reduce] tensor must be a pydl Tensor"),
        (lambda: dist.all_reduce(pydl.zeros(3, dtype=pydl.int64), op=dist.ReduceOp.AVG), ValueError, "AVG"),
        (lambda: dist.broadcast(pydl.zeros(3), src=world), ValueError, "[broadcast] src"),
        (lambda: dist.all_gather([pydl.zeros(3)], pydl.zeros(3)), ValueError, "one tensor per rank"),
        (lambda: dist.init_process_group("mpi"), ValueError, "twice")]:
    try:
        bad()
    except exc as e:
        assert str(e).startswith(text) or text in str(e), str(e)
    else:
        raise AssertionError(f"no {exc.__name__} for {text}")

dist.barrier()
dist.barrier(async_op=True).wait()
dist.destroy_process_group()
assert not dist.is_initialized()
dist.init_process_group(backend="mpi", world_size=world, rank=rank)  # again, after destroy
assert dist.get_world_size() == world
dist.destroy_process_group()
print(f"rank {rank}: collectives OK", flush=True)
