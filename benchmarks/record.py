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


def _cpuinfo(field: str) -> str | None:
    """The first ``field`` line of /proc/cpuinfo (Linux), or None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == field:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or "unknown"


# The instruction-set flags that decide how fast a GEMM can run, widest last.
VECTOR_FLAGS = ("sse4_2", "avx", "fma", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                "avx512_bf16", "amx_tile")


def cpu_flags() -> dict[str, Any]:
    """The vector flags the CPU reports, and the widest vector unit in words (AVX-512, AVX2…)."""
    flags = set((_cpuinfo("flags") or "").split())
    present = [f for f in VECTOR_FLAGS if f in flags]
    widest = ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else
              "AVX" if "avx" in flags else "SSE" if flags else "unknown")
    return {"flags": present, "widest": widest}


def sgemm_sample(size: int = 1024) -> Any:
    """A harness sample (``sample(number) -> seconds``) of the single-thread SGEMM of two
    (size×size) float32 matrices: BLAS is limited to one thread while it runs."""
    rng = numpy.random.default_rng(0)
    a, b = rng.random((size, size), dtype=numpy.float32), rng.random((size, size), dtype=numpy.float32)
    from tinynet import parallel

    def sample(number: int) -> float:
        with parallel.single_threaded_blas():
            start = time.perf_counter()
            for _ in range(number):
                a @ b
            return time.perf_counter() - start

    return sample


def sgemm_gflops(size: int, seconds: float) -> float:
    """GFLOP/s of one (size×size) by (size×size) product that took ``seconds``."""
    return 2.0 * size ** 3 / seconds / 1e9


def sgemm_peak(size: int = 1024, repeats: int = 5) -> dict[str, Any]:
    """Single-thread SGEMM speed of NumPy's BLAS here and now: the best of ``repeats`` products
    of two (size×size) float32 matrices, in GFLOP/s."""
    sample = sgemm_sample(size)
    sample(1)  # warm-up: the first call pays for BLAS's buffers
    best = min(sample(1) for _ in range(repeats))
    return {"gflops": round(sgemm_gflops(size, best), 2), "size": size, "threads": 1}


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


THREAD_VARIABLES = ("OPENBLAS_", "OMP_", "MKL_", "GOTO_", "BLIS_")


def thread_settings() -> dict[str, Any]:
    """Every OPENBLAS_*/OMP_*/MKL_* variable set, the default thread counts of both sides, and
    whether the idle-worker settings took effect (see benchmarks/__init__.py)."""
    import benchmarks
    from tinynet import parallel

    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", *benchmarks.SPIN_SETTINGS)
    env = {k: os.environ.get(k) for k in names}
    env.update({k: v for k, v in os.environ.items() if k.startswith(THREAD_VARIABLES)})
    return {"env": dict(sorted(env.items())), "torch_threads": peer_torch.threads(),
            "torch_default": peer_torch.default_threads(),
            "tinynet_default": parallel.default_num_threads(), "blas_now": parallel.blas_threads(),
            "idle_workers_sleep": benchmarks.SPIN_SETTINGS_APPLIED}


def blas_summary(info: dict[str, Any]) -> str:
    """'openblas 0.3.31, kernel Haswell, 2 threads' from ``blas_info()``."""
    pools = info.get("threadpools")
    if not isinstance(pools, list):
        return str(pools)
    return "; ".join(f"{p.get('internal_api')} {p.get('version')}, kernel {p.get('architecture')}, "
                     f"{p.get('num_threads')} threads" for p in pools if p.get("user_api") == "blas") \
        or "no BLAS found by threadpoolctl"


# OpenBLAS kernels by the widest vector unit they use; OPENBLAS_CORETYPE can force any of them.
AVX512_KERNELS = ("skylakex", "cooperlake", "sapphirerapids")


def forced_kernel(blas: dict[str, Any], vector: dict[str, Any]) -> dict[str, Any] | None:
    """When ``OPENBLAS_CORETYPE`` picks OpenBLAS's kernel instead of OpenBLAS itself: the
    variable, the kernel running, and whether that kernel leaves the CPU's AVX-512 unused.

    Some machines set it so that old OpenBLAS builds do not crash; on a CPU with AVX-512 a
    current OpenBLAS then runs an AVX2 kernel at half its own SGEMM speed (a 2-core EPYC: 125
    GFLOP/s against 240), and every ratio measures that setting rather than the library."""
    value = os.environ.get("OPENBLAS_CORETYPE")
    pools = blas.get("threadpools")
    if not value or not isinstance(pools, list):
        return None
    kernels = [p.get("architecture") or "" for p in pools if p.get("internal_api") == "openblas"]
    if not kernels:
        return None
    narrower = vector.get("widest") == "AVX-512" and any(
        k.lower() not in AVX512_KERNELS for k in kernels)
    return {"OPENBLAS_CORETYPE": value, "kernels": kernels, "avx512_unused": narrower}


def environment() -> dict[str, Any]:
    """Everything about where and with what the figures were measured."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = blas_info()
    blas["summary"] = blas_summary(blas)
    vector = cpu_flags()
    blas["forced_kernel"] = forced_kernel(blas, vector)
    return {
        "machine": {"platform": platform.platform(), "arch": platform.machine(),
                    "cpu_model": cpu_model(), "vector": vector, "cpu_count": os.cpu_count(),
                    "usable_cores": cores, "gpu": tinynet.cuda.is_available()},
        "blas": blas,
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
