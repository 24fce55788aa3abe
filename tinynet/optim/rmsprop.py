"""``RMSprop``: divide each step by a running root mean square of the gradients (Hinton, 2012)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_non_negative, check_unsupported,
                                     gradient_of, zeros_for)
from tinynet.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop with PyTorch's exact update and defaults. For each parameter p with gradient g::

        g = -g (maximize);  g = g + weight_decay · p
        v = α · v + (1 - α) · g²                         square_avg
        m = m + (1 - α) · (g - m);  s = sqrt(v - m²)     grad_avg, with centered=True
        s = sqrt(v)                                      otherwise
        b = momentum · b + g / (s + eps);  p = p - lr · b    with momentum > 0
        p = p - lr · g / (s + eps)                           otherwise

    State per parameter: ``step``, ``square_avg`` and, when used, ``momentum_buffer`` and
    ``grad_avg``. ``foreach`` is accepted and changes nothing.

    >>> opt = optim.RMSprop(model.parameters(), lr=1e-2)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_unsupported("RMSprop", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, foreach=foreach,
                                      maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("RMSprop", group, ("lr", "eps", "momentum", "weight_decay", "alpha"))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, _ = self._stepped_state(p, group, lambda q, g: self._new_state(q, g))
                grad = gradient_of(p, group["weight_decay"], group["maximize"])
                square_avg = state["square_avg"].array
                square_avg *= alpha
                square_avg += (1 - alpha) * grad * grad
                xp = p.xp
                if group["centered"]:
                    grad_avg = state["grad_avg"].array
                    grad_avg += (1 - alpha) * (grad - grad_avg)
                    avg = xp.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = xp.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buffer = state["momentum_buffer"].array
                    buffer *= momentum
                    buffer += grad / avg
                    p.array -= lr * buffer
                else:
                    p.array -= lr * (grad / avg)
                bump_version(p)
        return loss

    @staticmethod
    def _new_state(p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {"square_avg": zeros_for(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_for(p)
        if group["centered"]:
            state["grad_avg"] = zeros_for(p)
        return state
