"""The timing harness: warm-up, then repeats that alternate the implementations, then medians.

A *sample* is a callable ``sample(number) -> seconds``: it runs the measured code ``number``
times and returns only the time spent in the measured part. Setup that must not be timed (the
forward pass whose graph a backward measurement walks, say) runs before the clock starts.

``alternate`` takes one sample per implementation and calls them in turn, A B C A B C…, so a
burst of load from another process on this shared machine slows every implementation alike;
the ratio of their medians is then much steadier than either time alone.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Sample = Callable[[int], float]


@dataclass
class Workload:
    """One implementation of one case, as the callables the phases are timed from.

    ``forward()`` returns what ``backward`` needs (an output, a loss, a cache); ``zero_grad``
    clears accumulated gradients so every backward does the same work; ``update`` is the
    optimizer step of a training workload; ``sync`` waits for a GPU to finish.
    """

    forward: Callable[[], Any]
    backward: Callable[[Any], Any]
    zero_grad: Callable[[], Any] = lambda: None
    update: Callable[[], Any] | None = None
    sync: Callable[[], Any] | None = None


def timed(run: Callable[..., Any], setup: Callable[[], Any] | None = None,
          sync: Callable[[], Any] | None = None) -> Sample:
    """A sample that times ``run()``, or ``run(setup())`` with the setup left off the clock.

    The garbage collector is paused while the clock runs, as ``timeit`` does, so a collection
    triggered by one implementation's garbage is not charged to another.
    """

    def sample(number: int) -> float:
        states = [setup() for _ in range(number)] if setup is not None else None
        if sync is not None:
            sync()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            if states is None:
                for _ in range(number):
                    run()
            else:
                for state in states:
                    run(state)
            if sync is not None:
                sync()
            return time.perf_counter() - start
        finally:
            if gc_was_enabled:
                gc.enable()

    return sample


def phase_samples(workload: Workload) -> dict[str, Sample]:
    """The phases of a workload: forward, backward, both together, and the training step."""
    w = workload

    def forward_for_backward() -> Any:
        w.zero_grad()
        return w.forward()

    def forward_and_backward() -> None:
        w.zero_grad()
        w.backward(w.forward())

    phases = {
        "forward": timed(w.forward, sync=w.sync),
        "backward": timed(w.backward, setup=forward_for_backward, sync=w.sync),
        "fwd+bwd": timed(forward_and_backward, sync=w.sync),
    }
    if w.update is not None:
        def training_step() -> None:
            forward_and_backward()
            w.update()

        phases["step"] = timed(training_step, sync=w.sync)
    return phases


@dataclass
class Timing:
    """Per-call seconds of every repeat, per implementation, and how many calls one sample made."""

    seconds: dict[str, list[float]]
    numbers: dict[str, int]

    def median(self, name: str) -> float:
        return median(self.seconds[name])

    def mean(self, name: str) -> float:
        return sum(self.seconds[name]) / len(self.seconds[name])


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def alternate(samples: dict[str, Sample], repeats: int, warmup: int = 1, min_time: float = 0.0,
              budget: float = math.inf, min_repeats: int = 3) -> Timing:
    """Time every sample ``repeats`` times, interleaved, after ``warmup`` rounds.

    A sample of a fast op runs it ``number`` times, chosen so that one sample lasts at least
    ``min_time`` (the timer's resolution and the loop's cost then vanish). When one round of
    all samples would make the repeats overrun ``budget`` seconds, fewer repeats are taken,
    never fewer than ``min_repeats``; a round longer than 0.25 s gets no extra warm-up.
    """
    numbers: dict[str, int] = {}
    round_time = 0.0
    for name, sample in samples.items():  # calibration: one call each, also a first warm-up
        once = sample(1)
        numbers[name] = max(1, math.ceil(min_time / once)) if once > 0 and min_time > 0 else 1
        round_time += once * numbers[name]
    if round_time * repeats > budget:
        repeats = max(min_repeats, int(budget / round_time))
    if round_time > 0.25:  # the calibration call already warmed caches and thread pools
        warmup = 0
    for _ in range(warmup):
        for name, sample in samples.items():
            sample(numbers[name])
    seconds: dict[str, list[float]] = {name: [] for name in samples}
    for _ in range(repeats):
        for name, sample in samples.items():
            seconds[name].append(sample(numbers[name]) / numbers[name])
    return Timing(seconds, numbers)
