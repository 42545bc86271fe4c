"""Program H on pydl: MnistNet (two convs, max-pool, dropout, two linears), Adam lr 1e-3, batch 64.

Only the imports and the dataset lines differ from the PyTorch original:

    python examples/mnist_cnn.py                 # 10 epochs on ../shared/data/mnist
    python examples/mnist_cnn.py --epochs 2      # >= 98.5% test accuracy
    python examples/mnist_cnn.py --limit 2000    # a quick smoke run on the first 2000 images
"""
import argparse
import os
import time

import pydl as torch  # noqa: the PyTorch program, unchanged below the imports
import pydl.nn as nn
import pydl.optim as optim
from pydl.data import DataLoader, Subset
from pydl.data.datasets import MNIST, find_root
from pydl.data.transforms import ToTensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_data():
    """../shared/data/mnist beside the repository (found by walking up), or $PYDL_DATA/mnist."""
    return find_root("mnist", ROOT) or os.path.join(ROOT, "..", "shared", "data", "mnist")


class MnistNet(nn.Module):
    def __init__(self):
        super(MnistNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = nn.functional.relu(x)
        x = self.conv2(x)
        x = nn.functional.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = nn.functional.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = nn.functional.log_softmax(x, dim=1)
        return output


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--data", default=default_data())
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", default="", help="write a checkpoint here after every epoch")
    ap.add_argument("--threads", type=int, default=0, help="pydl.set_num_threads (0: the default)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)

    train_dataset = MNIST(root=args.data, train=True, download=False, transform=ToTensor())
    test_dataset = MNIST(root=args.data, train=False, download=False, transform=ToTensor())
    if args.limit:
        train_dataset = Subset(train_dataset, list(range(args.limit)))
    train_loader = DataLoader(train_dataset, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_dataset, batch_size=64, shuffle=False)

    model = MnistNet()
    criterion = nn.NLLLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.001)
    print(model)

    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        total_loss, seen = 0.0, 0
        for i, (images, labels) in enumerate(train_loader):
            optimizer.zero_grad()
            outputs = model(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * labels.size(0)
            seen += labels.size(0)
        train_time = time.perf_counter() - t0

        model.eval()
        correct = 0
        total = 0
        with torch.no_grad():
            for images, labels in test_loader:
                outputs = model(images)
                _, predicted = torch.max(outputs.data, 1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        print(f"Epoch [{epoch + 1}/{args.epochs}], Loss: {total_loss / seen:.4f} (last batch {loss.item():.4f}), "
              f"Test accuracy: {100 * correct / total:.2f}%, time: {train_time:.1f} s "
              f"({seen / train_time:.0f} samples/s)", flush=True)
        if args.save:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch + 1},
                       args.save)
    print(f"Accuracy of the network on the {total} test images: {100 * correct / total}%")


if __name__ == "__main__":
    main()
