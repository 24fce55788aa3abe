"""Where data sets live, and how a file gets there safely.

The data root is, in order: the ``root`` argument, the ``TINYNET_DATA`` environment variable,
or a per-user cache folder (``$XDG_CACHE_HOME/tinynet``, by default ``~/.cache/tinynet``).

A download tries each known mirror in turn. It streams into a temporary file next to the
destination, stops as soon as more than the published size arrives, checks the byte count and
the md5 against the published ones, and only then renames the file into place, so a file at its
final path is always complete. A mirror that fails (unreachable, too short, too long, wrong
checksum) is reported with a :class:`DataWarning` and the next one is tried.

Files already on disk are accepted by the md5 of the file as published *or* by the md5 of its
decompressed content, because a file recompressed by someone (same bytes inside, different
``.gz``) is just as good. The file's md5 is computed first, streaming; only a file that fails it
is decompressed, and never past the published decompressed size, so a gzip bomb costs no more
memory than the real file. Content that matches neither is reported and never parsed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import io
import os
import sys
import tempfile
import urllib.request
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_CHUNK_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class DataWarning(UserWarning):
    """Something about the data needs the user's attention: a bad file, a failed mirror, a fallback."""


class DownloadError(RuntimeError):
    """No mirror delivered a complete file with the expected checksum."""


