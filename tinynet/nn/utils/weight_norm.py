"""PyTorch's deprecated ``torch.nn.utils.weight_norm``: the weight becomes ``weight_g`` and
``weight_v`` parameters, and a forward pre-hook recomputes ``weight`` from them before every
call. Prefer ``nn.utils.parametrizations.weight_norm``."""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

from tinynet.nn.modules.module import Module, Parameter
from tinynet.nn.utils.parametrize import _read_computed_through_registry
from tinynet.nn.utils.parametrizations import _norm_except_dim, _weight_norm
from tinynet.tensor import Tensor

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``<name>`` from ``<name>_g`` and ``<name>_v``."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        """``g · v / ||v||`` from the module's current ``<name>_g`` and ``<name>_v``."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Reparametrize ``module.<name>`` and register the hook (PyTorch's ``WeightNorm.apply``)."""
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=3)
        for hook in module._hook_registry("_forward_pre_hooks").values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                                   f"{name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        _read_computed_through_registry(module)
        return fn

    def remove(self, module: Module) -> None:
        """Make ``<name>`` a plain parameter again, holding the current normalised weight."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


T_module = TypeVar("T_module", bound=Module)


def weight_norm(module: T_module, name: str = "weight", dim: int | None = 0) -> T_module:
    """Deprecated (warns, as PyTorch): ``module.<name>`` becomes ``g · v / ||v||`` with the
    parameters ``<name>_g`` and ``<name>_v``, recomputed before every forward."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: T_module, name: str = "weight") -> T_module:
    """Undo ``weight_norm``: ``<name>`` is a plain parameter again."""
    return remove_norm_hook(module, name, WeightNorm, "weight_norm")


def remove_norm_hook(module: T_module, name: str, hook_type: type, what: str) -> T_module:
    """Take off the ``hook_type`` pre-hook that computes ``module.<name>``, leaving a plain
    parameter (``remove_weight_norm`` and ``remove_spectral_norm``)."""
    hooks = module._hook_registry("_forward_pre_hooks")
    for key, hook in hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            hook.remove(module)
            del hooks[key]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")
