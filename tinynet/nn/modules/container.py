"""Containers: ``Sequential`` (run layers in order), ``ModuleList`` and ``ModuleDict`` (hold
layers), ``ParameterList`` and ``ParameterDict`` (hold parameters), registered as PyTorch does."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tinynet.nn.modules.module import Module, Parameter, _addindent
from tinynet.tensor import Tensor


def _index(length: int, idx: int, kind: str) -> int:
    if not -length <= idx < length:
        raise IndexError(f"{kind}: index {idx} is out of range for {length} modules")
    return idx % length


class Sequential(Module):
    """Layers applied one after the other; children are named '0', '1', … (or by a dict).

    >>> model = nn.Sequential(nn.Linear(1, 5), nn.LeakyReLU(), nn.Linear(5, 1))
    >>> model
    Sequential(
      (0): Linear(in_features=1, out_features=5, bias=True)
      (1): LeakyReLU(negative_slope=0.01)
      (2): Linear(in_features=5, out_features=1, bias=True)
    )
    """

    def __init__(self, *modules: Module | dict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx: int | slice) -> Module:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(dict(items[idx]))
        return items[_index(len(items), idx, "Sequential")][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, idx: int, module: Module) -> None:
        """Replace the module at position ``idx`` (it keeps its name and place)."""
        setattr(self, _key_at(self, idx, "Sequential"), module)

    def __delitem__(self, idx: int | slice) -> None:
        """Remove the module(s) at ``idx``; the rest are renumbered '0', '1', … as in PyTorch."""
        _delete_and_renumber(self, idx, "Sequential")

    def pop(self, key: int | slice) -> Module:
        """Remove and return the module at ``key``."""
        value = self[key]
        del self[key]
        return value

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by its position."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put ``module`` at position ``index``, moving the later ones up by one."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        _insert(self, index + n if index < 0 else index, module)
        return self

    def extend(self, sequential: Iterable[Module]) -> Sequential:
        """Append each module of ``sequential``, in order."""
        for layer in sequential:
            self.append(layer)
        return self

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return self.extend(list(other))

    def _check_factor(self, other: Any) -> None:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")

    def __mul__(self, other: int) -> Sequential:
        """The same modules (shared, not copied) repeated ``other`` times."""
        self._check_factor(other)
        return Sequential(*(list(self) * other))

    def __rmul__(self, other: int) -> Sequential:
        return self.__mul__(other)

    def __imul__(self, other: int) -> Sequential:
        self._check_factor(other)
        return self.extend(list(self) * (other - 1))


def _key_at(container: Module, idx: int, kind: str) -> str:
    """The name of the child at position ``idx`` (negative counts from the end)."""
    keys = list(container._modules)
    return keys[_index(len(keys), operator.index(idx), kind)]


def _delete_and_renumber(container: Module, idx: int | slice, kind: str) -> None:
    keys = list(container._modules)
    doomed = keys[idx] if isinstance(idx, slice) else [_key_at(container, idx, kind)]
    for key in doomed:
        delattr(container, key)
    renumbered = {str(i): module for i, module in enumerate(container._modules.values())}
    container._modules.clear()
    container._modules.update(renumbered)


def _insert(container: Module, index: int, module: Module) -> None:
    modules = container._modules
    for i in range(len(modules), index, -1):
        modules[str(i)] = modules[str(i - 1)]
    modules[str(index)] = module


class ModuleList(Module):
    """A list of modules whose parameters the parent registers (a plain list would hide them).

    >>> self.blocks = nn.ModuleList([nn.Linear(10, 10) for _ in range(3)])
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Module | ModuleList:
        values = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(values[idx])
        return values[_index(len(values), idx, "ModuleList")]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(len(self), idx, "ModuleList")), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __delitem__(self, idx: int | slice) -> None:
        """Remove the module(s) at ``idx``; the rest are renumbered '0', '1', … as in PyTorch."""
        _delete_and_renumber(self, idx, "ModuleList")

    def pop(self, key: int | slice) -> Module:
        """Remove and return the module at ``key``."""
        value = self[key]
        del self[key]
        return value

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``, moving the later ones up by one."""
        _insert(self, index, module)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end, in order."""
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got "
                            + type(modules).__name__)
        for module in modules:
            self.append(module)
        return self

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """As PyTorch: runs of identical children print once, e.g. ``(0-2): 3 x ReLU()``."""
        reprs = [repr(module) for module in self]
        name = type(self).__name__
        if not reprs:
            return name + "()"
        runs: list[list[Any]] = []  # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for first, last, text in runs:
            line = f"({first}): {text}" if first == last else \
                f"({first}-{last}): {last - first + 1} x {text}"
            lines.append(_addindent(line, 2))
        return name + "(\n  " + "\n  ".join(lines) + "\n)"


