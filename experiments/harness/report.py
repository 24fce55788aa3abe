"""Gather every finished study into ``report.md`` and a self-contained ``report.html``."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from experiments.harness.files import read_json, write_text
from experiments.harness.study import results_path, summary_markdown


def _finished(root: Path, order: list[str]) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for name in order:
        path = results_path(root / name)
        if path.exists():
            results = read_json(path)
            if results.get("status") == "finished":
                found.append((root / name, results))
    return found


def _status(results: dict[str, Any]) -> str:
    checks = results["checks"]
    shown = sum(c["shown"] for c in checks)
    return f"{shown}/{len(checks)} checks shown" if checks else "no checks"


def _anchor(results: dict[str, Any]) -> str:
    return re.sub(r"[^a-z0-9_-]", "", f"{results['code']}-{results['study']}".lower())


def build_markdown(root: Path, order: list[str]) -> str:
    studies = _finished(root, order)
    lines = ["# tinynet studies: report\n",
             "Every study rebuilt on tinynet alone. Each section gives the settings, the data "
             "source, the device, the wall time, the figures, the tables, and whether the expected "
             "outcome showed.\n", "## Contents\n"]
    for _, r in studies:
        lines.append(f"- [{r['code']} {r['study']}: {r['title']}](#{_anchor(r)})")
    missing = [name for name in order if name not in {r["study"] for _, r in studies}]
    if missing:
        lines.append(f"\nNot yet run: {', '.join(missing)}.")
    lines.append("")
    for folder, r in studies:
        text = summary_markdown(r, heading="##", image_prefix=f"{folder.name}/")
        lines.append(f'<a id="{_anchor(r)}"></a>\n')
        lines.append(text)
    lines.append("## All studies\n")
    lines.append("| study | title | profile | device | wall time (s) | status |")
    lines.append("|---|---|---|---|---|---|")
    for _, r in studies:
        lines.append(f"| {r['code']} `{r['study']}` | {r['title']} | {r['profile']} | {r['device']} "
                     f"| {r['wall_time_s']:.1f} | {_status(r)} |")
    for name in missing:
        lines.append(f"| `{name}` | | | | | not run |")
    return "\n".join(lines) + "\n"


def _inline(match: re.Match, root: Path) -> str:
    alt, src = match.group(1), match.group(2)
    data = base64.b64encode((root / src).read_bytes()).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def markdown_to_html(text: str, root: Path) -> str:
    """A small Markdown subset (headings, lists, tables, images, bold, code) as HTML."""
    out, in_list, table = [], False, []

    def inline(s: str) -> str:
        s = html.escape(s, quote=False)
        s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", s)
        return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', s)

    def flush_table() -> None:
        if table:
            head, *body = [row for row in table if not set(row.replace("|", "")) <= set("-: ")]
            cells = lambda row: [c.strip() for c in row.strip().strip("|").split("|")]  # noqa: E731
            out.append("<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in cells(head))
                       + "</tr></thead><tbody>")
            for row in body:
                out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in cells(row)) + "</tr>")
            out.append("</tbody></table>")
            table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if in_list and not line.startswith("- "):
            out.append("</ul>")
            in_list = False
        image = re.fullmatch(r"!\[([^\]]*)\]\(([^)]+)\)", line.strip())
        if image:
            out.append(_inline(image, root))
        elif line.startswith("<a id="):
            out.append(line)
        elif m := re.match(r"(#+) (.*)", line):
            level = len(m.group(1))
            out.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
        elif line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inline(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush_table()
    if in_list:
        out.append("</ul>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
             "line-height:1.45;color:#222}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}"
             "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}th{background:#f3f3f3}"
             "img{max-width:100%;border:1px solid #eee}code{background:#f5f5f5;padding:0 .2rem}"
             "h2{border-bottom:2px solid #ddd;margin-top:2.5rem}")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>tinynet studies</title>"
            f"<style>{style}</style></head><body>" + "\n".join(out) + "</body></html>\n")


def build_report(root: Path, order: list[str]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (figures inlined as data URIs) under ``root``."""
    text = build_markdown(root, order)
    md_path, html_path = root / "report.md", root / "report.html"
    write_text(md_path, text)
    write_text(html_path, markdown_to_html(text, root))
    return md_path, html_path
