"""``Optimizer``: the base class that holds parameter groups and per-parameter state.

A subclass only writes ``step``. Updates work on raw arrays (``p.array``, ``p.grad.array``), so
a step records no graph and keeps none alive, and, as PyTorch's, they never write into
``p.grad``.
"""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from tinynet import backend
from tinynet.autograd import enable_grad
from tinynet.autograd.engine import clear_grad
from tinynet.autograd.hooks import RemovableHandle
from tinynet.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]

# hooks around every optimizer's step, as torch.optim.optimizer's register_optimizer_step_*_hook
_global_step_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_step_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``; it may return
    ``(new_args, new_kwargs)`` to change the call. Returns a handle whose ``remove()`` takes it off."""
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    return _add_hook(_global_step_post_hooks, hook)


def _add_hook(hooks: OrderedDict[int, Callable[..., Any]], hook: Callable[..., Any],
              prepend: bool = False) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` running the global and the optimizer's own step hooks around it, as PyTorch's:
    a pre-hook sees ``args`` with the optimizer first and may return ``(args, kwargs)``."""

    @functools.wraps(step)
    def hooked(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        own = self.__dict__
        if not (_global_step_pre_hooks or _global_step_post_hooks or own.get("_step_pre_hooks")
                or own.get("_step_post_hooks")) or own.get("_in_hooked_step"):
            return step(self, *args, **kwargs)  # no hooks, or a subclass's step calling super's
        args = (self, *args)
        for hook in [*_global_step_pre_hooks.values(), *own.get("_step_pre_hooks", {}).values()]:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step.__qualname__}: a step pre-hook must return None or "
                                       f"a tuple of (new_args, new_kwargs), but got {result!r}")
                args, kwargs = result
        own["_in_hooked_step"] = True
        try:
            out = step(*args, **kwargs)
        finally:
            own["_in_hooked_step"] = False
        for hook in [*own.get("_step_post_hooks", {}).values(), *_global_step_post_hooks.values()]:
            hook(self, args, kwargs)
        return out

    return hooked


