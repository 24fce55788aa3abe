"""``Adadelta``: steps scaled by running RMS of past updates over RMS of gradients (Zeiler, 2012)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_non_negative, check_unsupported,
                                     gradient_of, zeros_for)


class Adadelta(Optimizer):
    """Adadelta with PyTorch's exact update and defaults. For each parameter p with gradient g::

        g = -g (maximize);  g = g + weight_decay · p
        v = ρ · v + (1 - ρ) · g²                       square_avg
        Δ = sqrt(u + eps) / sqrt(v + eps) · g
        u = ρ · u + (1 - ρ) · Δ²                       acc_delta
        p = p - lr · Δ

    State per parameter: ``step``, ``square_avg``, ``acc_delta``. ``foreach`` is accepted and
    changes nothing.

    >>> opt = optim.Adadelta(model.parameters())
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_unsupported("Adadelta", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("Adadelta", group, ("lr", "eps", "weight_decay"))
        if not 0 <= group["rho"] <= 1:
            raise ValueError(f"Adadelta: invalid rho {group['rho']!r}, expected a number in [0, 1]")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            rho, eps = group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, _ = self._stepped_state(p, group, lambda q, g: {"square_avg": zeros_for(q),
                                                        "acc_delta": zeros_for(q)})
                grad = gradient_of(p, group["weight_decay"], group["maximize"])
                square_avg, acc_delta = state["square_avg"].array, state["acc_delta"].array
                square_avg *= rho
                square_avg += (1 - rho) * grad * grad
                delta = p.xp.sqrt(acc_delta + eps) / p.xp.sqrt(square_avg + eps) * grad
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                p.array -= group["lr"] * delta
                bump_version(p)
        return loss
