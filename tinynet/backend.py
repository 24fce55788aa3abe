"""The one place that chooses between NumPy (CPU) and CuPy (CUDA).

Every op receives raw arrays and asks this module for their array module (``xp``), so the
same op code runs on either device. Nothing else in tinynet imports cupy.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import warnings
from collections.abc import Callable
from typing import Any

import numpy


def ignore_numpy_float_warnings() -> None:
    """Ignore NumPy's warnings about infs and NaNs raised inside tinynet (done on import).

    NumPy warns where IEEE arithmetic makes an inf or a NaN (log of 0, 1/0, exp overflowing);
    PyTorch, whose semantics tinynet follows, makes the same values silently, and the warning
    would name a line of tinynet, not of the program that asked for it. A program's own NumPy
    code still warns, and a filter set later (``warnings.simplefilter("error")``, as the tests
    do to prove an op stable) comes first. An import inside a ``warnings.catch_warnings()``
    block (pytest collects tests in one) loses the filter when the block ends, as every filter
    set there does; calling this again restores it.
    """
    warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) "
                            "encountered", RuntimeWarning, r"tinynet(\.|$)")


ignore_numpy_float_warnings()

# glibc's malloc settings for the CPU (see keep_freed_memory): arrays up to this size come from
# the heap, whose freed memory is reused, and the heap keeps up to TRIM_THRESHOLD of free memory
# at its top. 32 MiB is the ceiling glibc's own adaptive threshold would reach.
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20
_MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                     "MALLOC_MMAP_MAX_", "GLIBC_TUNABLES")


def keep_freed_memory() -> bool:
    """Let freed array memory be reused instead of handed back to the system (done on import).

    A training step allocates and frees the same few-MB arrays (activations, masks,
    gradients) every time. glibc's malloc maps an array above 128 KiB afresh and unmaps it
    when freed, so the next step's array of the same size faults every page of it in again,
    zeroed by the kernel: 6,000 page faults and 10 ms of system time in every 55 ms step of the
    MNIST CNN (2-core Xeon). With arrays up to ``MMAP_THRESHOLD`` taken from the heap and up to
    ``TRIM_THRESHOLD`` of freed heap kept, the step takes 1 page fault and 44 ms.

    Only glibc (Linux) is tuned. A process that sets glibc's own malloc variables
    (``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``…) keeps its settings: tinynet then changes
    nothing. Returns whether the settings were made.
    """
    import ctypes
    import os
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc" or \
            any(name in os.environ for name in _MALLOC_VARIABLES):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD)) and \
        bool(libc.mallopt(m_trim_threshold, TRIM_THRESHOLD))


keep_freed_memory()


def _load_cupy() -> tuple[Any, Any, bool, str | None]:
    """(cupy, cupyx, a GPU is usable, why not): CuPy is optional, but when it is installed and
    broken the reason is kept, so that asking for 'cuda' says what went wrong."""
    if importlib.util.find_spec("cupy") is None:
        return None, None, False, ("CuPy is not installed; install exactly one CuPy wheel, the one "
                                   "for your CUDA major version: pip install 'tinynet[gpu-cuda12]' "
                                   "or 'tinynet[gpu-cuda13]'")
    try:
        import cupy
        import cupyx
    except Exception as err:  # a wheel for another CUDA, two CuPy wheels, NumPy too old for it…
        return None, None, False, (f"CuPy is installed but does not import: {type(err).__name__}: "
                                   f"{err}. Check that exactly one cupy-cuda* wheel is installed, "
                                   "the one matching your CUDA driver (pip list | grep -i cupy), "
                                   "and that NumPy is recent enough for it (CuPy 14 needs NumPy >= 2)")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # no driver, or a driver older than the wheel's CUDA
        return None, None, False, (f"CuPy {cupy.__version__} imports but cannot reach a GPU: "
                                   f"{type(err).__name__}: {err}")
    if count == 0:
        return cupy, cupyx, False, f"CuPy {cupy.__version__} imports but sees no GPU"
    return cupy, cupyx, True, None


cupy, cupyx, _cuda_ok, _cuda_error = _load_cupy()

DEVICES = ("cpu", "cuda")
# What Python floats and float factories give, and where factories put tensors; changed by
# tn.set_default_dtype and tn.set_default_device.
default_float = numpy.dtype(numpy.float32)
default_device = "cpu"
array_types: tuple[type, ...] = (numpy.ndarray,) + ((cupy.ndarray,) if cupy is not None else ())


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return _cuda_ok


def cuda_unavailable_reason() -> str | None:
    """Why device 'cuda' can't be used (CuPy missing, failing to import, no GPU), or None."""
    return None if _cuda_ok else _cuda_error


