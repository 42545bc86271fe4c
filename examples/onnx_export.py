"""Train a small CNN on MNIST with pydl, export it to ONNX and serve it with ONNX Runtime.

    pip install "pydl[onnx]"
    python examples/onnx_export.py                    # 1 epoch on 10k images, then export and serve
    python examples/onnx_export.py --limit 2000 --out cnn.onnx
"""
import argparse
import os
import time

import numpy as np

import pydl as torch  # noqa: the PyTorch program, unchanged below the imports
import pydl.nn as nn
import pydl.nn.functional as F
from pydl.data import DataLoader, Subset
from pydl.data.datasets import MNIST, find_root
from pydl.data.transforms import ToTensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.drop(x.view(x.size(0), -1))  # the batch size stays dynamic in the graph
        return F.log_softmax(self.fc(x), dim=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=find_root("mnist", ROOT) or os.path.join(ROOT, "..", "shared", "data", "mnist"))
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--out", default="mnist_cnn.onnx")
    args = ap.parse_args()
    torch.manual_seed(0)

    train = Subset(MNIST(args.data, train=True, transform=ToTensor()), list(range(args.limit)))
    test = MNIST(args.data, train=False, transform=ToTensor())
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    for images, labels in DataLoader(train, batch_size=64, shuffle=True):
        loss = F.nll_loss(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"trained on {len(train)} images in {time.perf_counter() - t0:.1f} s, last loss {loss.item():.3f}")

    # export: one traced run at batch 1; the batch axis stays dynamic
    example = torch.randn(1, 1, 28, 28)
    torch.onnx.export(model, (example,), args.out, input_names=["image"], output_names=["log_probs"],
                      dynamic_axes={"image": {0: "batch"}, "log_probs": {0: "batch"}})
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)")

    # serve with ONNX Runtime, and compare with pydl on a batch of 1000 test images
    import onnxruntime as ort
    session = ort.InferenceSession(args.out, providers=["CPUExecutionProvider"])
    images, labels = next(iter(DataLoader(test, batch_size=1000)))
    (log_probs,) = session.run(None, {"image": images.numpy()})
    accuracy = float(np.mean(log_probs.argmax(1) == labels.numpy()))
    print(f"ONNX Runtime: test accuracy {100 * accuracy:.2f}% on 1000 images")
    print(f"largest difference from pydl: {torch.onnx.verify(model, (images,), args.out):.2e}")


if __name__ == "__main__":
    main()
