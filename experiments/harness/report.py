"""Markdown for one study (``summary.md``) and for all of them (``report.md`` and a
self-contained ``report.html``).

The report reads every study's ``results.json`` and treats it as untrusted input: a figure is
shown only when it is a PNG file inside that study's folder (anything else, or a missing file,
is reported in its place and the report is still built), every text and attribute of the HTML
is escaped, and links keep only relative and http(s) targets.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from experiments.harness.files import read_json, results_path, write_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OFFLINE = "offline-subset"


# ----------------------------------------------------------------------------- one study
def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts as a Markdown table (columns in first-seen order; '|' in cells escaped)."""
    if not rows:
        return "_(empty)_\n"
    columns = list(rows[0])
    for row in rows[1:]:
        columns += [c for c in row if c not in columns]

    def cell(v: Any) -> str:
        text = f"{v:.4g}" if isinstance(v, float) else "" if v is None else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _headline(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_headline(v)}" for k, v in value.items())
    if isinstance(value, list) and len(value) > 8:
        return f"{len(value)} values, from {_headline(value[0])} to {_headline(value[-1])}"
    if isinstance(value, list):
        return ", ".join(_headline(v) for v in value)
    return str(value)


def _setting(key: str, value: Any, samples: dict[str, Any]) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    used = samples.get(key)
    if used is not None and used != value:
        text += f" ({used} used)" if value else f" (all: {used})"
    return f"`{key}={text}`"


def figure_problem(folder: Path, name: Any) -> str | None:
    """Why the figure ``name`` of the study in ``folder`` can't be shown (None when it can): it
    must name a PNG file inside ``folder``."""
    if not isinstance(name, str) or not name:
        return f"figure entry {name!r} is not a file name"
    try:
        path = (folder / name).resolve()
        inside = path.is_relative_to(folder.resolve())
    except (OSError, ValueError):
        return f"figure {name!r} is not a valid path"
    if not inside:
        return f"figure {name!r} lies outside the study's folder; not shown"
    if not path.is_file():
        return f"figure {name!r} is missing"
    with path.open("rb") as f:
        if f.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            return f"figure {name!r} is not a PNG image; not shown"
    return None


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def summary_markdown(results: dict[str, Any], heading: str = "#", image_prefix: str = "",
                     folder: Path | None = None) -> str:
    """The study's summary: question, settings, tables, figures and outcome checks. With
    ``folder`` (the study's folder), each figure is first checked to be a PNG inside it."""
    h = heading
    parts = [f"{h} {_one_line(results['code'])} `{_one_line(results['study'])}`: "
             f"{_one_line(results['title'])}\n\n", f"{_one_line(results['question'])}\n\n"]
    if any(OFFLINE in str(s) for s in results.get("data_source", [])):
        parts.append("> **Offline subset:** this study ran on the small MNIST subset shipped with "
                     "tinynet, not on full MNIST; its numbers are not comparable to full-data ones.\n\n")
    samples = results.get("samples") or {}
    parts.append(f"- profile: `{results['profile']}`, seed {results['seed']}, device "
                 f"`{results['device']}`, wall time {float(results['wall_time_s']):.1f} s\n"
                 f"- data: {', '.join(map(str, results['data_source']))}\n"
                 "- settings: " + ", ".join(_setting(k, v, samples)
                                            for k, v in results["settings"].items()) + "\n")
    if results.get("records"):
        parts.append(f"\n{h}# Headlines\n\n")
        for key, value in results["records"].items():
            parts.append(f"- `{key}`: {_one_line(_headline(value))}\n")
    parts.append(f"\n{h}# Outcome\n\n")
    for c in results["checks"]:
        mark = "shown" if c["shown"] else "NOT shown"
        parts.append(f"- **{mark}**: {_one_line(c['expectation'])} {_one_line(c['detail'])}\n")
    for text in results.get("notes", []):
        parts.append(f"\n{text}\n")
    for name, table in results["tables"].items():
        parts.append(f"\n{h}# Table: {_one_line(name)}\n\n{_one_line(table['caption'])}\n\n"
                     f"{markdown_table(table['rows'])}")
    if results["figures"]:
        parts.append(f"\n{h}# Figures\n\n")
        for fig in results["figures"]:
            caption = _one_line(fig.get("caption", ""))
            problem = figure_problem(folder, fig.get("file")) if folder is not None else None
            if problem:
                parts.append(f"\n> **Figure not shown:** {problem}. {caption}\n")
                continue
            alt = caption.replace("[", "(").replace("]", ")")
            parts.append(f"\n![{alt}]({image_prefix}{fig['file']})\n\n*{caption}*\n")
    return "".join(parts)