def check_device(device: str) -> str:
    """Normalise ``device`` ('cpu', 'cuda', 'cuda:N') to 'cpu' or 'cuda', and fail clearly when it
    can't be used. 'cuda:N' also makes GPU N CuPy's current device, where new arrays go."""
    text = str(device)
    name, colon, index = text.partition(":")
    if name not in DEVICES or (colon and not (name == "cuda" and index.isdigit())):
        raise ValueError(f"unknown device {device!r}: expected 'cpu', 'cuda' or 'cuda:<index>'")
    if name == "cuda":
        if not _cuda_ok:
            raise RuntimeError(f"device {text!r} requested but CUDA is not available: {_cuda_error}")
        if colon:
            count = cupy.cuda.runtime.getDeviceCount()
            if int(index) >= count:
                raise RuntimeError(f"device {text!r} requested but CuPy sees {count} GPU"
                                   f"{'s' if count != 1 else ''} (cuda:0 to cuda:{count - 1})")
            cupy.cuda.Device(int(index)).use()
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


def scalar_array(xp: Any, value: Any, dtype: Any) -> Any:
    """A 0-d array of the number ``value`` in array module ``xp``. On the GPU it is filled in by a
    kernel: CuPy's ``asarray`` would copy the number from host memory, an upload per Python number
    in every step."""
    return numpy.asarray(value, dtype=dtype) if xp is numpy else xp.full((), value, dtype=dtype)


def errstate(xp: Any, **settings: str) -> Any:
    """NumPy's floating-point warning settings for a block (``divide="ignore"``…); CuPy gives
    no such warnings and has no ``errstate``, so there the block runs as it is."""
    return numpy.errstate(**settings) if xp is numpy else contextlib.nullcontext()


# The shortest contiguous run of an operand that NumPy's ufuncs read faster in place than
# through their buffer. Measured on a 2-core EPYC (NumPy 2.4), a float32 add onto a strided
# target, 86k elements: runs of 64 took 43 µs in place against 32 buffered, 128 28 against 28,
# 256 15 against 24, 896 8.8 against 19; from 8192 on NumPy reads in place anyway.
UNBUFFERED_RUN = 256


def unbuffered_ufuncs(xp: Any, run: int) -> Any:
    """A block whose NumPy ufuncs work on strided operands where they lie, not through a buffer,
    when the operands' contiguous runs are ``run`` elements long (``UNBUFFERED_RUN`` or more).

    NumPy copies an operand whose contiguous runs are shorter than its ufunc buffer (8192
    elements) into that buffer and back, where its loop could read the runs in place: for the
    convolution's col2im adds (runs of W·N elements) that doubled their time. The smallest buffer
    NumPy allows makes every such run long enough to be read in place. Only for ufuncs whose
    operands share one dtype: a cast needs the buffer, and this one is tiny. CuPy has no buffer."""
    if xp is not numpy or run < UNBUFFERED_RUN:
        return contextlib.nullcontext()
    return _smallest_ufunc_buffer()


@contextlib.contextmanager
def _smallest_ufunc_buffer() -> Any:
    before = numpy.setbufsize(16)  # per thread (NumPy 1.x) or per context (2.x)
    try:
        yield
    finally:
        numpy.setbufsize(before)


def to_numpy(array: Any) -> numpy.ndarray:
    """``array`` in host memory as a NumPy array (a copy from the GPU: a sync, which also reports
    the device checks waiting in ``check_later``)."""
    if device_of(array) != "cuda":
        return numpy.asarray(array)
    if not _pending_checks:
        return cupy.asnumpy(array)
    checks = list(_pending_checks.values())
    _pending_checks.clear()
    # One transfer for the value and the flags together: reading them apart would be more syncs.
    flags = cupy.stack([flag for flag, _ in checks]).astype(array.dtype)
    host = cupy.asnumpy(cupy.concatenate([array.reshape(-1), flags]))
    for raised, (_, error) in zip(host[array.size:], checks):
        if raised:
            raise error()
    return host[:array.size].reshape(array.shape)


# Checks of device data whose failure is rare but whose test would cost a sync per call (a class
# index out of range): each leaves a 0-d device flag here, read with the next value the program
# reads from the device anyway, as PyTorch's device-side asserts are reported at the next sync.
_pending_checks: dict[str, tuple[Any, Callable[[], Exception]]] = {}


