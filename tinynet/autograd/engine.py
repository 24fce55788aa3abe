"""The graph: what an op is (`Op`), grad modes, and the backward walk.

Every op is an `Op` subclass with two methods:

* ``forward(*arrays)`` works on raw NumPy/CuPy arrays and returns one array;
* ``backward(grad)`` receives the output's gradient as a Tensor and returns one gradient per
  input, computed **with tinynet ops**. When the walk runs with ``create_graph=True`` those ops
  record a graph of their own, which is why double backward (Hessian-vector products) needs no
  extra code.

Ownership runs one way only: an output Tensor holds its ``grad_fn``, the Op holds its
input Tensors, and nothing points back. So there are no reference cycles, and a graph dies as
soon as its last output does.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tinynet import backend, strides
from tinynet.autograd import anomaly
from tinynet.autograd.hooks import post_accumulate_grad_hooks, run_hooks, run_post_accumulate_hooks
from tinynet.tensor import Tensor

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when new ops record the graph (the default)."""
    return _grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off, as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.prev, self.mode = _grad_enabled, bool(mode)
        _grad_enabled = self.mode

    def __enter__(self) -> None:
        global _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.prev


class no_grad(contextlib.ContextDecorator):
    """Run code without recording the graph (evaluation, optimizer updates).

    >>> with tn.no_grad():
    ...     y = model(x)        # y.requires_grad is False
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, False

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self.prev


class enable_grad(no_grad):
    """Record the graph again inside a ``no_grad`` block."""

    def __enter__(self) -> None:
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, True


# The in-place clock: every in-place change ticks it and stamps the changed tensor's version
# counter with the new time; every recorded op stamps itself with the time it ran. A tensor
# changed after an op used it is then one whose stamp is later than the op's: one comparison,
# and none at all while nothing has changed since the op ran (the usual training step).
_clock = 0


def tick() -> int:
    """Advance the in-place clock (every in-place change does); returns the new time."""
    global _clock
    _clock += 1
    return _clock


def bump_version(*tensors: Any) -> None:
    """Record that ``tensors`` were changed in place by code working on their raw arrays
    (optimizers, ``nn.init``, ``load_state_dict``, gradient accumulation)."""
    time = tick()
    for t in tensors:
        counter = t._version_counter
        counter[0] += 1
        counter[1] = time


def now() -> int:
    """The in-place clock's current time (what a node recorded now would be stamped with)."""
    return _clock


