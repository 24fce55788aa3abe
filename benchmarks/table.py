"""The terminal tables of a run: the machine, then one table per thread setting ("1 thread
each", "default threads each"), one line per case and phase, then the targets."""

from __future__ import annotations

from typing import Any

RAW_PEERS = ("numpy", "cupy")
HEADER = ("case", "phase", "tinynet", "NumPy/CuPy", "PyTorch", "×raw", "×torch",
          "GFLOP/s tn/raw/pt", "of peak tn/pt", "µs/op tn/raw/pt", "busy")


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _triple(figures: dict[str, float] | None, row: dict[str, Any], fmt: str,
            names: tuple[str, ...] | None = None) -> str:
    if not figures:
        return ""
    names = names or ("tinynet", _raw_peer(row), "torch")
    return "/".join(format(figures[k], fmt) if k in figures else "-" for k in names)


def _raw_peer(row: dict[str, Any]) -> str:
    return next((k for k in RAW_PEERS if k in row.get("seconds", {})), "numpy")


def machine_lines(env: dict[str, Any] | None) -> list[str]:
    """Where the figures come from: CPU and vector unit, BLAS, the thread variables, the peak."""
    if not env:
        return []
    machine, threads = env.get("machine", {}), env.get("threads", {})
    vector = machine.get("vector", {})
    lines = [f"CPU: {machine.get('cpu_model')} ({vector.get('widest', '?')}; flags "
             f"{' '.join(vector.get('flags', [])) or '?'}), {machine.get('usable_cores')} usable "
             f"cores of {machine.get('cpu_count')}",
             f"BLAS: {env.get('blas', {}).get('summary', '?')}"]
    forced = env.get("blas", {}).get("forced_kernel")
    if forced:
        lines.append(f"Note: OPENBLAS_CORETYPE={forced['OPENBLAS_CORETYPE']} chose the BLAS kernel, "
                     f"not OpenBLAS" + (
                         "; it leaves this CPU's AVX-512 unused, so the figures measure that "
                         "setting: unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for this command "
                         "to measure the library's own choice" if forced["avx512_unused"] else ""))
    variables = " ".join(f"{k}={v}" for k, v in threads.get("env", {}).items() if v is not None)
    lines.append(f"Thread variables: {variables or 'none set'}")
    peak = env.get("sgemm_peak")
    if peak:
        lines.append(f"Single-thread SGEMM peak, measured in this run ({peak['size']}³ float32): "
                     f"{peak['gflops']:.1f} GFLOP/s")
    return lines


def _threads_title(config: str, counts: dict[str, Any] | None) -> str:
    name = "1 thread each" if config == "1" else ("default threads each" if config == "default"
                                                  else f"{config} threads each")
    if counts:
        name += (f" (tinynet {counts.get('tinynet')}, its BLAS {counts.get('blas')}, PyTorch "
                 f"{counts.get('torch') if counts.get('torch') is not None else '-'})")
    return name


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [HEADER]
    for row in rows:
        if row.get("skipped"):
            lines.append((row["case"], "", row["skipped"]) + ("",) * (len(HEADER) - 3))
            continue
        seconds = row["seconds"]
        raw = _raw_peer(row)
        busy = row.get("others_busy")
        lines.append((
            row["case"], row["phase"],
            format_seconds(seconds["tinynet"]["median"]),
            format_seconds(seconds[raw]["median"]) if raw in seconds else "-",
            format_seconds(seconds["torch"]["median"]) if "torch" in seconds else "-",
            _ratio(row["ratio"].get(raw)), _ratio(row["ratio"].get("torch")),
            _triple(row.get("gflops"), row, ".1f"),
            _triple({k: 100 * v for k, v in (row.get("peak_fraction") or {}).items()}, row, ".0f",
                    ("tinynet", "torch")),
            _triple(row.get("us_per_op"), row, ".2f"),
            "" if busy is None else f"{100 * busy:.0f}%"))
    widths = [max(len(str(line[i])) for line in lines if not _is_skip(line))
              for i in range(len(HEADER))]
    out = []
    for line in lines:
        if _is_skip(line):
            out.append(f"{line[0]:<{widths[0]}}  {line[2]}")
            continue
        cells = [f"{line[0]:<{widths[0]}}", f"{line[1]:<{widths[1]}}"]
        cells += [f"{cell:>{w}}" for cell, w in zip(line[2:], widths[2:])]
        out.append("  ".join(cells).rstrip())
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def render(rows: list[dict[str, Any]], targets: list[dict[str, Any]] | None = None,
           env: dict[str, Any] | None = None) -> str:
    """The tables as text. Ratios are tinynet's median time over the peer's: below 1 is faster."""
    parts = ["\n".join(machine_lines(env))] if env else []
    configs = list(dict.fromkeys(row.get("threads", "1") for row in rows))
    counts = (env or {}).get("threads", {}).get("configs") or {}
    for config in configs:
        parts.append(f"{_threads_title(config, counts.get(config))}:\n"
                     + _table([row for row in rows if row.get("threads", "1") == config]))
    text = "\n\n".join(parts)
    text += ("\n×raw, ×torch: tinynet median time / peer median time (below 1: tinynet faster). "
             "of peak: GFLOP/s over a single-thread SGEMM's timed in the same rounds. µs/op: per op applied "
             "(forward) or per node walked (backward). busy: CPU share other processes used "
             "during the measurement.")
    if targets:
        where = (env or {}).get("machine", {}).get("cpu_model")
        text += f"\n\nTargets{f' on this machine ({where})' if where else ''}:\n" \
            + render_targets(targets)
    return text


def _is_skip(line: tuple) -> bool:
    return str(line[2]).startswith("skipped")


def render_targets(targets: list[dict[str, Any]]) -> str:
    lines = []
    for t in targets:
        threads = t.get("threads", "1")
        where = "1 thread" if threads == "1" else f"{threads} threads"
        if t["met"] is None:
            verdict, value = "not measured", ""
        else:
            verdict = "MET " if t["met"] else "MISSED"
            if t.get("kind") == "fraction of peak":
                value = f"{100 * t['value']:.0f}% of peak (at least {100 * t['limit']:.0f}%)"
            else:
                value = f"{t['value']:.2f}× (limit {t['limit']:.2f}×)"
        lines.append(f"  [{verdict}] {where:<15} {t['text']}: {value}")
    return "\n".join(lines)
