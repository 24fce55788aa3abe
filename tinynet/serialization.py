"""``tn.save`` and ``tn.load``: state dicts on disk as NumPy ``.npz`` files, with no pickle.

The file is an ordinary ``.npz`` archive:

* every tensor is one array, named by its dotted path in the saved object (``'0.weight'``,
  ``'state.0.exp_avg'``), so ``numpy.load(path)`` reads the weights without tinynet;
* one more entry, ``'__tinynet_structure__'``, is a JSON text that records the object's shape:
  which dicts, lists and tuples hold what, the type of every key (an optimizer's state is
  keyed by ints), and the plain values (ints, floats, bools, strings, None).

No pickle is written or read (``allow_pickle=False``), so loading a file can never run code.
Loading also refuses what no ``.npz`` holds: members that are not ``.npy`` arrays, arrays whose
header declares more bytes than their member can hold (so a crafted header can't make it allocate
terabytes), and a structure nested deeper than ``MAX_DEPTH``.

Writes go to a temporary file in the same folder, which is renamed over the target only once
complete: a crash mid-write leaves any previous file intact and no half-written one. A write
that was killed outright leaves its temporary file behind; the next successful save to the same
path removes it (a write still in progress holds a lock on its file, so it is left alone).

>>> tn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, "ckpt.npz")
>>> checkpoint = tn.load("ckpt.npz")
>>> model.load_state_dict(checkpoint["model"])
"""

from __future__ import annotations

import json
import math
import os
import secrets
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy

from tinynet import backend
from tinynet.tensor import Tensor

__all__ = ["load", "save"]

try:
    import fcntl
except ImportError:  # Windows: a file open for writing can't be removed, which protects it instead
    fcntl = None

STRUCTURE_KEY = "__tinynet_structure__"
FORMAT = "tinynet-npz"
VERSION = 1
MAX_DEPTH = 100  # dicts/lists/tuples inside one another; a state dict nests 3 or 4 deep
MAX_DEFLATE_RATIO = 1032  # deflate never expands data more than this, so no valid member holds more


def save(obj: Any, f: str | os.PathLike) -> None:
    """Write ``obj`` (a state dict, or any nest of dicts, lists and tuples holding Tensors,
    NumPy arrays, numbers, strings and None) to the file ``f`` as an ``.npz`` archive.

    CUDA tensors are copied to the host first; the file always loads on the CPU. The path is
    used as given (no suffix is added); ``.npz`` is the natural one.

    >>> tn.save(model.state_dict(), "model.npz")
    """
    arrays: dict[str, numpy.ndarray] = {}
    root = _encode(obj, "", arrays)
    header = {"format": FORMAT, "version": VERSION, "root": root}
    arrays[STRUCTURE_KEY] = numpy.array(json.dumps(header))
    _write_atomically(os.fspath(f), arrays)


def load(f: str | os.PathLike, map_location: str | None = None, *,
         weights_only: bool | None = None) -> Any:
    """Read what ``tn.save`` wrote: the same nest of dicts, lists and tuples, with every saved
    Tensor back as a Tensor (on the CPU, or on ``map_location``).

    A plain ``.npz`` written by ``numpy.savez`` loads as a dict of name → Tensor.
    ``weights_only`` is accepted for PyTorch compatibility and changes nothing: tinynet never
    unpickles, so every load is as safe as PyTorch's ``weights_only=True``.

    >>> model.load_state_dict(tn.load("model.npz"))
    """
    path = os.fspath(f)
    device = backend.check_device(map_location or "cpu")
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"tn.load: weights_only must be a bool or None, got {weights_only!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"tn.load: no such file: {path!r}")
    arrays = _read_npz(path)
    structure = arrays.pop(STRUCTURE_KEY, None)
    if structure is None:  # written by numpy.savez, not tn.save
        return {key: Tensor(backend.to_device(array, device)) for key, array in arrays.items()}
    try:
        header = json.loads(str(structure[()]))
        if header.get("format") != FORMAT:
            raise ValueError(f"unknown format {header.get('format')!r}")
        if header.get("version", 0) > VERSION:
            raise ValueError(f"written by a newer tinynet (format version {header['version']}, "
                             f"this one reads up to {VERSION})")
        return _decode(header["root"], arrays, device, 0)
    except RecursionError:  # json gives up first when the nesting is far past MAX_DEPTH
        raise ValueError(f"tn.load: {path!r} has a damaged structure entry: nested deeper than "
                         f"{MAX_DEPTH} levels") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"tn.load: {path!r} has a damaged structure entry: {exc}") from exc


