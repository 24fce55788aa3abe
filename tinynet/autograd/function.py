"""``tn.autograd.Function``: PyTorch's way of writing an op, with a ``ctx`` object.

>>> class Exp(tn.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         y = x.exp()
...         ctx.save_for_backward(y)
...         return y
...     @staticmethod
...     def backward(ctx, grad):
...         (y,) = ctx.saved_tensors
...         return grad * y
>>> y = Exp.apply(tn.tensor([0.0, 1.0], requires_grad=True))

``forward`` runs on Tensors with the graph switched off; ``backward`` gets one gradient per
output and returns one per argument of ``forward`` (None for non-tensors and for inputs that need
none). Written with tinynet ops, that backward is itself recorded when the walk runs with
``create_graph=True``, so the function has second derivatives too.

How it sits on the engine: ``ctx`` *is* the graph node, an ``Op`` of the class
``<Name>Backward`` made for each Function, whose ``backward`` calls the user's. Its inputs are
the arguments of ``forward`` (non-tensor ones replaced by an empty constant), so the walk's
one-gradient-per-input rule lines up with PyTorch's one-gradient-per-argument rule. A function
with several differentiable outputs gives its node one packed output (every output raveled and
concatenated) and each user-facing output is an ``Op`` slicing it, so the walk, which keys one
gradient per node, adds up the outputs' gradients in the packed one.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import anomaly, engine
from tinynet.autograd.engine import Op, is_grad_enabled, no_grad
from tinynet.tensor import Tensor

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

# Stands in for a non-tensor argument among a node's inputs: it never requires grad.
_NOT_A_TENSOR = Tensor(numpy.zeros(0))
# Attributes the walk reads on every node; a ctx attribute of the same name would break it.
_ENGINE_ATTRIBUTES = ("inputs", "clock", "output_counter", "forward_stack")


class FunctionCtx:
    """What ``forward`` and ``backward`` receive as ``ctx``: save tensors here, read flags.

    Any other attribute (``ctx.k = k``) is free for the function's own use.
    """

    needs_input_grad: tuple[bool, ...]

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors (inputs, outputs or intermediates) for ``backward``; read them back with
        ``ctx.saved_tensors``, which checks they were not changed in place meanwhile."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is "
                                f"of type {type(t).__name__}")
        self.to_save = tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Declare outputs that carry no gradient (indices, masks): they won't require grad and
        their gradient in ``backward`` is zeros (or None without materialized grads)."""
        self.non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        """With False, ``backward`` gets None rather than zeros for an output that had no
        gradient (only a function with one differentiable output can tell: with several, the
        packed gradient holds zeros for the unused ones)."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """In-place changes inside ``forward`` are not supported: change a ``clone()``."""
        raise NotImplementedError(
            "mark_dirty: tinynet's Function does not support forward changing its inputs in "
            "place; return a changed clone() instead")


class _NamedNode:
    """Nodes of a Function are named as PyTorch names them: ``<Name>Backward``, no suffix."""

    def name(self) -> str:
        return type(self).__name__


class FunctionBackward(_NamedNode, Op, FunctionCtx):
    """The graph node of one ``Function.apply``, and that call's ``ctx``."""

    saves_inputs = False  # only what was passed to save_for_backward is checked
    _forward_cls: type[Function]

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to ``save_for_backward``, checked against in-place changes."""
        if self.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")
        saved = self.__dict__.get("_saved")
        if saved is None:  # forward has not finished, or nothing requires grad
            return tuple(self.__dict__.get("to_save", ()))
        return tuple(self._unpack(i, entry) for i, entry in enumerate(saved))

    def _unpack(self, i: int, entry: tuple | None) -> Tensor | None:
        if entry is None:
            return None
        kind, value, counter, version = entry
        if counter[0] != version:
            shape = tuple(value.shape)
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: saved tensor {i} of {self.name()}, a {value.dtype} tensor of "
                f"shape {shape}, is at version {counter[0]}; expected version {version} instead. "
                "Change it after backward, or change a clone() of it.")
        if kind == "tensor":
            return value
        # An output, re-attached to this node now: holding the output itself would be a cycle.
        if self.packing is None:
            return Tensor(value, requires_grad=True, grad_fn=self)
        packed = Tensor(self.packed_array, requires_grad=True, grad_fn=self)
        return _select(self.packing, kind, packed)

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        output_grads = self._output_grads(grad)
        result = self._forward_cls.backward(self, *output_grads)
        return _check_gradients(self, result if isinstance(result, tuple) else (result,))

    def _output_grads(self, grad: Tensor) -> list[Tensor | None]:
        grads: list[Tensor | None] = []
        for i, spec in enumerate(self.output_specs):
            if spec is None:  # not a tensor
                grads.append(None)
            elif i in self.differentiable:
                grads.append(grad if self.packing is None else _select(self.packing, i, grad))
            elif self.materialize_grads:
                shape, dtype, device = spec
                grads.append(Tensor(backend.xp_of(device).zeros(shape, dtype=dtype)))
            else:
                grads.append(None)
        return grads

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """One edge per tensor argument of ``forward`` (non-tensor arguments have none)."""
        if self.released:
            return ()
        edges = Op.next_functions.fget(self)
        return tuple(edge for t, edge in zip(self.inputs, edges) if t is not _NOT_A_TENSOR)


class FunctionOutput(_NamedNode, Op):
    """One output of a Function with several differentiable outputs: a slice of the packed
    output of its node, reshaped and cast back. Its backward pads the gradient back out."""

    saves_inputs = False

    def forward(self, packed):
        start, stop, shape, dtype = self.layout
        return packed[start:stop].reshape(shape).astype(dtype, copy=False)

    def backward(self, grad):
        from tinynet.ops.shape import pad

        start, stop, _, _ = self.layout
        packed = self.inputs[0]
        return (pad(grad.reshape(-1).to(packed.dtype), (start, packed.shape[0] - stop)),)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The Function's own edges, as PyTorch shows one node for all outputs."""
        if self.released:
            return ()
        node = self.inputs[0].grad_fn
        return node.next_functions if node is not None else ()


