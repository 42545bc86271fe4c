"""Padding layers: Zero/Constant/Reflection/Replication/CircularPad{1,2,3}d over F.pad."""
from .. import functional as F
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding, value=0.0):
        super().__init__()
        if isinstance(padding, (tuple, list)):
            if len(padding) != 2 * self._n:
                raise ValueError(f"[{type(self).__name__}] padding must be an int or a tuple of {2 * self._n} ints, "
                                 f"got {tuple(padding)}")
            self.padding = tuple(int(p) for p in padding)
        else:
            self.padding = (int(padding),) * (2 * self._n)
        self.value = value

    def forward(self, input):
        if input.dim() not in (self._n + 1, self._n + 2):
            raise ValueError(f"[{type(self).__name__}] expected a {self._n + 1}D or {self._n + 2}D input, got "
                             f"{tuple(input.shape)}")
        return F.pad(input, self.padding, self._mode, self.value if self._mode == "constant" else None)

    def extra_repr(self):
        return f"{self.padding}, value={self.value}" if self._mode == "constant" else f"{self.padding}"


def _make(name, n, mode, doc, constant=False):
    if constant:
        def __init__(self, padding, value):
            _PadNd.__init__(self, padding, value)
    elif name.startswith("Zero"):
        def __init__(self, padding):
            _PadNd.__init__(self, padding, 0.0)
    else:
        def __init__(self, padding):
            _PadNd.__init__(self, padding)
    return type(name, (_PadNd,), {"_n": n, "_mode": mode, "__init__": __init__, "__doc__": doc,
                                  "__module__": __name__})


ZeroPad1d = _make("ZeroPad1d", 1, "constant", "Pads the last dim with zeros.")
ZeroPad2d = _make("ZeroPad2d", 2, "constant", "Pads the last 2 dims with zeros.")
ZeroPad3d = _make("ZeroPad3d", 3, "constant", "Pads the last 3 dims with zeros.")
ConstantPad1d = _make("ConstantPad1d", 1, "constant", "Pads the last dim with a constant.", constant=True)
ConstantPad2d = _make("ConstantPad2d", 2, "constant", "Pads the last 2 dims with a constant.", constant=True)
ConstantPad3d = _make("ConstantPad3d", 3, "constant", "Pads the last 3 dims with a constant.", constant=True)
ReflectionPad1d = _make("ReflectionPad1d", 1, "reflect", "Pads the last dim by reflection (edge not repeated).")
ReflectionPad2d = _make("ReflectionPad2d", 2, "reflect", "Pads the last 2 dims by reflection.")
ReflectionPad3d = _make("ReflectionPad3d", 3, "reflect", "Pads the last 3 dims by reflection.")
ReplicationPad1d = _make("ReplicationPad1d", 1, "replicate", "Pads the last dim by repeating the edge.")
ReplicationPad2d = _make("ReplicationPad2d", 2, "replicate", "Pads the last 2 dims by repeating the edges.")
ReplicationPad3d = _make("ReplicationPad3d", 3, "replicate", "Pads the last 3 dims by repeating the edges.")
CircularPad1d = _make("CircularPad1d", 1, "circular", "Pads the last dim by wrapping around.")
CircularPad2d = _make("CircularPad2d", 2, "circular", "Pads the last 2 dims by wrapping around.")
CircularPad3d = _make("CircularPad3d", 3, "circular", "Pads the last 3 dims by wrapping around.")
