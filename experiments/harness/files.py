"""Writing results so that a crash never leaves half a file: write a sibling, then rename."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``;
    ``durable`` also flushes it to the disk first (fsync), so that it survives a power cut."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes owner-only files; results are for sharing
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_json(value: Any) -> Any:
    """NumPy scalars and arrays, tuples and non-finite floats as plain JSON (NaN becomes null)."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "tolist"):
        return to_json(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


RESULTS = "results.json"  # every study's results, in its output folder


def results_path(out: Path) -> Path:
    """Where the study whose output folder is ``out`` keeps its results."""
    return Path(out) / RESULTS


def write_json(path: Path, value: Any, durable: bool = True) -> None:
    """``value`` as indented JSON (see :func:`to_json`), written atomically."""
    atomic_write_bytes(path, (json.dumps(to_json(value), indent=2) + "\n").encode(), durable)


def read_json(path: Path) -> Any:
    """The JSON value stored at ``path``."""
    return json.loads(Path(path).read_text())


def write_text(path: Path, text: str) -> None:
    """``text`` as UTF-8, written atomically."""
    atomic_write_bytes(path, text.encode())
