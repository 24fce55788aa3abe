"""Sweeps: many independent runs (seeds, sizes, batch sizes) as a list of configurations.

Runs go through joblib: in-process for ``jobs=1``, in worker processes for ``jobs > 1``, or on
a Dask distributed cluster through joblib's dask backend: ``dask="local"`` (or ``"local:N"``)
starts a cluster of N single-threaded worker processes on this machine, any other value is the
address of a running scheduler (``tcp://host:8786``). Each run function is a module-level
``fn(config, env)`` so it can be pickled to a worker; it should checkpoint under ``env.out`` so
an interrupted sweep resumes run by run, and keep its finished result with ``env.cached``.

Dask exchanges pickles with the scheduler and its workers, and unpickling runs code: use it only
on a cluster whose every machine you trust, on a private network or with TLS (see the README).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from experiments.harness.files import read_json, to_json, write_json

CACHE_FORMAT = 1  # bump to recompute every cached result written by an older harness


def cached(path: Path, key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()``'s result kept as JSON at ``path`` under ``key``: returned from the file while
    the key is the same, computed (and saved) again when it differs or the file is unreadable.
    The value comes back as JSON types either way, so a fresh and a cached result are alike."""
    key = to_json([CACHE_FORMAT, key])
    if path.exists():
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            stored = read_json(path)
            if stored["key"] == key:
                return stored["value"]
    write_json(path, {"key": key, "value": compute()})
    return read_json(path)["value"]


@dataclass(frozen=True)
class RunEnv:
    """Where a run writes, on which device, with which base seed."""

    out: str
    device: str = "cpu"
    seed: int = 0
    progress: bool = False

    def cached(self, name: str, compute: Callable[[], Any], key: Any = None) -> Any:
        """:func:`cached` under ``out`` (the study's checkpoint folder, itself keyed by the
        settings, data and code): ``key`` adds what else the result depends on (the config)."""
        return cached(Path(self.out) / f"{name}.json", key, compute)


def _watch_parent(parent: int) -> None:
    """In a joblib worker: exit as soon as the sweep's parent process is gone. Idle workers wait
    for work that would never come, so a killed parent must not leave them behind."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getpid() != parent:
        threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _in_worker(fn: Callable, config: Any, env: RunEnv) -> Any:
    # Parallel workers share the cores: one thread each (BLAS and the convolution's) avoids
    # oversubscription. Set for good, not for the call: a Dask worker may run several calls at
    # once, and one restoring the count would change it under the others. The data set
    # warnings were said once by the main process; a worker repeating them is noise.
    import tinynet as tn
    from tinynet.data import DataWarning

    if tn.get_num_threads() != 1:
        tn.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return fn(config, env)


def parse_dask(spec: str) -> tuple[str, int | None]:
    """``"local"`` / ``"local:4"`` -> ("local", workers or None); anything else is an address."""
    if spec == "local" or spec.startswith("local:"):
        count = spec.partition(":")[2]
        if count and (not count.isdigit() or int(count) < 1):
            raise ValueError(f"--dask local:N needs a whole number of workers >= 1, got {spec!r}")
        return "local", int(count) if count else None
    if not spec.strip():
        raise ValueError("--dask needs 'local', 'local:N' or a scheduler address like tcp://host:8786")
    return spec, None


@contextlib.contextmanager
def dask_scheduler(spec: str | None) -> Iterator[str | None]:
    """The scheduler address for ``spec``: a ``LocalCluster`` started here (and closed on exit)
    for ``local[:N]``, the given address otherwise, None without Dask."""
    if spec is None:
        yield None
        return
    address, workers = parse_dask(spec)
    if address != "local":
        yield address
        return
    try:
        from dask.distributed import LocalCluster
    except ImportError as err:
        raise RuntimeError("--dask needs Dask: pip install 'tinynet[dask]'") from err
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                      processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def run_sweep(fn: Callable[[Any, RunEnv], Any], configs: list[Any], env: RunEnv, jobs: int = 1,
              dask: str | None = None) -> list[Any]:
    """``[fn(c, env) for c in configs]``, possibly in parallel; results keep the configs' order."""
    if jobs == 1 and dask is None:
        return [fn(c, env) for c in configs]
    calls = [joblib.delayed(_in_worker)(fn, c, env) for c in configs]
    if dask is None:
        return joblib.Parallel(n_jobs=jobs, initializer=_watch_parent, initargs=(os.getpid(),))(calls)
    with dask_scheduler(dask) as address:
        try:
            from dask.distributed import Client
        except ImportError as err:
            raise RuntimeError("--dask needs Dask: pip install 'tinynet[dask]'") from err
        with Client(address), joblib.parallel_config(backend="dask"):  # the backend finds the client
            return joblib.Parallel(n_jobs=-1)(calls)
