"""``Module`` (the base class of every layer) and ``Parameter`` (a tensor a module learns).

A module keeps three ordered registries, filled by plain attribute assignment as in PyTorch:

* ``_parameters``: ``self.weight = Parameter(...)`` lands here;
* ``_buffers``: state that is saved but not learned (BatchNorm's running mean), added with
  ``register_buffer``;
* ``_modules``: ``self.fc1 = Linear(...)`` lands here, which makes modules a tree.

Everything else (``parameters()``, ``state_dict()``, ``to(device)``, ``train()``, the printed
tree) is a walk over that tree. Registration order is kept, so ``state_dict`` keys and
``parameters()`` come out in the order the layers were assigned.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import no_grad
from tinynet.tensor import Tensor, check_can_require_grad


class Parameter(Tensor):
    """A Tensor that a ``Module`` registers as learnable when assigned as an attribute.

    It requires grad by default and shares memory with the tensor or array it wraps.

    >>> w = nn.Parameter(tn.ones(2))
    >>> w
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data: Tensor | Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = numpy.empty(0, dtype=backend.default_float)
        elif isinstance(data, Tensor):
            data = data.array
        elif not backend.is_array(data):
            raise TypeError(f"Parameter: expected a Tensor or an array, got {type(data).__name__}; "
                            "wrap numbers with tn.tensor(...) first")
        if requires_grad:
            check_can_require_grad(data.dtype, "Parameter")
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (how a child's repr nests inside its parent's)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


def _host_or_device_array(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


class Module:
    """Base class of every layer and model. Subclass it, assign layers and Parameters as
    attributes in ``__init__`` (after ``super().__init__()``), and write ``forward``.

    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(1, 16)
    ...         self.out = nn.Linear(16, 1)
    ...     def forward(self, x):
    ...         return self.out(F.relu(self.hidden(x)))
    >>> model = TwoLayer()
    >>> [name for name, _ in model.named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these registries to exist first.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes; every subclass defines it. Call the module, not this."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # No hooks: a call is a forward, and costs nothing more (it runs every layer, every step).
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        registries = self.__dict__.get("_parameters")
        if isinstance(value, (Parameter, Module)) and registries is None:
            kind = "parameters" if isinstance(value, Parameter) else "module"
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call: call "
                                 f"super().__init__() first in {type(self).__name__}.__init__")
        if isinstance(value, Parameter):
            self._forget(name)
            self.register_parameter(name, value)
        elif registries is not None and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            self._parameters[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif registries is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module '{name}' "
                                "(nn.Module or None expected)")
            self._modules[name] = None
        elif registries is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                "(Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry and the instance dict, before it is re-registered."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered members live in the registries.
        members = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in members and name in members[registry]:
                return members[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _check_new_name(self, name: str, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")
        if hasattr(self, name) and name not in getattr(self, f"_{kind}s", {}):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter under ``name`` (what ``self.name = Parameter(...)`` does)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign {type(param).__name__} object to parameter '{name}' "
                            "(nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"cannot assign non-leaf Tensor to parameter '{name}': compute it "
                             "in forward(), or wrap a detached copy in nn.Parameter")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is part of the module's state but not learned.

        Buffers move with ``to(device)`` and, when ``persistent``, are saved in ``state_dict``.

        >>> self.register_buffer("running_mean", tn.zeros(num_features))
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module")
        self._modules[name] = module

    # ----------------------------------------------------------------- walking the tree
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, with dotted names ('' for this one)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every module below it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct children, each once, with their names."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children, each once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None or id(member) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(member))
                yield module_prefix + ("." if module_prefix else "") + name, member

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs; a parameter shared by two layers comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every learnable parameter, for an optimizer: ``optim.SGD(model.parameters(), lr=0.1)``."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, e.g. ``('1.running_mean', tensor)``."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (BatchNorm's running statistics…)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule, then on this one (custom initialisation)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes and devices
    def train(self, mode: bool = True) -> Module:
        """Training mode (the default): Dropout drops, BatchNorm uses batch statistics."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode is expected to be a bool, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout passes through, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: to ``None`` (default) or to fresh zeros."""
        for param in self.parameters():
            if param.grad is not None:
                param.grad = None if set_to_none else Tensor(param.grad.xp.zeros_like(param.grad.array))

    def to(self, device_or_dtype: Any = None, dtype: Any = None) -> Module:
        """Move parameters and buffers to a device and/or cast floating ones to a dtype, in place.

        The same Parameter objects are kept (only their data moves), so do this before
        building the optimizer or after: both work. Returns ``self``.

        >>> model = nn.Linear(3, 1).to("cuda")
        >>> model.double()  # float64, e.g. for gradcheck
        """
        device = None
        if isinstance(device_or_dtype, str):
            device = backend.check_device(device_or_dtype)
        elif device_or_dtype is not None:
            dtype = device_or_dtype
        dtype = None if dtype is None else numpy.dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")

        def convert(array: Any) -> Any:
            if device is not None:
                array = backend.to_device(array, device)
            if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
                array = array.astype(dtype)
            return array

        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.array = convert(tensor.array)
            if tensor.grad is not None:
                tensor.grad = Tensor(convert(tensor.grad.array))
        return self

    def cpu(self) -> Module:
        """``to('cpu')``."""
        return self.to("cpu")

    def cuda(self) -> Module:
        """``to('cuda')``."""
        return self.to("cuda")

    def float(self) -> Module:
        """Floating parameters and buffers to float32."""
        return self.to(numpy.float32)

    def double(self) -> Module:
        """Floating parameters and buffers to float64 (for gradcheck and Hessian work)."""
        return self.to(numpy.float64)

    # ----------------------------------------------------------------- state
    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, e.g. ``'0.weight'``,
        ``'features.1.running_mean'``.

        The values share memory with the module (as in PyTorch): take
        ``copy.deepcopy(model.state_dict())`` for a snapshot that later training won't change.
        ``tn.save(model.state_dict(), "model.npz")`` writes one to disk.
        """
        state: dict[str, Tensor] = {}
        self._save_to_state_dict(state, prefix, keep_vars)
        return state

    def _save_to_state_dict(self, state: dict[str, Tensor], prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                state[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                state[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module._save_to_state_dict(state, prefix + name + ".", keep_vars)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Every key is checked before anything is copied, so a failed load changes nothing.
        With ``strict=True`` a missing or unexpected key is an error; a shape mismatch always
        is. Values are copied (not shared) onto each parameter's own device and dtype, so a
        checkpoint saved on CUDA loads into a CPU model and back.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected)
                          + ".")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        matched = [key for key in own if key in state_dict]
        for key in matched:
            value = _host_or_device_array(state_dict[key])
            if not backend.is_array(value):
                errors.append(f'value for "{key}" is a {type(value).__name__}, expected a Tensor '
                              "or an array")
            elif tuple(value.shape) != tuple(own[key].shape):
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(value.shape)} from checkpoint, the shape in current model "
                              f"is {tuple(own[key].shape)}.")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():  # PyTorch's copy_: parameters keep their identity and bump their version
            for key in matched:
                own[key].copy_(Tensor(_host_or_device_array(state_dict[key])))
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses (its settings); override in layers."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"
