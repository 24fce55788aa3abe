"""The speed targets of issue 4, checked against a run's rows.

Each target reads the ratio tinynet / peer (of medians) of some rows and one phase, reduces
them (worst case, or geometric mean) and compares with its limit. A target whose rows did not
run (a ``--case`` filter, no PyTorch, no GPU, a skipped case) is reported as not measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    key: str
    text: str
    cases: Callable[[str], bool]
    phase: str
    peer: str
    limit: float
    reduce: str = "max"  # or "geomean"


def _prefix(prefix: str) -> Callable[[str], bool]:
    return lambda name: name.startswith(prefix)


def _one_of(*names: str) -> Callable[[str], bool]:
    return lambda name: name in names


TARGETS = (
    Target("linear", "Linear fwd+bwd within 1.15× of the raw NumPy GEMMs (worst shape)",
           _prefix("linear-"), "fwd+bwd", "numpy", 1.15),
    Target("conv-geomean", "Conv2d fwd+bwd: geometric mean over a-e at most 1.0× PyTorch",
           _prefix("conv-"), "fwd+bwd", "torch", 1.0, "geomean"),
    Target("conv-worst", "Conv2d fwd+bwd: no case above 1.5× PyTorch",
           _prefix("conv-"), "fwd+bwd", "torch", 1.5),
    Target("maxpool", "MaxPool2d 2×2 fwd+bwd at most 1.0× PyTorch",
           _one_of("maxpool"), "fwd+bwd", "torch", 1.0),
    Target("mlp-step", "Tiny-MLP training step at most 0.5× PyTorch",
           _one_of("mlp-step"), "step", "torch", 0.5),
    Target("cnn-step", "MNIST CNN training step at most 1.2× PyTorch",
           _one_of("cnn-step"), "step", "torch", 1.2),
    Target("cuda-cnn-step", "GPU: CNN step at most 1.5× PyTorch CUDA",
           _one_of("cuda-cnn-step"), "step", "torch", 1.5),
    Target("cuda-gemm", "GPU: large GEMMs (1024, 2048) at least 90% of raw cupy.matmul",
           _one_of("cuda-linear-1024", "cuda-linear-2048"), "fwd+bwd", "cupy", 1 / 0.9),
)


def evaluate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per target: the measured value (a time ratio), the limit, and whether met."""
    results = []
    for target in TARGETS:
        ratios = {row["case"]: row["ratio"][target.peer] for row in rows
                  if not row.get("skipped") and target.cases(row["case"])
                  and row["phase"] == target.phase and row["ratio"].get(target.peer) is not None}
        value = None
        if ratios:
            values = list(ratios.values())
            value = (math.exp(sum(map(math.log, values)) / len(values))
                     if target.reduce == "geomean" else max(values))
        results.append({"key": target.key, "text": target.text, "limit": round(target.limit, 4),
                        "value": None if value is None else round(value, 4),
                        "met": None if value is None else value <= target.limit,
                        "per_case": {k: round(v, 4) for k, v in ratios.items()}})
    return results
