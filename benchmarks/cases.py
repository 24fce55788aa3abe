"""The benchmark cases, and the sizes each run profile gives them.

A case builds one workload per implementation (tinynet, the hand-written NumPy peer, PyTorch
when it imports) on identical float32 data. Cases on a GPU run only when tinynet sees one; their
raw peer is then ``cupy.matmul`` and PyTorch runs on CUDA.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy

import tinynet as tn
from benchmarks import peer_numpy, peer_torch, subject_tinynet
from benchmarks.harness import Workload

MLP_SIZES = (1, 5, 10, 10, 10, 10, 10, 5, 1)  # the seed's deep 571-parameter network
MNIST_TRAIN_SIZE = 60_000

# name, C_in, C_out, H = W, kernel, padding (conv-a … conv-e)
CONV_SHAPES = (("a", 1, 32, 28, 3, 1), ("b", 32, 64, 14, 3, 1), ("c", 3, 64, 32, 3, 1),
               ("d", 64, 128, 16, 3, 1), ("e", 1, 16, 28, 5, 0))


@dataclass(frozen=True)
class Profile:
    """How big and how long: ``full`` for the record, ``quick`` for a look, ``tiny`` for tests."""

    name: str
    repeats: int
    warmup: int
    min_time: float  # seconds one sample lasts at least (fast ops run many times per sample)
    budget: float  # seconds the repeats of one phase may take before fewer are used
    linear_shapes: tuple[tuple[int, int, int], ...]  # (M, K, N): (M×K) @ (K×N)
    conv_batch: int
    pool_shape: tuple[int, int, int, int]
    add_size: int
    mlp_batch: int
    cnn_batch: int
    cnn_batches: int  # training steps the CNN step is averaged over
    sgemm_size: int = 1024  # the single-thread SGEMM whose speed is the record's peak


_SQUARES = tuple((n, n, n) for n in (256, 512, 1024, 2048))
_MLP_GEMMS = ((64, 784, 128), (128, 784, 512), (1024, 784, 512))

PROFILES = {
    "full": Profile("full", repeats=15, warmup=2, min_time=0.05, budget=20.0,
                    linear_shapes=_SQUARES + _MLP_GEMMS, conv_batch=64, pool_shape=(64, 32, 28, 28),
                    add_size=10, mlp_batch=256, cnn_batch=64, cnn_batches=200),
    "quick": Profile("quick", repeats=5, warmup=1, min_time=0.01, budget=1.0,
                     linear_shapes=_SQUARES + _MLP_GEMMS, conv_batch=64,
                     pool_shape=(64, 32, 28, 28), add_size=10, mlp_batch=256, cnn_batch=64,
                     cnn_batches=20),
    "tiny": Profile("tiny", repeats=1, warmup=0, min_time=0.0, budget=math.inf,
                    linear_shapes=((8, 8, 8), (4, 16, 8)), conv_batch=2, pool_shape=(2, 3, 8, 8),
                    add_size=10, mlp_batch=16, cnn_batch=2, cnn_batches=2, sgemm_size=128),
}


@dataclass
class Case:
    """One row group of the table: a workload per implementation, and its forward FLOPs.

    Backward FLOPs are taken as twice the forward (input and weight gradients), so a
    forward+backward or a training step counts three times the forward.
    """

    name: str
    title: str
    build: Callable[[], dict[str, Workload]]
    forward_flops: float | None = None
    device: str = "cpu"
    phase_repeats: dict[str, int] = field(default_factory=dict)  # overrides profile.repeats
    steps_per_epoch: float | None = None  # training cases: projects the mean step to an epoch
    ops_per_call: int | None = None  # overhead cases: one call runs this many ops (µs per op)

    def flops(self, phase: str) -> float | None:
        if self.forward_flops is None:
            return None
        return self.forward_flops * {"forward": 1, "backward": 2}.get(phase, 3)


def _random(rng: numpy.random.Generator, *shape: int) -> numpy.ndarray:
    return rng.standard_normal(shape, dtype=numpy.float32)


def _with_torch(workloads: dict[str, Workload], make: Callable[[], Workload],
                device: str = "cpu") -> dict[str, Workload]:
    """Add the PyTorch workload when PyTorch can run on ``device``."""
    if peer_torch.cuda_available() if device == "cuda" else peer_torch.available():
        workloads["torch"] = make()
    return workloads


def linear_case(m: int, k: int, n: int, device: str = "cpu") -> Case:
    def build() -> dict[str, Workload]:
        rng = numpy.random.default_rng(0)
        x, w, g = _random(rng, m, k), _random(rng, n, k), _random(rng, m, n)
        if device == "cuda":
            import cupy

            cx, cw, cg = cupy.asarray(x), cupy.asarray(w), cupy.asarray(g)
            raw = peer_numpy.linear_workload(cx, cw, cg)
            raw.sync = cupy.cuda.Device().synchronize
            workloads = {"tinynet": subject_tinynet.linear_workload(x, w, g, "cuda"), "cupy": raw}
            return _with_torch(workloads, lambda: peer_torch.linear_workload(x, w, g, "cuda"),
                               device)
        workloads = {"tinynet": subject_tinynet.linear_workload(x, w, g),
                     "numpy": peer_numpy.linear_workload(x, w, g)}
        return _with_torch(workloads, lambda: peer_torch.linear_workload(x, w, g))

    shape = f"{m}" if m == k == n else f"{m}x{k}x{n}"
    prefix = "cuda-" if device == "cuda" else ""
    return Case(f"{prefix}linear-{shape}", f"Linear (no bias) ({m}×{k})@({k}×{n})", build,
                forward_flops=2.0 * m * k * n, device=device)


def conv_case(label: str, c_in: int, c_out: int, size: int, k: int, padding: int,
              batch: int) -> Case:
    out = size + 2 * padding - k + 1

    def build() -> dict[str, Workload]:
        rng = numpy.random.default_rng(0)
        x, w = _random(rng, batch, c_in, size, size), _random(rng, c_out, c_in, k, k)
        g = _random(rng, batch, c_out, out, out)
        workloads = {"tinynet": subject_tinynet.conv_workload(x, w, g, padding),
                     "numpy": peer_numpy.conv_workload(x, w, g, padding)}
        return _with_torch(workloads, lambda: peer_torch.conv_workload(x, w, g, padding))

    return Case(f"conv-{label}", f"Conv2d {c_in}→{c_out}, {size}×{size}, k{k} p{padding}, N={batch}",
                build, forward_flops=2.0 * batch * c_out * out * out * c_in * k * k)


def max_pool_case(shape: tuple[int, int, int, int]) -> Case:
    def build() -> dict[str, Workload]:
        rng = numpy.random.default_rng(0)
        n, c, h, w = shape
        x, g = _random(rng, n, c, h, w), _random(rng, n, c, h // 2, w // 2)
        workloads = {"tinynet": subject_tinynet.max_pool_workload(x, g),
                     "numpy": peer_numpy.max_pool_workload(x, g)}
        return _with_torch(workloads, lambda: peer_torch.max_pool_workload(x, g))

    return Case("maxpool", "MaxPool2d 2×2 on ({}, {}, {}, {})".format(*shape), build)


def add_case(size: int) -> Case:
    def build() -> dict[str, Workload]:
        rng = numpy.random.default_rng(0)
        a, b, g = _random(rng, size), _random(rng, size), _random(rng, size)
        workloads = {"tinynet": subject_tinynet.add_workload(a, b, g),
                     "numpy": peer_numpy.add_workload(a, b, g)}
        return _with_torch(workloads, lambda: peer_torch.add_workload(a, b, g))

    return Case("add", f"per-op overhead: {size}-element add, requires_grad", build)


CHAIN_LENGTH = 100


def overhead_case(length: int = CHAIN_LENGTH) -> Case:
    """The engine's own cost per op: forward, µs per ``Op.apply``; backward, µs per node of the
    walk (each node's backward op included), on a 1-element tensor whose arithmetic is free."""
    def build() -> dict[str, Workload]:
        a = numpy.ones(1, dtype=numpy.float32)
        workloads = {"tinynet": subject_tinynet.chain_workload(a, length),
                     "numpy": peer_numpy.chain_workload(a, length)}
        return _with_torch(workloads, lambda: peer_torch.chain_workload(a, length))

    return Case("op-overhead", f"per-op overhead: {length} negations of a 1-element tensor "
                "(forward: per op applied; backward: per node walked)", build, ops_per_call=length)


def mlp_case(batch: int) -> Case:
    def build() -> dict[str, Workload]:
        rng = numpy.random.default_rng(0)
        x = rng.uniform(-1, 1, (batch, 1)).astype(numpy.float32)
        y = numpy.sinc(5 * x).astype(numpy.float32)
        workloads = {"tinynet": subject_tinynet.mlp_workload(MLP_SIZES, x, y),
                     "numpy": peer_numpy.mlp_workload(MLP_SIZES, x, y)}
        return _with_torch(workloads, lambda: peer_torch.mlp_workload(MLP_SIZES, x, y))

    layer_flops = sum(a * b for a, b in zip(MLP_SIZES[:-1], MLP_SIZES[1:]))
    return Case("mlp-step", f"571-parameter MLP {'→'.join(map(str, MLP_SIZES))}, LeakyReLU, "
                f"batch {batch}, MSE, Adam", build, forward_flops=2.0 * batch * layer_flops)


def mnist_batches(batch: int, count: int) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    """Random MNIST-shaped batches (pixels in [0, 1], labels 0-9): timing needs no real digits."""
    rng = numpy.random.default_rng(0)
    return [(rng.random((batch, 1, 28, 28), dtype=numpy.float32),
             rng.integers(0, 10, batch).astype(numpy.int64)) for _ in range(count)]


def cnn_flops(batch: int) -> float:
    conv = 32 * 28 * 28 * 1 * 9 + 64 * 14 * 14 * 32 * 9
    dense = 3136 * 128 + 128 * 10
    return 2.0 * batch * (conv + dense)


def cnn_case(batch: int, batches: int, device: str = "cpu") -> Case:
    def build() -> dict[str, Workload]:
        data = mnist_batches(batch, min(batches, 8))  # a few distinct batches, cycled
        workloads = {"tinynet": subject_tinynet.cnn_workload(data, device)}
        if device == "cpu":
            workloads["numpy"] = peer_numpy.cnn_workload(data)
        return _with_torch(workloads, lambda: peer_torch.cnn_workload(data, device), device)

    prefix = "cuda-" if device == "cuda" else ""
    return Case(f"{prefix}cnn-step", f"MNIST CNN training step, batch {batch}, cross entropy, "
                f"Adam (step: {batches} batches)", build, forward_flops=cnn_flops(batch),
                device=device, phase_repeats={"step": batches},
                steps_per_epoch=MNIST_TRAIN_SIZE / batch)


def all_cases(profile: Profile) -> list[Case]:
    """Every case, in the issue's order; the GPU ones only when tinynet sees a GPU."""
    cases = [linear_case(*shape) for shape in profile.linear_shapes]
    cases += [conv_case(*shape, batch=profile.conv_batch) for shape in CONV_SHAPES]
    cases += [max_pool_case(profile.pool_shape), add_case(profile.add_size), overhead_case(),
              mlp_case(profile.mlp_batch), cnn_case(profile.cnn_batch, profile.cnn_batches)]
    if tn.cuda.is_available():
        cases += [linear_case(*shape, device="cuda") for shape in profile.linear_shapes]
        cases.append(cnn_case(profile.cnn_batch, profile.cnn_batches, device="cuda"))
    return cases
