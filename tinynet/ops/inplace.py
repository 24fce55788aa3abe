"""In-place ops (``add_``, ``t[i] = v``, ``w -= lr * w.grad``…) with PyTorch's rules.

An in-place op is its out-of-place op plus a write into the tensor's own memory, so that views
and ``.data`` see the change, plus a bump of the tensor's version counter. The bump is how
autograd notices a change to a value that some backward still needs (see ``Op``).

When the graph is recorded (grad mode, and the tensor or an argument requires grad), the
out-of-place op runs on a copy of the old value, and the tensor takes the result's ``grad_fn``:
the ops that consumed the old value keep pointing at the old ``grad_fn``. Two cases raise, as
in PyTorch: a leaf that requires grad (update it under ``tn.no_grad()``), and, a tinynet
limit, a view of a tensor that requires grad (change the tensor itself, or a ``clone()``).

>>> w = tn.ones(3, requires_grad=True)
>>> with tn.no_grad():
...     w -= 0.1 * tn.ones(3)          # w stays the same leaf, at version 1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy

from tinynet import autograd, backend
from tinynet.autograd.engine import bump_version
from tinynet.ops import arithmetic, elementwise, shape
from tinynet.tensor import Tensor, as_tensor

try:  # NumPy 2 moved it
    from numpy.lib.array_utils import byte_bounds as numpy_byte_bounds
except ImportError:  # pragma: no cover - NumPy 1.x
    numpy_byte_bounds = numpy.byte_bounds


def _write(op: str, tensor: Tensor, result: Tensor) -> None:
    if result.shape != tensor.shape:
        raise RuntimeError(f"{op}: output with shape {list(tensor.shape)} doesn't match the "
                           f"broadcast shape {list(result.shape)}")
    if not numpy.can_cast(result.dtype, tensor.dtype, "same_kind"):
        raise RuntimeError(f"{op}: result type {result.dtype} can't be cast to the desired output "
                           f"type {tensor.dtype}; convert the tensor first (for example .float())")
    try:
        tensor.array[...] = result.array
    except ValueError:  # NumPy's read-only broadcast views (expand)
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to "
                           f"tensor (shape {tuple(tensor.shape)}) refers to a single memory "
                           "location. Please clone() the tensor before performing the operation."
                           ) from None
    bump_version(tensor)


_ALL = object()  # inplace's default: the op writes all of the tensor


def _dense(a: numpy.ndarray) -> bool:
    """Whether ``a``'s elements fill one unbroken stretch of memory, in some order of its dims
    (PyTorch's "non-overlapping and dense")."""
    if any(step == 0 for n, step in zip(a.shape, a.strides) if n > 1):
        return False
    return sum((n - 1) * abs(step) for n, step in zip(a.shape, a.strides)) + a.itemsize == a.nbytes


def _check_overlap(op: str, written: Any, args: tuple) -> None:
    """PyTorch's rule: an input that shares some, but not all, of the memory an in-place op
    writes is refused (the result would depend on the order of the writes). Checked, as PyTorch
    checks, only where both are dense: a strided or broadcast input passes."""
    if type(written) is not numpy.ndarray:
        return
    memory = written if written.base is None else written.base
    sharing = [a.array for a in args if isinstance(a, Tensor) and type(a.array) is numpy.ndarray
               and (a.array if a.array.base is None else a.array.base) is memory]
    if not sharing or not _dense(written):  # usually no input shares the memory: nothing to do
        return
    low, high = numpy_byte_bounds(written)
    for source in sharing:
        if not _dense(source):
            continue
        same = (source.__array_interface__["data"][0] == written.__array_interface__["data"][0]
                and source.strides == written.strides and source.shape == written.shape)
        other_low, other_high = numpy_byte_bounds(source)
        if not same and other_low < high and low < other_high:
            raise RuntimeError(
                f"{op}: unsupported operation: some elements of the input tensor (shape "
                f"{tuple(source.shape)}) and the written-to tensor (shape {tuple(written.shape)}) "
                "refer to a single memory location. Please clone() the tensor before performing "
                "the operation.")


def inplace(op: str, tensor: Tensor, compute: Callable[..., Tensor], *args: Any,
            written: Any = _ALL) -> Tensor:
    """Make ``tensor`` hold ``compute(tensor, *args)``, in place; returns ``tensor``. ``written``
    is the part of ``tensor``'s array the op changes when that is not all of it (setitem), or
    None to skip the overlap check."""
    _check_overlap(op, tensor.array if written is _ALL else written, args)  # before any write
    recording = autograd.is_grad_enabled() and (
        tensor.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args))
    if not recording:
        with autograd.no_grad():
            _write(op, tensor, compute(tensor, *args))
        return tensor
    if tensor.requires_grad and tensor.grad_fn is None:
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                           f"operation (shape {tuple(tensor.shape)}). Update parameters inside "
                           "`with tn.no_grad():`, or change a clone() of the tensor.")
    if getattr(tensor, "_is_view", False):
        raise RuntimeError(f"{op}: a view of another tensor (shape {tuple(tensor.shape)}) is being "
                           "changed in place while the graph is recorded; tinynet records in-place "
                           "ops only on whole tensors. Change the tensor it views, or a clone().")
    old = Tensor(tensor.array.copy(), requires_grad=tensor.requires_grad, grad_fn=tensor.grad_fn)
    result = compute(old, *args)
    if result.dtype != tensor.dtype:
        result = elementwise.cast(result, tensor.dtype) if numpy.can_cast(
            result.dtype, tensor.dtype, "same_kind") else result  # _write names the bad cast
    _write(op, tensor, result)
    replaced = getattr(tensor, "_replaced_grad_fns", [])
    tensor._replaced_grad_fns = replaced + [(tensor._version_counter[1], tensor.grad_fn or tensor)]
    if tensor.grad_fn is not None:
        autograd.hooks.move_retained_grad(tensor.grad_fn, result.grad_fn)
    tensor.grad_fn = result.grad_fn
    tensor._requires_grad = result.requires_grad
    return tensor


