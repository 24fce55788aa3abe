"""The terminal table of a run: one line per case and phase, then the targets."""

from __future__ import annotations

from typing import Any

RAW_PEERS = ("numpy", "cupy")


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


def _gflops(row: dict[str, Any]) -> str:
    figures = row.get("gflops") or {}
    if not figures:
        return ""
    return "/".join(f"{figures[k]:.1f}" if k in figures else "-"
                    for k in ("tinynet", _raw_peer(row), "torch"))


def _raw_peer(row: dict[str, Any]) -> str:
    return next((k for k in RAW_PEERS if k in row.get("seconds", {})), "numpy")


def render(rows: list[dict[str, Any]], targets: list[dict[str, Any]] | None = None) -> str:
    """The table as text. Ratios are tinynet's median time over the peer's: below 1 is faster."""
    header = ("case", "phase", "tinynet", "NumPy/CuPy", "PyTorch", "×raw", "×torch",
              "GFLOP/s tn/raw/pt", "busy")
    lines = [header]
    for row in rows:
        if row.get("skipped"):
            lines.append((row["case"], "", row["skipped"], "", "", "", "", "", ""))
            continue
        seconds = row["seconds"]
        raw = _raw_peer(row)
        busy = row.get("others_busy")
        lines.append((
            row["case"], row["phase"],
            format_seconds(seconds["tinynet"]["median"]),
            format_seconds(seconds[raw]["median"]) if raw in seconds else "-",
            format_seconds(seconds["torch"]["median"]) if "torch" in seconds else "-",
            _ratio(row["ratio"].get(raw)), _ratio(row["ratio"].get("torch")), _gflops(row),
            "" if busy is None else f"{100 * busy:.0f}%"))
    widths = [max(len(str(line[i])) for line in lines if len(line) > i and not _is_skip(line))
              for i in range(len(header))]
    out = []
    for line in lines:
        if _is_skip(line):
            out.append(f"{line[0]:<{widths[0]}}  {line[2]}")
            continue
        cells = [f"{line[0]:<{widths[0]}}", f"{line[1]:<{widths[1]}}"]
        cells += [f"{cell:>{w}}" for cell, w in zip(line[2:], widths[2:])]
        out.append("  ".join(cells))
    out.insert(1, "-" * len(out[0]))
    text = "\n".join(out)
    text += ("\n×raw, ×torch: tinynet median time / peer median time (below 1: tinynet faster). "
             "busy: CPU share other processes used during the measurement.")
    if targets:
        text += "\n\nTargets (issue 4):\n" + render_targets(targets)
    return text


def _is_skip(line: tuple) -> bool:
    return str(line[2]).startswith("skipped")


def render_targets(targets: list[dict[str, Any]]) -> str:
    lines = []
    for t in targets:
        if t["met"] is None:
            verdict, value = "not measured", ""
        else:
            verdict = "MET " if t["met"] else "MISSED"
            value = f"{t['value']:.2f}× (limit {t['limit']:.2f}×)"
        lines.append(f"  [{verdict}] {t['text']}: {value}")
    return "\n".join(lines)