class Op:
    """One differentiable op. Subclasses define ``forward`` (arrays) and ``backward`` (Tensors).

    Keyword arguments given to ``apply`` (``dim``, ``stride``…) become attributes of the
    instance; ``forward`` may store arrays on ``self`` that ``backward`` needs. Two class
    attributes tell the walk more:

    * ``saves_inputs``: backward reads the inputs' values (not only their shapes), so the walk
      checks that no in-place op changed them since the forward;
    * ``is_view``: the output shares the first input's memory (reshape, transpose, slicing), so
      the two share a version counter, and its strides follow from the input's
      (``tinynet.strides``; an op whose forward isn't a plain NumPy view says how, in
      ``view_strides``);
    * ``preserves_layout``: an elementwise op, whose result PyTorch lays out like its inputs (a
      transpose's exp is strided as the transpose, ``tinynet.strides``).

    An op on the hot path of small models may also define ``backward_arrays(g)``: the same
    gradients as ``backward``, computed on raw arrays (None where none is needed). The walk takes
    it when no graph of the backward is wanted (``create_graph=False``), which saves an
    ``Op.apply`` per gradient; ``backward`` stays the definition, and the op tests check the two
    agree (``tinynet.testing``).
    """

    saves_inputs = True
    is_view = False
    preserves_layout = False
    backward_arrays: Any = None  # optional: (self, g array) -> input gradient arrays
    released = False  # set once the walk has freed this node's saved state
    _tensor_hooks = None  # the hooks registered on the tensor this op made (autograd.hooks)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:  # apply() builds instances without calling __init__
            raise TypeError(f"{cls.__name__}: an op receives its parameters as keyword arguments "
                            f"of {cls.__name__}.apply(..., name=value), which become attributes; "
                            "don't define __init__")

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        # Every op of every step passes through here (and through each backward's ops), so it
        # is kept lean: no per-call helper functions, one pass over the inputs.
        fn = cls.__new__(cls)
        fn.__dict__ = params
        arrays = [t.array for t in inputs]
        if len(arrays) > 1:
            kind = type(arrays[0])
            for a in arrays:
                if type(a) is not kind:
                    _raise_device_mismatch(cls.__name__, inputs)
        out = fn.forward(*arrays)
        if not isinstance(out, backend.array_types):  # NumPy reductions return scalars
            out = backend.get_array_module(arrays[0]).asarray(out)
        result = Tensor(out)
        if cls.is_view:
            result._version_counter = inputs[0]._version_counter
            result._is_view = True
            # how the view was made, for its strides (tinynet.strides); no tensors in it
            result._view_record = (inputs[0]._view_record, arrays[0].shape, cls, dict(params))
        elif cls.preserves_layout:
            for t in inputs:
                if t._view_record is not None:  # a strided input
                    result._view_record = strides.layout_record(inputs, out.shape)
                    break
        if _grad_enabled:
            needs = tuple([t._requires_grad for t in inputs])
            if True in needs and out.dtype.kind in "fc":  # integer results never require grad
                fn.inputs = inputs
                fn.needs_input_grad = needs
                fn.clock = _clock
                fn.output_counter = result._version_counter  # for self.output()
                result._requires_grad = True
                result.grad_fn = fn
                if anomaly.enabled:  # debugging: where the op was called, for the backward
                    fn.forward_stack = anomaly.forward_stack()
        return result

    def forward(self, *arrays: Any) -> Any:
        """The op on raw arrays: returns the output array."""
        raise NotImplementedError(f"{type(self).__name__} defines no forward")

    def backward(self, grad: Tensor) -> tuple[Tensor | None, ...]:
        """The gradient of each input (None where none is needed), in tinynet ops, from the
        output's gradient ``grad``."""
        raise NotImplementedError(f"{type(self).__name__} defines no backward")

    def output(self, data: Any) -> Tensor:
        """The op's output as a graph node again, for backwards that reuse it (exp, tanh…).

        The forward keeps only the array, since holding the output Tensor would be a cycle.
        """
        if self.output_counter[1] > self.clock:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: the output of {type(self).__name__} (shape "
                f"{tuple(data.shape)}) is at version {self.output_counter[0]}, changed in place after "
                "this op made it. Change a clone() of it instead.")
        return Tensor(data, requires_grad=True, grad_fn=self)

    def release(self) -> None:
        """Drop inputs and saved arrays so the memory is freed as soon as backward passes (the
        node keeps its name)."""
        members = self.__dict__
        kept = {key: members[key] for key in ("node_name", "_retains_grad") if key in members} \
            if "node_name" in members or "_retains_grad" in members else None
        members.clear()
        if kept:
            members.update(kept)
        self.released = True

    def __repr__(self) -> str:  # as PyTorch prints a node: <MulBackward0 object at 0x...>
        return f"<{self.name()} object at {id(self):#x}>"

    def name(self) -> str:
        """PyTorch's name for this node, e.g. ``MulBackward0``; an op class whose PyTorch name
        differs says so in ``node_name`` (Linear: ``AddmmBackward0``)."""
        return getattr(self, "node_name", None) or f"{type(self).__name__}Backward0"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """PyTorch's edges to the nodes that made this op's inputs: one ``(node, 0)`` pair per
        input, ``(AccumulateGrad, 0)`` for a leaf that requires grad and ``(None, 0)`` for an input
        that does not. Empty once backward has freed the node."""
        if self.released:
            return ()
        edges = []
        for t, needs in zip(self.inputs, self.needs_input_grad):
            if not needs:
                edges.append((None, 0))
                continue
            node = _producer(t, self.clock)
            edges.append((_accumulate_grad(t), 0) if node is t else
                         (node, getattr(node, "output_nr", 0)))
        return tuple(edges)


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf: the step that adds a gradient into its ``.grad``.

    The walk itself needs no such node (it keys leaves by the tensor), so one is made on request,
    one per leaf, and lives as long as the leaf does.
    """

    next_functions: tuple = ()

    def __init__(self, variable: Tensor) -> None:
        key = id(variable)
        self._variable = weakref.ref(variable, lambda _: _accumulate_grad_nodes.pop(key, None))

    @property
    def variable(self) -> Tensor | None:
        """The leaf tensor whose ``.grad`` this node fills."""
        return self._variable()

    def name(self) -> str:
        """PyTorch's name for this node."""
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


