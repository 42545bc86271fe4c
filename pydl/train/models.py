"""The models `pydl train` builds: MnistNet (program H of the specification), an MLP and, when
pydl.nn.LSTM exists, an LSTM classifier reading image rows as a sequence (program B)."""
from .. import nn
from ..nn import functional as F

__all__ = ["MnistNet", "MLP", "LSTMClassifier", "available_models", "build_model"]


class MnistNet(nn.Module):
    """Conv(c,32,3) -> ReLU -> Conv(32,64,3) -> ReLU -> MaxPool(2) -> Dropout(0.25) -> Flatten ->
    Linear(64*((s-4)//2)^2, 128) -> ReLU -> Dropout(0.5) -> Linear(128, classes) -> log_softmax."""

    def __init__(self, in_channels=1, image_size=28, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        side = (image_size - 4) // 2
        self.fc1 = nn.Linear(64 * side * side, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


class MLP(nn.Module):
    """Flatten -> Linear(in, 128) -> ReLU -> Linear(128, classes) -> log_softmax (program E)."""

    def __init__(self, in_features=784, hidden=128, num_classes=10):
        super().__init__()
        self.linear1 = nn.Linear(in_features, hidden)
        self.linear2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = F.relu(self.linear1(x.flatten(1)))
        return F.log_softmax(self.linear2(x), dim=1)


class LSTMClassifier(nn.Module):
    """nn.LSTM(batch_first=True) over the image rows (a sequence of `height` vectors of
    width*channels values), last step -> Linear -> log_softmax (program B)."""

    def __init__(self, input_size=28, hidden_size=128, num_layers=1, num_classes=10):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        n, c, h, w = x.shape
        seq = x.permute(0, 2, 3, 1).reshape([n, h, w * c])
        out, _ = self.lstm(seq)
        return F.log_softmax(self.fc(out[:, -1, :]), dim=1)


def available_models():
    names = ["mnistnet", "mlp"]
    if hasattr(nn, "LSTM"):
        names.append("lstm")
    return names


def build_model(name, in_channels, image_size, num_classes=10):
    if name == "mnistnet":
        return MnistNet(in_channels, image_size, num_classes)
    if name == "mlp":
        return MLP(in_channels * image_size * image_size, 128, num_classes)
    if name == "lstm":
        if not hasattr(nn, "LSTM"):
            raise ValueError("--model lstm needs pydl.nn.LSTM, which this build of pydl does not have")
        return LSTMClassifier(image_size * in_channels, 128, 1, num_classes)
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(available_models())}")
