"""Small questions to a tensor, as PyTorch answers them: ``is_complex``, ``is_signed``,
``is_nonzero``, ``is_same_size``, ``is_inference``; and the legacy constructor ``Tensor.new``.
"""

from __future__ import annotations

from typing import Any

from tinynet import backend
from tinynet.ops import shape
from tinynet.tensor import Size, Tensor, legacy_array


def _check_tensor(op: str, name: str, value: Any) -> None:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def is_complex(input: Tensor) -> bool:
    """True for a complex dtype (complex64, complex128)."""
    _check_tensor("is_complex", "input", input)
    return input.dtype.kind == "c"


def is_signed(input: Tensor) -> bool:
    """True for a dtype that holds negative numbers: floats, complex and signed integers (not
    bool, nor uint8)."""
    _check_tensor("is_signed", "input", input)
    return input.dtype.kind in "ifc"


def is_nonzero(input: Tensor) -> bool:
    """Whether the one element of ``input`` is not zero (NaN is not zero); any other number of
    elements is ambiguous, PyTorch's RuntimeError."""
    _check_tensor("is_nonzero", "input", input)
    if input.numel() == 0:
        raise RuntimeError("is_nonzero: Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with more than one value is "
                           f"ambiguous (shape {tuple(input.shape)})")
    return bool(input.item())


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether the two tensors have the same shape."""
    _check_tensor("is_same_size", "input", input)
    _check_tensor("is_same_size", "other", other)
    return tuple(input.shape) == tuple(other.shape)


def is_inference(input: Tensor) -> bool:
    """False: tinynet's ``inference_mode`` is ``no_grad`` and makes no inference tensors, so no
    tensor is one."""
    _check_tensor("is_inference", "input", input)
    return False


def new(self: Tensor, *args: Any, device: Any = None) -> Tensor:
    """PyTorch's legacy ``x.new(...)``: a tensor of ``x``'s dtype (on ``x``'s device, or
    ``device``) from sizes (``x.new(2, 3)`` or a ``Size``: **zeros**, where PyTorch leaves the
    memory uninitialized), from a sequence of numbers (``x.new([1, 2])``, converted to ``x``'s
    dtype) or empty (``x.new()``). Given a tensor of ``x``'s dtype it returns an alias of it (the
    same memory, a view); of another dtype, PyTorch's TypeError."""
    if len(args) == 1 and isinstance(args[0], Tensor):
        source = args[0]
        if source.dtype != self.dtype:
            raise TypeError(f"new(): expected a tensor of dtype {self.dtype}, got {source.dtype}; "
                            "use x.new_tensor(data) or data.to(x.dtype)")
        alias = shape.getitem(source, ...)
        return alias if device is None else alias.to(device)
    data, sizes = (args[0], args[1:]) if args else (None, ())
    if backend.is_array(data) and not sizes:  # an array (NumPy's, CuPy's): its numbers
        data = backend.to_numpy(data).tolist()
    dims = (*data, *sizes) if isinstance(data, Size) else (data, *sizes)
    if any(isinstance(n, int) and not isinstance(n, bool) and n < 0 for n in dims):
        raise RuntimeError(f"new(): Trying to create tensor with negative dimension: {list(dims)}")
    if isinstance(data, (bool, float)):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    array = legacy_array(data, sizes, self.dtype, "new()")
    out = Tensor(array)
    target = self.device if device is None else device
    return out if out.device == target else out.to(target)
