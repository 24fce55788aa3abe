"""Parameter budgets of MLPs: how many parameters a shape has, and which shapes fit a budget.

The breadth-vs-depth studies compare networks ``784 → (k hidden layers of width m) → 10`` with
a bias in every layer. Counting one weight matrix and one bias vector per layer gives

    Params(0, m) = 784·10 + 10 = 7850                         (no hidden layer: linear softmax)
    Params(k, m) = 784m + m  +  (k-1)(m² + m)  +  10m + 10     (k ≥ 1)
                 = (k-1)m² + (k+794)m + 10

(first layer, k-1 hidden-to-hidden layers, output layer). ``params`` counts any list of widths.

>>> mlp_params(2, 64)                      # 784 → 64 → 64 → 10
55050
>>> width_for_budget(2, 50_000)           # the widest 2-hidden-layer MLP within 50k
58
>>> depth_range(10_000)                   # k = 0 fits (7850), and up to 4598 layers of width 1
DepthRange(smallest=0, largest=4598)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

INPUTS = 784  # 28 × 28 MNIST pixels
CLASSES = 10


def params(widths: Sequence[int]) -> int:
    """Weights and biases of the dense layers ``widths[0] → widths[1] → … → widths[-1]``.

    >>> params([784, 10])
    7850
    """
    widths = list(widths)
    if len(widths) < 2 or any(int(w) != w or w < 1 for w in widths):
        raise ValueError(f"params: expected at least two integer widths >= 1, got {widths}")
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(widths[:-1], widths[1:]))


def mlp_widths(k: int, m: int, inputs: int = INPUTS, classes: int = CLASSES) -> list[int]:
    """The layer widths of the ``inputs → (k hidden layers of width m) → classes`` MLP.

    >>> mlp_widths(2, 64)
    [784, 64, 64, 10]
    """
    _check_depth_width("mlp_widths", k, m)
    return [inputs] + [m] * k + [classes]


def mlp_params(k: int, m: int, inputs: int = INPUTS, classes: int = CLASSES) -> int:
    """Params(k, m): the closed form above, biases in every layer (``m`` is ignored when k = 0)."""
    _check_depth_width("mlp_params", k, m)
    if k == 0:
        return inputs * classes + classes
    return inputs * m + m + (k - 1) * (m * m + m) + classes * m + classes


def seed_params(k: int, m: int, inputs: int = INPUTS, classes: int = CLASSES) -> int:
    """The formula of seed report 004, kept to show its error: it counts (k-1)·m hidden biases
    ("bias terms for each hidden layer except the last one") instead of k·m, so it is short by
    ``m`` for every k ≥ 1.

    >>> mlp_params(1, 100) - seed_params(1, 100)
    100
    """
    _check_depth_width("seed_params", k, m)
    if k == 0:
        return inputs * classes + classes
    return inputs * m + classes + (k - 1) * m * (m + 1) + m * classes


def width_for_budget(k: int, budget: int, inputs: int = INPUTS, classes: int = CLASSES) -> int:
    """The largest integer width m ≥ 1 with Params(k, m) ≤ ``budget`` (k ≥ 1): of the widths
    that fit, the one that gets closest to the budget.

    Raises ValueError when not even width 1 fits.
    """
    _check_depth_width("width_for_budget", k, 1)
    if k == 0:
        raise ValueError("width_for_budget: a network without hidden layers (k = 0) has no width")
    if mlp_params(k, 1, inputs, classes) > budget:
        raise ValueError(f"width_for_budget: even width 1 needs {mlp_params(k, 1, inputs, classes)} "
                         f"parameters at depth {k}, more than the budget {budget}")
    # Params(k, m) = a·m² + b·m + c, increasing in m: take the quadratic's root, then fix rounding.
    a, b, c = k - 1, inputs + k + classes, classes
    if a == 0:
        m = (budget - c) // b
    else:
        m = int((-b + math.sqrt(b * b + 4 * a * (budget - c))) / (2 * a))
    m = max(m, 1)
    while mlp_params(k, m + 1, inputs, classes) <= budget:
        m += 1
    while m > 1 and mlp_params(k, m, inputs, classes) > budget:
        m -= 1
    return m


class DepthRange(NamedTuple):
    """The depths k (numbers of hidden layers) for which some width fits a budget."""

    smallest: int
    largest: int


def depth_range(budget: int, inputs: int = INPUTS, classes: int = CLASSES) -> DepthRange:
    """Smallest and largest k for which some integer width m ≥ 1 gives Params(k, m) ≤ budget.

    Params grows with m, so depth k is feasible exactly when width 1 fits:
    Params(k, 1) = inputs + 2·classes + 2k - 1. The largest depth is therefore a chain of
    width-1 layers, and k = 0 (the linear model) fits once the budget reaches inputs·classes +
    classes. Raises ValueError when no network fits.
    """
    one_hidden = mlp_params(1, 1, inputs, classes)
    if budget < one_hidden:
        raise ValueError(f"depth_range: no MLP {inputs} → … → {classes} fits in {budget} "
                         f"parameters; the smallest (one hidden unit) has {one_hidden}")
    largest = (budget - (inputs + 2 * classes - 1)) // 2
    smallest = 0 if mlp_params(0, 1, inputs, classes) <= budget else 1
    return DepthRange(smallest, largest)


def largest_depth_with_width(budget: int, min_width: int, inputs: int = INPUTS,
                             classes: int = CLASSES) -> int | None:
    """The largest k ≥ 1 whose budget-filling width is still at least ``min_width`` (None if even
    one hidden layer of that width does not fit): the deepest network that is not a bottleneck."""
    if mlp_params(1, min_width, inputs, classes) > budget:
        return None
    k = 1
    step = 1
    while mlp_params(k + step, min_width, inputs, classes) <= budget:  # gallop, then bisect
        k, step = k + step, step * 2
    while step > 1:
        step //= 2
        if mlp_params(k + step, min_width, inputs, classes) <= budget:
            k += step
    return k


def scaled_widths(ratios: Sequence[float], budget: int, inputs: int = INPUTS,
                  classes: int = CLASSES) -> list[int]:
    """Hidden widths ``round(s · ratio)`` (at least 1) with the largest scale s that fits the budget.

    Used for shaped networks: ``scaled_widths([4, 2, 1], 50_000)`` is a decreasing network,
    ``[1, 1, 1]`` a uniform one (the same width as ``width_for_budget(3, 50_000)``).
    """
    ratios = list(ratios)
    if not ratios or any(not r > 0 for r in ratios):
        raise ValueError(f"scaled_widths: expected positive ratios, got {ratios}")

    def widths(scale: float) -> list[int]:
        return [max(1, round(scale * r)) for r in ratios]

    def fits(scale: float) -> bool:
        return params([inputs, *widths(scale), classes]) <= budget

    if not fits(0.0):
        raise ValueError(f"scaled_widths: even width 1 everywhere needs "
                         f"{params([inputs, *widths(0.0), classes])} parameters, more than {budget}")
    low, high = 0.0, 1.0
    while fits(high):
        low, high = high, high * 2
    for _ in range(60):  # the widths only change at finitely many scales: bisect to one of them
        middle = (low + high) / 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return widths(low)


def _check_depth_width(fn: str, k: int, m: int) -> None:
    if int(k) != k or k < 0:
        raise ValueError(f"{fn}: depth k must be an integer >= 0, got {k!r}")
    if int(m) != m or m < 1:
        raise ValueError(f"{fn}: width m must be an integer >= 1, got {m!r}")
