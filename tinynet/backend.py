"""The one place that chooses between NumPy (CPU) and CuPy (CUDA).

Every op receives raw arrays and asks this module for their array module (``xp``), so the
same op code runs on either device. Nothing else in tinynet imports cupy.
"""

from __future__ import annotations

from typing import Any

import numpy

try:  # CuPy is optional: the GPU extra installs it.
    import cupy
    import cupyx

    _cuda_ok = cupy.cuda.runtime.getDeviceCount() > 0
except Exception:  # ImportError, or CuPy present without a usable driver
    cupy = None
    cupyx = None
    _cuda_ok = False

DEVICES = ("cpu", "cuda")
# What Python floats and float factories give, and where factories put tensors; changed by
# tn.set_default_dtype and tn.set_default_device.
default_float = numpy.dtype(numpy.float32)
default_device = "cpu"
array_types: tuple[type, ...] = (numpy.ndarray,) + ((cupy.ndarray,) if cupy is not None else ())


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return _cuda_ok


def check_device(device: str) -> str:
    """Normalise ``device`` ('cpu', 'cuda', 'cuda:0') and fail clearly when it can't be used."""
    name = str(device).split(":")[0]
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
    if name == "cuda" and not _cuda_ok:
        raise RuntimeError("device 'cuda' requested but CuPy with a GPU is not available "
                           "(install tinynet[gpu] on a machine with an NVIDIA GPU)")
    return name


def xp_of(device: str) -> Any:
    """The array module for a device name."""
    return cupy if device == "cuda" else numpy


def get_array_module(array: Any) -> Any:
    """The array module (numpy or cupy) that owns ``array``."""
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy
    return numpy


def device_of(array: Any) -> str:
    return "cuda" if cupy is not None and isinstance(array, cupy.ndarray) else "cpu"


def is_array(obj: Any) -> bool:
    return isinstance(obj, array_types)


def to_device(array: Any, device: str) -> Any:
    """Copy ``array`` to ``device`` (a no-op when it is already there)."""
    if device_of(array) == device:
        return array
    if device == "cuda":
        return cupy.asarray(array)
    return cupy.asnumpy(array)


def to_numpy(array: Any) -> numpy.ndarray:
    return cupy.asnumpy(array) if device_of(array) == "cuda" else numpy.asarray(array)


def sliding_window_view(array: Any, window: tuple[int, ...], axis: tuple[int, ...]) -> Any:
    """A read-only view of every window of ``array`` (no copy), on either device."""
    return get_array_module(array).lib.stride_tricks.sliding_window_view(array, window, axis=axis)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` where repeated indices add up (unbuffered)."""
    if device_of(target) == "cuda":
        cupyx.scatter_add(target, index, values)
    else:
        numpy.add.at(target, index, values)


# One generator per device, reseeded together by ``manual_seed``. Parameter initialisation
# draws on the CPU generator and moves the result, so a seed gives the same model on any device.
_generators: dict[str, Any] = {"cpu": numpy.random.default_rng(0)}


def manual_seed(seed: int) -> None:
    """Seed every random draw tinynet makes (initialisation, ``randn``, dropout, shuffling)."""
    _generators["cpu"] = numpy.random.default_rng(seed)
    if cupy is not None and _cuda_ok:
        _generators["cuda"] = cupy.random.default_rng(seed)


def generator(device: str = "cpu") -> Any:
    """The shared random generator of ``device`` (a NumPy or CuPy ``Generator``)."""
    if device not in _generators:
        _generators[device] = cupy.random.default_rng(0)
    return _generators[device]


def erf(array: Any) -> Any:
    """The error function, elementwise: SciPy's on the CPU, CuPy's on the GPU."""
    if device_of(array) == "cuda":
        import cupyx.scipy.special

        return cupyx.scipy.special.erf(array)
    import scipy.special

    return scipy.special.erf(array)
