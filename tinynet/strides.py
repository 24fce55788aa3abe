"""The strides a tensor has in PyTorch's model, for ``stride()``, ``is_contiguous()`` and ``view``.

tinynet's arrays are NumPy's, and their memory order is an implementation detail (a
convolution's output, for one, is stored batch-innermost). What a program sees instead is
PyTorch's layout:

* a *view* op (transpose, permute, slicing, expand, diagonal, unfold, reshape where it can)
  derives its strides from its input's;
* an *elementwise* op (``Op.preserves_layout``: arithmetic, activations, casts, comparisons,
  ``clone``, the ``*_like`` factories) lays its result out like its inputs, as PyTorch's
  TensorIterator does, so ``(x.t() * 2).stride()`` is ``(1, 3)``;
* any other result is contiguous, also that of a function PyTorch computes in one kernel and
  tinynet composes (``layer_norm``, ``pixel_shuffle``: ``contiguous_result``).

A strided tensor keeps a *record* of how it was made, ``(input's record, input's shape, op
class, op arguments)``, and its strides are worked out only when asked: by the op's
``view_strides`` where it defines one, else by running the op's forward on a *probe*, a one-byte
array with the input's strides, whose result's strides are the answer (view ops only move
strides, so the probe's memory is never read). A contiguous tensor's record is None.

>>> x = tn.zeros(2, 3)
>>> x.t().stride(), x.t().is_contiguous()
((1, 3), False)
"""

from __future__ import annotations

import functools
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
    target._view_record = source._view_record


def make_contiguous(t: Any) -> None:
    """``t`` reports row-major strides from now on (``resize_`` gave it new memory)."""
    t._view_record = None


def strides_of(t: Any) -> Strides:
    """``t``'s strides in elements, as PyTorch would report them."""
    record = t._view_record
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


# --------------------------------------------------------------------------- elementwise results
# An elementwise op (PyTorch's TensorIterator) lays its result out like its inputs: in the order
# of their strides, densely. Its record names its inputs' records; resolving a long chain of such
# results (x = x * 2 in a loop, x a transpose) recurses once per link, so past this many links
# the strides are worked out at once and kept.
_MAX_LAYOUT_LINKS = 32


class LayoutOf:
    """The record of an elementwise op's result: strides that follow its inputs'."""

    @staticmethod
    def view_strides(params, shape, strides, new_shape):
        operands = [contiguous_strides(s) if r is None else _resolve(r, s)
                    for r, s in params["inputs"]]
        return elementwise_strides([s for _, s in params["inputs"]], operands, new_shape)


class Fixed:
    """The record of a result whose strides were worked out when it was made."""

    @staticmethod
    def view_strides(params, shape, strides, new_shape):
        return params["strides"]


def layout_record(inputs: Any, shape: tuple[int, ...]) -> tuple:
    """The record an elementwise op's result of ``shape`` keeps when some of its ``inputs``
    has a record (``Op.apply`` and ``laid_out_like`` ask only then)."""
    pairs = tuple((t._view_record, tuple(t.array.shape)) for t in inputs)
    links = 1 + max(_links(record) for record, _ in pairs)
    record = (None, shape, LayoutOf, {"inputs": pairs, "links": links})
    if links > _MAX_LAYOUT_LINKS:
        record = (None, shape, Fixed, {"strides": _resolve(record, shape)})
    return record


def laid_out_like(result: Any, *inputs: Any) -> Any:
    """``result``, an elementwise result made outside ``Op.apply`` (a comparison, ``isnan``, a
    ``*_like`` factory), laid out as ``inputs`` lay it out; returns it."""
    if any(t._view_record is not None for t in inputs):
        result._view_record = layout_record(inputs, tuple(result.array.shape))
    return result


def contiguous_result(function: Any) -> Any:
    """Decorator for a function that PyTorch computes in one kernel of its own, whose result is
    contiguous, and tinynet composes of elementwise ops or views (``layer_norm``,
    ``pixel_shuffle``…): the tensors it returns report row-major strides."""

    @functools.wraps(function)
    def made_contiguous(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        for t in result if isinstance(result, tuple) else (result,):
            if hasattr(t, "_view_record"):
                make_contiguous(t)
        return result

    return made_contiguous


def _links(record: tuple | None) -> int:
    """How many elementwise results lie on ``record``'s chain of views, back to its root."""
    while record is not None and record[0] is not None:
        record = record[0]
    return 0 if record is None or record[2] is not LayoutOf else record[3]["links"]


def elementwise_strides(shapes: list[tuple[int, ...]], operands: list[Strides],
                        shape: tuple[int, ...]) -> Strides:
    """The dense strides PyTorch gives an elementwise result of ``shape`` whose inputs have
    ``shapes`` and strides ``operands``: its dims ordered as the inputs' strides order them, the
    first input that tells two dims apart deciding (broadcast dims tell nothing; of two dims
    with equal strides the smaller goes inside)."""
    ndim = len(shape)
    aligned = []
    for in_shape, strides in zip(shapes, operands):
        lead = ndim - len(in_shape)
        aligned.append([0] * lead + [0 if in_shape[d] == 1 and shape[lead + d] != 1 else strides[d]
                                     for d in range(len(in_shape))])

    def should_swap(dim0: int, dim1: int) -> int:
        for strides in aligned:
            s0, s1 = strides[dim0], strides[dim1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    perm = list(range(ndim - 1, -1, -1))  # innermost first
    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    strides, step = [0] * ndim, 1
    for d in perm:
        strides[d] = step
        step *= shape[d]
    return tuple(strides)
