"""MnistNet trained data-parallel on MPI ranks: PyTorch's DDP recipe, with pydl's imports.

    mpiexec -n 2 python examples/ddp_mnist.py --epochs 1          # 2 processes on this machine
    mpiexec -n 2 python examples/ddp_mnist.py --limit 2000        # a quick smoke run
    mpiexec -n 8 -f hosts python examples/ddp_mnist.py            # 8 ranks over the machines in `hosts`
    python examples/ddp_mnist.py                                  # also runs as a single process

Each rank reads its share of every epoch (DistributedSampler; batch 64 per rank, so the global
batch is 64 x ranks), DDP averages the gradients during backward, and rank 0 evaluates, prints
and saves. Each rank uses cores / (ranks on its machine) threads unless OMP_NUM_THREADS is set.
"""
import argparse
import os
import time

import pydl as torch  # noqa: the PyTorch program, unchanged below the imports
import pydl.distributed as dist
import pydl.nn as nn
import pydl.optim as optim
from pydl.data import DataLoader, Subset
from pydl.data.datasets import MNIST, find_root
from pydl.data.distributed import DistributedSampler
from pydl.data.transforms import ToTensor
from pydl.nn.parallel import DistributedDataParallel as DDP

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class MnistNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = nn.functional.relu(self.conv1(x))
        x = nn.functional.relu(self.conv2(x))
        x = nn.functional.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = nn.functional.relu(self.fc1(x))
        x = self.dropout2(x)
        return nn.functional.log_softmax(self.fc2(x), dim=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--data", default=find_root("mnist", ROOT) or os.path.join(ROOT, "..", "shared", "data", "mnist"))
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--save", default="", help="rank 0 writes the model's state_dict here after each epoch")
    args = ap.parse_args()

    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)  # the same init everywhere (DDP broadcasts rank 0's anyway)

    train_dataset = MNIST(root=args.data, train=True, download=False, transform=ToTensor())
    test_dataset = MNIST(root=args.data, train=False, download=False, transform=ToTensor())
    if args.limit:
        train_dataset = Subset(train_dataset, list(range(args.limit)))
    sampler = DistributedSampler(train_dataset, num_replicas=world, rank=rank, shuffle=True, seed=0)
    train_loader = DataLoader(train_dataset, batch_size=64, sampler=sampler)
    test_loader = DataLoader(test_dataset, batch_size=1000)

    model = DDP(MnistNet())
    criterion = nn.NLLLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)  # not scaled by the number of ranks
    if rank == 0:
        print(f"{world} rank(s) x {torch.get_num_threads()} thread(s), {len(train_dataset)} training images, "
              f"global batch {64 * world}", flush=True)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        model.train()
        t0 = time.perf_counter()
        stats = torch.zeros(2, dtype=torch.float64)  # loss sum, samples
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()  # gradients are averaged over the ranks when this returns
            optimizer.step()
            stats += torch.tensor([loss.item() * labels.size(0), labels.size(0)], dtype=torch.float64)
        dist.all_reduce(stats)  # the epoch's loss over every rank's samples
        train_time = time.perf_counter() - t0
        if rank == 0:
            net = model.module
            net.eval()
            correct = total = 0
            with torch.no_grad():
                for images, labels in test_loader:
                    _, predicted = torch.max(net(images), 1)
                    total += labels.size(0)
                    correct += (predicted == labels).sum().item()
            loss_sum, seen = stats.tolist()
            print(f"Epoch [{epoch + 1}/{args.epochs}], Loss: {loss_sum / seen:.4f}, Test accuracy: "
                  f"{100 * correct / total:.2f}%, time: {train_time:.1f} s ({seen / train_time:.0f} samples/s)",
                  flush=True)
            if args.save:
                torch.save(model.state_dict(), args.save)  # the plain MnistNet's keys (no "module.")
        dist.barrier()  # the others wait while rank 0 evaluates and saves
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