# ----------------------------------------------------------------------------- all studies
def _finished(root: Path, order: list[str]) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    found, broken = [], []
    for name in order:
        path = results_path(root / name)
        if not path.exists():
            continue
        try:
            results = read_json(path)
        except (OSError, ValueError) as err:
            broken.append(f"{name}: {path} is unreadable ({err})")
            continue
        if isinstance(results, dict) and results.get("status") == "finished":
            found.append((root / name, results))
    return found, broken


def _shown(results: dict[str, Any]) -> tuple[int, int]:
    checks = results.get("checks") or []
    return sum(bool(c.get("shown")) for c in checks), len(checks)


def _anchor(results: dict[str, Any]) -> str:
    return re.sub(r"[^a-z0-9_-]", "", f"{results['code']}-{results['study']}".lower())


def _data_column(results: dict[str, Any]) -> str:
    sources = [str(s) for s in results.get("data_source", [])]
    if any(OFFLINE in s for s in sources):
        return "offline subset"
    if any(s.startswith("full") for s in sources):
        return "full"
    if any("jpeg" in s for s in sources):
        return "lossy JPEG copy"
    return "synthetic" if any("synthetic" in s for s in sources) else "none" if sources else "?"


def build_markdown(root: Path, order: list[str]) -> str:
    """``report.md``: the status table (with the tally of checks shown) at the top, then every
    finished study's summary."""
    studies, broken = _finished(root, order)
    shown = sum(_shown(r)[0] for _, r in studies)
    total = sum(_shown(r)[1] for _, r in studies)
    offline = [r["study"] for _, r in studies if _data_column(r) == "offline subset"]
    lines = ["# tinynet studies: report\n"]
    if offline:
        lines.append(f"> **Offline subset:** {len(offline)} of {len(studies)} studies ran on the small "
                     "MNIST subset shipped with tinynet, not on full MNIST "
                     f"({', '.join(offline)}). Their numbers are not comparable to full-data results; "
                     "point TINYNET_DATA at the full data (or use --download) and run again.\n")
    lines.append("Every study rebuilt on tinynet alone. Each section gives the settings, the data "
                 "source, the device, the wall time, the figures, the tables, and whether the expected "
                 "outcome showed.\n")
    lines.append(f"**Checks shown: {shown} of {total}** in {len(studies)} finished studies"
                 f" of {len(order)}.\n")
    lines.append("| study | title | profile | data | device | wall time (s) | checks shown |")
    lines.append("|---|---|---|---|---|---|---|")
    missing = [name for name in order if name not in {r["study"] for _, r in studies}]
    for _, r in studies:
        s, t = _shown(r)
        lines.append(f"| [{r['code']} `{r['study']}`](#{_anchor(r)}) | {_one_line(r['title'])} "
                     f"| {r['profile']} | {_data_column(r)} | {r['device']} "
                     f"| {float(r['wall_time_s']):.1f} | {s}/{t} |")
    for name in missing:
        lines.append(f"| `{name}` | | | | | | not run |")
    for problem in broken:
        lines.append(f"\n> **Not shown:** {problem}")
    lines.append("")
    for folder, r in studies:
        lines.append(f'<a id="{_anchor(r)}"></a>\n')
        try:
            lines.append(summary_markdown(r, heading="##", image_prefix=f"{folder.name}/", folder=folder))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            lines.append(f"## {r.get('study')}\n\n> **Not shown:** its results.json is malformed "
                         f"({type(err).__name__}: {err}).\n")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- HTML
