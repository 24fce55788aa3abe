"""How many threads tinynet computes with: BLAS's, and a small pool of its own.

``tn.set_num_threads(n)`` sets both, as ``torch.set_num_threads`` sets PyTorch's:

* NumPy's BLAS (OpenBLAS, MKL…) gets ``n`` threads, at most one per usable core, for every
  matrix product outside the blocked convolution (through threadpoolctl);
* the blocked convolution (``ops/conv_kernels.py``) splits its work over ``n`` threads of
  its own, each running BLAS on one thread: its products are small and many, one per block
  of output rows, and a multi-threaded BLAS would wake and sync its threads for each of them.
  NumPy releases the GIL in BLAS calls and array copies, so the threads run in parallel.

The default is the number of cores this process may use (``os.sched_getaffinity``), lowered
to ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` when one of them is set.

Imported before NumPy (``import tinynet`` first), tinynet also lets OpenBLAS's idle threads
sleep at once (see ``let_idle_blas_threads_sleep``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_ENVIRONMENT = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_lock = threading.Lock()
_num_threads: int | None = None  # None until set or first read: then the default
_pool: ThreadPoolExecutor | None = None
_blas: list[Any] | None = None  # threadpoolctl's BLAS controllers, found once


# OpenBLAS reads how long its idle threads spin from this variable once, when NumPy loads it:
# 2**4 cycles instead of the default 2**28 (about 0.1 s)
IDLE_BLAS_THREADS = ("OPENBLAS_THREAD_TIMEOUT", "4")


def let_idle_blas_threads_sleep() -> bool:
    """Have OpenBLAS's threads sleep as soon as a product is done (done on import, when NumPy is
    not loaded yet). Returns whether the setting was made in time.

    By default they spin for about 0.1 s after each multi-threaded product, waiting for the
    next, and hold the cores that the blocked convolution's threads need meanwhile: a 2-thread
    MNIST CNN training step took 49 ms so against 35 ms with the threads sleeping (2-core Xeon).
    A value already in the environment is kept; once NumPy is loaded, nothing can be changed,
    and a program that imports NumPy first can set ``OPENBLAS_THREAD_TIMEOUT=4`` itself.
    """
    if "numpy" in sys.modules:
        return False
    os.environ.setdefault(*IDLE_BLAS_THREADS)
    return True


let_idle_blas_threads_sleep()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_num_threads() -> int:
    """Usable cores, capped by the first positive ``*_NUM_THREADS`` variable that is set."""
    cores = usable_cores()
    for name in _ENVIRONMENT:
        try:
            value = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if value > 0:
            return min(cores, value)
    return cores


def _blas_controllers() -> list[Any]:
    """threadpoolctl's handles on the BLAS libraries NumPy loaded ([] without threadpoolctl)."""
    global _blas
    if _blas is None:
        try:
            import numpy  # noqa: F401 - the BLAS threadpoolctl looks for is NumPy's
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas = []
        else:
            _blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _blas


def set_num_threads(n: int) -> None:
    """Use ``n`` threads: for NumPy's BLAS and for tinynet's blocked convolution.

    As ``torch.set_num_threads``. Small models often run fastest on one thread, and on a
    busy machine threads that wait for each other were measured many times slower than one.
    BLAS gets at most the usable cores: OpenBLAS threads beyond them wait on each other, and a
    (64×3136)@(3136×128) product took 56 ms on 4 threads against 0.17 ms on 2 (2-core EPYC).
    ``get_num_threads`` still answers ``n``.

    >>> tn.set_num_threads(1)
    """
    global _num_threads, _pool
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise TypeError(f"set_num_threads: expected an int, got {n!r}") from None
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    for controller in _blas_controllers():
        controller.set_num_threads(min(n, usable_cores()))
    with _lock:
        if n != _num_threads:
            _pool = None  # a new size next time; a call still using the old pool finishes on it
        _num_threads = n


def get_num_threads() -> int:
    """The number of threads tinynet uses (see ``set_num_threads``)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = default_num_threads()
    return _num_threads


def blas_threads() -> int:
    """The thread count NumPy's BLAS runs with now (1 without threadpoolctl)."""
    return max((c.get_num_threads() or 1 for c in _blas_controllers()), default=1)


@contextlib.contextmanager
def limited_threads(n: int | None) -> Iterator[None]:
    """``set_num_threads(n)`` for the duration of the block, then tinynet's and BLAS's thread
    counts as they were (None: no change). The experiments run each study in one of these."""
    if not n:
        yield
        return
    before, blas_before = get_num_threads(), [c.get_num_threads() for c in _blas_controllers()]
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)
        for controller, count in zip(_blas_controllers(), blas_before):
            controller.set_num_threads(count)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS on one thread for the duration of the block, then as before (a C call each way)."""
    controllers = [c for c in _blas_controllers() if (c.get_num_threads() or 1) > 1]
    before = [c.get_num_threads() for c in controllers]
    for c in controllers:
        c.set_num_threads(1)
    try:
        yield
    finally:
        for c, n in zip(controllers, before):
            c.set_num_threads(n)


def share(items: Sequence[T], work: Callable[[Callable[[], T | None]], R]) -> list[R]:
    """Run ``work(take)`` on up to ``get_num_threads()`` threads (the calling one included)
    and return each one's result; ``take()`` hands out the next of ``items``, or None when
    all are taken.

    Items go to whichever thread asks first, so a thread slowed by another process's load
    takes fewer of them instead of holding the others up at the end.
    """
    lock, position = threading.Lock(), [0]

    def take() -> T | None:
        with lock:
            if position[0] == len(items):
                return None
            position[0] += 1
            return items[position[0] - 1]

    helpers = min(get_num_threads(), len(items)) - 1
    if helpers <= 0:
        return [work(take)]
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(1, get_num_threads() - 1),
                                       thread_name_prefix="tinynet")
        pool = _pool
    futures = [pool.submit(work, take) for _ in range(helpers)]
    mine = work(take)
    return [mine] + [f.result() for f in futures]