def check_later(flag: Any, key: str, error: Callable[[], Exception]) -> None:
    """Raise ``error()`` at the next ``to_numpy`` of a device array if the 0-d device bool
    ``flag`` is true. Flags with the same ``key`` fold into one (an or), so a loop that never
    reads a value keeps one flag per check, not one per step."""
    if key in _pending_checks:
        flag = flag | _pending_checks[key][0]
    _pending_checks[key] = (flag, error)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` where repeated indices add up (unbuffered)."""
    if device_of(target) == "cuda":
        cupyx.scatter_add(target, index, values)
    else:
        numpy.add.at(target, index, values)


# One generator per device, reseeded together by ``manual_seed``. Parameter initialisation
# draws on the CPU generator and moves the result, so a seed gives the same model on any device.
_generators: dict[str, Any] = {"cpu": numpy.random.default_rng(0)}
_initial_seed = 0


def manual_seed(seed: int) -> None:
    """Seed every random draw tinynet makes (initialisation, ``randn``, dropout, shuffling)."""
    global _initial_seed
    _initial_seed = int(seed)
    _generators["cpu"] = numpy.random.default_rng(seed)
    if cupy is not None and _cuda_ok:
        _generators["cuda"] = cupy.random.default_rng(seed)


def initial_seed() -> int:
    """The seed last given to ``manual_seed`` (0 before any), as ``torch.initial_seed``."""
    return _initial_seed


def manual_seed_cuda(seed: int) -> None:
    """Seed the GPU's generator only (dropout masks and ``randn`` drawn on the GPU)."""
    if cupy is not None and _cuda_ok:
        _generators["cuda"] = cupy.random.default_rng(int(seed))


def reseed_cuda_for_epoch(epoch: int) -> None:
    """Seed the GPU's generator from ``initial_seed()`` and ``epoch``.

    CuPy's generator state cannot be saved with a checkpoint (NumPy's can), so a training loop
    that resumes at an epoch replays that epoch's GPU draws (dropout masks) only if every epoch
    starts from a seed it can compute again: call this at the start of each epoch."""
    words = numpy.random.SeedSequence([_initial_seed, int(epoch)]).generate_state(2)
    manual_seed_cuda(int(words[0]) << 32 | int(words[1]))


def generator(device: str = "cpu") -> Any:
    """The shared random generator of ``device`` (a NumPy or CuPy ``Generator``)."""
    if device not in _generators:
        _generators[device] = cupy.random.default_rng(_initial_seed)
    return _generators[device]


def _cupyx_module(path: str) -> Any:
    """A submodule of cupyx ('scipy.special'), imported on first use."""
    if getattr(cupyx, "__name__", None) == "cupyx":
        importlib.import_module(f"cupyx.{path}")
    module = cupyx
    for part in path.split("."):
        module = getattr(module, part)
    return module


def special_functions(array: Any) -> Any:
    """The module of special functions for ``array``'s device: SciPy's ``scipy.special`` on the
    CPU, CuPy's ``cupyx.scipy.special`` on the GPU (``erf``, ``gammaln``, ``digamma``,
    ``polygamma``, ``i0``, ``ndtri``…). Ops take their special functions from here, as they take
    their array module from ``get_array_module``: ``backend.special_functions(x).erf(x)``."""
    if device_of(array) == "cuda":
        return _cupyx_module("scipy.special")
    import scipy.special

    return scipy.special


def linalg_functions(array: Any) -> Any:
    """The module of SciPy's dense linear algebra for ``array``'s device, as ``special_functions``
    is for special functions: ``scipy.linalg`` on the CPU, ``cupyx.scipy.linalg`` on the GPU
    (``solve_triangular``, ``expm``; SciPy's ``lstsq`` has no CuPy twin):
    ``backend.linalg_functions(a).expm(a)``."""
    if device_of(array) == "cuda":
        return _cupyx_module("scipy.linalg")
    import scipy.linalg

    return scipy.linalg


def sparse_linalg(device: str) -> Any:
    """SciPy's ``scipy.sparse.linalg`` on the CPU, CuPy's on the GPU (``eigsh``,
    ``LinearOperator``): iterative solvers whose vectors stay on the device."""
    if device == "cuda":
        return _cupyx_module("scipy.sparse.linalg")
    import scipy.sparse.linalg

    return scipy.sparse.linalg
