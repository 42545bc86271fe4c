"""Program B on pydl: an LSTM classifies MNIST images read row by row as sequences
(28 steps x 28 features, hidden 128, 2 layers), Adam, cross-entropy.

Only the imports and the dataset lines differ from the PyTorch original:

    python examples/lstm_sequence.py             # 2 epochs on ../shared/data/mnist, >= 97% test accuracy
    python examples/lstm_sequence.py --limit 4000 --epochs 1    # a quick smoke run
"""
import argparse
import os
import time

import pydl as torch  # noqa: the PyTorch program, unchanged below the imports
import pydl.nn as nn
from pydl.data import DataLoader, Subset
from pydl.data.datasets import MNIST, find_root
from pydl.data.transforms import Compose, Normalize, ToTensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_data():
    """../shared/data/mnist beside the repository (found by walking up), or $PYDL_DATA/mnist."""
    return find_root("mnist", ROOT) or os.path.join(ROOT, "..", "shared", "data", "mnist")


# 定义模型 (program B, unchanged)
class LSTMModel(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, num_classes):
        super(LSTMModel, self).__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        out, _ = self.lstm(x, (h0, c0))
        out = self.fc(out[:, -1, :])
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--data", default=default_data())
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="pydl.set_num_threads (0: the default)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)

    tf = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    train_dataset = MNIST(root=args.data, train=True, transform=tf)
    test_dataset = MNIST(root=args.data, train=False, transform=tf)
    if args.limit:
        train_dataset = Subset(train_dataset, list(range(args.limit)))
    train_loader = DataLoader(train_dataset, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_dataset, batch_size=256, shuffle=False)

    sequence_length, input_size = 28, 28
    model = LSTMModel(input_size, args.hidden, args.layers, 10)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(model)

    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        total_loss, seen = 0.0, 0
        for images, labels in train_loader:
            images = images.reshape(-1, sequence_length, input_size)
            outputs = model(images)
            loss = criterion(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * labels.size(0)
            seen += labels.size(0)
        train_time = time.perf_counter() - t0

        model.eval()
        correct = total = 0
        with torch.no_grad():
            for images, labels in test_loader:
                outputs = model(images.reshape(-1, sequence_length, input_size))
                _, predicted = torch.max(outputs.data, 1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        print(f"Epoch [{epoch + 1}/{args.epochs}], Loss: {total_loss / seen:.4f}, Test accuracy: "
              f"{100 * correct / total:.2f}%, time: {train_time:.1f} s ({seen / train_time:.0f} samples/s)", flush=True)
    print(f"Test Accuracy of the model on the {total} test images: {100 * correct / total:.2f}%")


if __name__ == "__main__":
    main()