def safe_url(url: str) -> str | None:
    """``url`` when it is relative (no scheme, no host) or http(s) with a host; None otherwise
    (``javascript:``, ``data:``, ``//host``…)."""
    if not url or any(ord(c) <= 32 or c in "\\\x7f" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme:
        return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None
    return None if parts.netloc or url.startswith("//") else url


def _emphasis(escaped: str) -> str:
    escaped = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", escaped)


_INLINE = re.compile(r"`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)")


def inline_html(text: str) -> str:
    """One line of Markdown (code, links, bold, italics) as HTML, every piece of text escaped;
    a link whose target :func:`safe_url` refuses is shown as plain text."""
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        out.append(_emphasis(html.escape(text[pos:m.start()])))
        if m.group(1) is not None:
            out.append(f"<code>{html.escape(m.group(1))}</code>")
        else:
            label, url = _emphasis(html.escape(m.group(2))), safe_url(m.group(3))
            out.append(f'<a href="{html.escape(url)}">{label}</a>' if url
                       else f"{label} (link {html.escape(m.group(3))} removed)")
        pos = m.end()
    out.append(_emphasis(html.escape(text[pos:])))
    return "".join(out)


def _image(alt: str, src: str, root: Path) -> str:
    folder, _, name = src.partition("/")
    problem = (figure_problem(root / folder, name) if folder and name and safe_url(src)
               else f"figure {src!r} is not a relative path")
    if problem is None:
        problem = figure_problem(root, src)  # and inside the run folder as a whole
    if problem:
        return f'<p class="missing"><strong>Figure not shown:</strong> {html.escape(problem)}</p>'
    data = base64.b64encode((root / src).read_bytes()).decode()
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _cells(row: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", row.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
         "line-height:1.45;color:#222}table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}"
         "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}th{background:#f3f3f3}"
         "img{max-width:100%;border:1px solid #eee}code{background:#f5f5f5;padding:0 .2rem}"
         "h2{border-bottom:2px solid #ddd;margin-top:2.5rem}blockquote{border-left:4px solid #e0a000;"
         "background:#fff8e0;margin:1rem 0;padding:.5rem 1rem}.missing{color:#a00}")


def markdown_to_html(text: str, root: Path) -> str:
    """The report's Markdown subset (headings, lists, quotes, tables, images, bold, code) as one
    self-contained HTML page; images inlined as data URIs after :func:`figure_problem`'s checks."""
    out, in_list, table = [], False, []

    def flush_table() -> None:
        if table:
            head, *body = [row for row in table if not set(row.replace("|", "")) <= set("-: ")]
            out.append("<table><thead><tr>" + "".join(f"<th>{inline_html(c)}</th>" for c in _cells(head))
                       + "</tr></thead><tbody>")
            for row in body:
                out.append("<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in _cells(row)) + "</tr>")
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
        image = re.fullmatch(r"!\[([^\]]*)\]\(([^)\s]+)\)", line.strip())
        if image:
            out.append(_image(image.group(1), image.group(2), root))
        elif anchor := re.fullmatch(r'<a id="([a-z0-9_-]+)"></a>', line.strip()):
            out.append(f'<a id="{anchor.group(1)}"></a>')
        elif m := re.match(r"(#{1,6}) (.*)", line):
            level = len(m.group(1))
            out.append(f"<h{level}>{inline_html(m.group(2))}</h{level}>")
        elif line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inline_html(line[2:])}</li>")
        elif line.startswith("> "):
            out.append(f"<blockquote>{inline_html(line[2:])}</blockquote>")
        elif line.strip():
            out.append(f"<p>{inline_html(line)}</p>")
    flush_table()
    if in_list:
        out.append("</ul>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>tinynet studies</title>"
            f"<style>{STYLE}</style></head><body>" + "\n".join(out) + "</body></html>\n")


def build_report(root: Path, order: list[str]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` (figures inlined as data URIs) under ``root``."""
    text = build_markdown(root, order)
    md_path, html_path = root / "report.md", root / "report.html"
    write_text(md_path, text)
    write_text(html_path, markdown_to_html(text, root))
    return md_path, html_path
