"""Every ```python block in docs/*.md and README.md runs, so the documentation can never go stale.

The blocks of one page run in order in one shared namespace, as a reader would type them.
A block that should not run belongs in a fence of another language (```text, ```bash, ```pycon).
"""

from __future__ import annotations

import copy
import re
import traceback
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of each ```python block, in order."""
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1))
            for match in FENCE.finditer(text)]


PAGES = sorted(page for page in [*DOCS.glob("*.md"), DOCS.parent / "README.md"]
               if python_blocks(page.read_text("utf-8")))


def test_block_extraction():
    text = "intro\n```python\na = 1\n```\n```bash\nls\n```\n```python\nb = a + 1\n\nc = b\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (9, "b = a + 1\n\nc = b\n")]


def test_the_backprop_tutorial_is_collected():
    assert DOCS / "backprop.md" in PAGES


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a page that writes files writes them here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    for line, code in python_blocks(page.read_text("utf-8")):
        # Compiled with the page's name and padded to the block's line, so a traceback points
        # at the line of the Markdown file.
        compiled = compile("\n" * (line - 1) + code, str(page), "exec")
        try:
            exec(compiled, namespace)
        except Exception:
            pytest.fail(f"{page.name}: the python block at line {line} failed:\n"
                        f"{traceback.format_exc()}", pytrace=False)


def test_the_readme_says_dask_is_for_trusted_clusters_and_its_tls_settings_are_dasks():
    readme = (DOCS.parent / "README.md").read_text("utf-8")
    assert "`--dask` is for trusted clusters only" in readme and "tls://" in readme
    settings = dict(re.findall(r"^export (DASK_\w+)=(\S+)", readme, re.MULTILINE))
    assert len(settings) == 4
    security = pytest.importorskip("distributed").Security
    import dask.config
    # the configuration a client started with these variables reads
    fresh = dask.config.update(copy.deepcopy(dask.config.config), dask.config.collect_env(settings))
    with dask.config.set(fresh):
        client = security()
    assert client.tls_ca_file == settings["DASK_DISTRIBUTED__COMM__TLS__CA_FILE"]
    assert client.tls_client_cert == settings["DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT"]
    assert client.tls_client_key == settings["DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY"]
    assert client.require_encryption is True
