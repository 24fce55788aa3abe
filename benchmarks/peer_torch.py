"""The PyTorch peer, on the CPU when torch imports and on CUDA when it also sees a GPU.

PyTorch is never a dependency of tinynet: every function here imports it lazily, and the suite
leaves the PyTorch columns empty when it is missing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from benchmarks.harness import Workload


@lru_cache(maxsize=1)
def torch_module() -> Any:
    """``torch``, or None when it is not installed (or fails to import)."""
    try:
        import torch
    except Exception:  # ImportError, or a broken install: the columns stay empty either way
        return None
    return torch


def available() -> bool:
    return torch_module() is not None


def cuda_available() -> bool:
    torch = torch_module()
    return torch is not None and torch.cuda.is_available()


def version() -> str | None:
    torch = torch_module()
    return None if torch is None else torch.__version__


def _sync(device: str) -> Any:
    torch = torch_module()
    return torch.cuda.synchronize if device == "cuda" else None


def _leaf(array: Any, device: str, requires_grad: bool = True) -> Any:
    torch = torch_module()
    return torch.tensor(array, device=device).requires_grad_(requires_grad)


def _differentiable_workload(make_output: Any, leaves: list[Any], grad_output: Any,
                             device: str) -> Workload:
    def zero_grad() -> None:
        for leaf in leaves:
            leaf.grad = None

    return Workload(forward=make_output, backward=lambda out: out.backward(grad_output),
                    zero_grad=zero_grad, sync=_sync(device))


def linear_workload(x: Any, w: Any, g: Any, device: str = "cpu") -> Workload:
    functional = torch_module().nn.functional
    tx, tw, tg = _leaf(x, device), _leaf(w, device), _leaf(g, device, False)
    return _differentiable_workload(lambda: functional.linear(tx, tw), [tx, tw], tg, device)


def conv_workload(x: Any, w: Any, g: Any, padding: int) -> Workload:
    functional = torch_module().nn.functional
    tx, tw, tg = _leaf(x, "cpu"), _leaf(w, "cpu"), _leaf(g, "cpu", False)
    return _differentiable_workload(lambda: functional.conv2d(tx, tw, padding=padding), [tx, tw],
                                    tg, "cpu")


def max_pool_workload(x: Any, g: Any) -> Workload:
    functional = torch_module().nn.functional
    tx, tg = _leaf(x, "cpu"), _leaf(g, "cpu", False)
    return _differentiable_workload(lambda: functional.max_pool2d(tx, 2), [tx], tg, "cpu")


def add_workload(a: Any, b: Any, g: Any) -> Workload:
    ta, tb, tg = _leaf(a, "cpu"), _leaf(b, "cpu"), _leaf(g, "cpu", False)
    return _differentiable_workload(lambda: ta + tb, [ta, tb], tg, "cpu")


def chain_workload(a: Any, length: int) -> Workload:
    torch = torch_module()
    ta = _leaf(a, "cpu")

    def forward() -> Any:
        out = ta
        for _ in range(length):
            out = -out
        return out

    return _differentiable_workload(forward, [ta], torch.ones_like(ta), "cpu")


def _training_workload(model: Any, loss_fn: Any, batches: Sequence[tuple[Any, Any]],
                       device: str, lr: float) -> Workload:
    torch = torch_module()
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    cycle = itertools.cycle([(torch.tensor(x, device=device), torch.tensor(y, device=device))
                             for x, y in batches])

    def forward() -> Any:
        x, y = next(cycle)
        return loss_fn(model(x), y)

    return Workload(forward=forward, backward=lambda loss: loss.backward(),
                    zero_grad=optimizer.zero_grad, update=optimizer.step, sync=_sync(device))


def mlp_workload(sizes: Sequence[int], x: Any, y: Any, lr: float = 1e-3) -> Workload:
    nn = torch_module().nn
    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.LeakyReLU()] if i < len(sizes) - 2 else [])
    return _training_workload(nn.Sequential(*layers), nn.functional.mse_loss, [(x, y)], "cpu", lr)


def cnn_workload(batches: Sequence[tuple[Any, Any]], device: str = "cpu",
                 lr: float = 1e-3) -> Workload:
    nn = torch_module().nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return _training_workload(model, nn.functional.cross_entropy, batches, device, lr)


def set_threads(n: int) -> None:
    default_threads()  # remembered before the first change
    torch = torch_module()
    if torch is not None:
        torch.set_num_threads(n)


def threads() -> int | None:
    torch = torch_module()
    return None if torch is None else torch.get_num_threads()


@lru_cache(maxsize=1)
def default_threads() -> int | None:
    """PyTorch's own thread count, as it was before the suite first changed it."""
    return threads()
