"""The `pydl` command.

    pydl train [--model mnistnet|mlp|lstm] [--dataset mnist|fashion-mnist|cifar10] [--data DIR]
               [--epochs N] [--batch-size N] [--lr LR] [--threads N] [--seed N] [--out DIR]
    pydl info

`pydl train` finds the dataset in --data, $PYDL_DATA or the download cache (--download
fetches it there); with nothing found and --dataset mnist it trains on the MNIST test set
embedded in the package (10,000 images split 8,000 / 2,000), so it works offline on a fresh
machine. It writes model.safetensors, history.csv and learning_curves.png into --out.

Under an MPI launcher (``mpiexec -n 2 pydl train``) it trains data-parallel: each rank reads its
share of every epoch (batch size per rank; the learning rate is not scaled), and rank 0 prints
and writes the files.
"""
import argparse
import builtins
import os
import sys
import time

import numpy as np

_STATS = {"mnist": ((0.1307,), (0.3081,)), "fashion-mnist": ((0.2860,), (0.3530,)),
          "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))}


def _parser():
    from .train.models import available_models
    p = argparse.ArgumentParser(prog="pydl", description="pydl: train models and inspect the build.")
    sub = p.add_subparsers(dest="command", metavar="{train,info}")
    t = sub.add_parser("train", help="train a model on MNIST / Fashion-MNIST / CIFAR-10",
                       description="Trains a model with progress bars, prints the test accuracy and writes "
                                   "model.safetensors, history.csv and learning_curves.png into --out.")
    t.add_argument("--model", default="mnistnet", choices=available_models(),
                   help="mnistnet (the CNN of the PyTorch MNIST example, default), mlp"
                        + (", lstm" if "lstm" in available_models() else ""))
    t.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist", "cifar10"])
    t.add_argument("--data", metavar="DIR", help="folder with the dataset files (default: $PYDL_DATA, then the "
                                                 "download cache, then the embedded MNIST test set)")
    t.add_argument("--download", action="store_true", help="download the dataset into the cache if missing")
    t.add_argument("--epochs", type=_positive_int, default=3)
    t.add_argument("--batch-size", type=_positive_int, default=64)
    t.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate (default 0.001)")
    t.add_argument("--threads", type=_positive_int, default=None, help="CPU threads (default: pydl's)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", metavar="DIR", default=None, help="output folder (default: runs/<model>-<dataset>)")
    t.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2], help=argparse.SUPPRESS)
    t.add_argument("--limit", type=_positive_int, default=None, help=argparse.SUPPRESS)  # for tests
    i = sub.add_parser("info", help="print the build configuration (pydl.show_config())")
    i.add_argument("--cuda-selftest", action="store_true",
                   help="compare every CUDA kernel with its CPU kernel on the GPU (says so when there is none)")
    return p


def _positive_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _positive_float(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v}")
    return v


def _prepare(images, dataset):
    """uint8 (N, H, W) or (N, H, W, C) -> normalised float32 (N, C, H, W), vectorised."""
    x = images.astype(np.float32) / 255.0
    if x.ndim == 3:
        x = x[:, None]
    else:
        x = x.transpose(0, 3, 1, 2)
    mean, std = _STATS[dataset]
    x = (x - np.asarray(mean, np.float32)[:, None, None]) / np.asarray(std, np.float32)[:, None, None]
    return np.ascontiguousarray(x, dtype=np.float32)


def _load(args):
    from ._datapath import embedded_mnist, load_arrays
    from .data.datasets import DatasetNotFoundError
    try:
        (xtr, ytr), (xte, yte) = load_arrays(args.dataset, data=args.data, shared=False, download=False)[0]
        source = None
    except DatasetNotFoundError as e:
        if "corrupt" in str(e) or "disagree" in str(e):
            raise
        if args.download:
            (xtr, ytr), (xte, yte) = load_arrays(args.dataset, data=args.data, shared=False, download=True)[0]
            source = None
        elif args.dataset == "mnist" and args.data is None:
            (xtr, ytr), (xte, yte) = embedded_mnist()
            source = "embedded"
        else:
            raise
    return (xtr, ytr), (xte, yte), source


def _mpi_world_size():
    """The number of ranks an MPI launcher started (1 when not launched by one)."""
    for key in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return 1


