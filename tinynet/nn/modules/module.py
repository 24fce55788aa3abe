"""``Module`` (the base class of every layer) and ``Parameter`` (a tensor a module learns).

A module keeps three ordered registries, filled by plain attribute assignment as in PyTorch:

* ``_parameters``: ``self.weight = Parameter(...)`` lands here;
* ``_buffers``: state that is saved but not learned (BatchNorm's running mean), added with
  ``register_buffer``;
* ``_modules``: ``self.fc1 = Linear(...)`` lands here, which makes modules a tree.

Everything else (``parameters()``, ``state_dict()``, ``to(device)``, ``train()``, the printed
tree) is a walk over that tree. Registration order is kept, so ``state_dict`` keys and
``parameters()`` come out in the order the layers were assigned; reassigning a name
(``lin.weight = Parameter(...)``, weight tying) keeps its place, as in PyTorch.

Calling a module (``module(x)``, not ``module.forward(x)``) runs its hooks as PyTorch does:
forward pre-hooks and hooks (``register_forward_pre_hook``/``register_forward_hook``), and full
backward hooks (``register_full_backward_pre_hook``/``register_full_backward_hook``), which see
the gradients of the module's tensor inputs and outputs through two identity graph nodes, as
PyTorch's ``BackwardHook`` does. Each registration returns a ``RemovableHandle``.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import no_grad
from tinynet.autograd.engine import Op, clear_grad, is_grad_enabled
from tinynet.autograd.hooks import RemovableHandle
from tinynet.tensor import Tensor, check_can_require_grad, to_arguments


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


_HOOK_REGISTRIES = ("_backward_pre_hooks", "_backward_hooks", "_forward_hooks",
                    "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
                    "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs")

class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find, and those it did not use."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"  # PyTorch's words
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "  # PyTorch's name
                f"unexpected_keys={self.unexpected_keys!r})")


_EXTRA_STATE = "_extra_state"  # the state_dict key of a module's get_extra_state()


def _children_first(tree: list[tuple[str, Module, int]]) -> Iterator[tuple[int, Module]]:
    """The modules of the parents-first list ``tree`` children first (post-order), each with
    where its subtree ends in ``tree``."""
    open_nodes: list[tuple[int, Module]] = []  # (depth, module) of the subtrees still open
    for index, (_, module, depth) in enumerate(tree):
        while open_nodes and open_nodes[-1][0] >= depth:
            yield index, open_nodes.pop()[1]
        open_nodes.append((depth, module))
    while open_nodes:
        yield len(tree), open_nodes.pop()[1]


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (how a child's repr nests inside its parent's)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return "\n".join([lines[0]] + [" " * spaces + line for line in lines[1:]])


def _host_or_device_array(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


_TINYNET_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, pointing at the first frame outside tinynet (the user's ``loss.backward()``)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_TINYNET_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# ------------------------------------------------------------------------- full backward hooks
# PyTorch runs a module's backward hooks from two identity nodes, one on the module's tensor
# inputs and one on its outputs (torch.utils.hooks.BackwardHook). Here each side is a small
# graph: a ``_HookJoin`` node takes every tensor that requires grad and makes an empty "token";
# one ``_HookSelect`` node per tensor gives that tensor back (same memory, same version counter)
# as a function of the token. In backward each select node records the gradient it got and sends
# an empty one to the token, so the join node runs after all of them, with every gradient of its
# side at hand and knowing which outputs got none (PyTorch hands those to the hooks as None).
# The join node then calls the hooks and returns the (possibly replaced) gradients.

class _HookJoin(Op):
    saves_inputs = False
    node_name = "BackwardHookFunctionBackward"

    def forward(self, *arrays: Any) -> Any:
        return backend.get_array_module(arrays[0]).zeros(0, dtype=arrays[0].dtype)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        return self.state.join_backward(self.side)


class _HookSelect(Op):
    saves_inputs = False
    node_name = "BackwardHookFunctionBackward"

    def forward(self, token: Any) -> Any:
        return self.data

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        self.state.received[self.side][self.index] = grad
        return (Tensor(grad.xp.zeros(0, dtype=self.token_dtype)),)


def _tensors_and_differentiable(values: Sequence[Any]) -> tuple[list[int], list[int]] | None:
    """The positions of the Tensors among ``values`` and of those requiring grad; None when
    none does or gradients are off (the backward hooks then have nothing to follow)."""
    tensors = [i for i, a in enumerate(values) if isinstance(a, Tensor)]
    positions = [i for i in tensors if values[i].requires_grad]
    return (tensors, positions) if positions and is_grad_enabled() else None


def _through_hook_nodes(state: _BackwardHookState, side: str, values: tuple, positions: list[int]
                        ) -> tuple:
    """``values`` with the tensors at ``positions`` replaced by the select nodes' outputs."""
    chosen = [values[i] for i in positions]
    token = _HookJoin.apply(*chosen, state=state, side=side)
    replaced = list(values)
    for i, t in zip(positions, chosen):
        view = _HookSelect.apply(token, data=t.array, state=state, side=side, index=i,
                                 token_dtype=token.dtype)
        view._version_counter = t._version_counter  # a view of t, as PyTorch's are
        view._is_view = True  # changing it in place while recording raises, as in PyTorch
        replaced[i] = view
    return tuple(replaced)


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor(t.xp.zeros(t.shape, dtype=t.dtype))


