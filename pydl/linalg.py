"""pydl.linalg: norms, as ``torch.linalg`` (vector_norm, matrix_norm, norm)."""
import builtins
import math

from . import _C

__all__ = ["norm", "vector_norm", "matrix_norm"]


def _dims(dim):
    if dim is None:
        return []
    if isinstance(dim, int):
        return [dim]
    return [int(d) for d in dim]


def _cast(x, dtype, op):
    if dtype is None:
        return x
    dtype = _C._parse_dtype(dtype)
    if x.dtype == _C.dtype.float64 and dtype == _C.dtype.float32:
        raise ValueError(f"[{op}] the dtype of the input ({x.dtype}) should be convertible without narrowing to the "
                         f"specified dtype ({dtype})")
    return x.to(dtype)


def _ord_value(ord, op):  # noqa: A002
    if isinstance(ord, str):
        raise ValueError(f"[{op}] ord must be a number for a vector norm, got {ord!r}")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The ``ord``-norm of ``x`` over ``dim`` (all elements when None), as a vector.

    Args:
        x: a floating tensor.
        ord: 2 (default), 1, any real p, ``inf`` (max |x|), ``-inf`` (min |x|) or 0 (count of nonzeros).
        dim: an int, a tuple of ints, or None for all dims.
        keepdim: keep the reduced dims as size 1.
        dtype: convert ``x`` to this dtype first.
    """
    x = _cast(x, dtype, "vector_norm")
    return _C.vector_norm(x, _ord_value(ord, "vector_norm"), _dims(dim), builtins.bool(keepdim))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """A matrix norm over the two dims ``dim`` of ``A``: "fro", 1, -1, inf, -inf.

    The spectral norms (2, -2) and the nuclear norm ("nuc") need a singular value
    decomposition, which pydl does not have: they raise NotImplementedError.
    """
    A = _cast(A, dtype, "matrix_norm")
    dim = _dims(dim)
    if len(dim) != 2:
        raise ValueError(f"[matrix_norm] dim must be a 2-tuple, got {tuple(dim)}")
    if A.ndim < 2:
        raise ValueError(f"[matrix_norm] the input tensor A must have at least 2 dimensions, got shape {tuple(A.shape)}")
    r, c = (d % A.ndim for d in dim)
    if r == c:
        raise ValueError(f"[matrix_norm] dims must be different, got {tuple(dim)}")
    if ord == "fro":
        return _C.vector_norm(A, 2.0, [r, c], builtins.bool(keepdim))
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"[matrix_norm] ord={ord!r} needs singular values, which pydl does not compute; "
                                  "supported: 'fro', 1, -1, inf, -inf")
    if ord in (1, -1, math.inf, -math.inf):
        summed, over = (r, c) if abs(ord) == 1 else (c, r)  # 1: max column sum; inf: max row sum
        s = _C.sum(_C.abs(A), [summed], True, None)
        out = _C.amax(s, [over], True) if ord > 0 else _C.amin(s, [over], True)
        return out if keepdim else _C.squeeze(out, [r, c])
    raise ValueError(f"[matrix_norm] ord must be one of 'fro', 'nuc', 1, -1, 2, -2, inf, -inf; got {ord!r}")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """``torch.linalg.norm``: a vector norm over one dim (or all of them), a matrix norm over two.

    With ``ord=None`` the 2-norm of the flattened input (or of ``dim``; Frobenius over two
    dims). With ``ord`` given and ``dim=None``, ``A`` must be 1-D (vector norm) or 2-D (matrix norm).
    """
    dims = None if dim is None else _dims(dim)
    if ord is None:
        if dims is not None and len(dims) == 2:
            return matrix_norm(A, "fro", dims, keepdim, dtype=dtype)
        return vector_norm(A, 2, dims, keepdim, dtype=dtype)
    if dims is None:
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise ValueError(f"[linalg.norm] input must be 1-D or 2-D when ord is given and dim is None, got shape "
                         f"{tuple(A.shape)}")
    if len(dims) == 1:
        return vector_norm(A, ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(A, ord, dims, keepdim, dtype=dtype)
    raise ValueError(f"[linalg.norm] dim must be an int or a 2-tuple, got {tuple(dims)}")
