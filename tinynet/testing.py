"""Test your own ops the way tinynet tests its own: one Hypothesis-driven factory.

An ``OpSpec`` says how to call an op (``fn``), which input shapes and keyword arguments it takes
(``cases``, a Hypothesis strategy), how to keep drawn values away from its kinks and poles
(``values``) and, where one exists, a NumPy float64 reference for its forward. ``check_op``
draws a case, float64 values and an upstream gradient with Hypothesis, and ``check_case`` then
checks, for those exact values:

1. the forward against the NumPy reference (shape, dtype, values);
2. first-order gradients: ``tn.gradcheck`` of the vector-Jacobian product with the drawn
   upstream gradient, ``Tensor.backward`` agreeing with ``tn.grad``, and the gradients of a
   backward that builds no graph (where ops may take their ``backward_arrays``) equal to those
   of one that does (``create_graph=True``, every op's plain ``backward``);
3. second-order gradients with ``tn.gradgradcheck`` (``second_order=True``, the default);
4. that forward and backward leave every input (and array argument) unchanged;
5. that the graph is freed: with the garbage collector off, every intermediate tensor is gone
   once backward has run, and every op of the graph once the output is deleted, so nothing is
   kept alive by a reference cycle.

In a test file::

    from hypothesis import given, strategies as st
    from tinynet.testing import OpSpec, broadcast_cases, check_op, op_settings

    SPEC = OpSpec("mul", lambda a, b: a * b, broadcast_cases(2), reference=numpy.multiply)

    @op_settings
    @given(data=st.data())
    def test_mul(data):
        check_op(SPEC, data)

``op_settings`` draws three times as many examples as the active Hypothesis profile: each op
test is cheap, and they are where bugs hide. ``InplaceSpec``/``check_inplace`` do the same for
in-place ops. Needs the ``hypothesis`` package (``pip install tinynet[test]``).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinynet as tn
from tinynet import backend
from tinynet.autograd import graph_nodes

Shape = tuple[int, ...]
Case = tuple[tuple[Shape, ...], dict[str, Any]]

op_settings = settings(max_examples=3 * settings.default.max_examples)


def unchanged(arrays: list[np.ndarray]) -> list[np.ndarray]:
    return arrays


@dataclass(frozen=True)
class OpSpec:
    """How to test one op (or one way of calling it)."""

    name: str
    fn: Callable[..., tn.Tensor]  # fn(*float64 tensors, **kwargs) -> Tensor
    cases: st.SearchStrategy[Case]  # draws (input shapes, kwargs)
    reference: Callable[..., Any] | None = None  # reference(*float64 arrays, **kwargs) -> array
    values: Callable[[list[np.ndarray]], list[np.ndarray]] = unchanged  # away from kinks
    low: float = -2.0  # drawn values lie in [low, high] before ``values`` moves them
    high: float = 2.0
    second_order: bool = True
    requires_grad: Sequence[bool] | None = None  # which inputs are differentiable (default: all)
    gradcheck_kwargs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- shape strategies
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes; 0-d and size-1 dims are drawn too unless excluded."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def cases(*input_shapes: st.SearchStrategy[Shape], **kwargs: Any) -> st.SearchStrategy[Case]:
    """One shape strategy per input; keyword arguments are strategies or plain values."""
    kw = {k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in kwargs.items()}
    return st.tuples(st.tuples(*input_shapes), st.fixed_dictionaries(kw))


def broadcast_cases(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4,
                    **kwargs: Any) -> st.SearchStrategy[Case]:
    """Mutually broadcastable input shapes (size-1 dims, missing leading dims, 0-d)."""
    kw = {k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in kwargs.items()}
    shapes_ = hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                                max_dims=max_dims, max_side=max_side)
    return st.tuples(shapes_.map(lambda b: b.input_shapes), st.fixed_dictionaries(kw))


def dims(ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> st.SearchStrategy:
    """A ``dim`` argument valid for ``ndim`` dims: None, an int (maybe negative) or a tuple."""
    rank = max(ndim, 1)  # a 0-d tensor takes dim 0 or -1
    one = st.integers(-rank, rank - 1)
    options = [one]
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim:
        options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)
                       .flatmap(lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])))
    return st.one_of(options)


def numpy_axis(dim: Any, ndim: int) -> Any:
    """A tinynet/PyTorch ``dim`` as NumPy's ``axis`` (a 0-d array takes no axis)."""
    return None if ndim == 0 else dim


