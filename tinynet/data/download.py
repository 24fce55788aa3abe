"""Where data sets live, and how a file gets there safely.

The data root is, in order: the ``root`` argument, the ``TINYNET_DATA`` environment variable,
or a per-user cache folder (``$XDG_CACHE_HOME/tinynet``, by default ``~/.cache/tinynet``).

A download tries each known mirror in turn. It streams into a temporary file next to the
destination, checks the byte count against ``Content-Length`` and the md5 against the published
one, and only then renames the file into place, so a file at its final path is always complete.
A mirror that fails (unreachable, truncated, wrong checksum) is reported with a
:class:`DataWarning` and the next one is tried.

Files already on disk are accepted by the md5 of the file as published *or* by the md5 of its
decompressed content, because a file recompressed by someone (same bytes inside, different
``.gz``) is just as good. Content that matches neither is reported and never parsed.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_CHUNK_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class DataWarning(UserWarning):
    """Something about the data needs the user's attention: a bad file, a failed mirror, a fallback."""


class DownloadError(RuntimeError):
    """No mirror delivered a complete file with the expected checksum."""


@dataclass(frozen=True)
class Resource:
    """One published file: its name, the md5 of the file as published, and (for ``.gz`` files)
    the md5 of its decompressed content.

    >>> Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")
    Resource(filename='t10k-labels-idx1-ubyte.gz', md5='ec29112dd5afa0611ce80d1b7f02629c', raw_md5=None)
    """

    filename: str
    md5: str
    raw_md5: str | None = None


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that holds the data sets: ``root``, else ``$TINYNET_DATA``, else the user cache.

    >>> data_root("/tmp/my-data")
    PosixPath('/tmp/my-data')
    """
    if root is not None:
        return Path(root).expanduser()
    from_env = os.environ.get("TINYNET_DATA")
    if from_env:
        return Path(from_env).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache_home).expanduser() / "tinynet"


def md5_of_bytes(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def md5_of_file(path: str | os.PathLike) -> str:
    """The md5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_content(path: str | os.PathLike, resource: Resource) -> bytes | None:
    """The (decompressed) content of ``path`` if it is ``resource``, else ``None`` with a warning.

    The file may be the published file (its md5 matches ``resource.md5``), a recompressed copy or
    the decompressed file itself (the md5 of the content matches ``resource.raw_md5``).
    """
    raw = Path(path).read_bytes()
    is_gzip = raw[:2] == _GZIP_MAGIC
    if md5_of_bytes(raw) == resource.md5:
        return _gunzip(raw, path) if is_gzip else raw
    if resource.raw_md5 is not None:
        content = _gunzip(raw, path) if is_gzip else raw
        if content is not None and md5_of_bytes(content) == resource.raw_md5:
            return content
    warnings.warn(f"{path}: checksum does not match {resource.filename} (expected md5 {resource.md5}"
                  + (f" or decompressed md5 {resource.raw_md5}" if resource.raw_md5 else "")
                  + "); the file is corrupt, truncated or a different file, so it is ignored",
                  DataWarning, stacklevel=2)
    return None


def _gunzip(raw: bytes, path: str | os.PathLike) -> bytes | None:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error):  # BadGzipFile is an OSError; truncation is EOFError
        return None


def find_verified(resource: Resource, folders: Iterable[Path]) -> tuple[bytes, Path] | None:
    """The content and path of the first copy of ``resource`` in ``folders`` that checks out.

    Each folder is searched for the published name and for the name without ``.gz`` (where
    torchvision leaves the decompressed files).
    """
    names = [resource.filename]
    if resource.filename.endswith(".gz"):
        names.append(resource.filename[:-3])
    for folder in folders:
        for name in names:
            path = folder / name
            if path.is_file():
                content = verified_content(path, resource)
                if content is not None:
                    return content, path
    return None


def download_resource(resource: Resource, folder: str | os.PathLike, mirrors: Sequence[str],
             timeout: float = 30.0) -> Path:
    """Fetch ``resource`` into ``folder`` from the first mirror that delivers it intact.

    Each mirror is a URL prefix (``https://host/path/``) to which the file name is appended.
    Raises :class:`DownloadError` naming every mirror's failure when none succeeds.

    >>> labels = Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")
    >>> download_resource(labels, "~/.cache/tinynet/mnist",
    ...          ["https://ossci-datasets.s3.amazonaws.com/mnist/"])  # doctest: +SKIP
    """
    folder = Path(folder).expanduser()
    destination = folder / resource.filename
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + resource.filename
        try:
            folder.mkdir(parents=True, exist_ok=True)
            print(f"Downloading {url} to {destination}", file=sys.stderr)
            _fetch_verified(url, destination, resource.md5, timeout)
            return destination
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError is an OSError
            failures.append(f"{url}: {err}")
            next_step = "; trying the next mirror" if mirror != mirrors[-1] else ""
            warnings.warn(f"download of {resource.filename} from {url} failed: {err}{next_step}",
                          DataWarning, stacklevel=2)
    raise DownloadError(f"could not download {resource.filename} into {folder}: "
                        + ("; ".join(failures) if failures else "no mirrors given"))


def _fetch_verified(url: str, destination: Path, md5: str, timeout: float) -> None:
    """Stream ``url`` into a temporary file beside ``destination``; rename it there only when the
    byte count and md5 are right. Raises ``OSError``/``ValueError`` otherwise, leaving nothing."""
    descriptor, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.",
                                             suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with os.fdopen(descriptor, "wb") as file, urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                file.write(chunk)
                digest.update(chunk)
                received += len(chunk)
        if announced is not None and received != int(announced):
            raise ValueError(f"truncated: received {received} of {announced} bytes")
        if digest.hexdigest() != md5:
            raise ValueError(f"md5 {digest.hexdigest()} does not match the expected {md5}")
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a shared data folder must stay readable
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