class _BackwardHookState:
    """One module call's backward hooks (PyTorch's ``torch.utils.hooks.BackwardHook``)."""

    def __init__(self, module: Module, user_hooks: list[Callable], user_pre_hooks: list[Callable]
                 ) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = -1
        self.input_tensors_index: list[int] | None = None
        self.input_zeros: dict[int, Tensor] = {}
        self.input_positions: list[int] = []
        self.n_outputs = -1
        self.output_tensors_index: list[int] | None = None
        self.output_positions: list[int] = []
        self.received: dict[str, dict[int, Tensor]] = {"input": {}, "output": {}}

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        found = _tensors_and_differentiable(args)
        if found is None:
            return args
        self.input_tensors_index, self.input_positions = found
        # PyTorch gives zeros for a tensor input that got no gradient, not None
        self.input_zeros = {i: args[i] for i in found[0]}
        return _through_hook_nodes(self, "input", args, self.input_positions)

    def setup_output_hook(self, result: Any) -> Any:
        is_tuple = isinstance(result, tuple)
        values = result if is_tuple else (result,)
        self.n_outputs = len(values)
        found = _tensors_and_differentiable(values)
        if found is None:
            return result
        self.output_tensors_index, self.output_positions = found
        replaced = _through_hook_nodes(self, "output", values, self.output_positions)
        if not is_tuple:
            return replaced[0]
        return replaced if type(result) is tuple else type(result)(*replaced)

    def join_backward(self, side: str) -> tuple[Tensor | None, ...]:
        received, self.received[side] = self.received[side], {}
        if side == "output":
            return self._output_backward(received)
        return self._input_backward(received)

    def _output_backward(self, received: dict[int, Tensor]) -> tuple[Tensor | None, ...]:
        grads = [None] * self.n_outputs
        for i in self.output_positions:
            grads[i] = received.get(i)
        self.grad_outputs = tuple(grads)
        expected = len(self.grad_outputs)
        for pre_hook in self.user_pre_hooks:
            replaced = pre_hook(self.module, self.grad_outputs)
            if replaced is None:
                continue
            if len(replaced) != expected:
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(replaced)}, but expected {expected}")
            self.grad_outputs = replaced
        local_grad_outputs = self.grad_outputs
        if self.input_tensors_index is None:  # no input requires grad: the hooks run now
            _warn_at_caller("Full backward hook is firing when gradients are computed with respect "
                            "to module outputs since no inputs require gradients. See "
                            "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                            "#torch.nn.Module.register_full_backward_hook for more details.")
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not (isinstance(result, tuple)
                                               and all(r is None for r in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient "
                                       "should always return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(local_grad_outputs[i] for i in self.output_positions)

    def _input_backward(self, received: dict[int, Tensor]) -> tuple[Tensor | None, ...]:
        grads: list[Any] = [None] * self.n_inputs
        for i in self.input_tensors_index or ():
            grads[i] = received[i] if i in received else _zeros_like(self.input_zeros[i])
        if self.grad_outputs is None:
            # the gradient reached the inputs without passing through the outputs (a double
            # backward): PyTorch calls no hook then
            return tuple(grads[i] for i in self.input_positions)
        result = tuple(grads)
        for hook in self.user_hooks:
            out = hook(self.module, result, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(result):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(result)}")
            result = out
        self.grad_outputs = None
        return tuple(result[i] for i in self.input_positions)


def _check_legacy_backward_hook(module: Module, args: tuple, result: Any) -> bool:
    """Whether PyTorch's deprecated ``register_backward_hook`` would see the same gradients as a
    full backward hook: the output is one tensor made by one graph node whose inputs are exactly
    the module's inputs. Raises where it would not (PyTorch hands such hooks the gradients of
    the last operation's inputs instead, and warns); False when the output has no graph node
    (PyTorch then calls no hook)."""
    output = result[0] if isinstance(result, tuple) and len(result) == 1 else result
    if isinstance(output, Tensor) and output.grad_fn is None:
        return False
    node = getattr(output, "grad_fn", None)
    node_inputs = getattr(node, "inputs", None)
    if (isinstance(output, Tensor) and all(isinstance(a, Tensor) for a in args)
            and node_inputs is not None and len(node_inputs) == len(args)
            and all(a is b for a, b in zip(node_inputs, args))):
        return True
    raise RuntimeError(
        f"{type(module).__name__}.register_backward_hook: PyTorch's deprecated non-full backward "
        "hook receives the gradients of the inputs of the last operation of forward(), which "
        "differ from the gradients of the module's inputs here (the forward is more than one "
        "operation, uses parameters, or does not take and return plain tensors); tinynet does "
        "not reproduce those. Use register_full_backward_hook, which PyTorch recommends.")


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
        for registry in _HOOK_REGISTRIES:
            object.__setattr__(self, registry, OrderedDict())
        object.__setattr__(self, "_is_full_backward_hook", None)
        object.__setattr__(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes; every subclass defines it. Call the module, not this."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # No hooks: a call is a forward, and costs nothing more (it runs every layer, every step).
        members = self.__dict__
        if not (members.get("_forward_hooks") or members.get("_forward_pre_hooks")
                or members.get("_backward_hooks") or members.get("_backward_pre_hooks")):
            return self.forward(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        """A call with hooks, in PyTorch's order: forward pre-hooks (which may replace the
        arguments), the backward hooks' input nodes, ``forward``, forward hooks (which may replace
        the output), the backward hooks' output nodes."""
        result = None
        called_always: set[int] = set()
        forward_hooks = self._hook_registry("_forward_hooks")
        always_called = self._hook_registry("_forward_hooks_always_called")
        forward_hooks_with_kwargs = self._hook_registry("_forward_hooks_with_kwargs")
        try:
            backward_pre_hooks = list(self._hook_registry("_backward_pre_hooks").values())
            full_hooks: list[Callable] = []
            legacy_hooks: list[Callable] = []
            backward_hooks = self._hook_registry("_backward_hooks")
            if backward_hooks:
                if self.__dict__.get("_is_full_backward_hook"):
                    full_hooks = list(backward_hooks.values())
                else:
                    legacy_hooks = list(backward_hooks.values())
            pre_hooks_with_kwargs = self._hook_registry("_forward_pre_hooks_with_kwargs")
            for hook_id, hook in list(self._hook_registry("_forward_pre_hooks").items()):
                if hook_id in pre_hooks_with_kwargs:
                    args_kwargs = hook(self, args, kwargs)
                    if args_kwargs is not None:
                        if isinstance(args_kwargs, tuple) and len(args_kwargs) == 2:
                            args, kwargs = args_kwargs
                        else:
                            raise RuntimeError("forward pre-hook must return None or a tuple of "
                                               f"(new_args, new_kwargs), but got {args_kwargs}.")
                else:
                    new_args = hook(self, args)
                    if new_args is not None:
                        args = new_args if isinstance(new_args, tuple) else (new_args,)

            bw_hook = None
            if full_hooks or backward_pre_hooks or legacy_hooks:
                bw_hook = _BackwardHookState(self, full_hooks + legacy_hooks, backward_pre_hooks)
                args = bw_hook.setup_input_hook(args)

            result = self.forward(*args, **kwargs)
            for hook_id, hook in list(forward_hooks.items()):
                if hook_id in always_called:
                    called_always.add(hook_id)
                if hook_id in forward_hooks_with_kwargs:
                    hook_result = hook(self, args, kwargs, result)
                else:
                    hook_result = hook(self, args, result)
                if hook_result is not None:
                    result = hook_result

            if bw_hook is not None:
                if legacy_hooks and not _check_legacy_backward_hook(self, args, result):
                    bw_hook = None  # no graph behind the output: PyTorch calls no hook
                elif not isinstance(result, (Tensor, tuple)):
                    _warn_at_caller("For backward hooks to be called, module output should be a "
                                    f"Tensor or a tuple of Tensors but received {type(result)}")
            if bw_hook is not None:
                result = bw_hook.setup_output_hook(result)
            return result
        except Exception:
            # PyTorch: hooks registered with always_call=True run even when forward raised
            for hook_id, hook in list(forward_hooks.items()):
                if hook_id in always_called and hook_id not in called_always:
                    try:
                        if hook_id in forward_hooks_with_kwargs:
                            hook_result = hook(self, args, kwargs, result)
                        else:
                            hook_result = hook(self, args, result)
                        if hook_result is not None:
                            result = hook_result
                    except Exception as e:
                        _warn_at_caller("module forward hook with ``always_call=True`` raised an "
                                        "exception that was silenced as another error was raised "
                                        f"in forward: {e}")
                        continue
            raise

    # ----------------------------------------------------------------- hooks
    def _hook_registry(self, name: str) -> OrderedDict:
        """The hook registry ``name``, made on first use for a module that lacks it."""
        registry = self.__dict__.get(name)
        if registry is None:
            registry = OrderedDict()
            object.__setattr__(self, name, registry)
        return registry

    def _add_hook(self, registry: str, hook: Callable[..., Any], prepend: bool = False,
                  **flags: bool) -> RemovableHandle:
        """Put ``hook`` in the hook registry ``registry`` (first with ``prepend``) and its id in
        each registry named in ``flags`` whose flag is set; returns its handle."""
        hooks = self._hook_registry(registry)
        flag_registries = {name: self._hook_registry(name) for name in flags}
        handle = RemovableHandle(hooks, extra_dict=list(flag_registries.values()))
        hooks[handle.id] = hook
        for name, on in flags.items():
            if on:
                flag_registries[name][handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward`` (run through ``module(...)``).

        The hook may return new arguments (a tuple, or one value that is wrapped in a tuple).
        With ``with_kwargs=True`` it is called as ``hook(module, args, kwargs)`` and may return
        ``(new_args, new_kwargs)``. ``prepend=True`` runs it before the hooks already there.
        Returns a handle whose ``remove()`` takes it off.
        """
        return self._add_hook("_forward_pre_hooks", hook, prepend,
                              _forward_pre_hooks_with_kwargs=with_kwargs)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False
                              ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward`` (run through
        ``module(...)``); a value it returns replaces the output.

        With ``with_kwargs=True`` it is called as ``hook(module, args, kwargs, output)``; with
        ``always_call=True`` it runs even when ``forward`` raises. ``prepend=True`` runs it before
        the hooks already there. Returns a handle whose ``remove()`` takes it off.

        >>> features = {}
        >>> model.fc1.register_forward_hook(lambda m, args, out: features.update(fc1=out))
        """
        return self._add_hook("_forward_hooks", hook, prepend,
                              _forward_hooks_with_kwargs=with_kwargs,
                              _forward_hooks_always_called=always_call)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False
                                        ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are
        computed, before they flow into ``forward``'s graph; it may return a replacement tuple.

        ``grad_output`` has one entry per output (None for non-tensors and for outputs that got
        no gradient). As in PyTorch, the module's forward receives a view of each input tensor and
        the caller a view of each output tensor; changing those in place raises.
        """
        return self._add_hook("_backward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False
                                    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to the
        module's inputs are computed; it may return a replacement for ``grad_input``.

        ``grad_input`` has one entry per positional argument (None for non-tensors; keyword
        arguments are ignored), ``grad_output`` one per output. When no input requires grad the
        hook runs once the output gradients are known, with ``grad_input`` all None (PyTorch
        warns then, and so does tinynet). A module cannot mix these with
        ``register_backward_hook``.
        """
        if self.__dict__.get("_is_full_backward_hook") is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a "
                               "single Module. Please use only one of them.")
        object.__setattr__(self, "_is_full_backward_hook", True)
        return self._add_hook("_backward_hooks", hook, prepend)

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """PyTorch's deprecated backward hook: ``hook(module, grad_input, grad_output)``.

        PyTorch hands it the gradients of the inputs of the *last operation* of ``forward``, not
        of the module's inputs. tinynet runs it where the two agree (a forward that is one
        operation on the module's input tensors, such as an activation) and raises when the
        module is called where they would not: use ``register_full_backward_hook`` instead.
        """
        if self.__dict__.get("_is_full_backward_hook") is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks on a "
                               "single Module. Please use only one of them.")
        object.__setattr__(self, "_is_full_backward_hook", False)
        return self._add_hook("_backward_hooks", hook)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        registries = self.__dict__.get("_parameters")
        if isinstance(value, (Parameter, Module)) and registries is None:
            kind = "parameters" if isinstance(value, Parameter) else "module"
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call: call "
                                 f"super().__init__() first in {type(self).__name__}.__init__")
        # A name reassigned within its own registry keeps its place there (PyTorch's order of
        # named_parameters and state_dict: weight before bias even after ``lin.weight = ...``).
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif registries is not None and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            self._parameters[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
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

    def _forget(self, name: str, keep: str) -> None:
        """Drop ``name`` from the instance dict and from every registry but ``keep`` (where the
        new value replaces the old in place), before it is registered again."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
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

    def register_module(self, name: str, module: Module | None) -> None:
        """Alias of ``add_module``."""
        self.add_module(name, module)

    def _get_name(self) -> str:
        return type(self).__name__

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (``''`` is this module), e.g.
        ``model.get_submodule("encoder.layers.0")``; AttributeError if there is none."""
        if target == "":
            return self
        module: Module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at the dotted path ``target``, replacing what is there (or, with
        ``strict=True``, only replacing: a missing name raises AttributeError)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, Module):
            raise ValueError("`module` is not an nn.Module, found " + str(type(module)))
        parent = self if len(atoms) == 1 else self.get_submodule(".".join(atoms[:-1]))
        if strict and not hasattr(parent, atoms[-1]):
            raise AttributeError(parent._get_name() + " has no attribute `" + atoms[-1] + "`")
        if hasattr(parent, atoms[-1]) and not isinstance(getattr(parent, atoms[-1]), Module):
            raise AttributeError("`" + atoms[-1] + "` is not an nn.Module")
        setattr(parent, atoms[-1], module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target``, e.g. ``"encoder.0.weight"``;
        AttributeError if there is none."""
        return self._member(target, "an nn.Parameter",
                            lambda module, name, value: isinstance(value, Parameter))

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target``, e.g. ``"bn.running_mean"``;
        AttributeError if there is none."""
        return self._member(target, "a buffer", lambda module, name, value: name in module._buffers)

    def _member(self, target: str, kind: str, is_kind: Callable[[Module, str, Any], bool]) -> Any:
        """The attribute at the dotted path ``target``, checked by ``is_kind`` (PyTorch's errors)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        value = getattr(module, name)
        if not is_kind(module, name, value):
            raise AttributeError("`" + name + "` is not " + kind)
        return value

    # ----------------------------------------------------------------- walking the tree
    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module below it, with dotted names ('' for this one)."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name,
                                                remove_duplicate)

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        """This module and every module below it, each once (unless ``remove_duplicate=False``)."""
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
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
        """Clear every parameter's ``.grad``: to ``None`` (default) or to zeros, in place."""
        for param in self.parameters():
            clear_grad(param, set_to_none)

    def to(self, *args: Any, device: Any = None, dtype: Any = None,
           non_blocking: bool = False) -> Module:
        """Move parameters and buffers to a device and/or cast floating ones to a dtype, in place.

        As in PyTorch: ``to('cuda')``, ``to(tn.float64)``, ``to('cpu', tn.float64)``,
        ``to(a_tensor)`` (its device and dtype) or by keyword; ``non_blocking`` is accepted (the
        copies are ordinary ones). The same Parameter objects are kept (only their data moves),
        so do this before building the optimizer or after: both work. Returns ``self``.

        >>> model = nn.Linear(3, 1).to("cuda")
        >>> model.double()  # float64, e.g. for gradcheck
        """
        device, dtype = to_arguments(args, device, dtype)
        device = None if device is None else backend.check_device(device)
        dtype = None if dtype is None else numpy.dtype(dtype)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")

        def convert(array: Any) -> Any:
            if device is not None:
                array = backend.to_device(array, device)
            if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
                array = array.astype(dtype)
            return array

        return self._convert(convert)

    def _convert(self, convert: Callable[[Any], Any]) -> Module:
        """Every parameter and buffer (and gradient) holds ``convert`` of its array; the same
        Tensor objects stay, so optimizers and references keep working. Returns ``self``."""
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

    def half(self) -> Module:
        """Floating parameters and buffers to float16."""
        return self.to(numpy.float16)

    def bfloat16(self) -> Module:
        """Refused: NumPy, and so tinynet, has no bfloat16; ``half()`` gives float16."""
        raise TypeError("Module.bfloat16: tinynet has no bfloat16 dtype (NumPy has none); use "
                        "half() for float16 or float() for float32")

    def type(self, dst_type: Any) -> Module:
        """Every parameter and buffer cast to ``dst_type`` (integer buffers too, as PyTorch's);
        a parameter can't take an integer dtype."""
        if isinstance(getattr(dst_type, "device", None), str):  # tn.FloatTensor, tn.cuda.…
            dst_type = dst_type.dtype
        dtype = numpy.dtype(dst_type)
        if dtype.kind not in "fc" and any(True for _ in self.parameters()):
            raise RuntimeError(f"Module.type: parameters require grad, so they must stay floating "
                               f"point, not {dtype}")
        return self._convert(lambda array: array.astype(dtype, copy=False))

    def share_memory(self) -> Module:
        """``self``: PyTorch moves the tensors to shared memory for worker processes; tinynet
        runs in one process (its DataLoader workers included), so they already are shared."""
        return self

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Accepted and does nothing: tinynet has no compiler, and ``torch.compile`` changes how
        fast a model runs, never what it computes (see ``tn.compile``)."""

    # ----------------------------------------------------------------- state
    def state_dict(self, *, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """Parameters and persistent buffers by dotted name, e.g. ``'0.weight'``,
        ``'features.1.running_mean'``.

        The values share memory with the module (as in PyTorch): take
        ``copy.deepcopy(model.state_dict())`` for a snapshot that later training won't change.
        ``tn.save(model.state_dict(), "model.npz")`` writes one to disk. Each module runs its
        ``register_state_dict_pre_hook`` hooks before saving and its
        ``register_state_dict_post_hook`` hooks after (which may change the dict in place).
        """
        if destination is None:
            destination = OrderedDict()  # PyTorch's type for it
            destination._metadata = OrderedDict()  # type: ignore[attr-defined]
        for hook in self.__dict__.get("_state_dict_pre_hooks", {}).values():
            hook(self, prefix, keep_vars)
        local_metadata = {"version": self._version}
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = local_metadata
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self.__dict__.get("_state_dict_post_hooks", {}).values():
            if hook(self, destination, prefix, local_metadata) is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    _version: int = 1  # saved in the state_dict's metadata, for the hooks, as PyTorch's

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str, keep_vars: bool) -> None:
        """This module's own parameters, persistent buffers and extra state (not its
        children's) into ``destination``, under ``prefix``."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def _tree(self, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Module, int]]:
        """(prefix, module, depth) for this module and every submodule, parents first; a
        module shared under two names comes twice, as in ``state_dict``."""
        yield prefix, self, depth
        for name, module in self._modules.items():
            if module is not None:
                yield from module._tree(prefix + name + ".", depth + 1)

    def get_extra_state(self) -> Any:
        """State beyond parameters and buffers for ``state_dict`` (under ``'_extra_state'``):
        override it, with ``set_extra_state``, in a module that has such state, as in PyTorch."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be "
                           "called: override get_extra_state() in the module to use it")

    def set_extra_state(self, state: Any) -> None:
        """Restore what ``get_extra_state`` returned, when ``load_state_dict`` meets it."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be "
                           "called: override set_extra_state() in the module to use it")

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Every value is checked before anything is copied, so a failed load changes nothing.
        With ``strict=True`` a missing or unexpected key is an error; a shape mismatch always
        is. Values are copied (not shared) onto each parameter's own device and dtype, so a
        checkpoint saved on CUDA loads into a CPU model and back; with ``assign=True`` the
        module takes the given tensors themselves instead (as new Parameters for parameters).
        Returns ``(missing_keys, unexpected_keys)``.

        Hooks, as PyTorch's: each module's ``register_load_state_dict_pre_hook`` hooks see (and
        may change) a copy of ``state_dict`` first, parents before children; after loading, the
        ``register_load_state_dict_post_hook`` hooks, children first, see the result and may
        clear its lists in place (which then pass ``strict``; only with such hooks can a
        strict load fail on its keys after copying).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        metadata = getattr(state_dict, "_metadata", None) or {}
        state_dict = OrderedDict(state_dict)  # hooks may change it; the caller's stays as it was
        tree = list(self._tree())
        errors: list[str] = []
        running: IncompatibleKeys = IncompatibleKeys([], [])  # the lists hooks see and change
        for prefix, module, _ in tree:  # strict is always True here, as in PyTorch
            for hook in module.__dict__.get("_load_state_dict_pre_hooks", {}).values():
                hook(module, state_dict, prefix, metadata.get(prefix[:-1], {}), True,
                     running.missing_keys, running.unexpected_keys, errors)
        owns = []  # each module's own entries (keep_vars), and its missing and unexpected keys
        for prefix, module, _ in tree:
            own: dict[str, Any] = OrderedDict()
            module._save_to_state_dict(own, prefix, keep_vars=True)
            names = {key[len(prefix):] for key in own}
            unexpected = [key for key in state_dict if key.startswith(prefix)
                          and key != prefix + _EXTRA_STATE
                          and key[len(prefix):].split(".", 1)[0] not in module._modules
                          and key[len(prefix):].split(".", 1)[0] not in names]
            owns.append((own, [key for key in own if key not in state_dict], unexpected))
        for (prefix, _, _), (own, _, _) in zip(tree, owns):
            for key, target in own.items():
                if key == prefix + _EXTRA_STATE or key not in state_dict:
                    continue
                value = _host_or_device_array(state_dict[key])
                if not backend.is_array(value):
                    errors.append(f'value for "{key}" is a {type(value).__name__}, expected a '
                                  "Tensor or an array")
                elif tuple(value.shape) != tuple(target.shape):
                    errors.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{tuple(value.shape)} from checkpoint, the shape in current "
                                  f"model is {tuple(target.shape)}.")
        missing = [key for _, keys, _ in owns for key in keys]
        unexpected = [key for _, _, keys in owns for key in keys]
        post_hooks = any(module.__dict__.get("_load_state_dict_post_hooks") for _, module, _ in tree)
        if errors or (strict and (missing or unexpected) and not post_hooks):
            self._raise_load_errors(errors, strict, running.missing_keys + missing,
                                    running.unexpected_keys + unexpected)
        for (prefix, module, _), (own, _, _) in zip(tree, owns):
            for key in own:
                if key not in state_dict:
                    continue
                if key == prefix + _EXTRA_STATE:
                    module.set_extra_state(state_dict[key])
                elif assign:
                    self._assign(module, key[len(prefix):], state_dict[key])
                else:  # PyTorch's copy_: parameters keep their identity and bump their version
                    with no_grad():
                        own[key].copy_(Tensor(_host_or_device_array(state_dict[key])))
        # PyTorch runs a module's post hooks once its subtree has loaded, when the lists hold
        # the keys of every module loaded so far: replay that order over the loaded modules.
        done = 0
        for end, module in _children_first(tree):
            for _, keys_missing, keys_unexpected in owns[done:end]:
                running.missing_keys.extend(keys_missing)
                running.unexpected_keys.extend(keys_unexpected)
            done = end
            for hook in module.__dict__.get("_load_state_dict_post_hooks", {}).values():
                if hook(module, running) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace.")
        if strict and (running.missing_keys or running.unexpected_keys):
            self._raise_load_errors([], strict, running.missing_keys, running.unexpected_keys)
        return running

    def _raise_load_errors(self, errors: list[str], strict: bool, missing: list[str],
                           unexpected: list[str]) -> None:
        keys = []
        if strict and missing:
            keys.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            keys.append("Unexpected key(s) in state_dict: "
                        + ", ".join(f'"{k}"' for k in unexpected) + ".")
        raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                           + "\n\t".join(keys + errors))

    @staticmethod
    def _assign(module: Module, name: str, value: Any) -> None:
        """``load_state_dict(assign=True)``: ``module.name`` becomes ``value`` itself (a
        parameter as a Parameter that keeps the old one's ``requires_grad``)."""
        value = value if isinstance(value, Tensor) else Tensor(_host_or_device_array(value))
        old = module._parameters.get(name)
        if name in module._parameters and not isinstance(value, Parameter):
            value = Parameter(value, requires_grad=old is None or old.requires_grad)
        setattr(module, name, value)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
        return self._add_hook("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` after ``state_dict`` saved
        this module and its children; it may change ``state_dict`` in place (and returns None).

        >>> model.register_state_dict_post_hook(
        ...     lambda m, sd, prefix, meta: sd.pop(prefix + "cache", None))
        """
        return self._add_hook("_state_dict_post_hooks", hook)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before ``load_state_dict`` loads: it may rename or fill
        keys of ``state_dict`` in place (an old checkpoint's names), or add to ``error_msgs``."""
        return self._add_hook("_load_state_dict_pre_hooks", hook)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after ``load_state_dict`` loaded; clearing
        ``incompatible_keys.missing_keys`` or ``.unexpected_keys`` in place lets a strict load
        pass."""
        return self._add_hook("_load_state_dict_post_hooks", hook)

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
