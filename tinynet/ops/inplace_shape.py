"""In-place changes to what a tensor *is* rather than to its values: ``unsqueeze_``,
``squeeze_``, ``t_``, ``transpose_`` (``swapaxes_``, ``swapdims_``), ``resize_``,
``resize_as_`` and ``detach_``.

How a tensor changes its shape in place (``restride``). The out-of-place view op (``unsqueeze``,
``transpose``…) runs on a stand-in for the tensor's current value, and the tensor takes the
view's array: the same memory seen in the new shape, so the tensor's views and base still see
its writes. The version goes up by one (PyTorch's bump) and, when the graph is recorded, the
tensor takes the view's ``grad_fn``, exactly as ``inplace.inplace`` hands a value-changing op's
node over (the node it replaced is logged for ops recorded before). Unlike a value change, a
shape change must not be seen by the ops recorded before it: they hold the tensor itself, and
some read its shape in their backward (``Add`` sums the gradient back to it). So the old array
is logged with the time of the change (``engine.record_reshape``), and the backward walk hands
such an op a tensor of that array in place of the changed one (``engine._backward_as_then``),
at no cost to the walk while no tensor has changed shape.

PyTorch's rules, all kept: under grad mode a leaf that requires grad, or a view of one, refuses;
a non-leaf (or a view of a non-leaf) is recorded; under ``no_grad`` anything goes, and its
``grad_fn`` stays (a backward through it later fails as PyTorch's does). ``retain_grad`` and
hooks stay with the value from before, as in PyTorch.

``resize_`` refuses any tensor that requires grad, in any grad mode, as PyTorch. It works on
the tensor's memory as PyTorch works on a storage: the new shape reads the memory from the
tensor's first element on, contiguously (so ``x.t().resize_(3, 2)`` is the memory in order,
not ``x.t()`` reshaped), and a shrink keeps the memory, so growing back finds the old values.
Growing past the end of the memory takes new memory, old values first; **the new elements are
zeros** (PyTorch leaves them uninitialized), and from then on the tensor no longer shares
memory with its former views and base (PyTorch's storage grows for all of them; NumPy's
memory can't). Where the memory is not a plain contiguous array (a CuPy or NumPy view of
something else), the elements in order are used instead.

``detach_`` makes a tensor a leaf that doesn't require grad, with no version bump (PyTorch's);
ops recorded before still send their gradients to the node it had, and one that saved the
tensor's value raises in backward, as in PyTorch.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from tinynet import autograd, backend, strides
from tinynet.autograd import engine
from tinynet.ops import shape as shape_ops
from tinynet.ops.matrix import t as matrix_t
from tinynet.tensor import Size, Tensor


def _refuses_leaf(op: str, t: Tensor) -> None:
    """PyTorch's rule under grad mode: no in-place op on a leaf that requires grad, nor on a view
    of one (a chain of view ops down to such a leaf)."""
    tensor = t
    while True:
        if tensor.grad_fn is None:
            if tensor.requires_grad:
                what = "a leaf Variable" if tensor is t else "a view of a leaf Variable"
                raise RuntimeError(
                    f"{op}: {what} that requires grad is being used in an in-place operation "
                    f"(shape {tuple(t.shape)}). Change it inside `with tn.no_grad():`, or change "
                    "a clone() of it.")
            return
        node = tensor.grad_fn
        inputs = node.__dict__.get("inputs")  # None once a backward has freed the node
        if not getattr(node, "is_view", False) or not inputs:
            return
        tensor = inputs[0]


def restride(op: str, t: Tensor, view: Callable[[Tensor], Tensor], node_name: str) -> Tensor:
    """Make ``t`` hold ``view(t)`` (a view op of ``t``: the same memory in another shape), in
    place; returns ``t``. ``node_name`` is PyTorch's name for the node this records. See the
    module docstring."""
    recording = autograd.is_grad_enabled() and t.requires_grad
    if recording:
        _refuses_leaf(op, t)
    before = Tensor(t.array, requires_grad=recording, grad_fn=t.grad_fn if recording else None)
    strides.take_strides(before, t)  # a view of a view: its strides follow t's
    if recording:
        result = view(before)
        if result.grad_fn is not None and result.grad_fn is not t.grad_fn:
            result.grad_fn.node_name = node_name
    else:
        with autograd.no_grad():
            result = view(before)
    array_before = t.array
    t.array = result.array
    strides.take_strides(t, result)
    engine.bump_version(t)
    if t.requires_grad:  # ops recorded before must still see the old shape
        engine.record_reshape(t, array_before)
    if recording:
        replaced = getattr(t, "_replaced_grad_fns", [])
        t._replaced_grad_fns = replaced + [(t._version_counter[1], t.grad_fn)]
        t.grad_fn = result.grad_fn
    return t


def unsqueeze_(t: Tensor, dim: int) -> Tensor:
    """In place: ``t`` becomes ``t.unsqueeze(dim)`` (a size-1 dim inserted at ``dim``)."""
    dim = _int_arg("unsqueeze_", "dim", dim)
    return restride("unsqueeze_", t, lambda a: shape_ops.unsqueeze(a, dim), "UnsqueezeBackward1")


def squeeze_(t: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """In place: ``t`` becomes ``t.squeeze(dim)``: every size-1 dim removed, or those of ``dim``
    (an int, or a tuple or list of ints) that have size 1. The version goes up even when no dim
    is removed, as in PyTorch."""
    if dim is None:
        name = "SqueezeBackward3"
    elif isinstance(dim, (tuple, list, Size)):
        dims = [shape_ops._normalize_dim(_int_arg("squeeze_", "dim", d), t.ndim, "squeeze_")
                for d in dim]
        for d in dims:
            if dims.count(d) > 1:
                raise RuntimeError(f"squeeze_: dim {d} appears multiple times in the list of dims "
                                   f"{tuple(dim)}")
        dim, name = tuple(dims), "SqueezeBackward5"
    else:
        dim, name = _int_arg("squeeze_", "dim", dim), "SqueezeBackward4"
    return restride("squeeze_", t, lambda a: shape_ops.squeeze(a, dim), name)


def t_(t: Tensor) -> Tensor:
    """In place: ``t`` becomes ``t.t()``, its transpose (0-d and 1-D tensors keep their shape,
    and still count a version, as in PyTorch); more than 2 dims is an error."""
    if t.ndim > 2:
        raise RuntimeError(f"t_: expects a tensor with <= 2 dimensions, but self is {t.ndim}D "
                           f"(shape {tuple(t.shape)}); use transpose_(dim0, dim1)")
    return restride("t_", t, lambda a: matrix_t(a) if a.ndim == 2 else shape_ops.reshape(a, a.shape),
                    "TBackward1")


def transpose_(t: Tensor, dim0: int, dim1: int) -> Tensor:
    """In place: ``t`` becomes ``t.transpose(dim0, dim1)`` (``swapaxes_`` and ``swapdims_`` are
    the same)."""
    dim0, dim1 = _int_arg("transpose_", "dim0", dim0), _int_arg("transpose_", "dim1", dim1)
    if t.ndim == 0:  # dims 0 and -1 only, and nothing to swap
        for d in (dim0, dim1):
            shape_ops._normalize_dim(d, 0, "transpose_")
        return restride("transpose_", t, lambda a: shape_ops.reshape(a, ()), "TransposeBackward1")
    return restride("transpose_", t, lambda a: shape_ops.transpose(a, dim0, dim1),
                    "TransposeBackward1")


def _int_arg(op: str, name: str, value: Any) -> int:
    """``value`` as an int (a NumPy integer too); a float or a bool is PyTorch's TypeError."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")
    return operator.index(value)