# by id: a WeakKeyDictionary would compare tensors with ==, which is elementwise
_accumulate_grad_nodes: dict[int, AccumulateGrad] = {}


def _accumulate_grad(leaf: Tensor) -> AccumulateGrad:
    node = _accumulate_grad_nodes.get(id(leaf))
    if node is None or node.variable is not leaf:
        node = _accumulate_grad_nodes[id(leaf)] = AccumulateGrad(leaf)
    return node


def _raise_device_mismatch(op: str, inputs: Sequence[Tensor]) -> None:
    devices = " and ".join(f"{t.device} ({tuple(t.shape)})" for t in inputs)
    raise RuntimeError(f"{op}: inputs are on different devices: {devices}; "
                       "move them with .to(device) first")


def _node(t: Tensor) -> Any:
    """What the walk keys gradients on: the op that made ``t``, or ``t`` itself for a leaf."""
    return t.grad_fn if t.grad_fn is not None else t


def _producer(t: Tensor, clock: int) -> Any:
    """The node that made the value of ``t`` that an op running at time ``clock`` saw.

    That is ``t``'s node unless a recorded in-place op has replaced ``t.grad_fn`` since; such an
    op logs the node it replaced, with the time it did (``_replaced_grad_fns``).
    """
    if t._version_counter[1] > clock:
        for changed_at, node in getattr(t, "_replaced_grad_fns", ()):
            if changed_at > clock:
                return node
    return _node(t)


def _changed_since(fn: Op) -> bool:
    """True when an input of ``fn`` was changed in place after ``fn`` ran."""
    return any(t._version_counter[1] > fn.clock for t in fn.inputs)


def _raise_changed(fn: Op) -> None:
    """PyTorch's rule: backward may not run on saved values changed in place since the forward."""
    for i, t in enumerate(fn.inputs):
        if t._version_counter[1] > fn.clock:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: input {i} of {type(fn).__name__}, a {t.dtype} tensor of shape "
                f"{tuple(t.shape)}, is at version {t._version_counter[0]}, changed in place after "
                "the forward saved it. Change it after backward, or change a clone() of it.")


# Tensors that require grad and whose shape an in-place op changed (``unsqueeze_``, ``t_``…, in
# ``ops/inplace_shape.py``), by id: (weak ref to the tensor, [(time of the change, its array
# before)]). An op recorded before the change holds the tensor itself, now of another shape; its
# backward must see the shape of then. Empty, as it almost always is, it costs the walk nothing.
reshaped: dict[int, tuple[Any, list[tuple[int, Any]]]] = {}


def record_reshape(t: Tensor, array_before: Any) -> None:
    """Note that ``t``'s shape was changed in place just now (after ``bump_version``), from
    ``array_before``'s, so that ops recorded before still see that array (``_backward_as_then``)."""
    key = id(t)
    entry = reshaped.get(key)
    if entry is None or entry[0]() is not t:
        entry = reshaped[key] = (weakref.ref(t, lambda _: reshaped.pop(key, None)), [])
    entry[1].append((t._version_counter[1], array_before))


def _backward_as_then(fn: Op, g: Tensor) -> tuple[Tensor | None, ...]:
    """``fn``'s backward, with each input whose shape an in-place op changed after ``fn`` ran
    standing in as a tensor of its array of then (``fn`` saves no values, so only shapes, dtypes
    and devices are read). A leaf that would receive a gradient of its former shape is PyTorch's
    error: the gradient can't be accumulated into it."""
    inputs = fn.inputs
    then = list(inputs)
    for i, (t, needs) in enumerate(zip(inputs, fn.needs_input_grad)):
        entry = reshaped.get(id(t))
        if entry is None or entry[0]() is not t or t._version_counter[1] <= fn.clock:
            continue
        array = next((a for time, a in entry[1] if time > fn.clock), None)
        if array is None or array.shape == t.array.shape:
            continue
        if needs and _producer(t, fn.clock) is t:
            raise RuntimeError(
                f"backward: input {i} of {type(fn).__name__} is a leaf whose shape was changed in "
                f"place (from {tuple(array.shape)} to {tuple(t.shape)}) after the op used it; its "
                f"gradient of shape {tuple(array.shape)} can't be accumulated into it")
        then[i] = Tensor(array)
    fn.inputs = tuple(then)
    try:
        return anomaly.checked_backward(fn, g) if anomaly.enabled else fn.backward(g)
    finally:
        fn.inputs = inputs


