"""``NAdam``: Adam with Nesterov momentum (Dozat, 2016), optionally with decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_betas, check_non_negative,
                                     check_unsupported, decayed_gradient, lerp_, scalar_state,
                                     zeros_for)


class NAdam(Optimizer):
    """NAdam with PyTorch's exact update and defaults. For each parameter p with gradient g, at
    step t = 1, 2, …, with ψ = momentum_decay::

        g = -g (maximize)
        p = p · (1 - lr · weight_decay)          with decoupled_weight_decay (NAdamW)
        g = g + weight_decay · p                 otherwise
        μₜ = β1 · (1 - 0.5 · 0.96^(t·ψ));  μₜ₊₁ = β1 · (1 - 0.5 · 0.96^((t+1)·ψ))
        Π = Π · μₜ                               mu_product, the product μ₁ ⋯ μₜ
        m = β1 · m + (1 - β1) · g                exp_avg
        v = β2 · v + (1 - β2) · g²               exp_avg_sq
        d = sqrt(v / (1 - β2ᵗ)) + eps
        p = p - lr · (1 - μₜ) / (1 - Π) · g / d - lr · μₜ₊₁ / (1 - Π · μₜ₊₁) · m / d

    State per parameter: ``step`` and ``mu_product`` (0-d tensors, float32 unless the default
    dtype is float64, as in PyTorch: Π is multiplied up in their precision), ``exp_avg``,
    ``exp_avg_sq``. ``foreach`` is accepted and changes nothing.

    >>> opt = optim.NAdam(model.parameters(), lr=2e-3)
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_unsupported("NAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach))

    _scalar_state_keys = ("step", "mu_product")

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("NAdam", group, ("lr", "eps", "weight_decay", "momentum_decay"))
        check_betas("NAdam", group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, weight_decay, psi = group["lr"], group["weight_decay"], group["momentum_decay"]
            beta1, beta2 = group["betas"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, step = self._stepped_state(p, group, lambda q, g: {
                    "mu_product": scalar_state(1), "exp_avg": zeros_for(q),
                    "exp_avg_sq": zeros_for(q)})
                grad = decayed_gradient(p, lr, weight_decay, decoupled, group["maximize"])
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
                product = state["mu_product"].array
                product *= mu
                mu_product = float(product)
                exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array
                lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                denom = p.xp.sqrt(exp_avg_sq / (1 - beta2 ** step))
                denom += group["eps"]
                p.array += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denom)
                p.array += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denom)
                bump_version(p)
        return loss
