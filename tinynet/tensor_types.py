"""PyTorch's legacy typed constructors: ``tn.FloatTensor``, ``tn.LongTensor``… and their
``tn.cuda.`` twins, as older tutorials write them.

``tn.LongTensor([1, 2])`` is ``tn.tensor([1, 2], dtype=tn.long)``; ``tn.FloatTensor(2, 3)`` a
(2, 3) float32 tensor (of zeros, where PyTorch leaves the memory unset); ``tn.FloatTensor()`` an
empty one. ``isinstance(x, tn.FloatTensor)`` asks for float32 on the CPU, and
``x.type(tn.DoubleTensor)`` converts, as in PyTorch.

>>> tn.LongTensor([3, 1]).dtype
dtype('int64')
>>> isinstance(tn.zeros(2), tn.FloatTensor)
True
"""

from __future__ import annotations

from typing import Any

import numpy

from tinynet import backend
from tinynet.dtypes import TENSOR_TYPE_NAMES
from tinynet.tensor import Tensor, legacy_array


class TensorType(type):
    """The class of ``tn.FloatTensor`` and its kind: calling one makes a Tensor of its dtype on
    its device; ``isinstance`` asks for that dtype and device."""

    dtype: numpy.dtype
    device: str

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[override]
        if device is not None and str(device).split(":")[0] != cls.device:
            raise RuntimeError(f"{cls.__qualname__}: legacy constructor expects device type "
                               f"{cls.device} but got {device}")
        data = args[0] if len(args) == 1 else None
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype or data.device.type != cls.device:
                raise TypeError(f"{cls.__qualname__}: expected a {cls.device} tensor of dtype "
                                f"{cls.dtype}, got {data.device.type} {data.dtype}; convert it "
                                f"with .to() or .type({cls.__qualname__})")
            return data.detach()  # PyTorch's alias of the same memory
        if backend.is_array(data):
            array = data.astype(cls.dtype, copy=False)
        else:
            array = legacy_array(args[0] if args else None, args[1:], cls.dtype, cls.__qualname__)
        return Tensor(array).to(cls.device)  # a CuPy array into a CPU type moves too

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == cls.device

    def __repr__(cls) -> str:
        return f"<class 'tinynet.{cls.__qualname__}'>"


def _types(device: str) -> dict[str, TensorType]:
    prefix = "cuda." if device == "cuda" else ""
    return {name: TensorType(name, (), {"dtype": dtype, "device": device,
                                        "__qualname__": prefix + name,
                                        "__doc__": f"{dtype} tensors on the {device.upper()}"})
            for dtype, name in TENSOR_TYPE_NAMES.items()
            if dtype.kind != "c"}  # PyTorch names complex types in .type() only


CPU_TYPES, CUDA_TYPES = _types("cpu"), _types("cuda")
globals().update(CPU_TYPES)
__all__ = ["TensorType", *CPU_TYPES]
