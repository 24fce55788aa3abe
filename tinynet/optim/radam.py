"""``RAdam``: Adam with the variance of its adaptive rate rectified (Liu et al., 2020)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_betas, check_non_negative,
                                     check_unsupported, decayed_gradient, lerp_, zeros_for)


class RAdam(Optimizer):
    """RAdam with PyTorch's exact update and defaults. For each parameter p with gradient g, at
    step t = 1, 2, …::

        g = -g (maximize)
        p = p · (1 - lr · weight_decay)          with decoupled_weight_decay
        g = g + weight_decay · p                 otherwise
        m = β1 · m + (1 - β1) · g                exp_avg
        v = β2 · v + (1 - β2) · g²               exp_avg_sq
        ρ∞ = 2 / (1 - β2) - 1;  ρₜ = ρ∞ - 2t · β2ᵗ / (1 - β2ᵗ)
        r = sqrt((ρₜ - 4)(ρₜ - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρₜ))
        p = p - lr · m / (1 - β1ᵗ) · sqrt(1 - β2ᵗ) / (sqrt(v) + eps) · r     when ρₜ > 5
        p = p - lr · m / (1 - β1ᵗ)                                          otherwise (SGD with momentum)

    State per parameter: ``step`` (a 0-d tensor, as in PyTorch), ``exp_avg``,
    ``exp_avg_sq``. ``foreach`` is accepted and changes nothing.

    >>> opt = optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
                 *, foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_unsupported("RAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("RAdam", group, ("lr", "eps", "weight_decay"))
        check_betas("RAdam", group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, weight_decay = group["lr"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            decoupled = group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, step = self._stepped_state(p, group, lambda q, g: {"exp_avg": zeros_for(q),
                                                        "exp_avg_sq": zeros_for(q)})
                grad = decayed_gradient(p, lr, weight_decay, decoupled, group["maximize"])
                exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
                lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                bias_correction2 = 1 - beta2 ** step
                update = exp_avg / (1 - beta1 ** step) * lr
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    denom = p.xp.sqrt(exp_avg_sq)
                    denom += group["eps"]
                    update *= bias_correction2 ** 0.5 / denom
                    update *= rect
                p.array -= update
                bump_version(p)
        return loss
