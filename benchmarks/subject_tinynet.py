"""The workloads of the subject under test, tinynet, mirroring the peers' ones.

The training workloads use ``tinynet.nn`` and ``tinynet.optim`` with PyTorch's names; until
those exist the cases that need them report themselves skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy

import tinynet as tn
import tinynet.nn.functional as F
from benchmarks.harness import Workload


class Skipped(Exception):
    """A case cannot run here; the message says why (it becomes the table's row)."""


def nn_and_optim() -> tuple[Any, Any]:
    """``tinynet.nn`` and ``tinynet.optim``, or Skipped while the layers are not written yet."""
    try:
        import tinynet.nn as nn
        import tinynet.optim as optim

        for name in ("Sequential", "Linear", "LeakyReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten"):
            getattr(nn, name)
        optim.Adam  # noqa: B018 - only checks that it exists
    except (ImportError, AttributeError) as err:
        raise Skipped(f"skipped: tinynet.nn not available yet ({err})") from None
    return nn, optim


def _sync(device: str) -> Any:
    if device != "cuda":
        return None
    import cupy

    return cupy.cuda.Device().synchronize


def _differentiable_workload(make_output: Any, leaves: list[tn.Tensor], grad_output: tn.Tensor,
                             device: str = "cpu") -> Workload:
    def zero_grad() -> None:
        for leaf in leaves:
            leaf.grad = None

    return Workload(forward=make_output, backward=lambda out: out.backward(grad_output),
                    zero_grad=zero_grad, sync=_sync(device))


def _leaf(array: Any, device: str = "cpu", requires_grad: bool = True) -> tn.Tensor:
    return tn.tensor(array, device=device, requires_grad=requires_grad)


def linear_workload(x: Any, w: Any, g: Any, device: str = "cpu") -> Workload:
    tx, tw, tg = _leaf(x, device), _leaf(w, device), _leaf(g, device, False)
    return _differentiable_workload(lambda: F.linear(tx, tw), [tx, tw], tg, device)


def conv_workload(x: Any, w: Any, g: Any, padding: int) -> Workload:
    """The output gradient is laid out in memory like the output (channel-major for tinynet),
    as the layer above would hand it back; PyTorch's peer gets it like its own output too."""
    tx, tw = _leaf(x), _leaf(w)
    with tn.no_grad():
        like_output = numpy.empty_like(F.conv2d(tx, tw, padding=padding).array)
    like_output[...] = g
    return _differentiable_workload(lambda: F.conv2d(tx, tw, padding=padding), [tx, tw],
                                    tn.Tensor(like_output))


def max_pool_workload(x: Any, g: Any) -> Workload:
    tx, tg = _leaf(x), _leaf(g, requires_grad=False)
    return _differentiable_workload(lambda: F.max_pool2d(tx, 2), [tx], tg)


def add_workload(a: Any, b: Any, g: Any) -> Workload:
    ta, tb, tg = _leaf(a), _leaf(b), _leaf(g, requires_grad=False)
    return _differentiable_workload(lambda: ta + tb, [ta, tb], tg)


def chain_workload(a: Any, length: int) -> Workload:
    """``length`` negations of a tensor that requires grad: each forward op is one
    ``Op.apply``, each backward op one node of the walk."""
    ta = _leaf(a)

    def forward() -> tn.Tensor:
        out = ta
        for _ in range(length):
            out = -out
        return out

    return _differentiable_workload(forward, [ta], tn.ones_like(ta))


def _training_workload(model: Any, loss_fn: Any, batches: Sequence[tuple[Any, Any]],
                       device: str, lr: float) -> Workload:
    _, optim = nn_and_optim()
    if device != "cpu":
        model = model.to(device)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    cycle = itertools.cycle([(tn.tensor(x, device=device), tn.tensor(y, device=device))
                             for x, y in batches])

    def forward() -> tn.Tensor:
        x, y = next(cycle)
        return loss_fn(model(x), y)

    return Workload(forward=forward, backward=lambda loss: loss.backward(),
                    zero_grad=optimizer.zero_grad, update=optimizer.step, sync=_sync(device))


def mlp_workload(sizes: Sequence[int], x: Any, y: Any, lr: float = 1e-3) -> Workload:
    nn, _ = nn_and_optim()
    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.LeakyReLU()] if i < len(sizes) - 2 else [])
    return _training_workload(nn.Sequential(*layers), F.mse_loss, [(x, y)], "cpu", lr)


def cnn_workload(batches: Sequence[tuple[Any, Any]], device: str = "cpu",
                 lr: float = 1e-3) -> Workload:
    nn, _ = nn_and_optim()
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return _training_workload(model, F.cross_entropy, batches, device, lr)