class _RegistryDict(Module):
    """A dict view of one of the module's registries (``_modules`` or ``_parameters``)."""

    _sorts_plain_dicts = False  # ParameterDict.update sorts a plain dict's keys, as PyTorch

    _registry: str

    def _entries(self) -> dict[str, Any]:
        return self.__dict__[self._registry]

    def __delitem__(self, key: str) -> None:
        del self._entries()[key]

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __contains__(self, key: object) -> bool:
        return key in self._entries()

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._entries().keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        """(name, entry) pairs, in insertion order."""
        return self._entries().items()

    def values(self) -> Iterable[Any]:
        """The entries, in insertion order."""
        return self._entries().values()

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its entry."""
        value = self._entries()[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every entry."""
        self._entries().clear()

    def update(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add (or replace) entries from a mapping or from (name, value) pairs."""
        if isinstance(entries, (Mapping, _RegistryDict)):
            pairs = list(entries.items())
            if self._sorts_plain_dicts and not isinstance(entries, (OrderedDict, _RegistryDict)):
                pairs.sort(key=lambda pair: pair[0])  # PyTorch's ParameterDict sorts a dict
        else:
            pairs = []
            for i, pair in enumerate(entries):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(f"{type(self).__name__}.update: element #{i} should be a "
                                     f"(name, value) pair, got {type(pair).__name__}")
                pairs.append(tuple(pair))
        for key, value in pairs:
            self[key] = value


class ModuleDict(_RegistryDict):
    """A dict of modules whose parameters the parent registers, in insertion order.

    >>> self.heads = nn.ModuleDict({"digit": nn.Linear(64, 10), "parity": nn.Linear(64, 2)})
    >>> logits = self.heads["digit"](features)
    """

    _registry = "_modules"

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
                 ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)


def _as_parameter(value: Any, where: str) -> Parameter:
    """What a parameter container stores: Parameters as they are, other tensors wrapped."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{where}: expected a Parameter or a Tensor, got {type(value).__name__}")


def _parameter_line(key: str, p: Parameter) -> str:
    size = "x".join(str(n) for n in p.shape)
    device = f" ({p.device})" if p.device != "cpu" else ""
    return f"  ({key}): Parameter containing: [tinynet.{p.dtype} of size {size}{device}]"


class ParameterList(Module):
    """A list of parameters a module registers (named '0', '1', …); tensors become Parameters.

    >>> self.scales = nn.ParameterList([nn.Parameter(tn.ones(n)) for n in (4, 8)])
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx: int | slice) -> Parameter | ParameterList:
        values = list(self._parameters.values())
        if isinstance(idx, slice):
            return ParameterList(values[idx])
        return values[_index(len(values), idx, "ParameterList")]

    def __setitem__(self, idx: int, value: Any) -> None:
        key = str(_index(len(self), idx, "ParameterList"))
        self.register_parameter(key, _as_parameter(value, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def append(self, value: Any) -> ParameterList:
        """Add a parameter at the end."""
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add each of ``values`` at the end, in order."""
        if isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable of "
                            "parameters, but got a Tensor")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(str(i), p) for i, p in enumerate(self))


class ParameterDict(_RegistryDict):
    """A dict of parameters a module registers under their keys; tensors become Parameters."""

    _sorts_plain_dicts = True

    _registry = "_parameters"

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
                 ) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def extra_repr(self) -> str:
        return "\n".join(_parameter_line(key, p) for key, p in self.items())