class Optimizer:
    """Base class of every optimizer.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs (``model.named_parameters()``:
    the names are kept in each group's ``'param_names'``), or of dicts that each hold ``'params'``
    and their own settings (parameter groups); settings a group leaves out come from the
    constructor.

    >>> optim.SGD([{"params": model[0].parameters(), "lr": 1e-2},
    ...            {"params": model[2].parameters()}], lr=1e-3, momentum=0.9)
    """

    # per-parameter numbers kept as 0-d tensors (``scalar_state``), as PyTorch keeps them
    _scalar_state_keys: tuple[str, ...] = ("step",)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # every optimizer's step runs the step hooks
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        # as PyTorch's, a defaultdict: a custom optimizer's step can write self.state[p][key]
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or "
                            "dicts, got a single Tensor; wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{type(self).__name__}: parameters must be in an ordered collection "
                            "(a list), not a set whose order changes between runs")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own settings (e.g. to unfreeze layers mid-training)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be in an ordered collection (a list), "
                            "not a set whose order changes between runs")
        else:
            params = list(params)
        named = [isinstance(p, tuple) for p in params]
        if any(named):
            if not all(named):
                raise ValueError(f"{name}: all optimizer params should be with/without names. "
                                 "Some param names are missing")
            param_group = {**param_group, "param_names": [n for n, _ in params]}
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name} can't optimize a non-leaf Tensor (shape "
                                 f"{tuple(p.shape)}): it is computed from others, so its value "
                                 "is not free to change")
        group = {"params": params, **param_group, **{k: v for k, v in self.defaults.items()
                                                     if k not in param_group}}
        group["params"] = params
        self._check_group(group)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group holds the same parameter twice")
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's settings (each optimizer checks its own); raise ValueError."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter: to ``None`` (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                clear_grad(p, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (optional) recomputes the
        loss and returns it."""
        raise NotImplementedError(f"{type(self).__name__} defines no step")

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----------------------------------------------------------------- saving and loading
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}`` as in
        PyTorch: parameters are numbered in group order, and the state tensors are the live
        ones (``copy.deepcopy`` for a snapshot). ``tn.save`` writes it to disk.
        """
        for hook in self._hooks("_state_dict_pre_hooks").values():
            hook(self)
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        result = {"state": state, "param_groups": groups}
        for hook in self._hooks("_state_dict_post_hooks").values():
            result = _replaced(hook(self, result), result)
        return result

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore settings and state saved by ``state_dict`` into an optimizer built over the
        same parameters in the same order. State is copied onto each parameter's device (and
        floating state into its dtype), so training continues exactly where it stopped.
        """
        name = type(self).__name__
        state_dict = dict(state_dict)  # a hook may change it; the caller's stays as it was
        for hook in self._hooks("_load_state_dict_pre_hooks").values():
            state_dict = _replaced(hook(self, state_dict), state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the saved state has {len(saved_groups)} "
                             f"parameter groups, this optimizer has {len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} holds "
                                 f"{len(saved['params'])} parameters in the saved state but "
                                 f"{len(group['params'])} here")
        by_index = {saved_id: p for group, saved in zip(self.param_groups, saved_groups)
                    for saved_id, p in zip(saved["params"], group["params"])}
        state: dict[Tensor, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            if key in by_index:
                p = by_index[key]
                state[p] = {k: self._loaded_state_value(k, v, p) for k, v in values.items()}
        self.state = defaultdict(dict, state)
        # settings added since the state was saved take their defaults, as PyTorch's do
        self.param_groups = [{**self.defaults,
                              **copy.deepcopy({k: v for k, v in saved.items() if k != "params"}),
                              "params": group["params"]}
                             for group, saved in zip(self.param_groups, saved_groups)]
        for hook in self._hooks("_load_state_dict_post_hooks").values():
            hook(self)

    # ----------------------------------------------------------------- hooks
    def _hooks(self, name: str) -> OrderedDict[int, Callable[..., Any]]:
        """The hook registry ``name``, made on first use (a subclass may skip ``__init__``)."""
        hooks = self.__dict__.get(name)
        if hooks is None:
            hooks = self.__dict__[name] = OrderedDict()
        return hooks

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step`` (``args`` starts with the
        optimizer); returning ``(new_args, new_kwargs)`` changes the call.

        >>> optimizer.register_step_pre_hook(lambda opt, args, kwargs: print("stepping"))
        """
        return _add_hook(self._hooks("_step_pre_hooks"), hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return _add_hook(self._hooks("_step_post_hooks"), hook)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any],
                                     prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` before ``state_dict`` builds the dict."""
        return _add_hook(self._hooks("_state_dict_pre_hooks"), hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any],
                                      prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` on the dict ``state_dict`` built; a dict it
        returns is returned instead."""
        return _add_hook(self._hooks("_state_dict_post_hooks"), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                          prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` before ``load_state_dict`` reads the dict; a
        dict it returns is loaded instead."""
        return _add_hook(self._hooks("_load_state_dict_pre_hooks"), hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any],
                                           prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` after ``load_state_dict`` has loaded."""
        return _add_hook(self._hooks("_load_state_dict_post_hooks"), hook, prepend)

    def _stepped_state(self, p: Tensor, group: dict[str, Any],
                       new_state: Callable[[Tensor, dict[str, Any]], dict[str, Any]]
                       ) -> tuple[dict[str, Any], float]:
        """``p``'s state with its ``step`` counted up, and the new count: made by
        ``new_state(p, group)`` (after a ``step`` of 0) at p's first step, and checked to be on
        p's device (p may have moved)."""
        state = self.state.get(p)
        if not state:  # none yet, or an empty one that reading optimizer.state[p] made
            state = self.state[p] = {"step": scalar_state(0), **new_state(p, group)}
        tensors = [value for key, value in state.items()
                   if isinstance(value, Tensor) and key not in self._scalar_state_keys]
        if tensors:
            check_state_device(type(self).__name__, p, tensors[0])
        return state, count_step(state)

    def _loaded_state_value(self, key: str, value: Any, param: Tensor) -> Any:
        """One saved state value as this optimizer keeps it. A ``_scalar_state_keys`` number
        becomes a 0-d tensor on the CPU in the dtype it was saved in, so a resumed run repeats
        the uninterrupted one's rounding (a plain number, as older tinynet saved them, takes
        ``scalar_state``'s dtype); anything else a private copy on ``param``'s device (floats in
        its dtype).

        PyTorch too keeps ``step`` as saved; its NAdam's ``mu_product`` and ASGD's ``eta`` and
        ``mu`` take the parameter's dtype and device, which would change their rounding."""
        if key not in self._scalar_state_keys:
            return _state_value_for(value, param)
        if isinstance(value, Tensor) or backend.is_array(value):
            number = backend.to_numpy(value.array if isinstance(value, Tensor) else value)
            if number.dtype.kind == "f":
                return Tensor(number.reshape(()).copy())
            value = number.item()
        return scalar_state(float(value))

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"


def _replaced(result: Any, state_dict: dict[str, Any]) -> dict[str, Any]:
    """What a state-dict hook hands on: the dict it returned, else the one it was given."""
    return state_dict if result is None else result


def scalar_state(value: float) -> Tensor:
    """A number an optimizer keeps per parameter (the step count, NAdam's ``mu_product``, ASGD's
    ``eta``) as PyTorch keeps it: a 0-d tensor on the CPU, float64 when that is the default dtype
    (``tn.set_default_dtype``), else float32.

    >>> optimizer.state[p]["step"]
    tensor(3.)
    """
    np = backend.numpy
    dtype = np.float64 if backend.default_float == np.float64 else np.float32
    return Tensor(np.array(value, dtype=dtype))


def count_step(state: dict[str, Any]) -> float:
    """``state["step"] += 1``, in place as PyTorch counts; returns the new count."""
    step = state["step"].array
    step += 1
    return float(step)


def _state_value_for(value: Any, param: Tensor) -> Any:
    """A private copy of one saved state value, on ``param``'s device (floats in its dtype)."""
    if isinstance(value, Tensor) or backend.is_array(value):
        array = backend.to_device(value.array if isinstance(value, Tensor) else value, param.device)
        dtype = param.dtype if array.dtype.kind == "f" else array.dtype
        return Tensor(array.astype(dtype, copy=True))
    return copy.deepcopy(value)


def check_non_negative(name: str, group: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Raise ValueError naming the optimizer and setting when one of ``keys`` is below 0 (or NaN)."""
    for key in keys:
        if not group[key] >= 0:
            raise ValueError(f"{name}: invalid {key} {group[key]!r}, expected a number >= 0")


def check_unsupported(name: str, **flags: Any) -> None:
    """PyTorch's implementation switches that would change what a step means in tinynet."""
    for flag, value in flags.items():
        if value:
            raise NotImplementedError(f"{name}: {flag}=True is not supported by tinynet (its steps "
                                      "work on raw arrays, outside the graph, on one device kind)")


def gradient_of(p: Tensor, weight_decay: float, maximize: bool) -> Any:
    """The gradient array an update reads: negated to maximize, plus weight_decay·p (L2).

    Read only: without either it is ``p.grad.array`` itself.
    """
    grad = p.grad.array
    if maximize:
        grad = -grad
    if weight_decay:
        grad = grad + weight_decay * p.array
    return grad


def decayed_gradient(p: Tensor, lr: float, weight_decay: float, decoupled: bool,
                     maximize: bool) -> Any:
    """``gradient_of`` with weight decay as L2 (added to the gradient) or, ``decoupled``, as
    AdamW's: p shrunk by lr · weight_decay before the update, in place."""
    if decoupled and weight_decay:
        p.array *= 1 - lr * weight_decay
    return gradient_of(p, 0.0 if decoupled else weight_decay, maximize)


def check_state_device(name: str, p: Tensor, state_tensor: Tensor) -> None:
    """A parameter moved to another device after its optimizer state was made: say so."""
    if state_tensor.device != p.device:
        raise RuntimeError(f"{name}: a parameter of shape {tuple(p.shape)} is on {p.device} but its "
                           f"optimizer state is on {state_tensor.device}; move the model before "
                           "building the optimizer (or load the optimizer's state_dict after moving)")


def zeros_for(p: Tensor) -> Tensor:
    """A state tensor of zeros shaped, typed and placed as parameter ``p``."""
    return Tensor(p.xp.zeros_like(p.array))


def lerp_(start: Any, end: Any, weight: float) -> None:
    """``start ← start + weight · (end - start)`` in place on raw arrays, rounded as
    ``torch.lerp_`` rounds it (from ``end``'s side when weight >= 0.5): the moving average
    ``m = β·m + (1 - β)·g`` of the Adam family is ``lerp_(m, g, 1 - β)`` in PyTorch."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def check_betas(name: str, group: dict[str, Any]) -> None:
    """Raise ValueError naming the optimizer unless ``group['betas']`` is two numbers in [0, 1)."""
    betas = group["betas"]
    if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
        raise ValueError(f"{name}: invalid betas {betas!r}, expected two numbers in [0, 1)")
