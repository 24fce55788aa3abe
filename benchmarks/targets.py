"""The speed targets, checked against a run's rows, for each thread setting of the run.

Each target reads one figure of some rows and one phase: the ratio tinynet / peer (of medians),
or tinynet's fraction of a single-thread SGEMM's speed timed in the same rounds. It reduces them
to the worst case and compares with its limit. The limits hold for both sides on one thread;
on their default threads the figures may be 10% worse (a ratio 1.1× the limit, a fraction of
peak 1/1.1 of it). A target whose rows did not run (a ``--case`` filter, no PyTorch, no GPU, a
skipped case) is reported as not measured. Targets are judged on the machine at hand: the
record names it, and a verdict from another CPU says nothing about this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_THREADS_SLACK = 1.1  # default-thread figures may be this much worse than the limit


@dataclass(frozen=True)
class Target:
    key: str
    text: str
    cases: Callable[[str], bool]
    phase: str
    peer: str  # the ratio's peer, or "peak" for a fraction of the SGEMM peak
    limit: float

    @property
    def at_least(self) -> bool:
        """A fraction of peak must reach its limit; a time ratio must stay below it."""
        return self.peer == "peak"

    def limit_for(self, threads: str) -> float:
        if threads == "1":
            return self.limit
        return self.limit / DEFAULT_THREADS_SLACK if self.at_least else \
            self.limit * DEFAULT_THREADS_SLACK


def _prefix(prefix: str) -> Callable[[str], bool]:
    return lambda name: name.startswith(prefix)


def _one_of(*names: str) -> Callable[[str], bool]:
    return lambda name: name in names


TARGETS = (
    Target("conv-large", "Conv2d fwd+bwd, 32→64 and 64→128 channels: at most 1.3× PyTorch each",
           _one_of("conv-b", "conv-d"), "fwd+bwd", "torch", 1.3),
    Target("conv-small", "Conv2d fwd+bwd, the three small-channel layers: at most 0.8× PyTorch each",
           _one_of("conv-a", "conv-c", "conv-e"), "fwd+bwd", "torch", 0.8),
    Target("conv-peak", "Conv2d 32→64 forward: at least 65% of the single-thread SGEMM peak",
           _one_of("conv-b"), "forward", "peak", 0.65),
    Target("cnn-step", "MNIST CNN training step (batch 64, Adam) at most 1.05× PyTorch",
           _one_of("cnn-step"), "step", "torch", 1.05),
    Target("mlp-step", "Tiny-MLP training step at most 0.4× PyTorch",
           _one_of("mlp-step"), "step", "torch", 0.4),
    Target("maxpool", "MaxPool2d 2×2 fwd+bwd at most 0.5× PyTorch",
           _one_of("maxpool"), "fwd+bwd", "torch", 0.5),
    Target("linear", "Linear fwd+bwd within 1.1× of the raw NumPy GEMMs (worst shape)",
           _prefix("linear-"), "fwd+bwd", "numpy", 1.1),
    Target("cuda-cnn-step", "GPU: CNN step at most 1.5× PyTorch CUDA",
           _one_of("cuda-cnn-step"), "step", "torch", 1.5),
    Target("cuda-gemm", "GPU: large GEMMs (1024, 2048) at least 95% of raw cupy.matmul",
           _one_of("cuda-linear-1024", "cuda-linear-2048"), "fwd+bwd", "cupy", 1 / 0.95),
)


def _figure(row: dict[str, Any], target: Target) -> float | None:
    if target.at_least:
        return row.get("peak_fraction", {}).get("tinynet")
    return row["ratio"].get(target.peer)


def evaluate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per target and thread setting: the measured value (the worst case), the
    limit, and whether it was met."""
    configs = list(dict.fromkeys(row.get("threads", "1") for row in rows)) or ["1"]
    results = []
    for config in configs:
        for target in TARGETS:
            values = {row["case"]: _figure(row, target) for row in rows
                      if not row.get("skipped") and row.get("threads", "1") == config
                      and target.cases(row["case"]) and row["phase"] == target.phase}
            values = {case: v for case, v in values.items() if v is not None}
            limit = target.limit_for(config)
            value = None
            if values:
                value = min(values.values()) if target.at_least else max(values.values())
            met = None if value is None else (value >= limit if target.at_least else value <= limit)
            results.append({"key": target.key, "text": target.text, "threads": config,
                            "kind": "fraction of peak" if target.at_least else "ratio",
                            "limit": round(limit, 4),
                            "value": None if value is None else round(value, 4), "met": met,
                            "per_case": {k: round(v, 4) for k, v in values.items()}})
    return results
