"""The history plot: one case's ratios and times across the JSON records, oldest first."""

from __future__ import annotations

from pathlib import Path

from benchmarks import record


def history(case: str, directory: Path = record.RESULTS_DIR, out: Path | None = None,
            profile: str | None = "full", threads: str = "1") -> Path:
    """Plot ``case`` over the records in ``directory`` and save a PNG; return its path.

    Top: tinynet's time / each peer's time per phase (below 1: tinynet faster; solid lines
    against PyTorch, dashed against NumPy/CuPy). Bottom: tinynet's median time per phase. Only
    records of ``profile`` are used (None: all), and their rows of the thread setting
    ``threads`` ('1', 'default'…); each label gives the date, the commit (* for uncommitted
    changes), the CPU and how busy the machine was.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points: dict[tuple[str, str], list[tuple[int, float]]] = {}
    times: dict[str, list[tuple[int, float]]] = {}
    labels: list[str] = []
    for rec in record.load_all(directory):
        if profile is not None and rec.get("profile") != profile:
            continue
        rows = [r for r in rec.get("rows", []) if r.get("case") == case and not r.get("skipped")
                and _row_threads(r, rec) == threads]
        if not rows:
            continue
        x = len(labels)
        git = rec["environment"]["git"]
        cpu = rec["environment"].get("machine", {}).get("cpu_model", "?")
        busy = rec.get("others_busy")
        labels.append(f"{rec['started'][:16]}\n{git['commit'][:7]}{'*' if git.get('dirty') else ''}"
                      f" {cpu[:24]}{_kernel(rec)}"
                      + ("" if busy is None else f"\nbusy {100 * busy:.0f}%"))
        for row in rows:
            for peer, value in row["ratio"].items():
                points.setdefault((row["phase"], peer), []).append((x, value))
            times.setdefault(row["phase"], []).append((x, row["seconds"]["tinynet"]["median"]))
    if not labels:
        raise ValueError(f"no {profile or ''} record in {directory} has case {case!r} on "
                         f"threads {threads!r}")

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(6.0, 1.4 * len(labels)), 7), sharex=True)
    colors = {phase: f"C{i}" for i, phase in enumerate(sorted(times))}  # one colour per phase
    for (phase, peer), series in sorted(points.items()):
        xs, ys = zip(*series)
        top.plot(xs, ys, marker="o", color=colors[phase], linestyle="-" if peer == "torch" else "--",
                 label=f"{phase} vs {peer}")
    top.axhline(1.0, color="grey", linewidth=0.8)
    top.set_ylabel("tinynet time / peer time")
    top.set_title(f"{case} ({'1 thread' if threads == '1' else threads + ' threads'} each): "
                  f"history over {len(labels)} records")
    top.legend(fontsize="small")
    for phase, series in sorted(times.items()):
        xs, ys = zip(*series)
        bottom.plot(xs, [y * 1e3 for y in ys], marker="o", color=colors[phase], label=phase)
    bottom.set_ylabel("tinynet median time (ms)")
    bottom.set_yscale("log")
    bottom.legend(fontsize="small")
    bottom.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize="small")
    fig.tight_layout()
    out = Path(out) if out is not None else Path(f"history-{case}.png")
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _kernel(rec: dict) -> str:
    """'\nBLAS SkylakeX' from a record's thread pools (a kernel can halve a GEMM's time), with
    'forced' when OPENBLAS_CORETYPE chose it; '' for records that don't say."""
    blas = rec["environment"].get("blas", {})
    pools = blas.get("threadpools")
    kernels = [p.get("architecture") for p in pools if p.get("architecture")] \
        if isinstance(pools, list) else []
    if not kernels:
        return ""
    forced = blas.get("forced_kernel") or rec["environment"].get("threads", {}).get(
        "env", {}).get("OPENBLAS_CORETYPE")
    return f"\nBLAS {kernels[0]}" + (" (forced)" if forced else "")


def _row_threads(row: dict, rec: dict) -> str:
    """A row's thread setting; older records set one for the whole run (None: the defaults)."""
    if "threads" in row:
        return row["threads"]
    requested = rec["environment"].get("threads", {}).get("requested")
    return "default" if requested is None else str(requested)