# --------------------------------------------------------------------------- value transforms
def positive(margin: float = 0.2) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """Every input in [margin, ...): for log, sqrt, fractional powers."""
    return lambda arrays: [np.abs(a) + margin for a in arrays]


def away_from_zero(margin: float = 0.1) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """Every element at least ``margin`` from 0: for abs, relu, divisors."""
    return lambda arrays: [np.where(a >= 0, a + margin, a - margin) for a in arrays]


def away_from(points: Sequence[float], margin: float = 0.05):
    """Every element at least ``margin`` from each kink in ``points`` (kinks >= 3·margin apart)."""
    def move(arrays: list[np.ndarray]) -> list[np.ndarray]:
        moved = []
        for a in arrays:
            for p in points:
                a = np.where(np.abs(a - p) < margin, p + np.where(a >= p, margin, -margin), a)
            moved.append(a)
        return moved
    return move


def distinct(gap: float = 0.1) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """All elements of all inputs at least ``gap`` apart, so max/min/maximum see no ties.

    Adding ``gap`` times its rank to each element keeps the order and opens every gap.
    """
    def spread(arrays: list[np.ndarray]) -> list[np.ndarray]:
        flat = np.concatenate([a.ravel() for a in arrays])
        ranks = np.empty(flat.size)
        ranks[np.argsort(flat, kind="stable")] = np.arange(flat.size)
        spread_flat = flat + gap * ranks
        out, start = [], 0
        for a in arrays:
            out.append(spread_flat[start:start + a.size].reshape(a.shape))
            start += a.size
        return out
    return spread


def per_input(*moves: Callable[[list[np.ndarray]], list[np.ndarray]]):
    """A different transform for each input (``unchanged`` leaves one alone)."""
    return lambda arrays: [move([a])[0] for move, a in zip(moves, arrays)]


