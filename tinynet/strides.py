"""The strides a tensor has in PyTorch's model, for ``stride()``, ``is_contiguous()`` and ``view``.

tinynet's arrays are NumPy's, and their memory order is an implementation detail (a
convolution's output, for one, is stored batch-innermost). What a program sees instead is
PyTorch's layout: a *view* op (transpose, permute, slicing, expand, diagonal, unfold, reshape
where it can) derives its strides from its input's, and any other op's result is contiguous.
(PyTorch's elementwise ops keep a transposed input's layout, ``(x.t() * 2).stride()`` is
``(1, 3)`` there; tinynet's results are contiguous.) So a view remembers how it was made,
``(input's record, input's shape, op class, op arguments)``, and its strides are worked out only
when asked: by the op's ``view_strides`` where it defines one, else by running the op's forward
on a *probe*, a one-byte array with the input's strides, whose result's strides are the answer
(view ops only move strides, so the probe's memory is never read).

>>> x = tn.zeros(2, 3)
>>> x.t().stride(), x.t().is_contiguous()
((1, 3), False)
"""

from __future__ import annotations

import math
from typing import Any

from tinynet import backend

Strides = tuple[int, ...]


def contiguous_strides(shape: tuple[int, ...]) -> Strides:
    """Row-major strides in elements: ``(3, 1)`` for shape ``(2, 3)``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def is_contiguous(shape: tuple[int, ...], strides: Strides) -> bool:
    """PyTorch's test: row-major strides, where dims of size 1 may have any stride (and an
    empty tensor is contiguous)."""
    if math.prod(shape) == 0:
        return True
    expected = 1
    for n, step in zip(reversed(shape), reversed(strides)):
        if n != 1:
            if step != expected:
                return False
            expected *= n
    return True


def view_strides(shape: tuple[int, ...], strides: Strides,
                 new_shape: tuple[int, ...]) -> Strides | None:
    """The strides of ``view(new_shape)`` of a tensor with ``shape`` and ``strides``, or None
    when no view can give them (a dim of the new shape would span two runs of the old memory):
    PyTorch's rule, which ``Tensor.view`` raises on and ``reshape`` answers with a copy."""
    if not shape:
        return (1,) * len(new_shape)
    if math.prod(shape) == 0:
        return strides if tuple(new_shape) == tuple(shape) else contiguous_strides(new_shape)
    new = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base, tensor_numel, view_numel = strides[-1], 1, 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        # the end of a run of dims that memory holds as one block: the new dims must tile it
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new[view_d] = view_numel * base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base, tensor_numel, view_numel = strides[d - 1], 1, 1
    return tuple(new) if view_d == -1 else None


def take_strides(target: Any, source: Any) -> None:
    """``target`` reports ``source``'s strides from now on: a ``detach()`` or ``.data`` of it,
    or a tensor that an in-place op (``t_``, ``unsqueeze_``, ``.data =``) made hold its array."""
    record = getattr(source, "_view_record", None)
    if record is not None:
        target._view_record = record
    else:
        make_contiguous(target)


def make_contiguous(t: Any) -> None:
    """``t`` reports row-major strides from now on (``resize_`` gave it new memory)."""
    if getattr(t, "_view_record", None) is not None:
        del t._view_record


def strides_of(t: Any) -> Strides:
    """``t``'s strides in elements, as PyTorch would report them."""
    record = getattr(t, "_view_record", None)
    shape = tuple(t.array.shape)
    return contiguous_strides(shape) if record is None else _resolve(record, shape)


def _resolve(record: tuple, shape: tuple[int, ...]) -> Strides:
    """The strides of the view ``record`` made, of ``shape``: its chain of views replayed from
    the contiguous tensor it starts at (a loop, so a chain thousands of views long is fine)."""
    chain = []  # (view op, its arguments, its input's shape, its output's shape), last first
    while record is not None:
        parent_record, parent_shape, op, params = record
        chain.append((op, params, parent_shape, shape))
        record, shape = parent_record, parent_shape
    strides = contiguous_strides(shape)
    for op, params, in_shape, out_shape in reversed(chain):
        rule = getattr(op, "view_strides", None)
        strides = rule(params, in_shape, strides, out_shape) if rule is not None else \
            probe_strides(op, params, in_shape, strides)
    return strides


def probe_strides(op: Any, params: dict[str, Any], shape: tuple[int, ...],
                  strides: Strides) -> Strides:
    """The strides of view op ``op``'s output (with arguments ``params``) for an input of
    ``shape`` and ``strides``: its forward run on a one-byte probe array with those strides."""
    np = backend.numpy
    probe = np.lib.stride_tricks.as_strided(np.zeros(1, dtype=np.uint8), shape, strides)
    fn = op.__new__(op)
    fn.__dict__ = dict(params)
    return tuple(int(s) for s in fn.forward(probe).strides)
