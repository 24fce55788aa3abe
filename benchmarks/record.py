"""The JSON record of a run: the machine, its BLAS and thread settings, versions, the git commit,
how busy the machine was, and every figure. One file per run under ``benchmarks/results/``."""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy

import tinynet
from benchmarks import peer_torch

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> dict[str, Any]:
    """NumPy's BLAS as built, and the live thread pools (when threadpoolctl is installed)."""
    info: dict[str, Any] = {}
    try:
        config = numpy.show_config(mode="dicts")
        deps = config.get("Build Dependencies", {})
        info["numpy_build"] = {k: deps.get(k) for k in ("blas", "lapack")}
    except TypeError:  # NumPy < 1.25 only prints
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            numpy.show_config()
        info["numpy_build"] = buffer.getvalue()
    try:
        import threadpoolctl

        info["threadpools"] = [{k: pool.get(k) for k in ("user_api", "internal_api", "prefix",
                                                         "version", "num_threads",
                                                         "threading_layer", "architecture")}
                               for pool in threadpoolctl.threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD") or "unknown",
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version(), "numpy": numpy.__version__,
                                    "tinynet": tinynet.__version__, "torch": peer_torch.version()}
    try:
        import cupy

        found["cupy"] = cupy.__version__
    except Exception:  # absent, or present without a driver
        found["cupy"] = None
    return found


def thread_settings() -> dict[str, Any]:
    import benchmarks

    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", *benchmarks.SPIN_SETTINGS)
    return {"env": {k: os.environ.get(k) for k in names}, "torch_threads": peer_torch.threads(),
            "idle_workers_sleep": benchmarks.SPIN_SETTINGS_APPLIED}


def environment() -> dict[str, Any]:
    """Everything about where and with what the figures were measured."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "machine": {"platform": platform.platform(), "arch": platform.machine(),
                    "cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "usable_cores": cores,
                    "gpu": tinynet.cuda.is_available()},
        "blas": blas_info(),
        "versions": versions(),
        "git": git_commit(),
        "threads": thread_settings(),
    }


class BusyMeter:
    """How much of the machine's CPU time *other* processes used while the meter ran.

    Reads /proc/stat (Linux) for all CPU time, and subtracts this process's own. The result is
    a fraction of the whole machine: 0.5 on a 2-core machine means one core's worth of others.
    ``None`` where /proc/stat does not exist.
    """

    def __init__(self) -> None:
        self.start = self._snapshot()

    @staticmethod
    def _snapshot() -> tuple[float, float, float] | None:
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return None
        ticks = [int(f) for f in fields]
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
        busy_s = (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        own = os.times()
        return time.perf_counter(), busy_s, own.user + own.system

    def others_busy(self) -> float | None:
        end = self._snapshot()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        if wall <= 0:
            return None
        others = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return round(min(1.0, max(0.0, others / (wall * (os.cpu_count() or 1)))), 3)


def file_name(record: dict[str, Any]) -> str:
    """``<date>_<commit>.json``; the date carries the time too, so runs on one commit coexist."""
    stamp = datetime.datetime.fromisoformat(record["started"]).strftime("%Y-%m-%dT%H%M%S")
    git = record["environment"]["git"]
    commit = git["commit"][:10] + ("-dirty" if git.get("dirty") else "")
    profile = "" if record["profile"] == "full" else f"_{record['profile']}"
    return f"{stamp}_{commit}{profile}.json"


def save(record: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """Write the record atomically (a temporary file renamed into place)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(record)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".record-", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a record is an ordinary file
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, indent=1, default=str)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def load_all(directory: Path = RESULTS_DIR) -> list[dict[str, Any]]:
    """Every record in ``directory``, oldest first; unreadable files are skipped with a note."""
    records = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            print(f"skipping {path.name}: {err}")
            continue
        record["_file"] = path.name
        records.append(record)
    return sorted(records, key=lambda r: r.get("started", ""))
