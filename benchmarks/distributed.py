"""Distributed benchmarks (run under MPI's launcher; rank 0 prints a markdown table):

    mpiexec -n 2 python benchmarks/distributed.py allreduce   # 25 MB bucket: pydl vs raw mpi4py
    mpiexec -n 2 python benchmarks/distributed.py overlap     # DDP backward: overlapped vs allreduce after
    python benchmarks/distributed.py throughput --threads 2   # MnistNet samples/s, 1 rank x 2 threads
    mpiexec -n 2 python benchmarks/distributed.py throughput --threads 1   # 2 ranks x 1 thread

Times are medians over repeats, measured in the same run for each comparison.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pydl  # noqa: E402
import pydl.distributed as dist  # noqa: E402
import pydl.nn as nn  # noqa: E402
import pydl.nn.functional as F  # noqa: E402
from pydl.nn.parallel import DistributedDataParallel as DDP  # noqa: E402


def median_time(fn, repeat, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        dist.barrier()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    # the slowest rank decides a collective's time
    t = pydl.tensor([float(np.median(ts))], dtype=pydl.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.item()


def bench_allreduce(args):
    from mpi4py import MPI
    comm = dist.GroupMember.WORLD.comm
    n = 25 * 1024 * 1024 // 4
    arr = np.random.default_rng(dist.get_rank()).standard_normal(n).astype(np.float32)
    t = pydl.from_numpy(arr)  # the same memory for both
    rows = []
    for name, fn in [("raw mpi4py Allreduce (numpy)", lambda: comm.Allreduce(MPI.IN_PLACE, arr, MPI.SUM)),
                     ("pydl.distributed.all_reduce", lambda: dist.all_reduce(t)),
                     ("pydl all_reduce async + wait", lambda: dist.all_reduce(t, async_op=True).wait())]:
        rows.append((name, median_time(fn, args.repeat)))
    if dist.get_rank() == 0:
        base = rows[0][1]
        ws = dist.get_world_size()
        print(f"| allreduce of a 25 MB float32 bucket, {ws} ranks | time | bus bandwidth | vs raw mpi4py |")
        print("|---|---:|---:|---:|")
        for name, s in rows:
            busbw = 2 * (ws - 1) / ws * n * 4 / s / 1e9
            print(f"| {name} | {s * 1e3:.2f} ms | {busbw:.2f} GB/s | {base / s:.2f}x |")


class Wide(nn.Module):
    """An MLP whose layers are 4 MB each: backward makes a bucket's worth of gradient per layer."""

    def __init__(self, width=1024, depth=6):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])

    def forward(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return x.sum()


def bench_overlap(args):
    from pydl.train.models import MnistNet
    rows = []
    for label, make, shape in [("MnistNet, batch 64", lambda: MnistNet(), (64, 1, 28, 28)),
                               ("MLP 6 x 1024^2, batch 64", lambda: Wide(), (64, 1024))]:
        pydl.manual_seed(0)
        model = make()
        x = pydl.randn(*shape)
        def loss_of(m):
            return m(x).sum()
        params = list(model.parameters())
        ddp = DDP(model, bucket_cap_mb=args.bucket_mb)

        def local():  # backward alone, no communication
            with ddp.no_sync():
                loss_of(ddp).backward()

        def sequential():  # backward, then the gradients' allreduces, one by one (no overlap)
            with ddp.no_sync():
                loss_of(ddp).backward()
            for p in params:
                dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)

        def overlapped():  # DDP: bucket allreduces start during backward
            loss_of(ddp).backward()

        t_local, t_seq, t_ddp = (median_time(f, args.repeat) for f in (local, sequential, overlapped))
        rows.append((label, len(ddp._buckets), t_local, t_seq, t_ddp))
    if dist.get_rank() == 0:
        print(f"| forward+backward, {dist.get_world_size()} ranks | buckets | no communication | backward then "
              f"allreduce | DDP (overlapped) | communication hidden |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, nb, a, b, c in rows:
            hidden = (b - c) / (b - a) if b > a else float("nan")
            print(f"| {label} | {nb} | {a * 1e3:.1f} ms | {b * 1e3:.1f} ms | {c * 1e3:.1f} ms | {100 * hidden:.0f}% |")


def bench_throughput(args):
    from pydl.train.models import MnistNet
    pydl.set_num_threads(args.threads)
    pydl.manual_seed(0)
    model = MnistNet()
    ws = dist.get_world_size()
    if ws > 1:
        model = DDP(model)
    opt = pydl.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = pydl.randn(args.batch, 1, 28, 28)
    y = pydl.randint(0, 10, (args.batch,))

    def step():
        for _ in range(args.steps):
            opt.zero_grad()
            F.nll_loss(model(x), y).backward()
            opt.step()

    s = median_time(step, args.repeat, warmup=1)
    if dist.get_rank() == 0:
        rate = ws * args.batch * args.steps / s
        print(f"| MnistNet training, {ws} rank(s) x {args.threads} thread(s), batch {args.batch} per rank | "
              f"{rate:.0f} samples/s |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["allreduce", "overlap", "throughput"])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--bucket-mb", type=float, default=25)
    args = p.parse_args()
    dist.init_process_group("mpi")
    if args.what != "throughput":
        pydl.set_num_threads(args.threads)
    {"allreduce": bench_allreduce, "overlap": bench_overlap, "throughput": bench_throughput}[args.what](args)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
