"""Parameter: a Tensor that a Module registers as trainable."""
from .. import _C
from .._C import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered by Module.__setattr__.

    Args:
        data: tensor whose storage the parameter shares (an empty tensor if None).
        requires_grad: whether the parameter is trainable (default True).
    """

    def __new__(cls, data=None, requires_grad=True):
        return super().__new__(cls)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _C.empty([0], _C.dtype.float32)
        if not isinstance(data, Tensor):
            raise TypeError(f"[Parameter] data must be a Tensor, got {type(data).__name__}")
        Tensor.__init__(self, data, bool(requires_grad))

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce_ex__(self, proto):
        return (Parameter, (self.detach().clone(), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(_C.clone(self.detach()), self.requires_grad)
        memo[id(self)] = out
        return out
