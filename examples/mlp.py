"""Program E on pydl: an MLP 784-128-10 trained with a manual loop (zero_grad, backward, step).

    python examples/mlp.py                 # 5 epochs of MNIST, Adam, batch 64
    python examples/mlp.py --epochs 1 --limit 5000
"""
import argparse
import os
import time

import pydl as torch  # noqa: the PyTorch program, unchanged below the imports
import pydl.nn as nn
from pydl.data import DataLoader, Subset
from pydl.data.datasets import MNIST, find_root
from pydl.data.transforms import ToTensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_data():
    """../shared/data/mnist beside the repository (found by walking up), or $PYDL_DATA/mnist."""
    return find_root("mnist", ROOT) or os.path.join(ROOT, "..", "shared", "data", "mnist")


# 定义模型
class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.linear1 = nn.Linear(784, 128)
        self.linear2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.linear1(x))
        x = self.linear2(x)
        return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--data", default=default_data())
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--l1", type=float, default=0.0, help="L1 penalty on the weights (added to the loss)")
    ap.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty (in the optimizer)")
    args = ap.parse_args()
    torch.manual_seed(0)

    train = MNIST(args.data, train=True, transform=ToTensor())
    test = MNIST(args.data, train=False, transform=ToTensor())
    if args.limit:
        train = Subset(train, list(range(args.limit)))
    train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test, batch_size=1000)

    # 实例化模型
    model = MyModel()

    # 定义损失函数和优化算法
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), weight_decay=args.weight_decay)

    # 训练模型
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        for images, labels in train_loader:
            outputs = model(images.view(images.shape[0], -1))
            # 计算损失
            loss = loss_fn(outputs, labels)
            if args.l1:
                loss = loss + args.l1 * sum(p.abs().sum() for p in model.parameters())

            # 反向传播
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        dt = time.perf_counter() - t0

        # 评估模型
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                predicted = model(images.view(images.shape[0], -1)).argmax(1)
                correct += (predicted == labels).sum().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {100 * correct / len(test):.2f}%, "
              f"{dt:.1f} s", flush=True)


if __name__ == "__main__":
    main()
