"""Variable-length sequences for the recurrent layers (``torch.nn.utils.rnn``): padded into one
batch (``pad_sequence``), or packed (``pack_padded_sequence``, ``pack_sequence``) so that an
``RNN``, ``LSTM`` or ``GRU`` runs each sequence for its own length only and returns each one's
state at its own last step.

A ``PackedSequence`` holds the steps time-major, longest sequence first: the ``batch_sizes[0]``
first steps of every sequence, then the ``batch_sizes[1]`` second steps of those that have one,
and so on. Packing and unpacking are tinynet ops (one gather each), so gradients flow through.

>>> from tinynet.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
>>> padded = pad_sequence([tn.ones(3, 2), tn.ones(1, 2)], batch_first=True)
>>> padded.shape
tinynet.Size([2, 3, 2])
>>> packed = pack_padded_sequence(padded, [3, 1], batch_first=True)
>>> packed.batch_sizes
tensor([2, 1, 1])
>>> output, h_n = nn.GRU(2, 4, batch_first=True)(packed)
>>> pad_packed_sequence(output, batch_first=True)[0].shape
tinynet.Size([2, 3, 4])
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy

from tinynet import backend
from tinynet.factories import full
from tinynet.ops import cat, pad, stack
from tinynet.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]


def _indices(values: Any, device: str) -> Tensor:
    return Tensor(backend.to_device(numpy.asarray(values, dtype=numpy.int64), device))


class PackedSequence(namedtuple("PackedSequence_",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Sequences of different lengths packed time-major (see the module docstring): ``data``
    (total steps, *), ``batch_sizes`` (a CPU int64 tensor: how many sequences have step t),
    and, when the batch was sorted by length while packing, ``sorted_indices`` (the original
    index of each packed sequence) and ``unsorted_indices`` (its inverse). Make one with
    ``pack_padded_sequence`` or ``pack_sequence`` rather than by hand."""

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            inverse = numpy.empty(len(sorted_indices), dtype=numpy.int64)
            inverse[backend.to_numpy(sorted_indices.array)] = numpy.arange(len(sorted_indices))
            unsorted_indices = _indices(inverse, sorted_indices.device)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data.to(...)`` (a device, a dtype or both); the indices follow a move to another
        device, ``batch_sizes`` stays on the CPU, as in PyTorch."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (None if t is None else t.to(data.device)
                                            for t in (self.sorted_indices, self.unsorted_indices))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cpu(self) -> PackedSequence:
        """The packed sequences on the CPU."""
        return self.to("cpu")

    def cuda(self) -> PackedSequence:
        """The packed sequences on the GPU."""
        return self.to("cuda")

    def float(self) -> PackedSequence:
        """``data`` as float32."""
        return self.to(self.data.float().dtype)

    def double(self) -> PackedSequence:
        """``data`` as float64."""
        return self.to(self.data.double().dtype)

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` is on the GPU."""
        return self.data.is_cuda


def pad_sequence(sequences: Tensor | Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences of shape (L_i, *) padded with ``padding_value`` to the longest L:
    (L, B, *), or (B, L, *) with ``batch_first``; ``padding_side`` ``"left"`` pads before."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    rest = tuple(sequences[0].shape[1:])
    for i, sequence in enumerate(sequences):
        if sequence.ndim == 0 or tuple(sequence.shape[1:]) != rest:
            raise RuntimeError(f"pad_sequence: sequence {i} has shape {tuple(sequence.shape)}, "
                               f"expected (length, *{rest}) as the first")
    longest = max(sequence.shape[0] for sequence in sequences)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        widths = (0, 0) * len(rest) + ((missing, 0) if padding_side == "left" else (0, missing))
        padded.append(pad(sequence, widths, value=padding_value) if missing else sequence)
    return stack(padded, 0 if batch_first else 1)


def _lengths(lengths: Any) -> numpy.ndarray:
    """The lengths as a 1-D int64 NumPy array (from a list or a tensor, as PyTorch takes them)."""
    array = backend.to_numpy(lengths.array) if isinstance(lengths, Tensor) else \
        numpy.asarray(lengths)
    if array.ndim != 1 or array.dtype.kind not in "iuf":
        raise RuntimeError(f"pack_padded_sequence: 'lengths' argument should be a 1D list or "
                           f"tensor of ints, but got a {array.ndim}D {array.dtype} one")
    return array.astype(numpy.int64)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *), or (B, T, *) with ``batch_first``, whose sequence b has
    ``lengths[b]`` steps. With ``enforce_sorted`` the lengths must not increase along the batch;
    with ``enforce_sorted=False`` any order is packed longest first, and the ``PackedSequence``
    remembers the order to restore it."""
    lengths = _lengths(lengths)
    if enforce_sorted:
        if numpy.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order, sorted_indices = numpy.arange(len(lengths)), None
    else:
        order = numpy.argsort(-lengths, kind="stable")
        sorted_indices = _indices(order, input.device)
    sequence = input.transpose(0, 1) if batch_first else input
    if sequence.ndim < 2 or len(lengths) != sequence.shape[1]:
        raise RuntimeError(f"pack_padded_sequence: expected one length per sequence, got "
                           f"{len(lengths)} lengths for an input of shape {tuple(input.shape)} "
                           f"(batch_first={batch_first})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    steps, batch = sequence.shape[:2]
    if lengths.size and lengths.max() > steps:
        raise ValueError(f"pack_padded_sequence: a length of {lengths.max()} is longer than the "
                         f"{steps} steps of the input of shape {tuple(input.shape)} "
                         f"(batch_first={batch_first})")
    ordered = lengths[order]
    batch_sizes = [int((ordered > t).sum()) for t in range(int(ordered.max(initial=0)))]
    rows = numpy.concatenate([t * batch + order[:size] for t, size in enumerate(batch_sizes)]
                             or [numpy.zeros(0, numpy.int64)])
    data = sequence.reshape(steps * batch, *sequence.shape[2:])[_indices(rows, input.device)]
    return PackedSequence(data, _indices(batch_sizes, "cpu"), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None
                        ) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: (the padded batch (T, B, *) or, with ``batch_first``,
    (B, T, *), in the original batch order; the lengths, an int64 tensor). ``total_length``
    pads to that many steps instead of the longest sequence's."""
    data, batch_sizes = sequence.data, backend.to_numpy(sequence.batch_sizes.array)
    longest = len(batch_sizes)
    if total_length is not None:
        if total_length < longest:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {longest}")
        longest = total_length
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    sorted_lengths = numpy.array([(batch_sizes > b).sum() for b in range(batch)], numpy.int64)
    position = numpy.arange(batch) if sequence.unsorted_indices is None else \
        backend.to_numpy(sequence.unsorted_indices.array)
    starts = numpy.concatenate([[0], numpy.cumsum(batch_sizes)[:-1]]).astype(numpy.int64)
    padding_row = len(data)
    rows = numpy.full((longest, batch), padding_row, dtype=numpy.int64)
    for t in range(len(batch_sizes)):
        present = t < sorted_lengths[position]
        rows[t, present] = starts[t] + position[present]
    with_padding = cat([data, full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                                   device=data.device)])
    padded = with_padding[_indices(rows.reshape(-1), data.device)].reshape(
        longest, batch, *data.shape[1:])
    lengths = Tensor(sorted_lengths[position])
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shape (L_i, *): ``pack_padded_sequence`` of their
    ``pad_sequence``."""
    lengths = [sequence.shape[0] for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences (L_i, *) a ``PackedSequence`` holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :length] for i, length in enumerate(lengths.tolist())]


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False
                   ) -> list[Tensor]:
    """The list of sequences (L_i, *) of a padded batch (T, B, *) (or (B, T, *) with
    ``batch_first``) whose sequence b has ``lengths[b]`` steps."""
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [padded[i, :int(length)] for i, length in enumerate(_lengths(lengths))]
