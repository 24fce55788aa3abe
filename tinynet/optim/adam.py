"""``Adam`` and ``AdamW``: adaptive moment estimation, with PyTorch's exact update."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tinynet import backend
from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import (Optimizer, ParamsT, check_betas, check_non_negative,
                                     check_state_device, check_unsupported, count_step,
                                     scalar_state)
from tinynet.tensor import Tensor


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015). For each parameter p with gradient g, at step t = 1, 2, …::

        g = -g                                          (maximize)
        g = g + weight_decay · p                        (L2 penalty; AdamW decays p instead)
        m = β1 · m + (1 - β1) · g                       first moment
        v = β2 · v + (1 - β2) · g²                      second moment
        v̂ = max(v̂, v) with amsgrad, else v̂ = v
        p = p - lr / (1 - β1ᵗ) · m / (sqrt(v̂) / sqrt(1 - β2ᵗ) + eps)

    The state of each parameter is ``step`` (a 0-d tensor, as in PyTorch), ``exp_avg``
    (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq`` (v̂).

    >>> opt = optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        check_unsupported(type(self).__name__, capturable=capturable,
                          differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                                      decoupled_weight_decay=decoupled_weight_decay))
        self._flat: dict[int, _FlatMoments] = {}  # group index -> its moments as flat arrays

    def _check_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        check_non_negative(name, group, ("lr", "eps", "weight_decay"))
        check_betas(name, group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = self._evaluate(closure)
        for index, group in enumerate(self.param_groups):
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group["betas"]
            amsgrad = group["amsgrad"]
            states = [self.state.get(p) or self._init_state(p) for p in params]
            for p, state in zip(params, states):
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = Tensor(p.xp.zeros_like(p.array))
            settings = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                            weight_decay=group["weight_decay"],
                            decoupled=group["decoupled_weight_decay"], maximize=group["maximize"])
            flat = self._flat_moments(index, group, params, states, amsgrad)
            if flat is not None:
                flat.step(params, **settings)  # counts the group's steps too
                bump_version(*params)
                continue
            for p, state in zip(params, states):
                check_state_device("Adam", p, state["exp_avg"])
                adam_update(p.array, p.grad.array, state["exp_avg"].array, state["exp_avg_sq"].array,
                            state["max_exp_avg_sq"].array if amsgrad else None,
                            step=count_step(state), **settings)
            bump_version(*params)
        return loss

    def _init_state(self, p: Tensor) -> dict[str, Any]:
        state = self.state[p] = {"step": scalar_state(0), "exp_avg": Tensor(p.xp.zeros_like(p.array)),
                                 "exp_avg_sq": Tensor(p.xp.zeros_like(p.array))}
        return state

    def _flat_moments(self, index: int, group: dict[str, Any], params: list[Tensor],
                      states: list[dict[str, Any]], amsgrad: bool) -> _FlatMoments | None:
        """The flat moments of group ``index`` when the whole group can step as one array:
        every parameter has a gradient, all share a device and dtype, and all are at the same
        step. Built on first use, and rebuilt when the state was replaced (load_state_dict)."""
        flat = self._flat.get(index)
        if flat is not None and flat.backs(params, states, amsgrad):
            return flat
        if len(params) < 2 or len(params) != len(group["params"]) or \
                not _FlatMoments.can_hold(params, states, amsgrad):
            return None
        flat = self._flat[index] = _FlatMoments(params, states, amsgrad)
        return flat


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before the Adam update,
    p = p · (1 - lr · weight_decay), instead of adding weight_decay · p to the gradient (as
    ``Adam(..., decoupled_weight_decay=True)``).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


def adam_update(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, max_exp_avg_sq: Any | None, *,
                step: float, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                decoupled: bool, maximize: bool = False) -> None:
    """One Adam step on raw arrays: updates ``param`` and the moments in place, only reads ``grad``.

    Fused by hand: every operation writes into an existing array (``out=`` or an in-place
    operator) and one scratch array serves all temporaries. Written naively the same formula
    allocates about ten arrays per parameter per step; small models (the training step that is
    benchmarked against PyTorch) spend most of their optimizer time on that allocation and on
    Python overhead, not on arithmetic.
    """
    xp = backend.get_array_module(param)
    if maximize:
        grad = -grad  # a new array: the caller's gradient stays untouched
    if weight_decay and decoupled:
        param *= 1 - lr * weight_decay
    elif weight_decay:
        grad = grad + weight_decay * param  # a new array: the caller's gradient stays untouched
    scratch = xp.empty_like(param)
    xp.multiply(grad, 1 - beta1, out=scratch)
    exp_avg *= beta1
    exp_avg += scratch
    xp.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch
    second_moment = exp_avg_sq
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    xp.sqrt(second_moment, out=scratch)
    scratch /= math.sqrt(1 - beta2 ** step)
    scratch += eps
    xp.divide(exp_avg, scratch, out=scratch)
    scratch *= -lr / (1 - beta1 ** step)
    param += scratch


class _FlatMoments:
    """One parameter group's Adam moments stored as flat arrays, so a step is one
    ``adam_update`` over the whole group instead of one per parameter.

    Why: updating parameter by parameter costs about a dozen array calls each, and for small
    models (an 8-layer MLP has 16 parameters of at most 100 numbers) those calls, not the
    arithmetic, are the optimizer's whole cost. A step gathers the parameters and their
    gradients into two flat arrays (one ``concatenate`` each), runs the update once, and writes
    each parameter's slice back into the parameter's own memory: as in PyTorch, a parameter
    keeps its storage, so what shares it (a ``state_dict()``, a ``detach()``, a NumPy view)
    sees every step. Each parameter's ``exp_avg`` etc. in ``optimizer.state`` is a view into
    the flat moments, and its ``step`` a view into one array of step counts (counted up by one
    ``+= 1`` for the group), so the state looks exactly as with per-parameter updates, and the
    two paths can take turns.
    """

    def __init__(self, params: list[Tensor], states: list[dict[str, Any]], amsgrad: bool) -> None:
        xp = params[0].xp
        self.params = list(params)
        self.keys = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
        bounds = []
        offset = 0
        for p in params:
            bounds.append((offset, offset + p.numel()))
            offset += p.numel()
        self.moments = {}
        self.views: dict[str, list[Any]] = {}
        for key in self.keys:
            flat = xp.concatenate([state[key].array.reshape(-1) for state in states])
            self.moments[key] = flat
            self.views[key] = [flat[a:b].reshape(p.shape) for (a, b), p in zip(bounds, params)]
            for state, view in zip(states, self.views[key]):
                state[key].array = view
        self.steps = backend.numpy.array([float(state["step"]) for state in states],
                                         dtype=states[0]["step"].dtype)
        self.step_views = [self.steps[i:i + 1].reshape(()) for i in range(len(states))]
        for state, view in zip(states, self.step_views):
            state["step"].array = view
        self.param = xp.empty(offset, dtype=params[0].dtype)
        self.grad = xp.empty(offset, dtype=params[0].dtype)
        self.param_views = [self.param[a:b].reshape(p.shape) for (a, b), p in zip(bounds, params)]

    @staticmethod
    def can_hold(params: list[Tensor], states: list[dict[str, Any]], amsgrad: bool) -> bool:
        array_type, dtype = type(params[0].array), params[0].dtype
        step, step_dtype = states[0]["step"], states[0]["step"].dtype
        keys = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
        return all(type(p.array) is array_type and p.dtype == dtype
                   and state["step"].dtype == step_dtype and float(state["step"]) == float(step)
                   and all(type(state[key].array) is array_type for key in keys)
                   for p, state in zip(params, states))

    def backs(self, params: list[Tensor], states: list[dict[str, Any]], amsgrad: bool) -> bool:
        """True while these are the same parameters, of one dtype, and their state is still ours."""
        if len(params) != len(self.params) or any(p is not q for p, q in zip(params, self.params)):
            return False
        if ("max_exp_avg_sq" in self.keys) != amsgrad:
            return False
        array_type, dtype = type(self.param), self.param.dtype
        if any(type(p.array) is not array_type or p.dtype != dtype for p in params):
            return False
        if any(state["step"].array is not view for state, view in zip(states, self.step_views)) \
                or (self.steps != self.steps[0]).any():  # one count written into: step alone
            return False
        return all(state[key].array is view for key in self.keys
                   for state, view in zip(states, self.views[key]))

    def step(self, params: list[Tensor], **settings: Any) -> None:
        """Count the group's step and update it (``settings``: ``adam_update``'s)."""
        self.steps += 1
        step = float(self.steps[0])
        xp = backend.get_array_module(self.param)
        xp.concatenate([p.array.reshape(-1) for p in params], out=self.param)
        xp.concatenate([p.grad.array.reshape(-1) for p in params], out=self.grad)
        adam_update(self.param, self.grad, self.moments["exp_avg"], self.moments["exp_avg_sq"],
                    self.moments.get("max_exp_avg_sq"), step=step, **settings)
        for p, view in zip(params, self.param_views):
            p.array[...] = view
