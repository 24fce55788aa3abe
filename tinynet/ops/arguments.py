"""Argument checks shared by the ops, with PyTorch's error types and words that name the op and
the argument."""

from __future__ import annotations

from typing import Any

from tinynet.tensor import Tensor


def require_tensor(op: str, value: Any, name: str = "input", position: int = 1) -> Tensor:
    """``value`` if it is a Tensor, else PyTorch's TypeError naming the op and the argument."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")
    return value


def same_device(op: str, input: Tensor, name: str, other: Tensor) -> None:
    """``other`` (the argument ``name``) must be on ``input``'s device (PyTorch's RuntimeError)."""
    if other.device != input.device:
        raise RuntimeError(f"{op}(): {name} is on {other.device} but the input is on "
                           f"{input.device}; move it with .to({input.device!r})")
