"""How tensors print: PyTorch's layout and number formatting, and ``tn.set_printoptions``.

The rules are PyTorch's, so a program prints the same digits on both. For floating tensors, over
the non-zero finite elements shown:

* all integral -> ``1.``, ``-3.`` (no decimals);
* otherwise ``precision`` (4) decimals, ``0.5000``;
* scientific notation (``1.0000e-05``) when the largest/smallest magnitude ratio exceeds 1000, the
  largest exceeds 1e8 or the smallest is below 1e-4;

every element right-aligned to the widest. A tensor of more than ``threshold`` (1000) elements is
summarised: ``edgeitems`` (3) at each end of every dimension, with ``...`` between.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy

from tinynet import backend

@dataclasses.dataclass
class PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


OPTIONS = PrintOptions()
_PROFILES = {"default": PrintOptions(), "short": PrintOptions(precision=2, edgeitems=2),
             "full": PrintOptions(threshold=math.inf)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Change how tensors print, as ``torch.set_printoptions`` (``profile``: 'default', 'short'
    or 'full'; ``sci_mode=None`` lets the values choose)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of "
                             f"{', '.join(_PROFILES)}")
        for name in ("precision", "threshold", "edgeitems", "linewidth"):
            setattr(OPTIONS, name, getattr(_PROFILES[profile], name))
    for name, value in [("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)]:
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(OPTIONS)


@contextlib.contextmanager
def printoptions(**options: Any) -> Iterator[None]:
    """Print with other options inside a ``with`` block."""
    saved = get_printoptions()
    set_printoptions(**options)
    try:
        yield
    finally:
        set_printoptions(**saved)


class NumberFormat:
    """Formats one tensor's elements to a common width, choosing the style from the values."""

    def __init__(self, values: numpy.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        values = values.ravel()
        if not self.floating:
            self.width = max((len(str(v)) for v in values.tolist()), default=1)
            return
        shown = values[numpy.isfinite(values) & (values != 0)].astype(numpy.float64)
        if shown.size == 0:
            return
        magnitudes = numpy.abs(shown)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(numpy.all(shown == numpy.ceil(shown)))
        self.sci_mode = (largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4) \
            if OPTIONS.sci_mode is None else OPTIONS.sci_mode
        extra = 1 if self.int_mode and not self.sci_mode else 0  # the trailing '.'
        self.width = max(len(self._plain(v)) + extra for v in shown.tolist())

    def _plain(self, value: float) -> str:
        if self.sci_mode:
            return f"{value:.{OPTIONS.precision}e}"
        if self.int_mode:
            return f"{value:.0f}"
        return f"{value:.{OPTIONS.precision}f}"

    def __call__(self, value: Any) -> str:
        if not self.floating:
            text = str(value)
        else:
            text = self._plain(value)
            if self.int_mode and not self.sci_mode and math.isfinite(value):
                text += "."
        return text.rjust(self.width)


def _edges(array: numpy.ndarray) -> numpy.ndarray:
    """Only the elements a summarised print shows: ``edgeitems`` at both ends of every dim."""
    edge = OPTIONS.edgeitems
    for axis, n in enumerate(array.shape):
        if n > 2 * edge:
            array = numpy.take(array, list(range(edge)) + list(range(n - edge, n)), axis=axis)
    return array


def _body(array: numpy.ndarray, indent: int, summarize: bool, fmt: Any) -> str:
    edge = OPTIONS.edgeitems
    if array.ndim == 0:
        return fmt(array.item())
    cut = summarize and array.shape[0] > 2 * edge
    if array.ndim == 1:
        if summarize and not edge:
            items = ["..."]
        elif cut:
            items = [fmt(v) for v in array[:edge].tolist()] + [" ..."] + \
                [fmt(v) for v in array[-edge:].tolist()]
        else:
            items = [fmt(v) for v in array.tolist()]
        per_line = max(1, (OPTIONS.linewidth - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(array.shape[0])
    if cut:
        rows = list(range(edge)) + [None] + list(range(array.shape[0] - edge, array.shape[0]))
    parts = ["..." if i is None else _body(array[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


class ComplexFormat:
    """Complex elements: the real and the imaginary parts each get a NumberFormat."""

    def __init__(self, values: numpy.ndarray) -> None:
        self.real, self.imag = NumberFormat(values.real), NumberFormat(values.imag)
        self.width = self.real.width + self.imag.width + 1

    def __call__(self, value: complex) -> str:
        imaginary = (self.imag(value.imag) + "j").lstrip()
        return self.real(value.real) + ("" if imaginary[0] in "+-" else "+") + imaginary


def format_values(array: numpy.ndarray, indent: int) -> str:
    """The bracketed elements of a tensor whose repr starts ``indent`` characters in."""
    if array.size == 0:
        return "[]"
    summarize = array.size > OPTIONS.threshold
    shown = _edges(array) if summarize else array
    fmt = (ComplexFormat if array.dtype.kind == "c" else NumberFormat)(shown)
    return _body(array, indent, summarize, fmt)


def add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """Append ``dtype=…``, ``grad_fn=…`` after the values, wrapping at the line width."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(tensor: Any) -> str:
    """``tensor([...], dtype=…, device=…, grad_fn=<…>)``, as PyTorch prints it; the dtype is named
    ``tinynet.float64`` and shown when it is not the default (float, int64, bool)."""
    prefix = "tensor("
    array = backend.to_numpy(tensor.array)
    suffixes = []
    if tensor.device != backend.default_device:
        suffixes.append(f"device='{'cuda:0' if tensor.device == 'cuda' else tensor.device}'")
    default_complex = numpy.dtype(numpy.complex128 if backend.default_float == numpy.float64
                                  else numpy.complex64)
    if array.size == 0:
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if array.dtype != backend.default_float:
            suffixes.append(f"dtype=tinynet.{array.dtype}")
    elif array.dtype not in (backend.default_float, default_complex, numpy.dtype(numpy.int64),
                             numpy.dtype(numpy.bool_)):
        suffixes.append(f"dtype=tinynet.{array.dtype}")
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{tensor.grad_fn.name()}>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return add_suffixes(prefix + format_values(array, len(prefix)), suffixes, len(prefix))
