"""Fast paths for the small arrays of a small model's step, each equal to a plain NumPy line.

A tiny MLP's arrays hold a few thousand numbers, so NumPy's cost per call, not the arithmetic,
sets the pace. One such cost is in the bias gradient ``g.sum(axis=0)`` of a (256, 10) batch:
NumPy reduces over the leading axis by adding rows of 10 numbers one after the other, a
loop per row, and takes five times as long as the one BLAS product ``ones @ g`` that adds the
same numbers. ``sum_leading`` takes that product where it is faster and stays deterministic.
"""

from __future__ import annotations

import math
from typing import Any

from tinynet import backend

# BLAS wins while rows are short; longer rows already run NumPy's inner loop at full speed.
_SHORT_ROW = 64
# OpenBLAS splits a product of this many numbers or more over threads, which would make the sum's
# order, and its last bits, depend on the thread count.
_SINGLE_THREAD_SIZE = 9216
_ones: dict[tuple[int, str], Any] = {}  # (rows, dtype char) -> a vector of ones


def sum_leading(a: Any, lead: int) -> Any:
    """``a.sum(axis=tuple(range(lead)))``: the sum over the first ``lead`` axes of an array.

    >>> sum_leading(tn.ones(256, 10).numpy(), 1)   # the bias gradient of a batch of 256
    array([256., 256., 256., 256., 256., 256., 256., 256., 256., 256.], dtype=float32)
    """
    rows = math.prod(a.shape[:lead])
    if (0 < a.size < _SINGLE_THREAD_SIZE and a.size <= rows * _SHORT_ROW and lead
            and a.dtype.char in "fd" and type(a) is backend.numpy.ndarray  # a GPU's sum is as fast
            and a.flags.c_contiguous):
        key = (rows, a.dtype.char)
        ones = _ones.get(key)
        if ones is None:
            if len(_ones) > 32:  # many batch sizes: start again rather than grow
                _ones.clear()
            ones = _ones[key] = backend.numpy.ones(rows, dtype=a.dtype)
        return (ones @ a.reshape(rows, -1)).reshape(a.shape[lead:])
    return a.sum(axis=tuple(range(lead)))