def _topological_order(roots: Sequence[Op]) -> list[Op]:
    """Every op reachable from ``roots``, each after all the ops that consume its output.

    Iterative depth-first search, so a graph thousands of ops deep hits no recursion limit.
    """
    postorder: list[Op] = []
    seen: set[Op] = set()  # ops hash by identity
    stack: list[tuple[Op, bool]] = [(fn, False) for fn in roots]
    while stack:
        fn, children_done = stack.pop()
        if children_done:
            postorder.append(fn)
            continue
        if fn in seen:
            continue
        if fn.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time: its saved values were "
                "freed by the first backward. Pass retain_graph=True to the first call if you "
                "need to backward twice.")
        seen.add(fn)
        stack.append((fn, True))
        clock = fn.clock
        for t in fn.inputs:
            node = t.grad_fn if t._version_counter[1] <= clock else _producer(t, clock)
            if node is not None and node is not t and node not in seen:
                stack.append((node, False))
    postorder.reverse()
    return postorder


def walk(outputs: Sequence[Tensor], grad_outputs: Sequence[Tensor], retain_graph: bool,
         create_graph: bool, targets: Sequence[Tensor] | None = None) -> dict[Any, Tensor]:
    """Propagate ``grad_outputs`` from ``outputs`` back through the graph; the one graph walk.

    Returns the gradients that reach the leaves, keyed by leaf. With ``targets`` (``tn.grad``)
    only the part of the graph leading to them is walked, and the gradients are those of the
    targets, keyed by their node.
    """
    grads: dict[Any, Tensor] = {}
    for out, g in zip(outputs, grad_outputs):
        node = _node(out)
        grads[node] = grads[node] + g if node in grads else g
    order = _topological_order([out.grad_fn for out in outputs if out.grad_fn is not None])

    target_nodes: set[int] = set()
    leads_to_target: set[int] = set()  # ops with some target upstream: only these are walked
    if targets is not None:
        target_nodes = {id(_node(t)) for t in targets}
        for fn in reversed(order):
            if any(id(node) in target_nodes or id(node) in leads_to_target
                   for node in (_producer(t, fn.clock) for t in fn.inputs)):
                leads_to_target.add(id(fn))
    results: dict[Any, Tensor] = {}

    with set_grad_enabled(create_graph):
        for fn in order:
            g = grads.pop(fn, None)
            if g is not None and fn._tensor_hooks:
                g = run_hooks(fn._tensor_hooks, g)
            if targets is not None:
                if id(fn) in target_nodes and g is not None:
                    results[fn] = g
                if id(fn) not in leads_to_target:
                    continue
            if g is None:
                continue
            changed = fn.clock != _clock and _changed_since(fn)  # usually one int comparison
            if changed and fn.saves_inputs:
                _raise_changed(fn)
            if changed and reshaped:  # an input's shape was changed in place since fn ran
                input_grads = _backward_as_then(fn, g)
            elif fn.backward_arrays is not None and not create_graph and not anomaly.enabled:
                input_grads = [None if a is None else Tensor(a) for a in fn.backward_arrays(g.array)]
            else:
                input_grads = anomaly.checked_backward(fn, g) if anomaly.enabled else fn.backward(g)
            for t, needs, tg in zip(fn.inputs, fn.needs_input_grad, input_grads):
                if needs and tg is not None:  # the hot path
                    if not changed:
                        node = t if t.grad_fn is None else t.grad_fn
                    else:
                        node = _producer(t, fn.clock)
                    previous = grads.get(node)
                    grads[node] = tg if previous is None else previous + tg
            if not retain_graph:
                fn.release()
        for leaf, g in grads.items():  # only leaves remain once every op has been walked
            hooks = getattr(leaf, "_tensor_hooks", None)
            if hooks and (targets is None or id(leaf) in target_nodes):  # leaves asked for only
                grads[leaf] = run_hooks(hooks, g)
    if targets is not None:
        results.update((node, g) for node, g in grads.items() if id(node) in target_nodes)
        return results
    return grads