def _replace(old: Tensor, new: Any) -> Tensor:
    """``new`` broadcast to ``old``'s shape and dtype, still a graph node of both (the old value
    gets a zero gradient, as PyTorch's fill_ and copy_ give it)."""
    new = as_tensor(new, old)
    if new.device != old.device:
        new = new.to(old.device)
    if new.dtype != old.dtype:
        new = new.to(old.dtype)
    return elementwise.where(True, new, old)


def add_(t: Tensor, other: Any, alpha: float = 1) -> Tensor:
    return inplace("add_", t, lambda a, b: a + (b if alpha == 1 else alpha * b), other)


def sub_(t: Tensor, other: Any, alpha: float = 1) -> Tensor:
    return inplace("sub_", t, lambda a, b: a - (b if alpha == 1 else alpha * b), other)


def mul_(t: Tensor, other: Any) -> Tensor:
    return inplace("mul_", t, arithmetic.mul, other)


def div_(t: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    return inplace("div_", t, lambda a, b: arithmetic.div(a, b, rounding_mode=rounding_mode), other)


def remainder_(t: Tensor, other: Any) -> Tensor:
    from tinynet.ops import rounding  # rounding builds on arithmetic, as this module does
    return inplace("remainder_", t, rounding.remainder, other)


def floor_divide_(t: Tensor, other: Any) -> Tensor:
    from tinynet.ops import rounding
    return inplace("floor_divide_", t, rounding.floor_divide, other)


def pow_(t: Tensor, exponent: Any) -> Tensor:
    return inplace("pow_", t, arithmetic.pow, exponent)


def matmul_(t: Tensor, other: Any) -> Tensor:
    return inplace("matmul_", t, arithmetic.matmul, other)


def clamp_(t: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    return inplace("clamp_", t, lambda a: elementwise.clamp(a, min, max))


def fill_(t: Tensor, value: Any) -> Tensor:
    return inplace("fill_", t, _replace, value)


def zero_(t: Tensor) -> Tensor:
    return inplace("zero_", t, _replace, 0)


def copy_(t: Tensor, src: Any) -> Tensor:
    """Copy ``src`` into ``t``, broadcasting it and converting its dtype and device."""
    return inplace("copy_", t, _replace, src)


def masked_fill_(t: Tensor, mask: Any, value: Any) -> Tensor:
    """Set ``t`` to ``value`` where the boolean ``mask`` (broadcast to ``t``) holds."""
    mask = mask.array if isinstance(mask, Tensor) else mask
    if backend.get_array_module(mask).asarray(mask).dtype != bool:
        raise RuntimeError(f"masked_fill_: expected a boolean mask, got dtype "
                           f"{backend.get_array_module(mask).asarray(mask).dtype}")

    def fill(a: Tensor, v: Any) -> Tensor:
        v = as_tensor(v, a)
        return elementwise.where(mask, v.to(a.dtype) if v.dtype != a.dtype else v, a)
    return inplace("masked_fill_", t, fill, value)


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value``: ints, slices, None, Ellipsis, integer and boolean index arrays."""
    inplace("setitem", t, lambda a, v: shape.index_put(a, index, v), value,
            written=_basic_part(t.array, index))


def _basic_part(array: Any, index: Any) -> Any:
    """What ``t[index] = v`` writes, as PyTorch checks it for overlap: the view ``array[index]``
    for a basic index (ints, slices, None, Ellipsis), all of ``array`` for index tensors (its
    index_put_), and None, which skips the check, for an index that index_put will refuse in
    its own words."""
    items = index if isinstance(index, tuple) else (index,)
    if not all(i is None or i is Ellipsis or isinstance(i, slice)
               or isinstance(i, int) and not isinstance(i, bool) for i in items):
        return array
    try:
        return array[index]
    except (IndexError, TypeError, ValueError):
        return None


def _draw(old: Tensor, values: numpy.ndarray) -> Tensor:
    # Drawn on the CPU generator and moved, so a seed gives the same values on any device.
    return _replace(old, Tensor(backend.to_device(values.astype(old.dtype), old.device)))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with draws from U(a, b), from tinynet's seeded generator."""
    return inplace("uniform_", t, lambda old: _draw(
        old, backend.generator("cpu").uniform(a, b, size=old.shape)))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with draws from N(mean, std²), from tinynet's seeded generator."""
    return inplace("normal_", t, lambda old: _draw(
        old, backend.generator("cpu").normal(mean, std, size=old.shape)))
