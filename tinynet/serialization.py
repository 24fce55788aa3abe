"""``tn.save`` and ``tn.load``: state dicts on disk as NumPy ``.npz`` files, with no pickle.

The file is an ordinary ``.npz`` archive:

* every tensor is one array, named by its dotted path in the saved object (``'0.weight'``,
  ``'state.0.exp_avg'``), so ``numpy.load(path)`` reads the weights without tinynet;
* one more entry, ``'__tinynet_structure__'``, is a JSON text that records the object's shape:
  which dicts, lists and tuples hold what, the type of every key (an optimizer's state is
  keyed by ints), and the plain values (ints, floats, bools, strings, None).

No pickle is written or read (``allow_pickle=False``), so loading a file can never run code.
Writes go to a temporary file in the same folder, which is renamed over the target only once
complete: a crash mid-write leaves any previous file intact and no half-written one.

>>> tn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, "ckpt.npz")
>>> checkpoint = tn.load("ckpt.npz")
>>> model.load_state_dict(checkpoint["model"])
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from typing import Any

import numpy

from tinynet import backend
from tinynet.tensor import Tensor

__all__ = ["load", "save"]

STRUCTURE_KEY = "__tinynet_structure__"
FORMAT = "tinynet-npz"
VERSION = 1


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


def load(f: str | os.PathLike, map_location: str | None = None) -> Any:
    """Read what ``tn.save`` wrote: the same nest of dicts, lists and tuples, with every saved
    Tensor back as a Tensor (on the CPU, or on ``map_location``).

    A plain ``.npz`` written by ``numpy.savez`` loads as a dict of name → Tensor.

    >>> model.load_state_dict(tn.load("model.npz"))
    """
    path = os.fspath(f)
    device = backend.check_device(map_location or "cpu")
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
        return _decode(header["root"], arrays, device)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"tn.load: {path!r} has a damaged structure entry: {exc}") from exc


# --------------------------------------------------------------------- encoding
def _encode(obj: Any, path: str, arrays: dict[str, numpy.ndarray]) -> dict[str, Any]:
    """A JSON-able description of ``obj``; its arrays go into ``arrays`` under dotted paths."""
    if isinstance(obj, Tensor):
        return {"tensor": _store(backend.to_numpy(obj.data), path, arrays)}
    if backend.is_array(obj):
        return {"array": _store(backend.to_numpy(obj), path, arrays)}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"tn.save: dict keys must be str or int, got {key!r} "
                                f"({type(key).__name__}) at {path or 'the top level'!r}")
            items.append([key, _encode(value, _join(path, key), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(value, _join(path, i), arrays) for i, value in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, numpy.generic) and not isinstance(obj, numpy.object_):
        return {"value": obj.item()}
    raise TypeError(f"tn.save: cannot save a {type(obj).__name__} at {path or 'the top level'!r}; "
                    "only Tensors, arrays, dicts, lists, tuples, numbers, strings and None")


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


def _decode(node: dict[str, Any], arrays: dict[str, numpy.ndarray], device: str) -> Any:
    (kind, content), = node.items()
    if kind == "tensor":
        return Tensor(backend.to_device(arrays[content], device))
    if kind == "array":
        return arrays[content]
    if kind == "dict":
        return {key: _decode(value, arrays, device) for key, value in content}
    if kind == "list":
        return [_decode(value, arrays, device) for value in content]
    if kind == "tuple":
        return tuple(_decode(value, arrays, device) for value in content)
    if kind == "value":
        return content
    raise ValueError(f"unknown entry kind {kind!r}")


# --------------------------------------------------------------------- files
def _write_npz(file: Any, arrays: dict[str, numpy.ndarray]) -> None:
    """The archive ``numpy.savez`` writes, without its reserved keyword names ('file')."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, numpy.asanyarray(array), allow_pickle=False)


def _write_atomically(path: str, arrays: dict[str, numpy.ndarray]) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``.

    The rename is atomic on POSIX and Windows, so readers see the old file or the new one, never
    a partial one; on any error the temporary file is removed.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"tn.save: folder {folder!r} does not exist (create it first)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"tn.save: {path!r} is a directory; give a file name")
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as file:  # "x": never clobber; mode follows the umask
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _read_npz(path: str) -> dict[str, numpy.ndarray]:
    """Every array of the archive at ``path``, read eagerly so a damaged file fails here."""
    try:
        contents = numpy.load(path, allow_pickle=False)
        if not isinstance(contents, numpy.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not an .npz archive")
        with contents:
            return {name: contents[name] for name in contents.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"tn.load: {path!r} is not a readable .npz file (is it truncated or "
                         f"corrupt?): {exc}") from exc
