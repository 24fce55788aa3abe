"""``Adagrad``: per-coordinate steps shrinking with the sum of squared gradients (Duchi et al., 2011)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_non_negative, check_unsupported, gradient_of,
                                     scalar_state)
from tinynet.tensor import Tensor


class Adagrad(Optimizer):
    """Adagrad with PyTorch's exact update and defaults. For each parameter p with gradient g,
    at step t = 1, 2, …::

        g = -g (maximize);  g = g + weight_decay · p
        clr = lr / (1 + (t - 1) · lr_decay)
        s = s + g²                                   sum, starting at initial_accumulator_value
        p = p - clr · g / (sqrt(s) + eps)

    As in PyTorch the state (``step``, ``sum``) exists from construction on. ``foreach`` is
    accepted and changes nothing.

    >>> opt = optim.Adagrad(model.parameters(), lr=1e-2)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_unsupported("Adagrad", differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      foreach=foreach, maximize=maximize))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]  # the constructor adds its groups through here too
        for p in group["params"]:
            self.state[p] = {"step": scalar_state(0), **self._new_state(p, group)}

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("Adagrad", group, ("lr", "lr_decay", "weight_decay",
                                              "initial_accumulator_value", "eps"))

    @staticmethod
    def _new_state(p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"sum": Tensor(p.xp.full(p.shape, group["initial_accumulator_value"], dtype=p.dtype))}

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state, step = self._stepped_state(p, group, self._new_state)
                grad = gradient_of(p, group["weight_decay"], group["maximize"])
                clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
                total = state["sum"].array
                total += grad * grad
                p.array -= clr * (grad / (p.xp.sqrt(total) + group["eps"]))
                bump_version(p)
        return loss