# --------------------------------------------------------------------- encoding
def _encode(obj: Any, path: str, arrays: dict[str, numpy.ndarray], depth: int = 0) -> dict[str, Any]:
    """A JSON-able description of ``obj``; its arrays go into ``arrays`` under dotted paths."""
    if depth > MAX_DEPTH:
        raise ValueError(f"tn.save: containers nested deeper than {MAX_DEPTH} levels at {path!r}; "
                         "tn.load would refuse the file")
    if isinstance(obj, Tensor):
        return {"tensor": _store(backend.to_numpy(obj.array), path, arrays)}
    if backend.is_array(obj):
        return {"array": _store(backend.to_numpy(obj), path, arrays)}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"tn.save: dict keys must be str or int, got {key!r} "
                                f"({type(key).__name__}) at {path or 'the top level'!r}")
            items.append([key, _encode(value, _join(path, key), arrays, depth + 1)])
        return {"ordered_dict" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(value, _join(path, i), arrays, depth + 1) for i, value in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, numpy.generic) and not isinstance(obj, numpy.object_):
        return {"value": obj.item()}
    hint = (f"; save its state_dict() instead, and load it into a new {type(obj).__name__} "
            "with load_state_dict() (tinynet writes no pickle, so it can't store a whole model "
            "or optimizer as torch.save(model, f) does)") if hasattr(obj, "state_dict") else ""
    raise TypeError(f"tn.save: cannot save a {type(obj).__name__} at {path or 'the top level'!r}; "
                    f"only Tensors, arrays, dicts, lists, tuples, numbers, strings and None{hint}")


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _store(array: numpy.ndarray, path: str, arrays: dict[str, numpy.ndarray]) -> str:
    """Add ``array`` under its dotted path (made unique if two paths spell the same name)."""
    if array.dtype.hasobject:
        raise TypeError(f"tn.save: array at {path!r} has dtype object, which can't be saved "
                        "without pickle")
    name, suffix = path or "tensor", 1
    while name in arrays or name == STRUCTURE_KEY:
        suffix += 1
        name = f"{path or 'tensor'}~{suffix}"
    arrays[name] = array
    return name


def _decode(node: dict[str, Any], arrays: dict[str, numpy.ndarray], device: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    (kind, content), = node.items()
    if kind == "tensor":
        return Tensor(backend.to_device(arrays[content], device))
    if kind == "array":
        return arrays[content]
    if kind in ("dict", "ordered_dict"):  # a state_dict() is an OrderedDict, as in PyTorch
        kind_of_dict = OrderedDict if kind == "ordered_dict" else dict
        return kind_of_dict((key, _decode(value, arrays, device, depth + 1)) for key, value in content)
    if kind == "list":
        return [_decode(value, arrays, device, depth + 1) for value in content]
    if kind == "tuple":
        return tuple(_decode(value, arrays, device, depth + 1) for value in content)
    if kind == "value":
        return content
    raise ValueError(f"unknown entry kind {kind!r}")


# --------------------------------------------------------------------- files
def _write_npz(file: Any, arrays: dict[str, numpy.ndarray]) -> None:
    """The archive ``numpy.savez`` writes, without its reserved keyword names ('file').

    An interruption (Ctrl-C, a SIGTERM raised as an exception) can land between the archive
    opening a member and the ``with`` taking it; closing the archive would then raise its own
    ValueError in place of the interruption, and again when the archive is collected. The
    caller discards the file on any error, so the archive is let go unfinished instead."""
    archive = zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True)
    try:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, numpy.asanyarray(array), allow_pickle=False)
        archive.close()
    except BaseException:
        archive.fp = None  # nothing left for close() or the collector to finish
        raise


