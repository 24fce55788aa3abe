"""Run the cases under each thread setting, time every phase against its peers, and assemble
the record."""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import tinynet as tn
from benchmarks import peer_torch, record, targets
from benchmarks.cases import Case, Profile, all_cases
from benchmarks.harness import Timing, alternate, median, phase_samples
from benchmarks.subject_tinynet import Skipped
from tinynet import parallel

DEFAULT_THREADS = ("1", "default")  # every table twice: "1 thread each", "default threads each"


def selected(case: Case, pattern: str | None) -> bool:
    """``--case conv`` picks conv-a..e, ``--case conv-b`` one case, globs work too."""
    if not pattern:
        return True
    return (case.name == pattern or case.name.startswith(pattern + "-")
            or fnmatch.fnmatch(case.name, pattern))


def parse_threads(spec: str | int | Sequence[str | int] | None) -> list[str]:
    """'1,default' → ['1', 'default']; an int n → [str(n)]; None → both defaults."""
    if spec is None:
        return list(DEFAULT_THREADS)
    items = spec.split(",") if isinstance(spec, str) else [spec] if isinstance(spec, int) else spec
    configs = []
    for item in (str(i).strip() for i in items):
        if item != "default" and not (item.isdigit() and int(item) >= 1):
            raise ValueError(f"threads: expected 'default' or a positive int, got {item!r}")
        configs.append(item)
    return configs


def thread_counts() -> dict[str, int | None]:
    """How many threads each side runs with now: tinynet's pool, NumPy's BLAS, PyTorch."""
    return {"tinynet": tn.get_num_threads(), "blas": parallel.blas_threads(),
            "torch": peer_torch.threads()}


@contextlib.contextmanager
def thread_setting(config: str) -> Iterator[dict[str, int | None]]:
    """Both sides on ``config`` threads ('default': tinynet's default, which is also its BLAS's,
    and PyTorch's own default) for the block; yields the counts in effect."""
    before_tn, before_torch = tn.get_num_threads(), peer_torch.threads()
    if config == "default":
        tn.set_num_threads(parallel.default_num_threads())
        torch_threads = peer_torch.default_threads()
    else:
        tn.set_num_threads(int(config))
        torch_threads = int(config)
    if torch_threads is not None:
        peer_torch.set_threads(torch_threads)
    try:
        yield thread_counts()
    finally:
        tn.set_num_threads(before_tn)
        if before_torch is not None:
            peer_torch.set_threads(before_torch)


PEAK = "sgemm peak"  # the single-thread SGEMM sample that alternates with a case's GEMM work


def _row(case: Case, phase: str, timing: Timing, busy: float | None, config: str,
         counts: dict[str, int | None], peak_size: int | None = None) -> dict[str, Any]:
    flops = case.flops(phase)
    peak_seconds = timing.seconds.pop(PEAK, None)
    seconds = {name: {"median": timing.median(name), "mean": timing.mean(name),
                      "min": min(timing.seconds[name]), "number": timing.numbers[name],
                      "samples": [float(f"{s:.4g}") for s in timing.seconds[name]]}
               for name in timing.seconds}
    subject = timing.seconds["tinynet"]
    ratio, paired = {}, {}
    for peer in timing.seconds:
        if peer == "tinynet":
            continue
        ratio[peer] = timing.median("tinynet") / timing.median(peer)
        # median of the per-round ratios: each round's two samples saw the same load
        paired[peer] = median([a / b for a, b in zip(subject, timing.seconds[peer])])
    gflops = {name: flops / s["median"] / 1e9 for name, s in seconds.items()} if flops else {}
    row = {"case": case.name, "title": case.title, "device": case.device, "phase": phase,
           "threads": config, "thread_counts": counts, "flops": flops, "seconds": seconds,
           "ratio": ratio, "paired_ratio": paired, "gflops": gflops, "others_busy": busy}
    if gflops and peak_seconds:
        # Against the single-thread peak even with more threads: how much of one core's GEMM.
        # The peak ran in the same rounds, so each round's fraction saw the same machine: the
        # median of those, as the paired ratios.
        peaks = [record.sgemm_gflops(peak_size, s) for s in peak_seconds]
        row["sgemm_peak_gflops"] = median(peaks)
        row["peak_fraction"] = {
            name: median([flops / s / 1e9 / p for s, p in zip(timing.seconds[name], peaks)])
            for name in timing.seconds}
    if case.ops_per_call:
        row["us_per_op"] = {name: s["median"] / case.ops_per_call * 1e6
                            for name, s in seconds.items()}
    if case.steps_per_epoch and phase == "step":
        row["epoch_seconds"] = {name: s["mean"] * case.steps_per_epoch for name, s in seconds.items()}
    return row


