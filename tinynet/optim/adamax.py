"""``Adamax``: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2015)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_betas, check_non_negative,
                                     check_unsupported, gradient_of, lerp_, zeros_for)


class Adamax(Optimizer):
    """Adamax with PyTorch's exact update and defaults. For each parameter p with gradient g,
    at step t = 1, 2, …::

        g = -g (maximize);  g = g + weight_decay · p
        m = β1 · m + (1 - β1) · g                       exp_avg
        u = max(β2 · u, |g| + eps)                      exp_inf
        p = p - lr / (1 - β1ᵗ) · m / u

    State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``exp_avg``,
    ``exp_inf``. ``foreach`` is accepted and changes nothing.

    >>> opt = optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_unsupported("Adamax", differentiable=differentiable, capturable=capturable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("Adamax", group, ("lr", "eps", "weight_decay"))
        check_betas("Adamax", group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, step = self._stepped_state(p, group, lambda q, g: {"exp_avg": zeros_for(q),
                                                        "exp_inf": zeros_for(q)})
                grad = gradient_of(p, group["weight_decay"], group["maximize"])
                exp_avg, exp_inf = state["exp_avg"].array, state["exp_inf"].array
                lerp_(exp_avg, grad, 1 - beta1)
                exp_inf *= beta2
                p.xp.maximum(exp_inf, p.xp.abs(grad) + group["eps"], out=exp_inf)
                clr = group["lr"] / (1 - beta1 ** step)
                p.array -= clr * (exp_avg / exp_inf)
                bump_version(p)
        return loss
