"""Variable-length sequences: pad_sequence, pack_padded_sequence, pad_packed_sequence.

A PackedSequence here keeps the padded time-major tensor and the lengths; the recurrent
op skips padded steps (their state is carried, their output is 0), so padding never
leaks into the final states. `.data` gives PyTorch's packed layout when asked for.
"""
from ... import _C
from ..._C import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence"]


class PackedSequence:
    """Sequences of different lengths, as returned by pack_padded_sequence."""

    def __init__(self, padded, lengths, sorted_indices=None, unsorted_indices=None):
        self.padded = padded  # (T, B, *) time-major
        self.lengths = lengths  # int64 (B,)
        self.sorted_indices = sorted_indices
        self.unsorted_indices = unsorted_indices

    @classmethod
    def _from_padded(cls, padded, lengths, sorted_indices=None, unsorted_indices=None):
        return cls(padded, lengths, sorted_indices, unsorted_indices)

    @property
    def batch_sizes(self):
        """Number of sequences still running at each time step (int64, (T,))."""
        T = self.padded.shape[0]
        steps = _C.arange(0, T, 1, _C.dtype.int64)
        return _C.sum(_C.lt(_C.unsqueeze(steps, 1), _C.unsqueeze(self.lengths, 0)), [1], False, None)

    @property
    def data(self):
        """PyTorch's packed layout: the valid steps, time-major, longest sequences first."""
        order = _C.sort(self.lengths, 0, True)[1]  # stable: ties keep batch order
        padded = _C.index_select(self.padded, 1, order)  # (T, B, *) with sequences by length
        steps = _C.arange(0, padded.shape[0], 1, _C.dtype.int64)
        valid = _C.lt(_C.unsqueeze(steps, 1), _C.unsqueeze(_C.index_select(self.lengths, 0, order), 0))
        return padded[valid]  # row-major over (t, b): exactly the packed order

    def to(self, *args, **kwargs):
        return PackedSequence(self.padded.to(*args, **kwargs), self.lengths, self.sorted_indices, self.unsorted_indices)

    def __iter__(self):
        return iter((self.data, self.batch_sizes, self.sorted_indices, self.unsorted_indices))


def _lengths_tensor(lengths, name):
    if isinstance(lengths, Tensor):
        lengths = lengths.tolist()
    lengths = [int(v) for v in lengths]
    return lengths, _C._to_tensor(lengths, _C.dtype.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) (or (B, T, *) if batch_first) with the given lengths."""
    lens, lengths_t = _lengths_tensor(lengths, "pack_padded_sequence")
    x = input.transpose(0, 1) if batch_first else input
    if len(lens) != x.shape[1]:
        raise ValueError(f"[pack_padded_sequence] expected {x.shape[1]} lengths (one per sequence), got {len(lens)}")
    if any(v <= 0 or v > x.shape[0] for v in lens):
        raise ValueError(f"[pack_padded_sequence] lengths must be in [1, {x.shape[0]}], got {lens}")
    if enforce_sorted and any(a < b for a, b in zip(lens, lens[1:])):
        raise RuntimeError("[pack_padded_sequence] `lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to pack_padded_sequence "
                           "and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.")
    return PackedSequence(x, lengths_t)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: returns (padded, lengths)."""
    x = sequence.padded
    T = x.shape[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"[pad_packed_sequence] total_length ({total_length}) must be at least the longest "
                             f"sequence length ({T})")
        if total_length > T:
            pad = _C.zeros([total_length - T] + list(x.shape[1:]), x.dtype)
            x = _C.cat([x, pad], 0)
    if padding_value != 0.0:
        steps = _C.arange(0, x.shape[0], 1, _C.dtype.int64)
        valid = _C.lt(_C.unsqueeze(steps, 1), _C.unsqueeze(sequence.lengths, 0))  # (T, B)
        while valid.ndim < x.ndim:
            valid = _C.unsqueeze(valid, -1)
        x = _C.where(valid, x, _C.full([], float(padding_value), x.dtype))
    return (x.transpose(0, 1) if batch_first else x), sequence.lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks variable-length tensors (L_i, *) into (T, B, *) (or (B, T, *)), padding with padding_value."""
    if not sequences:
        raise ValueError("[pad_sequence] received an empty list of sequences")
    T = max(s.shape[0] for s in sequences)
    trailing = list(sequences[0].shape[1:])
    padded = []
    for s in sequences:  # one pad per sequence (a collate step), not per element
        if list(s.shape[1:]) != trailing:
            raise ValueError(f"[pad_sequence] sequences must agree on trailing dims: {trailing} vs {list(s.shape[1:])}")
        extra = T - s.shape[0]
        if extra:
            fill = _C.full([extra] + trailing, float(padding_value), s.dtype)
            s = _C.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    return _C.stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of variable-length tensors."""
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences], enforce_sorted=enforce_sorted)