def _write_atomically(path: str, arrays: dict[str, numpy.ndarray]) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``;
    then remove the temporary files that killed writes to ``path`` left behind.

    The rename is atomic on POSIX and Windows, so readers see the old file or the new one, never
    a partial one; on any error the temporary file is removed.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"tn.save: folder {folder!r} does not exist (create it first)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"tn.save: {path!r} is a directory; give a file name")
    prefix = f".{os.path.basename(path)}."
    file, temporary = _open_temporary(folder, prefix)
    try:
        with file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
            if fcntl is not None:
                os.replace(temporary, path)  # still locked, so no other save can take it for stale
        if fcntl is None:
            os.replace(temporary, path)  # Windows can't rename a file that is open
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _remove_stale_temporaries(folder, prefix)


def _open_temporary(folder: str, prefix: str) -> tuple[IO[bytes], str]:
    """A new file ``<prefix><random>.tmp`` in ``folder``, open for writing and (on POSIX) locked
    for as long as it is open, so :func:`_remove_stale_temporaries` leaves it alone."""
    while True:
        temporary = os.path.join(folder, f"{prefix}{secrets.token_hex(6)}.tmp")
        file = open(temporary, "xb")  # "x": never clobber; mode follows the umask
        if fcntl is None:
            return file, temporary
        fcntl.flock(file, fcntl.LOCK_EX)
        try:  # a stale-file sweep may have removed it between creating and locking it: then retry
            if os.path.samestat(os.fstat(file.fileno()), os.stat(temporary)):
                return file, temporary
        except FileNotFoundError:
            pass
        file.close()


def _remove_stale_temporaries(folder: str, prefix: str) -> None:
    """Remove the temporary files of writes to the same path that were killed (SIGKILL, power
    loss): those nobody holds locked (POSIX) or open (Windows refuses to remove those)."""
    for entry in os.scandir(folder):
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp") and len(name) == len(prefix) + 16
                and all(c in "0123456789abcdef" for c in name[len(prefix):-4])):
            continue
        try:
            with open(entry.path, "rb") as stale:
                if fcntl is not None:
                    fcntl.flock(stale, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a write holds it
                os.remove(entry.path)
        except OSError:  # locked by a write in progress, open on Windows, or already gone
            continue


def _read_npz(path: str) -> dict[str, numpy.ndarray]:
    """Every array of the archive at ``path``, read eagerly so a damaged file fails here.

    Each member must be a ``.npy`` array whose header declares no more bytes than the member can
    hold, checked before anything is allocated for it.
    """
    try:
        if not zipfile.is_zipfile(path):
            with open(path, "rb") as file:
                is_npy = file.read(6) == b"\x93NUMPY"
            raise ValueError("it holds a single .npy array, not an .npz archive" if is_npy else
                             "it is not a zip archive")
        arrays = {}
        with zipfile.ZipFile(path) as archive:
            room = os.path.getsize(path)
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise ValueError(f"member {info.filename!r} is not a .npy array, the only thing "
                                     "an .npz holds")
                with archive.open(info) as member:
                    _check_declared_size(member, info, room)
                with archive.open(info) as member:
                    arrays[info.filename[:-4]] = numpy.lib.format.read_array(member, allow_pickle=False)
        return arrays
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile,
            RuntimeError, NotImplementedError) as exc:  # zipfile's: encrypted, unknown compression
        raise ValueError(f"tn.load: {path!r} is not a readable .npz file (is it truncated or "
                         f"corrupt?): {exc}") from exc


def _check_declared_size(member: IO[bytes], info: zipfile.ZipInfo, room: int) -> None:
    """Raise ValueError when the ``.npy`` header of ``member`` declares more bytes of values than
    the member holds, or the member claims more than the archive's ``room`` bytes can hold."""
    version = numpy.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = numpy.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = numpy.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f"member {info.filename!r} is a .npy of version {version}, which tn.load "
                         "does not read")
    ratio = 1 if info.compress_type == zipfile.ZIP_STORED else MAX_DEFLATE_RATIO
    holds = min(info.file_size, ratio * min(info.compress_size, room)) - member.tell()
    declared = math.prod(shape) * dtype.itemsize  # Python ints: a huge header can't overflow
    if declared > holds:
        raise ValueError(f"member {info.filename!r} declares {declared} bytes of values "
                         f"(shape {shape}, {dtype}) but holds at most {max(holds, 0)}")
