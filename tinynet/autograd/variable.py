"""``Variable``: PyTorch's deprecated name from before tensors carried autograd themselves."""

from __future__ import annotations

import warnings
from typing import Any

from tinynet.tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """Deprecated: tensors are variables. ``Variable(t, requires_grad=True)`` is
    ``t.detach().requires_grad_(True)`` (a new tensor on the same memory), and every Tensor is
    an instance of ``Variable``, as in PyTorch.
    """

    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        return data.detach().requires_grad_(requires_grad)