# --------------------------------------------------------------------------- the checks
def elements(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def check_op(spec: OpSpec, data: st.DataObject) -> None:
    """Draw a case, values and an upstream gradient for ``spec``; run every check on them."""
    input_shapes, kwargs = data.draw(spec.cases, label="shapes and arguments")
    arrays = [data.draw(hnp.arrays(np.float64, shape, elements=elements(spec.low, spec.high)),
                        label=f"input {i}") for i, shape in enumerate(input_shapes)]
    arrays = spec.values(arrays)
    out_shape = _output_shape(spec, arrays, kwargs)
    upstream = data.draw(hnp.arrays(np.float64, out_shape, elements=elements(-1.0, 1.0)),
                         label="upstream gradient")
    check_case(spec, arrays, kwargs, upstream)


def _output_shape(spec: OpSpec, arrays: list[np.ndarray], kwargs: dict[str, Any]) -> Shape:
    with tn.no_grad():
        return tuple(spec.fn(*[tn.tensor(a) for a in arrays], **kwargs).shape)


def check_case(spec: OpSpec, arrays: Sequence[np.ndarray], kwargs: dict[str, Any] | None = None,
               upstream: np.ndarray | None = None) -> None:
    """All the checks for one set of concrete values; raises on the first that fails."""
    kwargs = kwargs or {}
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    flags = list(spec.requires_grad) if spec.requires_grad is not None else [True] * len(arrays)
    inputs = [tn.tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]
    differentiable = [t for t in inputs if t.requires_grad]
    input_copies = [t.array.copy() for t in inputs]
    kwarg_copies = {k: v.copy() for k, v in kwargs.items() if isinstance(v, np.ndarray)}

    def call(*xs: tn.Tensor) -> tn.Tensor:
        return spec.fn(*xs, **kwargs)

    out = call(*inputs)  # (1) the forward, against the reference
    _check_forward(spec, out, arrays, kwargs)
    _check_not_mutated(spec, inputs, input_copies, kwargs, kwarg_copies)
    if upstream is None:
        upstream = np.random.default_rng(0).standard_normal(out.shape)
    upstream_t = tn.tensor(upstream, dtype=np.float64)

    # (2) first order: the vector-Jacobian product with the drawn upstream gradient
    tn.gradcheck(lambda *xs: (call(*xs) * upstream_t).sum(), inputs, **spec.gradcheck_kwargs)
    expected = tn.grad(out, differentiable, grad_outputs=upstream_t, allow_unused=True)
    del out
    got = _check_graph_freed(call, inputs, upstream_t)  # (5), and .grad from backward()
    for i, (e, g) in enumerate(zip(expected, got)):
        e = np.zeros(differentiable[i].shape) if e is None else _host(e)
        assert g is not None, f"{spec.name}: backward() left input {i}'s .grad unset"
        assert g.shape == differentiable[i].shape and g.dtype == np.float64, \
            f"{spec.name}: .grad of input {i} is {g.dtype} {g.shape}, expected float64 " \
            f"{differentiable[i].shape}"
        np.testing.assert_allclose(_host(g), e, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{spec.name}: backward() and tn.grad disagree")

    # the ops' raw-array backwards (taken without create_graph) against their plain ones
    plain = tn.grad(call(*inputs), differentiable, grad_outputs=upstream_t, allow_unused=True,
                    create_graph=True)
    for i, (e, p) in enumerate(zip(expected, plain)):
        if e is None or p is None:
            assert e is None and p is None, \
                f"{spec.name}: input {i} has a gradient with create_graph=True or without, not both"
            continue
        np.testing.assert_allclose(_host(e), _host(p), rtol=1e-12, atol=1e-12,
                                   err_msg=f"{spec.name}: the gradient of input {i} differs "
                                           "between create_graph=False (backward_arrays) and "
                                           "create_graph=True (backward)")

    # (3) second order, through the backward's own graph
    if spec.second_order:
        v = tn.tensor(upstream, dtype=np.float64, requires_grad=True)
        tn.gradgradcheck(call, inputs, grad_outputs=[v], **spec.gradcheck_kwargs)

    # (4) nothing above wrote into an input
    _check_not_mutated(spec, inputs, input_copies, kwargs, kwarg_copies)


def _host(t: tn.Tensor) -> np.ndarray:
    """A tensor's values as a NumPy array, from whichever device (even if it requires grad)."""
    return backend.to_numpy(t.array)


def _check_not_mutated(spec: OpSpec, inputs: list[tn.Tensor], input_copies: list[np.ndarray],
                       kwargs: dict[str, Any], kwarg_copies: dict[str, np.ndarray]) -> None:
    for i, (t, before) in enumerate(zip(inputs, input_copies)):
        assert t.array.dtype == before.dtype and np.array_equal(
            t.array, before, equal_nan=before.dtype.kind in "fc"), \
            f"{spec.name}: input {i} was modified in place"  # a NaN input stays NaN
    for k, before in kwarg_copies.items():
        assert np.array_equal(kwargs[k], before), f"{spec.name}: argument {k!r} was modified"


def _check_forward(spec: OpSpec, out: tn.Tensor, arrays: list[np.ndarray],
                   kwargs: dict[str, Any]) -> None:
    assert isinstance(out, tn.Tensor), f"{spec.name} returned {type(out).__name__}, not a Tensor"
    assert out.dtype == np.float64, f"{spec.name}: float64 inputs gave a {out.dtype} output"
    assert out.requires_grad == any(spec.requires_grad or [True]), \
        f"{spec.name}: output requires_grad is {out.requires_grad}"
    if spec.reference is None:
        return
    expected = np.asarray(spec.reference(*[a.copy() for a in arrays], **kwargs))
    assert tuple(out.shape) == expected.shape, \
        f"{spec.name}: output shape {tuple(out.shape)}, reference {expected.shape}"
    np.testing.assert_allclose(_host(out), expected, rtol=1e-9, atol=1e-12,
                               err_msg=f"{spec.name}: forward differs from the NumPy reference")


def _check_graph_freed(call: Callable[..., tn.Tensor], inputs: list[tn.Tensor],
                       upstream: tn.Tensor) -> list[tn.Tensor | None]:
    """Run forward and backward with the collector off; return the inputs' ``.grad``.

    Reference counting alone must free the graph: all of it once the output is dropped
    without a backward; after a backward, the intermediate tensors at once and the ops once
    the output is gone. Anything still alive is held by a cycle (or by a node that backward
    forgot to release).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        out = call(*inputs)
        node_refs = [weakref.ref(fn) for fn in graph_nodes(out)]
        del out
        alive = [type(ref()).__name__ for ref in node_refs if ref() is not None]
        assert not alive, f"graph nodes {alive} outlived their output (a reference cycle?)"

        for t in inputs:
            t.grad = None
        out = call(*inputs)
        nodes = list(graph_nodes(out))
        node_refs = [weakref.ref(fn) for fn in nodes]
        intermediate_refs = [weakref.ref(t) for fn in nodes for t in fn.inputs
                             if t.grad_fn is not None]
        del nodes
        out.backward(upstream)
        alive = sum(ref() is not None for ref in intermediate_refs)
        assert alive == 0, f"{alive} intermediate tensors outlived backward"
        del out
        alive = [type(ref()).__name__ for ref in node_refs if ref() is not None]
        assert not alive, f"graph nodes {alive} outlived their output (a reference cycle?)"
    finally:
        if collecting:
            gc.enable()
    return [t.grad for t in inputs if t.requires_grad]


# --------------------------------------------------------------------------- in-place ops
@dataclass(frozen=True)
class InplaceSpec:
    """How to test one in-place op: ``method(target, *others, **kwargs)`` changes ``target``.

    ``check_inplace`` runs the in-place op on a fresh non-leaf copy of input 0 through
    ``check_case`` (so the forward is compared with the out-of-place ``reference`` and the
    gradients of first and second order are checked through the recorded in-place op), then
    checks PyTorch's in-place rules: the same object comes back, it shares memory with its
    views, its version goes up by one, a leaf that requires grad refuses, and a backward that
    needs the old value raises.
    """

    name: str
    method: Callable[..., Any]
    cases: st.SearchStrategy[Case]
    reference: Callable[..., Any]
    values: Callable[[list[np.ndarray]], list[np.ndarray]] = unchanged
    second_order: bool = True

    def __str__(self) -> str:
        return self.name

    def as_op(self) -> OpSpec:
        def fn(target: tn.Tensor, *others: tn.Tensor, **kwargs: Any) -> tn.Tensor:
            result = target * 1.0  # a non-leaf copy, so the in-place op is recorded
            returned = self.method(result, *others, **kwargs)
            assert returned is None or returned is result, f"{self.name} returned a new tensor"
            return result
        return OpSpec(self.name, fn, self.cases, self.reference, self.values,
                      second_order=self.second_order)


def check_inplace(spec: InplaceSpec, data: st.DataObject) -> None:
    op = spec.as_op()
    input_shapes, kwargs = data.draw(spec.cases, label="shapes and arguments")
    arrays = spec.values([data.draw(hnp.arrays(np.float64, shape, elements=elements(-2.0, 2.0)),
                                    label=f"input {i}") for i, shape in enumerate(input_shapes)])
    check_case(op, arrays, kwargs)

    # without a graph: the same tensor, its memory (seen through a view) and one version more
    target = tn.tensor(arrays[0])
    others = [tn.tensor(a) for a in arrays[1:]]
    view, memory, version = target.reshape(-1), target.array, target._version
    returned = spec.method(target, *others, **kwargs)
    assert returned is None or returned is target, f"{spec.name}: returned a new tensor"
    assert target.array is memory and target._version == version + 1, \
        f"{spec.name}: expected the same array at version {version + 1}, got version " \
        f"{target._version}"
    np.testing.assert_allclose(_host(view).reshape(target.shape), _host(target), rtol=0, atol=0,
                               err_msg=f"{spec.name}: a view did not see the change")

    # a leaf that requires grad refuses outside no_grad, and is fine inside
    leaf = tn.tensor(arrays[0], requires_grad=True)
    try:
        spec.method(leaf, *others, **kwargs)
    except RuntimeError as err:
        assert "leaf Variable that requires grad" in str(err), str(err)
    else:
        raise AssertionError(f"{spec.name}: changed a leaf that requires grad under grad mode")
    with tn.no_grad():
        spec.method(leaf, *others, **kwargs)
    assert leaf.is_leaf and leaf.requires_grad and leaf._version == 1

    # the version check fires when a value saved for backward is changed afterwards
    x = tn.tensor(arrays[0], requires_grad=True)
    hidden = x * 1.0
    loss = (hidden * hidden).sum()  # Mul saves ``hidden``
    spec.method(hidden, *others, **kwargs)
    try:
        loss.backward()
    except RuntimeError as err:
        assert "modified by an inplace operation" in str(err), str(err)
    else:
        raise AssertionError(f"{spec.name}: backward ran on a value changed in place")
