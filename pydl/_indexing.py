"""Indexing functional forms (index_select, gather, scatter_add, ...); their Tensor methods are bound
by pydl/_tensor_methods.py.

Each function parses PyTorch-style arguments and calls one op of the compiled core.
``x[...]`` and ``x[...] = v`` are bound in C++ (csrc/python/init_tensor_methods.cpp).
"""
from . import _C
from ._C import Tensor
from ._functional import _values_indices

__all__ = [
    "index_select", "gather", "scatter", "scatter_add", "index_put", "nonzero", "masked_fill", "masked_select", "where",
    "argwhere", "sort", "argsort", "topk", "cumsum", "take_along_dim",
]



def index_select(input, dim, index):
    """Entries of ``input`` along ``dim`` at the positions in 1-D int64 ``index``.

    Args:
        input: the tensor to index.
        dim: the dimension to index along.
        index: 1-D (or 0-d) int64 tensor of positions; negative values count from the end.

    Returns:
        A new tensor with ``input.shape[dim]`` replaced by ``len(index)``.
    """
    return _C.index_select(input, dim, index)


def gather(input, dim, index):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for ``dim == 1`` (PyTorch ``gather``).

    Args:
        input: the source tensor.
        dim: the axis along which to index.
        index: int64 tensor with as many dims as ``input``.

    Returns:
        A tensor of ``index``'s shape.
    """
    return _C.gather(input, dim, index)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up).

    Args:
        input: the destination values.
        dim: the axis along which to index.
        index: int64 tensor, no larger than ``src`` in any dim.
        src: the values to add.

    Returns:
        A new tensor of ``input``'s shape.
    """
    return _C.scatter_add(input, dim, index, src)


def _scatter_args(input, index, src, value, op):
    if src is None:
        if value is None:
            raise TypeError(f"[{op}] expected src or value")
        src = value
    if input.ndim == 1 and isinstance(index, Tensor) and index.ndim == 0:  # a 0-d index on a vector, as torch
        index = _C.reshape(index, [1])
        if isinstance(src, Tensor) and src.ndim == 0:
            src = _C.reshape(src, [1])
    return index, src


def scatter(input, dim, index, src=None, value=None):
    """A copy of ``input`` with ``src`` (a tensor, or the scalar ``value``) written at ``index`` along ``dim``."""
    index, src = _scatter_args(input, index, src, value, "scatter")
    return _C.scatter(input, dim, index, src)


def _scatter_(self, dim, index, src=None, value=None):
    index, src = _scatter_args(self, index, src, value, "scatter_")
    return _C.scatter_(self, dim, index, src)


def index_put(input, indices, values, accumulate=False):
    """Out-of-place ``input[indices] = values`` (or ``+=`` when ``accumulate``)."""
    return _C.index_put(input, tuple(indices), values, accumulate)


def nonzero(input, *, as_tuple=False):
    """Indices of the nonzero elements.

    Args:
        input: any tensor.
        as_tuple: return one 1-D index tensor per dimension instead of an (n, ndim) tensor.

    Returns:
        An int64 tensor of shape (n, ndim), or a tuple of ndim int64 tensors of shape (n,).
    """
    nz = _C.nonzero(input)
    if not as_tuple:
        return nz
    if input.ndim == 0:
        return (_C.zeros([nz.shape[0]], _C.dtype.int64),)
    return tuple(_C.select(nz, 1, d) for d in range(input.ndim))


def argwhere(input):
    """Same as ``nonzero(input)``: an (n, ndim) int64 tensor."""
    return _C.nonzero(input)


def where(condition, input=None, other=None):
    """``where(cond, a, b)`` picks elementwise; ``where(cond)`` is ``nonzero(cond, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("[where] expected both input and other, or neither")
    return _C.where(condition, input, other)


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` where the bool ``mask`` (broadcast to input) is true."""
    return _C.masked_fill(input, mask, value)


def masked_select(input, mask):
    """1-D tensor of the elements of ``input`` where the bool ``mask`` is true (broadcast together)."""
    return _C.masked_select(input, mask)


def sort(input, dim=-1, descending=False, stable=False):
    """Sorts along ``dim`` (stable). Returns ``(values, indices)``."""
    return _values_indices(*_C.sort(input, dim, descending))


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    return _C.sort(input, dim, descending)[1]


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim``, sorted. Returns ``(values, indices)``."""
    return _values_indices(*_C.topk(input, k, dim, largest))


def cumsum(input, dim, *, dtype=None):
    """Inclusive cumulative sum along ``dim`` (int64 for integer and bool input)."""
    out = _C.cumsum(input, dim)
    return out if dtype is None else out.to(dtype)


def take_along_dim(input, indices, dim=None):
    """``gather`` with ``indices`` broadcast against ``input`` (``dim=None`` works on the flattened input)."""
    if dim is None:
        return _C.gather(_C.reshape(input, [-1]), 0, _C.reshape(indices, [-1]))
    nd = input.ndim
    d = dim + nd if dim < 0 else dim
    shape_in = list(input.shape)
    shape_ix = list(indices.shape)
    if len(shape_ix) != nd:
        raise ValueError(f"[take_along_dim] input {tuple(shape_in)} and indices {tuple(shape_ix)} "
                         "must have the same number of dimensions")
    bi = [max(a, b) if i != d else shape_ix[i] for i, (a, b) in enumerate(zip(shape_in, shape_ix))]
    bx = [max(a, b) if i != d else shape_in[i] for i, (a, b) in enumerate(zip(shape_in, shape_ix))]
    return _C.gather(_C.expand(input, bx), d, _C.expand(indices, bi))


def _scatter_add_(self, dim, index, src):
    return _C.scatter_add_(self, dim, index, src)


def _index_put_(self, indices, values, accumulate=False):
    return _C.index_put_(self, tuple(indices), values, accumulate)
