"""``tn.accelerator``, as ``torch.accelerator``: the GPU (through CuPy) when there is one.

>>> device = tn.accelerator.current_accelerator().type if tn.accelerator.is_available() else "cpu"
"""

from __future__ import annotations

from tinynet import backend
from tinynet.devices import CUDA, device


def is_available() -> bool:
    """True when CuPy sees a GPU."""
    return backend.cuda_is_available()


def current_accelerator(check_available: bool = False) -> device | None:
    """``tn.device('cuda')`` when CuPy is installed (and, with ``check_available``, sees a GPU);
    else None."""
    if backend.cupy is None or (check_available and not is_available()):
        return None
    return CUDA


def device_count() -> int:
    """How many GPUs CuPy sees (0 without one)."""
    return backend.cupy.cuda.runtime.getDeviceCount() if is_available() else 0