def run_case(case: Case, profile: Profile, log: Callable[[str], Any],
             config: str = "1") -> list[dict[str, Any]]:
    """Time every phase of ``case`` with the threads of ``config`` (set by the caller). A CPU
    phase that counts its FLOPs alternates with a single-thread SGEMM, its row's peak."""
    counts = thread_counts()
    try:
        workloads = case.build()
    except Skipped as err:
        return [{"case": case.name, "title": case.title, "phase": None, "threads": config,
                 "skipped": str(err)}]
    by_phase = {name: phase_samples(w) for name, w in workloads.items()}
    phases = [p for p in by_phase["tinynet"] if all(p in s for s in by_phase.values())]
    rows = []
    for phase in phases:
        repeats = case.phase_repeats.get(phase, profile.repeats)
        fixed = phase in case.phase_repeats  # e.g. one sample per CNN batch: no calibration
        meter = record.BusyMeter()
        started = time.perf_counter()
        samples = {name: s[phase] for name, s in by_phase.items()}
        peak_size = profile.sgemm_size if case.device == "cpu" and case.flops(phase) else None
        if peak_size:
            samples[PEAK] = record.sgemm_sample(peak_size)
        timing = alternate(samples, repeats,
                           warmup=profile.warmup, min_time=0.0 if fixed else profile.min_time,
                           budget=math.inf if fixed else profile.budget)
        rows.append(_row(case, phase, timing, meter.others_busy(), config, counts, peak_size))
        log(f"  {case.name:<22} {phase:<8} threads {config:<8}"
            f"{len(timing.seconds['tinynet']):>3} repeats in {time.perf_counter() - started:5.1f} s")
    return rows


def run(profile: Profile, pattern: str | None = None, threads: Any = None,
        log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Run every selected case under every thread setting and return the record (not saved).

    The settings alternate per case (conv-a on 1 thread, conv-a on the default, conv-b…), so
    both tables of one case are measured minutes apart at most.
    """
    configs = parse_threads(threads)
    cases = [case for case in all_cases(profile) if selected(case, pattern)]
    if not cases:
        raise ValueError(f"no case matches {pattern!r}; cases are: "
                         + ", ".join(c.name for c in all_cases(profile)))
    meter = record.BusyMeter()
    started = datetime.datetime.now().astimezone()
    env = record.environment()
    env["threads"]["configs"] = {config: None for config in configs}
    env["sgemm_peak"] = peak = record.sgemm_peak(profile.sgemm_size)
    log(f"single-thread SGEMM ({profile.sgemm_size}³): {peak['gflops']:.1f} GFLOP/s")
    rows: list[dict[str, Any]] = []
    for case in cases:
        log(f"{case.name}: {case.title}")
        for config in configs:
            with thread_setting(config) as counts:
                env["threads"]["configs"][config] = counts
                rows.extend(run_case(case, profile, log, config))
    return {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.datetime.now().astimezone() - started).total_seconds(), 1),
        "profile": profile.name, "case_filter": pattern,
        "settings": {"repeats": profile.repeats, "warmup": profile.warmup,
                     "min_time": profile.min_time, "budget": profile.budget},
        "environment": env,
        "others_busy": meter.others_busy(),
        "rows": rows,
        "targets": targets.evaluate(rows),
    }
