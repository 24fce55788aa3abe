"""``Rprop``: resilient backpropagation, steps sized by the signs of gradients alone
(Riedmiller & Braun, 1993)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_non_negative, check_unsupported,
                                     gradient_of, zeros_for)
from tinynet.tensor import Tensor


class Rprop(Optimizer):
    """Rprop with PyTorch's exact update and defaults. Each coordinate of each parameter p keeps
    its own step size s (starting at lr) and its previous gradient g′; with gradient g::

        g = -g (maximize)
        s = clamp(s · η₊, *step_sizes)    where g · g′ > 0     (same sign: speed up)
        s = clamp(s · η₋, *step_sizes)    where g · g′ < 0     (sign flipped: slow down, and
        g = 0                             there                 skip this coordinate)
        p = p - sign(g) · s
        g′ = g                                                   prev

    with (η₋, η₊) = etas. State per parameter: ``step`` (a 0-d tensor, as in PyTorch),
    ``prev``, ``step_size`` (made at a parameter's first step, from the group's lr then: a later
    change of lr, e.g. by a scheduler, reaches only parameters that have not stepped yet, as in
    PyTorch). ``foreach`` is accepted and changes nothing.

    >>> opt = optim.Rprop(model.parameters(), lr=1e-2)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_unsupported("Rprop", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                                      maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("Rprop", group, ("lr",))
        etas = group["etas"]
        if len(etas) != 2 or not 0 < etas[0] < 1 < etas[1]:
            raise ValueError(f"Rprop: invalid etas {etas!r}, expected (etaminus, etaplus) with "
                             "0 < etaminus < 1 < etaplus")
        if len(group["step_sizes"]) != 2:
            raise ValueError(f"Rprop: invalid step_sizes {group['step_sizes']!r}, expected "
                             "(min, max)")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p.xp
                state, _ = self._stepped_state(p, group, lambda q, g: {
                    "prev": zeros_for(q), "step_size": Tensor(q.xp.full_like(q.array, g["lr"]))})
                grad = gradient_of(p, 0.0, group["maximize"])
                prev, step_size = state["prev"].array, state["step_size"].array
                sign = xp.sign(grad * prev)
                flipped = sign < 0
                # η₊ where the sign held, η₋ where it flipped, 1 where either is 0 (NaN stays NaN)
                factor = xp.where(sign > 0, etaplus, xp.where(flipped, etaminus,
                                                              xp.where(sign == 0, 1, sign)))
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                grad = xp.where(flipped, 0, grad)
                p.array -= xp.sign(grad) * step_size
                prev[...] = grad
                bump_version(p)
        return loss
