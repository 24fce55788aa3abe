"""Tensor hooks: ``t.register_hook(fn)`` runs ``fn(grad)`` when the gradient with respect to ``t``
has been summed during a backward walk (``fn`` may return a replacement), ``t.retain_grad()``
keeps a non-leaf tensor's gradient in its ``.grad``, and a leaf's
``t.register_post_accumulate_grad_hook(fn)`` runs ``fn(t)`` once ``backward`` has accumulated its
``.grad``, as in PyTorch.

A leaf keeps its hooks itself; a non-leaf's hooks sit on the node that made it (what the walk
keys that gradient on), so they live as long as the graph does.

>>> h = y.register_hook(lambda g: print("dL/dy =", g))
>>> loss.backward()          # prints dL/dy
>>> h.remove()
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any


class RemovableHandle:
    """What a ``register_*hook`` call returns: ``handle.remove()`` takes the hook off again (a
    second call does nothing), as PyTorch's ``torch.utils.hooks.RemovableHandle``; as a context
    manager it removes the hook on exit.

    >>> with model.register_forward_hook(print_shape):
    ...     model(x)          # the hook runs here
    """

    next_id: int = 0

    def __init__(self, hooks_dict: dict[int, Any], *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        extras = [] if extra_dict is None else \
            [extra_dict] if isinstance(extra_dict, dict) else list(extra_dict)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self) -> None:
        """Take the hook off (and its entry in any extra dict)."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class _Hooks(dict):
    """id -> hook, in registration order (a dict subclass, so a handle can hold a weak ref)."""


def register_hook(tensor: Any, hook: Callable[[Any], Any]) -> RemovableHandle:
    """``tensor.register_hook(hook)``: see the module docstring."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    owner = tensor if tensor.grad_fn is None else tensor.grad_fn
    hooks = getattr(owner, "_tensor_hooks", None)
    if hooks is None:
        hooks = owner._tensor_hooks = _Hooks()
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def run_hooks(hooks: dict[int, Callable[[Any], Any]], grad: Any) -> Any:
    """Each hook in turn on the gradient; one that returns a tensor replaces it for the next.
    ``retain_grad``'s runs last whenever it was added, so ``.grad`` holds what the others made,
    as in PyTorch."""
    ordered = sorted(hooks.values(), key=lambda hook: getattr(hook, "_keeps_grad", False))
    for hook in ordered:
        result = hook(grad)
        if result is not None:
            if tuple(result.shape) != tuple(grad.shape):
                raise RuntimeError(f"hook: a hook returned a gradient of shape "
                                   f"{tuple(result.shape)} for one of shape {tuple(grad.shape)}")
            grad = result
    return grad


# A leaf's ``register_post_accumulate_grad_hook`` hooks, by the leaf's id: (weak ref to the
# leaf, its hooks). Kept here rather than on the leaf, so that ``backward`` checks one dict, empty
# unless some leaf has such a hook, and pays nothing else.
post_accumulate_grad_hooks: dict[int, tuple[Any, _Hooks]] = {}


def register_post_accumulate_grad_hook(tensor: Any, hook: Callable[[Any], None]) -> RemovableHandle:
    """``tensor.register_post_accumulate_grad_hook(hook)``: ``hook(tensor)`` runs each time
    ``backward`` has added a gradient into the leaf ``tensor``'s ``.grad`` (not for ``tn.grad``,
    which accumulates nothing). It must return None; it may read or change ``tensor.grad`` (an
    optimizer step per parameter, in the backward). As PyTorch, only leaves that require grad
    take one."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got "
                        f"{type(hook).__name__}")
    key = id(tensor)
    entry = post_accumulate_grad_hooks.get(key)
    if entry is None or entry[0]() is not tensor:
        entry = (weakref.ref(tensor, lambda _: post_accumulate_grad_hooks.pop(key, None)), _Hooks())
        post_accumulate_grad_hooks[key] = entry
    handle = RemovableHandle(entry[1])
    entry[1][handle.id] = hook
    return handle


def run_post_accumulate_hooks(leaf: Any) -> None:
    """Run ``leaf``'s post-accumulate-grad hooks, in registration order (``backward`` calls this
    once the leaf's ``.grad`` holds the new gradient)."""
    entry = post_accumulate_grad_hooks.get(id(leaf))
    if entry is None or entry[0]() is not leaf:
        return
    for hook in list(entry[1].values()):
        if hook(leaf) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def retain_grad(tensor: Any) -> None:
    """``tensor.retain_grad()``: a non-leaf keeps (and adds up) its gradients in ``.grad``, as a
    leaf does; for a leaf it changes nothing."""
    if not tensor.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if tensor.grad_fn is None or getattr(tensor.grad_fn, "_retains_grad", False):
        return
    ref = weakref.ref(tensor)

    def keep(grad: Any) -> None:
        kept = ref()
        if kept is not None:
            value = grad if grad.requires_grad else grad.detach()
            # a copy, as PyTorch keeps: the gradient flowing on may become a leaf's .grad (through
            # a view) that later backwards add into in place
            total = value.clone() if kept.grad is None else kept.grad + value
            if total.shape == kept.shape:
                kept.grad = total
            else:  # its shape changed in place since (t_…): the gradient of then, as PyTorch's
                kept._grad = total

    keep._keeps_grad = True  # type: ignore[attr-defined]
    register_hook(tensor, keep)
    tensor.grad_fn._retains_grad = True


def retains_grad(tensor: Any) -> bool:
    """True for a non-leaf whose ``retain_grad()`` was called."""
    return tensor.grad_fn is not None and getattr(tensor.grad_fn, "_retains_grad", False)


def move_retained_grad(old_node: Any, new_node: Any) -> None:
    """An in-place op gave a tensor a new node: its ``retain_grad`` follows (``.grad`` is then
    the new value's gradient, as in PyTorch); its other hooks stay with the old value."""
    hooks = getattr(old_node, "_tensor_hooks", None)
    if not hooks or new_node is None:
        return
    for key, hook in list(hooks.items()):
        if getattr(hook, "_keeps_grad", False):
            del hooks[key]
            targets = getattr(new_node, "_tensor_hooks", None)
            if targets is None:
                targets = new_node._tensor_hooks = _Hooks()
            targets[key] = hook
            old_node._retains_grad, new_node._retains_grad = False, True