@dataclass(frozen=True)
class Resource:
    """One published file: its name, the md5 of the file as published, for ``.gz`` files the md5
    of its decompressed content, and the sizes in bytes of both.

    ``size`` caps a download (a file is only downloaded when it is known); ``raw_size`` caps the
    decompression of a file on disk that is checked by ``raw_md5``, so it is required with it.

    >>> Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", size=4542)
    Resource(filename='t10k-labels-idx1-ubyte.gz', md5='ec29112dd5afa0611ce80d1b7f02629c', \
raw_md5=None, size=4542, raw_size=None)
    """

    filename: str
    md5: str
    raw_md5: str | None = None
    size: int | None = None
    raw_size: int | None = None

    def __post_init__(self) -> None:
        if self.raw_md5 is not None and self.raw_size is None:
            raise ValueError(f"Resource {self.filename!r}: raw_md5 needs raw_size, the size that caps "
                             "the decompression of an unverified file")


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
    the decompressed file itself (the md5 of the content matches ``resource.raw_md5``). Only a
    file that fails the first test is decompressed to try the second, and never past
    ``resource.raw_size``.
    """
    path = Path(path)
    published = md5_of_file(path) == resource.md5
    problem = ""
    if published or resource.raw_md5 is not None:
        try:
            content = read_content(path, resource.raw_size)
        except ValueError as err:
            problem = f"; {err}"
        else:
            if published or md5_of_bytes(content) == resource.raw_md5:
                return content
    warnings.warn(f"{path}: checksum does not match {resource.filename} (expected md5 {resource.md5}"
                  + (f" or decompressed md5 {resource.raw_md5}" if resource.raw_md5 else "")
                  + f"{problem}); the file is corrupt, truncated or a different file, so it is ignored",
                  DataWarning, stacklevel=2)
    return None


@contextlib.contextmanager
def open_content(source: str | os.PathLike | bytes, name: str | None = None) -> Iterator[BinaryIO]:
    """A binary stream of a file's content (a path, or the file's bytes), decompressed on the fly
    when the file is gzip. A corrupt or cut-off gzip raises ``ValueError`` naming the file (``name``,
    else the path) while the stream is read.
    """
    name = name or _describe(source)
    with (io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")) as file:
        is_gzip = file.read(2) == _GZIP_MAGIC
        file.seek(0)
        try:
            if is_gzip:
                with gzip.GzipFile(fileobj=file) as stream:
                    yield stream
            else:
                yield file
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:  # EOFError: cut off mid-stream
            raise ValueError(f"{name} is a corrupt or truncated gzip file ({err})") from None


def read_at_most(stream: BinaryIO, limit: int | None) -> bytes:
    """The rest of ``stream``, read in chunks, but never more than ``limit + 1`` bytes (``None``: no
    limit): a result longer than ``limit`` says there is more, and a decompression bomb stops there."""
    chunks, total = [], 0
    while limit is None or total <= limit:
        chunk = stream.read(_CHUNK_BYTES if limit is None else min(_CHUNK_BYTES, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_content(source: str | os.PathLike | bytes, limit: int | None = None,
                 name: str | None = None) -> bytes:
    """The content of a file (a path, or its bytes), decompressed if it is gzip, and no more than
    ``limit`` bytes of it: ``ValueError`` naming the file when it is a corrupt gzip or longer.

    >>> read_content(gzip.compress(b"abc"), limit=3)
    b'abc'
    """
    name = name or _describe(source)
    with open_content(source, name) as stream:
        content = read_at_most(stream, limit)
    if limit is not None and len(content) > limit:
        raise ValueError(f"{name} holds more than the expected {limit} bytes")
    return content


def _describe(source: str | os.PathLike | bytes) -> str:
    """How error messages name a file given as a path or as its bytes."""
    return "data" if isinstance(source, (bytes, bytearray)) else str(source)


def copies_of(resource: Resource, folders: Iterable[Path]) -> list[Path]:
    """The files in ``folders`` that may be ``resource``: its published name, and for a ``.gz``
    the name without ``.gz`` (where torchvision leaves the decompressed files), in search order."""
    names = [resource.filename]
    if resource.filename.endswith(".gz"):
        names.append(resource.filename[:-3])
    return [folder / name for folder in folders for name in names if (folder / name).is_file()]


def find_verified(resource: Resource, folders: Iterable[Path]) -> tuple[bytes, Path] | None:
    """The content and path of the first copy of ``resource`` in ``folders`` that checks out
    (see :func:`copies_of` for the names tried)."""
    for path in copies_of(resource, folders):
        content = verified_content(path, resource)
        if content is not None:
            return content, path
    return None


def download_resource(resource: Resource, folder: str | os.PathLike, mirrors: Sequence[str],
             timeout: float = 30.0) -> Path:
    """Fetch ``resource`` into ``folder`` from the first mirror that delivers it intact.

    Each mirror is a URL prefix (``https://host/path/``) to which the file name is appended.
    ``resource.size`` is required: no mirror may send more. Raises :class:`DownloadError` naming
    every mirror's failure when none succeeds.

    >>> labels = Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", size=4542)
    >>> download_resource(labels, "~/.cache/tinynet/mnist",
    ...          ["https://ossci-datasets.s3.amazonaws.com/mnist/"])  # doctest: +SKIP
    """
    if resource.size is None:
        raise ValueError(f"download_resource: {resource.filename} has no expected size; downloads "
                         "are capped at it, so give Resource(..., size=<bytes>)")
    folder = Path(folder).expanduser()
    destination = folder / resource.filename
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + resource.filename
        try:
            folder.mkdir(parents=True, exist_ok=True)
            print(f"Downloading {url} to {destination}", file=sys.stderr)
            _fetch_verified(url, destination, resource, timeout)
            return destination
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError is an OSError
            failures.append(f"{url}: {err}")
            next_step = "; trying the next mirror" if mirror != mirrors[-1] else ""
            warnings.warn(f"download of {resource.filename} from {url} failed: {err}{next_step}",
                          DataWarning, stacklevel=2)
    raise DownloadError(f"could not download {resource.filename} into {folder}: "
                        + ("; ".join(failures) if failures else "no mirrors given"))


def _fetch_verified(url: str, destination: Path, resource: Resource, timeout: float) -> None:
    """Stream ``url`` into a temporary file beside ``destination``, reading no more than
    ``resource.size`` bytes; rename it there only when the byte count and md5 are right. Raises
    ``OSError``/``ValueError`` otherwise, leaving nothing."""
    size = resource.size
    descriptor, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.",
                                             suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with os.fdopen(descriptor, "wb") as file, urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            if announced is not None and int(announced) > size:
                raise ValueError(f"the server announces {announced} bytes, more than the expected {size}")
            while chunk := response.read(min(_CHUNK_BYTES, size + 1 - received)):
                received += len(chunk)
                if received > size:
                    raise ValueError(f"the server sent more than the expected {size} bytes; stopped there")
                file.write(chunk)
                digest.update(chunk)
        if announced is not None and received != int(announced):
            raise ValueError(f"truncated: received {received} of {announced} bytes")
        if received != size:
            raise ValueError(f"truncated: received {received} of the expected {size} bytes")
        if digest.hexdigest() != resource.md5:
            raise ValueError(f"md5 {digest.hexdigest()} does not match the expected {resource.md5}")
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a shared data folder must stay readable
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