def _select(packing: dict[int, Any], index: int, packed: Tensor) -> Tensor:
    output_class, layout = packing[index]
    return output_class.apply(packed, layout=layout, output_nr=index)


def _check_gradients(node: FunctionBackward, grads: tuple) -> tuple[Tensor | None, ...]:
    """PyTorch's checks on what a Function's backward returned, and its fixes: sum a gradient
    that broadcast over its input back to the input's shape, cast it to the input's dtype."""
    name, inputs = node.name(), node.inputs
    if len(grads) < len(inputs) or any(g is not None for g in grads[len(inputs):]):
        raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected "
                           f"{len(inputs)}, got {len(grads)})")
    result = []
    for i, (t, g) in enumerate(zip(inputs, grads)):
        if t is _NOT_A_TENSOR:
            if g is not None:
                raise RuntimeError(f"function {name} returned a gradient different than None at "
                                   f"position {i + 1}, but the corresponding forward input was "
                                   "not a Variable")
            result.append(None)
            continue
        if g is None or not node.needs_input_grad[i]:
            result.append(None)
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"function {name} returned a {type(g).__name__} as gradient {i}; "
                            "expected a Tensor or None")
        if tuple(g.shape) != tuple(t.shape):
            try:
                broadcast = numpy.broadcast_shapes(tuple(t.shape), tuple(g.shape)) == tuple(g.shape)
            except ValueError:
                broadcast = False
            if not broadcast:
                raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - "
                                   f"got {list(g.shape)} but expected shape compatible with "
                                   f"{list(t.shape)}")
            from tinynet.ops.shape import sum_to

            g = sum_to(g, t.shape)
        if g.device != t.device:
            raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - "
                               f"expected device {t.device} but got {g.device}")
        result.append(g if g.dtype == t.dtype else g.to(t.dtype))
    return tuple(result)


class Function:
    """Base class of ops written PyTorch's way: subclass it, define the static methods
    ``forward(ctx, *args)`` and ``backward(ctx, *grads)``, and call ``YourFunction.apply(...)``.

    ``forward`` may also be written without ``ctx`` when the class defines
    ``setup_context(ctx, inputs, output)`` (PyTorch's newer style). ``ctx`` offers
    ``save_for_backward``, ``saved_tensors``, ``needs_input_grad`` (one flag per argument),
    ``mark_non_differentiable`` and ``set_materialize_grads``.
    """

    _backward_cls: type[FunctionBackward]
    _output_cls: type[FunctionOutput]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = f"{cls.__name__}Backward"
        cls._backward_cls = type(name, (FunctionBackward,), {"_forward_cls": cls,
                                                            "__module__": cls.__module__})
        cls._output_cls = type(name, (FunctionOutput,), {"__module__": cls.__module__})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            f"{type(self).__name__}.apply(...), forward and backward being @staticmethods)")

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        """The computation, on Tensors (no graph is recorded in here)."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        """Optional: fill ``ctx`` from the inputs and output of a ``forward`` without ``ctx``."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        """One gradient per output in; one per argument of ``forward`` out (None where none)."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` and, when an argument requires grad, record the call in the graph."""
        if cls is Function:
            raise RuntimeError("apply: call it on a subclass of tn.autograd.Function that defines "
                               "forward and backward")
        ctx = cls._backward_cls.__new__(cls._backward_cls)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.materialize_grads = True
        with no_grad():
            if cls.setup_context is Function.setup_context:
                output = cls.forward(ctx, *args, **kwargs)
            else:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
        clash = [name for name in _ENGINE_ATTRIBUTES if name in ctx.__dict__]
        if clash:
            raise RuntimeError(f"{cls.__name__}: ctx.{clash[0]} is used by tinynet's graph; "
                               "store your value under another name")
        single = not isinstance(output, tuple)
        outputs = tuple(_own_output(o, args, ctx) for o in ((output,) if single else output))
        if is_grad_enabled() and True in ctx.needs_input_grad:
            outputs = _record(cls, ctx, args, outputs)
        else:
            ctx.__dict__.pop("to_save", None)
        return outputs[0] if single else outputs


