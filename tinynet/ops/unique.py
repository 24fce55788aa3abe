"""``unique``: the distinct elements of a tensor, or with ``dim`` its distinct slices along a dim.

One way for both: the slices along ``dim`` (with ``dim=None``, the single elements) are rows
of a matrix, sorted lexicographically; a row starts a new group where it differs from the one
before. ``!=`` is what compares, so NaN never equals anything and every NaN (or row holding a
NaN) stays apart, as in PyTorch (NumPy's ``unique`` merges NaNs). Not differentiable, as in
PyTorch.
"""

from __future__ import annotations

from typing import Any

from tinynet import backend
from tinynet.ops.shape import _normalize_dim
from tinynet.tensor import Tensor


def _unique_rows(rows: Any) -> tuple[Any, Any, Any]:
    """The distinct rows of the 2-D ``rows`` in lexicographic order, each row's group (inverse)
    and each group's count."""
    xp = backend.get_array_module(rows)
    n, width = rows.shape
    if width == 1:
        order = xp.argsort(rows[:, 0], kind="stable")
    else:  # lexsort's last key is the primary one: the first column
        order = xp.lexsort(rows.T[::-1])
    ordered = rows[order]
    starts = xp.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = xp.cumsum(starts) - 1
    inverse = xp.empty(n, dtype="int64")
    inverse[order] = group
    first = xp.flatnonzero(starts)
    counts = xp.diff(xp.concatenate([first, xp.asarray([n], dtype=first.dtype)]))
    return ordered[starts], inverse, counts.astype("int64")


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Tensor | tuple:
    """The distinct elements in ascending order (a 1-D tensor), or with ``dim`` the distinct
    slices along ``dim`` in lexicographic order; optionally (``return_inverse``) where each
    element or slice of the input went, and (``return_counts``) how often each occurs. NaNs
    are all distinct, as in PyTorch. The output is sorted whatever ``sorted`` says (PyTorch
    leaves the order unspecified then). Not differentiable, as in PyTorch."""
    xp = input.xp
    array = input.array
    if dim is None:
        values, inverse, counts = _unique_rows(array.reshape(-1, 1))
        values, inverse = values.reshape(-1), inverse.reshape(input.shape)
    else:
        if input.ndim == 0:
            raise IndexError(f"unique: dimension specified as {dim} but tensor has no dimensions")
        dim = _normalize_dim(dim, input.ndim, "unique")
        moved = xp.moveaxis(array, dim, 0)
        rest = moved.shape[1:]
        if moved.shape[0] == 0:
            values, inverse = moved, xp.zeros(0, dtype="int64")
            counts = xp.zeros(0, dtype="int64")
        else:
            if 0 in rest:
                raise RuntimeError("unique: there are 0 sized dimensions, and they aren't "
                                   f"selected (shape {tuple(input.shape)}, dim {dim}), so unique "
                                   "cannot be applied")
            values, inverse, counts = _unique_rows(moved.reshape(moved.shape[0], -1))
            values = values.reshape((-1,) + rest)
        values = xp.moveaxis(values, 0, dim)
    result = [Tensor(xp.ascontiguousarray(values))]
    if return_inverse:
        result.append(Tensor(inverse))
    if return_counts:
        result.append(Tensor(counts))
    return result[0] if len(result) == 1 else tuple(result)
