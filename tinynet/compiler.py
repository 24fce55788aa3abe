"""``tn.compile`` and ``tn.compiler``, for PyTorch's names: tinynet has no compiler.

``torch.compile`` makes a model or function run faster and computes the same values, so a
program that calls it runs unchanged on tinynet, eagerly, as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def compile(model: Callable[..., Any] | None = None, *, fullgraph: bool = False,
            dynamic: bool | None = None, backend: Any = "inductor", mode: str | None = None,
            options: dict[str, Any] | None = None, disable: bool = False) -> Any:
    """``model`` itself (or, called without one, a decorator that returns what it decorates):
    there is nothing to compile, and the results are those of the eager code.

    >>> model = tn.compile(nn.Linear(3, 1))   # the same Linear
    >>> @tn.compile
    ... def step(x): ...
    """
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise TypeError(f"compile: expected a Module or a function, got {type(model).__name__}")
    return model


def is_compiling() -> bool:
    """False: tinynet never traces a program."""
    return False


def disable(fn: Callable[..., Any] | None = None, recursive: bool = True) -> Any:
    """``fn`` itself (or a decorator that returns what it decorates): nothing is compiled."""
    return (lambda f: f) if fn is None else fn


def reset() -> None:
    """Nothing to reset: no compiled code is cached."""
