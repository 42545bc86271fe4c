"""Differentiable collectives: the backward of each is the matching collective of the gradients.

With one loss per rank, the quantity DDP trains is their sum (averaged), so a rank's input
gets the gradient of every rank's loss: all_reduce's backward is an all_reduce of the
gradients, all_gather's a reduce_scatter of them.
"""
from ... import _C
from .. import c10d
from ..c10d import ReduceOp


def all_reduce(tensor, op=ReduceOp.SUM, group=None):
    """A new tensor holding the reduction of `tensor` over the group (SUM or AVG), differentiable."""
    if op not in (ReduceOp.SUM, ReduceOp.AVG):
        raise ValueError(f"[distributed.nn.all_reduce] only ReduceOp.SUM and ReduceOp.AVG are differentiable, got {op}")
    out = _C.clone(tensor.detach()).contiguous()
    c10d.all_reduce(out, op=op, group=group)

    def backward(grad):
        g = _C.clone(grad.detach()).contiguous()
        c10d.all_reduce(g, op=op, group=group)
        return g

    return _C._python_function([tensor], [out], backward)[0]


def all_gather(tensor, group=None):
    """A tuple with every rank's `tensor` (index = group rank), differentiable."""
    n = c10d.get_world_size(group)
    x = tensor.detach().contiguous()
    stacked = _C.empty([n] + list(x.shape), x.dtype)
    c10d.all_gather_into_tensor(stacked, x, group=group)
    outs = [_C.clone(stacked[i]) for i in range(n)]

    def backward(*grads):
        g = _C.empty([n] + list(x.shape), x.dtype)
        for i, gi in enumerate(grads):
            g[i] = 0 if gi is None else gi
        mine = _C.empty(list(x.shape), x.dtype)
        c10d.reduce_scatter_tensor(mine, g, group=group)
        return mine

    return tuple(_C._python_function([tensor], outs, backward))
