"""Anomaly detection, as PyTorch's ``torch.autograd.detect_anomaly``: a debugging mode that
finds the op whose backward first made a NaN gradient, and shows where that op was called.

While it is on, every recorded op keeps the stack of the call that made it, and the backward
walk checks each gradient a node returns. The first NaN stops the walk with PyTorch's
``RuntimeError`` ("Function 'SqrtBackward0' returned nan values in its 0th output."), after a
warning that shows the forward call; an exception raised inside a backward gets the same
warning. Both cost time (a stack per op, a pass over every gradient, and on a GPU a wait for
the device per node), so the mode is for finding a bug, not for training.

>>> x = tn.tensor([0.0, 1.0], requires_grad=True)
>>> with tn.autograd.detect_anomaly():
...     (tn.sqrt(x) * 0).sum().backward()
Traceback (most recent call last):
RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import warnings
from typing import Any

from tinynet import backend

enabled = False  # read by the engine for every recorded op and walked node
check_nan = True
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tinynet/
_RECORDING = {os.path.join(_PACKAGE, "autograd", name) for name in
              ("engine.py", "function.py", "anomaly.py")}  # frames that record, not the call


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection, when on, checks the gradients for NaN."""
    return check_nan


def _set(mode: bool, nan: bool) -> None:
    global enabled, check_nan
    enabled, check_nan = bool(mode), bool(nan)


class set_detect_anomaly(contextlib.ContextDecorator):
    """Turn anomaly detection on or off, at once or for a ``with`` block (then restored).

    >>> tn.autograd.set_detect_anomaly(True)   # until set_detect_anomaly(False)
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
        self.mode = (bool(mode), bool(check_nan))
        _set(*self.mode)

    def __enter__(self) -> None:
        _set(*self.mode)

    def __exit__(self, *exc: object) -> None:
        _set(*self.prev)


class detect_anomaly(contextlib.ContextDecorator):
    """Anomaly detection for a ``with`` block or a decorated function (see the module
    docstring); ``check_nan=False`` keeps the forward stacks but skips the NaN check."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self.prev = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
        _set(True, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set(*self.prev)


def forward_stack() -> list[traceback.FrameSummary]:
    """The stack of the call being recorded, without the frames that record it."""
    return [frame for frame in traceback.extract_stack() if frame.filename not in _RECORDING]


def checked_backward(fn: Any, grad: Any) -> tuple[Any, ...]:
    """``fn.backward(grad)``, with a warning that shows the forward call of ``fn`` when it raises
    or, with the NaN check on, returns a NaN, which then raises PyTorch's RuntimeError."""
    try:
        grads = fn.backward(grad)
    except Exception:
        _warn_with_forward_stack(fn)
        raise
    if check_nan:
        for index, g in enumerate(grads):
            if g is not None and bool(backend.get_array_module(g.array).isnan(g.array).any()):
                _warn_with_forward_stack(fn)
                raise RuntimeError(
                    f"Function '{fn.name()}' returned nan values in its {index}th output.")
    return grads


def _warn_with_forward_stack(fn: Any) -> None:
    stack = getattr(fn, "forward_stack", None)
    where = "".join(traceback.format_list(stack)) if stack else \
        "  (not recorded: the op ran before anomaly detection was turned on)\n"
    warnings.warn(f"Error detected in {fn.name()}. Traceback of forward call that caused the "
                  f"error:\n{where}", UserWarning, stacklevel=_outside_tinynet())


def _outside_tinynet() -> int:
    """The ``stacklevel`` of the first caller outside tinynet: the line that ran backward."""
    level, frame = 2, sys._getframe(2)  # the caller of _warn_with_forward_stack
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE + os.sep):
        level, frame = level + 1, frame.f_back
    return level
