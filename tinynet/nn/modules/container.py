"""Containers: ``Sequential`` (run layers in order) and ``ModuleList`` (hold layers in a list)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tinynet.nn.modules.module import Module, _addindent


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

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end, named by its position."""
        self.add_module(str(len(self)), module)
        return self


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

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end, in order."""
        for module in modules:
            self.append(module)
        return self

    def __repr__(self) -> str:
        """As PyTorch: runs of identical children print once, e.g. ``(0-2): 3 x ReLU()``."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return "ModuleList()"
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
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"
