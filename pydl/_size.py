"""pydl.Size: the type of ``t.shape`` and ``t.size()``, a tuple subclass like ``torch.Size``."""
import operator


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``pydl.Size([64, 1, 28, 28])``.

    It compares, hashes, unpacks and indexes like the tuple it is; slicing and ``+`` give a
    Size again, and ``numel()`` is the number of elements of a tensor of this shape.
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        try:
            return super().__new__(cls, (operator.index(s) for s in sizes))
        except TypeError:
            raise TypeError(f"[Size] expected a sequence of integers, got {sizes!r}") from None

    def __repr__(self):
        return f"pydl.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))

    def numel(self):
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        n = 1
        for s in self:
            n *= s
        return n
