"""``SGD``: stochastic gradient descent with optional momentum, dampening, Nesterov and L2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_non_negative, check_unsupported,
                                     gradient_of)
from tinynet.tensor import Tensor


class SGD(Optimizer):
    """Gradient descent, with PyTorch's exact update. For each parameter p with gradient g::

        g = -g                                         (if maximize)
        g = g + weight_decay · p                       (if weight_decay)
        b = g  (first step),  b = momentum · b + (1 - dampening) · g   (if momentum)
        g = g + momentum · b  (nesterov)   or   g = b  (plain momentum)
        p = p - lr · g

    The arguments keep PyTorch's order (weight_decay before nesterov); ``foreach`` is accepted
    and changes nothing.

    >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_unsupported("SGD", differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach))

    def _check_group(self, group: dict[str, Any]) -> None:
        check_non_negative("SGD", group, ("lr", "momentum", "weight_decay"))
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            nesterov, weight_decay = group["nesterov"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                # read only: backward may share this array
                direction = gradient_of(p, weight_decay, group["maximize"])
                if momentum:
                    state = self.state.setdefault(p, {})
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = Tensor(direction.copy())
                    else:
                        buffer.array *= momentum
                        buffer.array += (1 - dampening) * direction
                    direction = direction + momentum * buffer.array if nesterov else buffer.array
                p.array -= lr * direction
                bump_version(p)
        return loss
