"""Sweeps: many independent runs (seeds, sizes, batch sizes) as a list of configurations.

Runs go through joblib: in-process for ``jobs=1``, in worker processes for ``jobs > 1``, or on
a Dask distributed cluster (``dask="tcp://host:8786"``) through joblib's dask backend. Each run
function is a module-level ``fn(config, env)`` so it can be pickled to a worker; it should
checkpoint under ``env.out`` so an interrupted sweep resumes run by run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import joblib


@dataclass(frozen=True)
class RunEnv:
    """Where a run writes, on which device, with which base seed."""

    out: str
    device: str = "cpu"
    seed: int = 0
    progress: bool = False


def _single_threaded(fn: Callable, config: dict[str, Any], env: RunEnv) -> Any:
    # Parallel workers share two cores: one BLAS thread each avoids oversubscription.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return fn(config, env)
    with threadpool_limits(1):
        return fn(config, env)


def run_sweep(fn: Callable[[dict[str, Any], RunEnv], Any], configs: list[dict[str, Any]],
              env: RunEnv, jobs: int = 1, dask: str | None = None) -> list[Any]:
    """``[fn(c, env) for c in configs]``, possibly in parallel; results keep the configs' order."""
    if jobs == 1 and dask is None:
        return [fn(c, env) for c in configs]
    calls = (joblib.delayed(_single_threaded)(fn, c, env) for c in configs)
    if dask is None:
        return joblib.Parallel(n_jobs=jobs)(calls)
    try:
        from dask.distributed import Client
    except ImportError as err:
        raise RuntimeError("--dask needs the 'distributed' package: pip install dask distributed") \
            from err
    client = Client(dask)
    try:
        with joblib.parallel_config(backend="dask"):
            return joblib.Parallel(n_jobs=-1)(calls)
    finally:
        client.close()