def _sizes(op: str, sizes: tuple) -> tuple[int, ...]:
    """``resize_(2, 3)`` and ``resize_((2, 3))`` (a tuple, list or Size) as a shape."""
    if not sizes:
        raise TypeError(f"{op}() missing 1 required positional arguments: \"size\"")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Size)):
        sizes = tuple(sizes[0])
    shape = tuple(_int_arg(op, "size", n) for n in sizes)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{op}: sizes must be non-negative, got {shape}")
    return shape


def _memory(array: Any) -> tuple[Any, int] | None:
    """(the contiguous array that owns ``array``'s memory, raveled; the index of ``array``'s
    first element in it), or None where there is no such array (then ``resize_`` goes by the
    elements in order)."""
    root = array
    while isinstance(root.base, backend.array_types):
        root = root.base
    first, origin = _address(array), _address(root)
    if root.dtype != array.dtype or not root.flags.c_contiguous or None in (first, origin):
        return None
    start = first - origin
    if start < 0 or start % array.itemsize:
        return None
    return root.reshape(-1), start // array.itemsize


def _address(array: Any) -> int | None:
    """The address of ``array``'s first element (host or device memory), or None where the
    array module doesn't tell."""
    pointer = getattr(getattr(array, "data", None), "ptr", None)  # CuPy
    if pointer is not None:
        return pointer
    interface = getattr(array, "__array_interface__", None)  # NumPy
    return None if interface is None else interface["data"][0]


