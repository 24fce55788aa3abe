"""``pad_sequence``: variable-length sequences as one padded batch for the recurrent layers
(``torch.nn.utils.rnn``; tinynet has no packed sequences).

>>> from tinynet.nn.utils.rnn import pad_sequence
>>> pad_sequence([tn.ones(3, 2), tn.ones(1, 2)], batch_first=True).shape
tinynet.Size([2, 3, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

from tinynet.ops import pad, stack
from tinynet.tensor import Tensor

__all__ = ["pad_sequence"]


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
