"""Devices as PyTorch names them: ``tn.device``, the default device, ``tn.accelerator``.

A ``tn.device`` is a ``str`` ('cpu', 'cuda', 'cuda:0'), so it goes wherever tinynet takes a device
name, and a tensor's ``.device`` compares equal to both ``'cpu'`` and ``tn.device('cpu')``.
"""

from __future__ import annotations

from typing import Any

from tinynet import backend


class device(str):
    """A device: ``tn.device('cpu')``, ``tn.device('cuda')``, ``tn.device('cuda', 0)``.

    >>> tn.device("cuda:0").type, tn.device("cuda:0").index
    ('cuda', 0)
    """

    def __new__(cls, type: Any, index: int | None = None) -> device:
        if isinstance(type, device) and index is None:
            return type
        name = str(type)
        if ":" in name:
            name, _, number = name.partition(":")
            if index is not None or not number.isdigit():
                raise ValueError(f"device: invalid device {str(type)!r} (index {index!r}); expected "
                                 "'cpu', 'cuda' or 'cuda:<n>', or a type and an integer index")
            index = int(number)
        if name not in backend.DEVICES:
            raise ValueError(f"device: unknown device type {name!r}; expected one of "
                             f"{', '.join(backend.DEVICES)}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        self = super().__new__(cls, name if index is None else f"{name}:{index}")
        self._type, self._index = name, index
        return self

    @property
    def type(self) -> str:
        """'cpu' or 'cuda'."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device's number, or None when not given (``tn.device('cuda').index``)."""
        return self._index

    def __repr__(self) -> str:
        index = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{index})"


CPU, CUDA = device("cpu"), device("cuda")


def get_default_device() -> device:
    """The device factories put tensors on when not told: 'cpu' unless changed."""
    return device(backend.default_device)


def set_default_device(device: Any) -> None:
    """Make factories (``tn.zeros``, ``tn.tensor`` of Python data…) put tensors on ``device``.

    ``None`` means the CPU again, as in PyTorch.
    """
    backend.default_device = "cpu" if device is None else backend.check_device(device)
