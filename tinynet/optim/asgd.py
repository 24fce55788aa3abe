"""``ASGD``: averaged stochastic gradient descent (Polyak & Juditsky, 1992)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_non_negative, check_unsupported,
                                     gradient_of, scalar_state, zeros_for)


class ASGD(Optimizer):
    """ASGD with PyTorch's exact update and defaults. For each parameter p with gradient g, at
    step t = 1, 2, …, with η starting at lr and μ at 1::

        g = -g (maximize);  g = g + weight_decay · p
        p = p · (1 - λ · η) - η · g
        a = a + μ · (p - a)             ax, the running average of p (a = p while μ = 1)
        η = lr / (1 + λ · lr · t)^α     eta, for the next step
        μ = 1 / max(1, t - t0)          mu: averaging starts after t0 steps

    with λ = lambd. ``ax`` is the averaged parameter the method is named for; the optimizer
    steps ``p``, and evaluating with the average is the caller's choice (copy ``ax`` in). State
    per parameter: ``step``, ``eta`` and ``mu`` (0-d tensors, float32 unless the default dtype
    is float64, as in PyTorch: the step uses η and μ rounded to them), ``ax``. ``foreach`` is
    accepted and changes nothing.

    >>> opt = optim.ASGD(model.parameters(), lr=1e-2, t0=100)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0.0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_unsupported("ASGD", differentiable=differentiable, capturable=capturable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    _scalar_state_keys = ("step", "eta", "mu")

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("ASGD", group, ("lr", "weight_decay"))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd = group["lr"], group["lambd"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, step = self._stepped_state(p, group, lambda q, g: {
                    "eta": scalar_state(g["lr"]), "mu": scalar_state(1), "ax": zeros_for(q)})
                grad = gradient_of(p, group["weight_decay"], group["maximize"])
                eta, mu, ax = float(state["eta"]), float(state["mu"]), state["ax"].array
                p.array *= 1 - lambd * eta
                p.array -= eta * grad
                if mu != 1:
                    ax += (p.array - ax) * mu
                else:
                    ax[...] = p.array
                state["eta"].array[...] = lr / ((1 + lambd * lr * step) ** group["alpha"])
                state["mu"].array[...] = 1 / max(1, step - group["t0"])
                bump_version(p)
        return loss