def resize_(t: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """In place: ``t`` takes the shape ``sizes`` (ints, or one tuple), whatever its number of
    elements, reading its memory contiguously from its first element (see the module docstring:
    shrinking keeps the memory, growing fills **zeros** where PyTorch leaves memory
    uninitialized). The same shape changes nothing (no version bump, as PyTorch); a tensor that
    requires grad can't be resized. ``memory_format`` is accepted and ignored (tinynet's
    tensors are contiguous)."""
    shape = _sizes("resize_", sizes)
    if t.requires_grad:
        raise RuntimeError(f"resize_: cannot resize variables that require grad (shape "
                           f"{tuple(t.shape)}); resize a detach()ed tensor instead")
    if shape == tuple(t.shape):
        return t
    count = Size(shape).numel()
    array, xp = t.array, t.xp
    memory = _memory(array)
    if memory is not None:
        flat, start = memory
        if start + count > flat.size:  # past the end: new memory, the old first, then zeros
            grown = xp.zeros(start + count, dtype=array.dtype)
            grown[:flat.size] = flat
            flat = grown
        new = flat[start:start + count].reshape(shape)
    else:
        new = xp.zeros(count, dtype=array.dtype)
        kept = min(count, array.size)
        new[:kept] = array.reshape(-1)[:kept]
        new = new.reshape(shape)
    t.array = new
    strides.make_contiguous(t)  # as PyTorch's
    engine.bump_version(t)
    return t


def resize_as_(t: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    """In place: ``t.resize_(the_template.shape)`` (see ``resize_``)."""
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not "
                        f"{type(the_template).__name__}")
    return resize_(t, tuple(the_template.shape), memory_format=memory_format)


def detach_(t: Tensor) -> Tensor:
    """In place: ``t`` becomes a leaf that doesn't require grad (``t.detach()`` without a new
    tensor); returns ``t``. Views can't be detached in place, as in PyTorch: use ``detach()``."""
    if getattr(t, "_is_view", False):
        raise RuntimeError(f"detach_: can't detach views in-place (shape {tuple(t.shape)}). Use "
                           "detach() instead.")
    if t.grad_fn is not None:
        # No version bump (PyTorch's), but the in-place clock marks the change, so that ops
        # recorded before send their gradients to the node ``t`` had (``engine._producer``) and
        # ops that saved ``t`` refuse to run on it.
        time = engine.tick()
        t._version_counter[1] = time
        t._replaced_grad_fns = getattr(t, "_replaced_grad_fns", []) + [(time, t.grad_fn)]
        t.grad_fn = None
    t._requires_grad = False
    return t
