"""How a Tensor prints (like PyTorch's repr) and pickles (its values as a NumPy array plus requires_grad)."""
import numpy as np

from . import _C
from ._args import _default_dtype


def _repr(self):
    """Values like PyTorch: tensor([[1., 2.]], requires_grad=True)."""
    if self.is_cuda:
        return _repr(self.detach().cpu())[:-1] + f", device='{self.device}')"
    arr = self.detach().numpy()
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4, floatmode="fixed")
        edge = arr if arr.size <= 1000 else np.concatenate([arr.flat[:500], arr.flat[arr.size - 500:]])  # what is shown
        fin = edge[np.isfinite(edge)]
        if fin.size and np.all(fin == np.round(fin)) and "e" not in body:  # whole numbers print as "1.", like torch
            body = np.array2string(arr, separator=", ", prefix="tensor(",
                                   formatter={"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)})
    else:
        body = np.array2string(arr, separator=", ", prefix="tensor(")
        if arr.dtype == np.bool_:
            body = body.replace("True", "True").replace("False", "False")
    extras = []
    if arr.dtype == np.float64 and _default_dtype[0] != _C.dtype.float64:
        extras.append("dtype=pydl.float64")
    elif arr.dtype == np.float32 and _default_dtype[0] != _C.dtype.float32:
        extras.append("dtype=pydl.float32")
    if arr.size == 0:
        body = "[]"
        if tuple(self.shape) != (0,):
            extras.insert(0, f"size={tuple(self.shape)}")
        if arr.dtype not in (np.float32, np.int64):
            extras.append(f"dtype={self.dtype}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def _rebuild_tensor(array, requires_grad):
    t = _C._to_tensor(array, None)
    return t.requires_grad_(True) if requires_grad else t


def _tensor_reduce_ex(self, proto):
    """Pickling (and copy.copy) store the values as a NumPy array plus requires_grad."""
    return (_rebuild_tensor, (np.array(self.detach().numpy(), copy=True), self.requires_grad))


def _tensor_deepcopy(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    out = _C.clone(self.detach())
    if self.requires_grad:
        out.requires_grad_(True)
    if self.grad is not None:
        out.grad = _C.clone(self.grad)
    memo[id(self)] = out
    return out