def train_main(args):
    import pydl
    from . import distributed as dist
    from . import nn, optim, train
    from .data import DataLoader, TensorDataset
    from .data.datasets import DatasetNotFoundError
    from .train.models import build_model

    if _mpi_world_size() > 1 and not dist.is_initialized():
        dist.init_process_group("mpi")
    ranks = dist.get_world_size() if dist.is_initialized() else 1
    rank = dist.get_rank() if dist.is_initialized() else 0
    print = builtins.print if rank == 0 else (lambda *a, **k: None)  # noqa: A001  (rank 0 speaks)
    if args.threads:
        pydl.set_num_threads(args.threads)
    pydl.manual_seed(args.seed)
    np.random.seed(args.seed)
    try:
        (xtr, ytr), (xte, yte), source = _load(args)
    except DatasetNotFoundError as e:
        print(f"pydl train: error: {e}\n(use --download with network access, or --dataset mnist without --data "
              "for the embedded MNIST test set)", file=sys.stderr)
        return 2
    name = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}[args.dataset]
    if source == "embedded":
        print(f"No {name} files found in $PYDL_DATA or the download cache: using the MNIST test set embedded in "
              f"pydl (10,000 official test images), split {len(xtr):,} for training / {len(xte):,} held out for "
              "testing. Pass --data DIR (or --download) to train on the full 60,000 images.")
        test_name = "held-out"
    else:
        test_name = "test"
    if args.limit:
        xtr, ytr, xte, yte = xtr[:args.limit], ytr[:args.limit], xte[:args.limit], yte[:args.limit]
    x_train, x_test = _prepare(xtr, args.dataset), _prepare(xte, args.dataset)
    y_train, y_test = ytr.astype(np.int64), yte.astype(np.int64)
    model = build_model(args.model, x_train.shape[1], x_train.shape[2], 10)
    n_params = sum(p.numel() for p in model.parameters())
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    os.makedirs(out, exist_ok=True)
    print(f"pydl {pydl.__version__} train: model={args.model} ({n_params:,} parameters), dataset={name} "
          f"({len(x_train):,} train / {len(x_test):,} {test_name}), epochs={args.epochs}, "
          f"batch_size={args.batch_size}, lr={args.lr}, threads={pydl.get_num_threads()}, seed={args.seed}"
          + (f", ranks={ranks} (batch_size per rank: global batch {ranks * args.batch_size}; lr not scaled)"
             if ranks > 1 else ""))
    train_loader = DataLoader(TensorDataset(pydl.from_numpy(x_train), pydl.from_numpy(y_train)),
                              batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(TensorDataset(pydl.from_numpy(x_test), pydl.from_numpy(y_test)), batch_size=1000)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    weights = os.path.join(out, "model.safetensors")
    callbacks = [train.CSVLogger(os.path.join(out, "history.csv")),
                 train.ModelCheckpoint(weights, monitor="val_loss", save_best_only=False)]
    t0 = time.time()
    history = train.fit(model, train_loader, loss=nn.functional.nll_loss, optimizer=optimizer, epochs=args.epochs,
                        metrics=["accuracy"], val_data=test_loader, callbacks=callbacks, verbose=args.verbose)
    elapsed = time.time() - t0
    if rank != 0:
        return 130 if history.interrupted else 0  # rank 0 saves, tests and reports
    if history.interrupted and not history.epoch:
        print("Interrupted before the first epoch ended: nothing was saved.")
        return 130
    if history.interrupted:  # report on what was kept: the checkpoint of the last completed epoch
        model.load_state_dict(pydl.load(weights))
        print(f"Kept the weights of epoch {history.epoch[-1] + 1} in {weights}")
    else:
        pydl.save(model.state_dict(), weights)
    result = train.evaluate(model, test_loader, loss=nn.functional.nll_loss, metrics=["accuracy"])
    samples = len(x_train) * len(history.epoch)
    print(f"Test accuracy: {100 * result['accuracy']:.2f}% on {len(x_test):,} {test_name} images "
          f"(loss {result['loss']:.4f}; {elapsed:.1f}s, {samples / max(elapsed, 1e-9):,.0f} samples/s)")
    written = [weights, os.path.join(out, "history.csv")]
    try:
        history.plot(os.path.join(out, "learning_curves.png"), title=f"{args.model} on {name}")
        written.append(os.path.join(out, "learning_curves.png"))
    except ImportError as e:
        print(f"(no learning-curve plot: {e})")
    print("Wrote " + ", ".join(written))
    return 130 if history.interrupted else 0


def main(argv=None):
    """Entry point of the `pydl` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        import pydl
        pydl.show_config()
        if args.cuda_selftest:
            from pydl.utils import cuda_selftest
            return cuda_selftest.main()
        return 0
    if args.command == "train":
        return train_main(args)
    parser.print_help()
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