def _as_tuple(x: Tensor | Sequence[Tensor]) -> tuple[Tensor, ...]:
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _default_grad_outputs(outputs: tuple[Tensor, ...], grad_outputs: Any) -> list[Tensor]:
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    result = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(f"output of shape {tuple(out.shape)} does not require grad and has "
                               "no grad_fn: nothing it depends on has requires_grad=True")
        if g is None:
            if out.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs, got "
                                   f"shape {tuple(out.shape)}; pass the upstream gradient")
            g = Tensor(out.xp.ones_like(out.array))
        elif not isinstance(g, Tensor):
            g = Tensor(out.xp.asarray(g, dtype=out.dtype))
        if tuple(g.shape) != tuple(out.shape):
            raise ValueError(f"gradient has shape {tuple(g.shape)} but output has shape "
                             f"{tuple(out.shape)}")
        if g.device != out.device:
            raise RuntimeError(f"gradient is on {g.device} but the output is on {out.device}")
        if g.dtype != out.dtype:  # PyTorch casts the seed gradient to the output's dtype
            g = g.to(out.dtype)
        result.append(g)
    return result


def backward(tensors: Tensor | Sequence[Tensor],
             grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Accumulate d tensors / d leaf into ``leaf.grad`` for every leaf that requires grad
    (``Tensor.backward`` and PyTorch's ``torch.autograd.backward``).

    Several ``tensors`` backpropagate together, each with its own entry of ``grad_tensors``.
    With ``inputs`` only those tensors (leaves or not) receive a ``.grad``.
    """
    tensors = _as_tuple(tensors)
    grad_tensors = [grad_tensors] if isinstance(grad_tensors, Tensor) or grad_tensors is None \
        else grad_tensors
    if len(grad_tensors) == 1 and len(tensors) > 1 and grad_tensors[0] is None:
        grad_tensors = [None] * len(tensors)
    retain = create_graph if retain_graph is None else retain_graph
    seeds = _default_grad_outputs(tensors, grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("backward: inputs argument was passed but is empty")
        found = walk(tensors, seeds, retain, create_graph, targets=inputs)
        accumulate = [(t, found.get(_node(t))) for t in inputs]
    else:
        accumulate = [(leaf, g) for leaf, g in walk(tensors, seeds, retain, create_graph).items()
                      if isinstance(leaf, Tensor)]
    given_out = {id(_memory_of(s.array)) for s in seeds}  # the caller may still hold a seed
    for leaf, g in accumulate:
        if g is not None and leaf._requires_grad:
            if not create_graph and g._requires_grad:  # a seed that requires grad, passed through
                g = g.detach()
            if leaf.grad is None:
                leaf._grad = _owned(g, given_out)  # it fits: the setter's checks are skipped
                strides.take_strides(leaf._grad, leaf)  # PyTorch's: a .grad strided as its leaf
            else:
                _accumulate(leaf, g, create_graph)
            if post_accumulate_grad_hooks:  # empty unless some leaf has such a hook
                run_post_accumulate_hooks(leaf)


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool) -> None:
    """``leaf.grad += g`` as PyTorch's AccumulateGrad does it: in place, so that ``.grad`` stays
    the same tensor (at a new version), or out of place with ``create_graph``, so that the sum
    is a graph node too (and where the old gradient's memory can't take the sum: a broadcast
    view or another dtype)."""
    array = leaf.grad.array
    if create_graph or not writable_in_place(array) or array.dtype != g.array.dtype:
        leaf._grad = leaf._grad + g
        return
    array += g.array
    bump_version(leaf.grad)


def clear_grad(t: Tensor, set_to_none: bool = True) -> None:
    """``t.grad`` set to None, or zeroed in place as PyTorch's ``zero_grad(set_to_none=False)``
    does it: the same tensor stays ``.grad`` (at a new version), so a reference to it sees the
    zeros and the next backward adds into it. A gradient that is a graph node (``create_graph``)
    or whose memory can't take the zeros (a broadcast view) is replaced by fresh zeros."""
    g = t.grad
    if g is None:
        return
    if set_to_none:
        t.grad = None
    elif g._requires_grad or not writable_in_place(g.array):  # a graph node, a broadcast view
        t._grad = Tensor(g.xp.zeros_like(g.array))
    else:
        g.array[...] = 0
        bump_version(g)


def writable_in_place(array: Any) -> bool:
    """Whether ``array`` can take an in-place update element by element: writeable (CuPy
    arrays have no such flag and always are) and no broadcast view, whose elements share
    memory."""
    return getattr(array.flags, "writeable", True) and not _shares_elements(array)


def _shares_elements(array: Any) -> bool:
    """Whether several elements of ``array`` are one memory location (a broadcast view)."""
    return 0 in array.strides and any(step == 0 and n > 1
                                      for step, n in zip(array.strides, array.shape))


def _memory_of(array: Any) -> Any:
    """The array that owns ``array``'s memory (itself, or the base of a view)."""
    return array if array.base is None else array.base


def _owned(g: Tensor, given_out: set[int]) -> Tensor:
    """``g``, or a copy of it, such that a new ``.grad`` owns its memory, as PyTorch's
    AccumulateGrad ensures: ``x.grad.mul_(2)`` must not change ``b.grad`` when ``x + b`` handed
    both the same gradient, nor fail on the broadcast view that ``sum`` hands its input, nor
    change the gradient the caller passed to ``backward``."""
    array = g.array
    memory = id(_memory_of(array))
    if memory in given_out or _shares_elements(array):
        return g.clone()
    given_out.add(memory)
    return g


def grad(outputs: Tensor | Sequence[Tensor],
         inputs: Tensor | Sequence[Tensor] | Mapping[str, Tensor],
         grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
         retain_graph: bool | None = None, create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...] | dict[str, Tensor | None]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned rather than stored in ``.grad``.

    With ``create_graph=True`` the gradients are themselves differentiable, which gives
    Hessian-vector products:

    >>> g, = tn.grad(loss, [w], create_graph=True)
    >>> hv, = tn.grad((g * v).sum(), [w])

    As in PyTorch: an input the outputs don't depend on is an error unless ``allow_unused=True``
    (its gradient is then None) or ``materialize_grads=True`` (zeros); ``is_grads_batched=True``
    treats the first dimension of every ``grad_outputs`` entry as a batch of seeds and returns
    the gradients stacked along it; ``inputs`` may be a dict of named tensors (the result is then
    a dict too); ``only_inputs`` is deprecated and ignored.
    """
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if isinstance(inputs, Mapping):
        names = list(inputs)
        found = grad(outputs, [inputs[k] for k in names], grad_outputs, retain_graph, create_graph,
                     True, allow_unused, is_grads_batched, materialize_grads)
        return dict(zip(names, found))
    allow_unused = bool(allow_unused) or materialize_grads
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"input {i} of shape {tuple(t.shape)} does not require grad")
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    retain = create_graph if retain_graph is None else retain_graph
    found = walk(outputs, _default_grad_outputs(outputs, grad_outputs), retain, create_graph,
                 targets=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(_node(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"input {i} of shape {tuple(t.shape)} was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        if g is None and materialize_grads:
            g = Tensor(t.xp.zeros(t.shape, dtype=t.dtype))
        if g is not None and not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _batched_grad(outputs: tuple[Tensor, ...], inputs: tuple[Tensor, ...], grad_outputs: Any,
                  retain_graph: bool | None, create_graph: bool, allow_unused: bool,
                  materialize_grads: bool) -> tuple[Tensor | None, ...]:
    """``grad`` once per seed of a batch, the results stacked (PyTorch vectorises this loop)."""
    from tinynet.ops import stack

    seeds = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or [])
    if len(seeds) != len(outputs) or any(g is None for g in seeds):
        raise ValueError("grad: is_grads_batched=True needs one batched grad_outputs tensor per "
                         f"output, got {len(seeds)} for {len(outputs)} outputs")
    sizes = {g.shape[0] if g.ndim else None for g in seeds}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"grad: with is_grads_batched=True every grad_outputs tensor needs the "
                         f"same leading batch size, got shapes {[tuple(g.shape) for g in seeds]}")
    (batch,) = sizes
    retain = create_graph if retain_graph is None else retain_graph
    rows = [grad(outputs, inputs, [g[b] for g in seeds], retain or b < batch - 1, create_graph,
                 True, allow_unused, False, materialize_grads) for b in range(batch)]
    result = []
    for i, t in enumerate(inputs):
        column = [row[i] for row in rows]
        if all(g is None for g in column):
            result.append(None)
            continue
        zeros = Tensor(t.xp.zeros(t.shape, dtype=t.dtype))
        result.append(stack([zeros if g is None else g for g in column]))
    return tuple(result)


def graph_nodes(tensor: Tensor) -> Iterator[Op]:
    """Every op in the graph behind ``tensor`` (for visualisation and leak tests)."""
    if tensor.grad_fn is not None:
        yield from _topological_order([tensor.grad_fn])
