"""1-D functions to fit, as datasets of ``(x, f(x))`` pairs (study 1-1a and friends).

====================  ====================  =============
name                  f(x)                  default range
====================  ====================  =============
``sinc``              sin(5πx) / (5πx)      [-1, 1]
``sign_sin``          sgn(sin(5πx))         [-1, 1]
``x_sigmoid``         x · sigmoid(x)        [-5, 5]
``sign_cos_over_x``   sgn(cos(10x) / x)     [-1, 1]
``cos``               cos(x)                [-2π, 2π]
``exp``               exp(x)                [-2, 2]
====================  ====================  =============

Where a formula has no value (x = 0 in sin(5πx)/(5πx)) the limit is used; sgn(cos(10x)/x) is
taken as 0 at x = 0, as sgn(0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy

from tinynet.data.dataset import TensorDataset
from tinynet.tensor import Tensor


@dataclass(frozen=True)
class TargetFunction:
    """A function to fit: its formula (for plot labels), NumPy implementation and default range."""

    formula: str
    evaluate: Callable[[numpy.ndarray], numpy.ndarray]
    low: float
    high: float


FUNCTIONS: dict[str, TargetFunction] = {
    "sinc": TargetFunction("sin(5πx)/(5πx)", lambda x: numpy.sinc(5 * x), -1.0, 1.0),
    "sign_sin": TargetFunction("sgn(sin(5πx))", lambda x: numpy.sign(numpy.sin(5 * numpy.pi * x)),
                               -1.0, 1.0),
    "x_sigmoid": TargetFunction("x·sigmoid(x)", lambda x: x / (1 + numpy.exp(-x)), -5.0, 5.0),
    "sign_cos_over_x": TargetFunction("sgn(cos(10x)/x)",
                                     lambda x: numpy.sign(numpy.cos(10 * x)) * numpy.sign(x), -1.0, 1.0),
    "cos": TargetFunction("cos(x)", numpy.cos, -2 * math.pi, 2 * math.pi),
    "exp": TargetFunction("exp(x)", numpy.exp, -2.0, 2.0),
}


def target_function(name: str) -> TargetFunction:
    """The entry of :data:`FUNCTIONS` called ``name``, with a clear error for an unknown name."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; choose one of {', '.join(FUNCTIONS)}")
    return FUNCTIONS[name]


class FunctionDataset(TensorDataset):
    """``n`` points ``(x, f(x))`` of the function ``name``, both float32 of shape (n, 1).

    ``sampling='grid'`` spaces x evenly over [low, high] (both ends included);
    ``sampling='uniform'`` draws x uniformly with ``seed``. ``low``/``high`` default to the
    function's range (see the module's table). ``x`` and ``y`` are the two Tensors.

    >>> ds = FunctionDataset("sinc", n=5)
    >>> ds.x.shape, ds.y.dtype, ds.formula
    ((5, 1), dtype('float32'), 'sin(5πx)/(5πx)')
    """

    def __init__(self, name: str, n: int = 1000, low: float | None = None, high: float | None = None,
                 sampling: str = "grid", seed: int = 0) -> None:
        function = target_function(name)
        low = function.low if low is None else low
        high = function.high if high is None else high
        if n < 1 or not low < high:
            raise ValueError(f"FunctionDataset: need n >= 1 and low < high, got n={n}, [{low}, {high}]")
        if sampling == "grid":
            x = numpy.linspace(low, high, n)
        elif sampling == "uniform":
            x = numpy.random.default_rng(seed).uniform(low, high, n)
        else:
            raise ValueError(f"FunctionDataset: sampling must be 'grid' or 'uniform', got {sampling!r}")
        y = function.evaluate(x)
        self.name, self.formula = name, function.formula
        super().__init__(Tensor(x.astype(numpy.float32)[:, None]), Tensor(y.astype(numpy.float32)[:, None]))

    @staticmethod
    def label(name: str) -> str:
        """The formula of the function ``name``, for plot titles: ``label("sinc")`` is
        ``'sin(5πx)/(5πx)'``."""
        return target_function(name).formula

    @property
    def x(self) -> Tensor:
        return self.tensors[0]

    @property
    def y(self) -> Tensor:
        return self.tensors[1]