def _own_output(output: Any, args: tuple[Any, ...], ctx: FunctionBackward) -> Any:
    """An output that is one of the inputs (or another tensor from outside, already in a graph)
    becomes a new tensor on the same memory, as PyTorch makes it a view, so that the original
    keeps its own place in the graph (and what ``mark_non_differentiable`` said of it holds for
    the new one)."""
    if isinstance(output, Tensor) and (output.requires_grad or any(output is a for a in args)):
        alias = Tensor(output.array)
        alias._version_counter = output._version_counter
        excluded = ctx.__dict__.get("non_differentiable")
        if excluded and id(output) in excluded:
            excluded.add(id(alias))
        return alias
    return output


def _record(cls: type[Function], ctx: FunctionBackward, args: tuple[Any, ...],
            outputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Wire ``ctx`` into the graph as the node behind ``outputs``; returns the outputs to hand
    back (with several differentiable outputs these are new tensors sliced from the packed one)."""
    inputs = tuple(a if isinstance(a, Tensor) else _NOT_A_TENSOR for a in args)
    ctx.inputs = inputs
    ctx.clock = engine.now()
    if anomaly.enabled:
        ctx.forward_stack = anomaly.forward_stack()
    if len({t.device for t in inputs if t is not _NOT_A_TENSOR}) > 1:
        raise RuntimeError(f"{cls.__name__}: inputs are on different devices: "
                           + ", ".join(t.device for t in inputs if t is not _NOT_A_TENSOR))
    excluded = ctx.__dict__.pop("non_differentiable", set())
    ctx.output_specs = [(tuple(o.shape), o.dtype, o.device) if isinstance(o, Tensor) else None
                        for o in outputs]
    differentiable = [i for i, o in enumerate(outputs) if isinstance(o, Tensor)
                      and o.dtype.kind in "fc" and id(o) not in excluded]
    ctx.differentiable = set(differentiable)
    ctx.packing = None
    outputs = list(outputs)
    if len(differentiable) == 1:
        out = outputs[differentiable[0]]
        out._requires_grad, out.grad_fn = True, ctx
        ctx.output_counter = out._version_counter
    elif differentiable:
        _pack(cls, ctx, outputs, differentiable)
    to_save = ctx.__dict__.pop("to_save", ())
    position = {id(outputs[i]): i for i in differentiable}
    position.update(ctx.__dict__.pop("_originals", {}))
    ctx._saved = [_saved_entry(t, position) for t in to_save]
    return tuple(outputs)


def _pack(cls: type[Function], ctx: FunctionBackward, outputs: list[Any],
          differentiable: list[int]) -> None:
    """Several differentiable outputs: one packed array behind them all (see the module notes)."""
    chosen = [outputs[i] for i in differentiable]
    if len({o.device for o in chosen}) > 1:
        raise RuntimeError(f"{cls.__name__}: outputs are on different devices")
    xp = chosen[0].xp
    dtype = numpy.result_type(*[o.dtype for o in chosen])
    packed = Tensor(xp.concatenate([o.array.reshape(-1).astype(dtype, copy=False) for o in chosen]))
    packed._requires_grad, packed.grad_fn = True, ctx
    ctx.output_counter = packed._version_counter
    ctx.packed_array = packed.array
    ctx.packing = {}
    ctx._originals = {id(o): i for i, o in zip(differentiable, chosen)}  # what forward saved
    start = 0
    for i, o in zip(differentiable, chosen):
        layout = (start, start + o.numel(), tuple(o.shape), o.dtype)
        ctx.packing[i] = (cls._output_cls, layout)
        outputs[i] = _select(ctx.packing, i, packed)
        start += o.numel()


def _saved_entry(t: Tensor | None, position: dict[int, int]) -> tuple | None:
    """How one saved tensor is kept: a differentiable output by its index (re-attached to the
    node when unpacked), anything else as the tensor itself; each with its version now."""
    if t is None:
        return None
    if id(t) in position:
        return (position[id(t)], t.array, t._version_counter, t._version_counter[0])
    return ("tensor", t, t._version_counter, t._version_counter[0])


def once_differentiable(backward: Any) -> Any:
    """Decorate a ``backward`` that is not written with differentiable tinynet ops (NumPy inside,
    say): it runs with the graph off, and a second derivative through it raises instead of
    being silently wrong (PyTorch's ``torch.autograd.function.once_differentiable``)."""
    @functools.wraps(backward)
    def wrapper(ctx: Any, *grad_outputs: Any) -> Any:
        with no_grad():
            result = backward(ctx, *grad_outputs)
        if not is_grad_enabled():
            return result
        grads = result if isinstance(result, tuple) else (result,)
        # As PyTorch: each gradient becomes the output of a node that refuses to backpropagate.
        guarded = tuple(_OnceDifferentiable.apply(g.detach().requires_grad_(), function=ctx.name())
                        if isinstance(g, Tensor) and g.dtype.kind in "fc" else g for g in grads)
        return guarded if isinstance(result, tuple) else guarded[0]

    return wrapper


class _OnceDifferentiable(Op):
    saves_inputs = False

    def forward(self, g):
        return g

    def backward(self, grad):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           f"@once_differentiable ({self.function})")
