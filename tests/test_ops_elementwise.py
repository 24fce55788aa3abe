"""Arithmetic, elementwise math, matmul and comparisons, all through the op factory."""

import operator
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tinynet.testing import (OpSpec, away_from, away_from_zero, broadcast_cases, cases, check_case,
                        check_op, distinct, op_settings, per_input, positive, shapes, unchanged)

import tinynet as tn

OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
             "**": operator.pow}


@st.composite
def where_cases(draw):
    condition_shape, a_shape, b_shape = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4)).input_shapes
    condition = draw(hnp.arrays(np.bool_, condition_shape))
    return (a_shape, b_shape), {"condition": condition}


CLAMP_BOUNDS = [(-0.5, 0.7), (None, 0.3), (-0.2, None)]

SPECS = [
    OpSpec("add", lambda a, b: a + b, broadcast_cases(), np.add),
    OpSpec("sub", lambda a, b: a - b, broadcast_cases(), np.subtract),
    OpSpec("mul", lambda a, b: a * b, broadcast_cases(), np.multiply),
    OpSpec("div", lambda a, b: a / b, broadcast_cases(), np.divide,
           values=per_input(unchanged, away_from_zero(0.5))),
    OpSpec("neg", lambda a: -a, cases(shapes()), np.negative),
    OpSpec("clone", lambda a: a.clone(), cases(shapes()), np.copy),
    OpSpec("pow_tensor", lambda a, b: a ** b, broadcast_cases(), np.power,
           values=per_input(positive(0.3), unchanged)),
    OpSpec("pow_int_exponent", lambda a, exponent: a ** exponent,
           cases(shapes(), exponent=st.sampled_from([0, 1, 2, 3, -1, -2])),
           lambda a, exponent: a ** float(exponent), values=away_from_zero(0.3)),
    OpSpec("pow_float_exponent", lambda a, exponent: a ** exponent,
           cases(shapes(), exponent=st.sampled_from([0.5, -0.5, 1.5, 2.5])),
           lambda a, exponent: a ** exponent,
           values=positive(0.3)),
    # Python numbers on either side take the tensor's dtype (float64 stays float64)
    OpSpec("python_scalar_right", lambda a, op, scalar: OPERATORS[op](a, scalar),
           cases(shapes(), op=st.sampled_from(sorted(OPERATORS)),
                 scalar=st.sampled_from([2, 3, 1.5, 0.5, -0.75])),
           lambda a, op, scalar: OPERATORS[op](a, scalar), values=positive(0.3)),
    OpSpec("python_scalar_left", lambda a, op, scalar: OPERATORS[op](scalar, a),
           cases(shapes(), op=st.sampled_from(sorted(OPERATORS)),
                 scalar=st.sampled_from([2, 3, 1.5, 0.5])),
           lambda a, op, scalar: OPERATORS[op](scalar, a), values=away_from_zero(0.3)),
    OpSpec("exp", tn.exp, cases(shapes()), np.exp),
    OpSpec("log", tn.log, cases(shapes()), np.log, values=positive(0.2)),
    OpSpec("sqrt", tn.sqrt, cases(shapes()), np.sqrt, values=positive(0.2)),
    OpSpec("abs", tn.abs, cases(shapes()), np.abs, values=away_from_zero()),
    OpSpec("clamp", lambda a, bounds: tn.clamp(a, *bounds),
           cases(shapes(), bounds=st.sampled_from(CLAMP_BOUNDS)),
           lambda a, bounds: np.clip(a, *bounds), values=away_from([-0.5, -0.2, 0.3, 0.7])),
    OpSpec("maximum", tn.maximum, broadcast_cases(), np.maximum, values=distinct()),
    OpSpec("minimum", tn.minimum, broadcast_cases(), np.minimum, values=distinct()),
    OpSpec("where", lambda a, b, condition: tn.where(tn.tensor(condition), a, b), where_cases(),
           lambda a, b, condition: np.where(condition, a, b)),
    OpSpec("where_python_scalar", lambda a, condition: tn.where(tn.tensor(condition), a, 0.5),
           where_cases().map(lambda c: (c[0][:1], c[1])),
           lambda a, condition: np.where(condition, a, 0.5)),
    # matmul: NumPy's gufunc signature draws 1-D operands and broadcast batch dims
    OpSpec("matmul", lambda a, b: a @ b,
           hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=2,
                                             max_side=3).map(lambda b: (b.input_shapes, {})),
           np.matmul),
    OpSpec("tn.matmul", tn.matmul,
           hnp.mutually_broadcastable_shapes(signature="(m,n),(n,p)->(m,p)", max_dims=1,
                                             max_side=3).map(lambda b: (b.input_shapes, {})),
           np.matmul),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- matmul shapes
@pytest.mark.parametrize("a_shape, b_shape, out_shape", [
    ((3,), (3,), ()),
    ((3,), (3, 4), (4,)),
    ((2, 3), (3,), (2,)),
    ((5, 2, 3), (3,), (5, 2)),
    ((3,), (5, 3, 4), (5, 4)),
    ((5, 1, 2, 3), (4, 3, 2), (5, 4, 2, 2)),
])
def test_matmul_shapes_follow_numpy(a_shape, b_shape, out_shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    spec = OpSpec("matmul", lambda x, y: x @ y, cases(), np.matmul)
    check_case(spec, [a, b])
    assert (tn.tensor(a) @ tn.tensor(b)).shape == out_shape


# --------------------------------------------------------------------------- ties
def test_maximum_minimum_split_ties_evenly_like_pytorch():
    """Documented in Maximum: at a tie each side gets half the gradient (as torch.maximum)."""
    a = tn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tn.tensor([1.0, 5.0, 0.0], requires_grad=True)
    (tn.maximum(a, b) * tn.tensor([2.0, 1.0, 1.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 0.0])
    a.grad = b.grad = None
    tn.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0, 1.0])


def test_maximum_ties_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([[1.0, 2.0, 2.0], [0.0, -1.0, 4.0]])
    other = np.array([2.0, 2.0, 2.0])
    for op in ("maximum", "minimum"):
        a, b = tn.tensor(values, requires_grad=True), tn.tensor(other, requires_grad=True)
        getattr(tn, op)(a, b).sum().backward()
        ta = torch.tensor(values, requires_grad=True)
        tb = torch.tensor(other, requires_grad=True)
        getattr(torch, op)(ta, tb).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())
        np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy())


MASKED_GRADIENTS = {  # op: one function for both libraries, given the library, x and an operand
    "relu": lambda lib, x, o: lib.relu(x),
    "clamp": lambda lib, x, o: x.clamp(-0.5, 1.0),
    "maximum": lambda lib, x, o: lib.maximum(x, o),
    "minimum": lambda lib, x, o: lib.minimum(o, x),
    "where": lambda lib, x, o: lib.where(o > 0, x, o),
    "masked_fill": lambda lib, x, o: x.masked_fill(o > 0, 2.0),
    "max": lambda lib, x, o: x.max(),
    "min": lambda lib, x, o: x.min(),
    "amax": lambda lib, x, o: x.amax(1),  # a product in PyTorch: NaN where masked
    "leaky_relu slope 0": lambda lib, x, o: lib.nn.functional.leaky_relu(x, 0.0),  # a product
    "embedding padding_idx": lambda lib, x, o: lib.nn.functional.embedding((o > 0).long(), x,
                                                                         padding_idx=1),
}


@pytest.mark.parametrize("op", MASKED_GRADIENTS)
@pytest.mark.parametrize("inputs", ["finite", "with NaN"])
def test_masked_gradients_follow_pytorch_for_inf_and_nan_gradients(op, inputs):
    """Where PyTorch masks a gradient (ReLU, clamp, maximum, where, max(), embedding's
    padding), the masked places get exactly 0 even from an inf or NaN gradient, where a product
    would give NaN (inf · 0); where PyTorch multiplies (amax, leaky_relu), tinynet does too."""
    torch = pytest.importorskip("torch")
    x = np.array([[-1.0, 2.0, 0.5, 3.0], [1.5, -2.0, 0.0, 1.0]])
    if inputs == "with NaN":
        x[0, 1] = x[1, 2] = np.nan
    other = np.array([[0.0, 2.0, 1.0, -1.0], [1.5, 1.0, -1.0, 2.0]])
    a, ta = tn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = MASKED_GRADIENTS[op](tn, a, tn.tensor(other))
    t_out = MASKED_GRADIENTS[op](torch, ta, torch.tensor(other))
    upstream = np.resize([np.inf, -np.inf, np.nan, 2.0, -1.0], out.shape)
    with np.errstate(invalid="ignore"):
        out.backward(tn.tensor(upstream))
    t_out.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())  # NaN where NaN


@pytest.mark.parametrize("exponent", [0, 0.0])
def test_power_zero_has_gradient_zero_even_at_zero_as_in_pytorch(exponent):
    x = tn.tensor([0.0, 2.0, -1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 · inf on the way
        (x ** exponent).backward(tn.tensor([np.inf, 1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("upstream", [[1.0] * 5, [np.inf, np.inf, 1.0, 1.0, 1.0]])
def test_tensor_power_at_zero_matches_pytorch(upstream):
    """d/da is 0 where a = b = 0 and d/db is 0 where a = 0 and b >= 0, not 0 · inf = NaN."""
    torch = pytest.importorskip("torch")
    base, exponent = np.array([0.0, 0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 0.5, 0.0, -1.0])
    a, b = tn.tensor(base, requires_grad=True), tn.tensor(exponent, requires_grad=True)
    ta, tb = torch.tensor(base, requires_grad=True), torch.tensor(exponent, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 is inf in both
        (a ** b).backward(tn.tensor(upstream))
    (ta ** tb).backward(torch.tensor(upstream))
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


def test_abs_and_clamp_gradients_at_their_kinks_match_pytorch_conventions():
    x = tn.tensor([0.0, -1.0, 1.0], requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, -1.0, 1.0])  # sign(0) = 0
    y = tn.tensor([0.0, 1.0, 0.5, 2.0], requires_grad=True)
    y.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0, 1.0, 0.0])  # bounds included


# --------------------------------------------------------------------------- comparisons
@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "==", "!="])
def test_comparisons_are_bool_and_carry_no_gradient(op):
    compare = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
               "==": operator.eq, "!=": operator.ne}[op]
    a = tn.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    b = tn.tensor([[2.0], [1.0]], requires_grad=True)
    result = compare(a, b)
    assert result.dtype == np.bool_ and result.shape == (2, 3)
    assert not result.requires_grad and result.grad_fn is None
    np.testing.assert_array_equal(result.numpy(), compare(a.detach().numpy(), b.detach().numpy()))
    np.testing.assert_array_equal(compare(a, 2.0).numpy(), compare(a.detach().numpy(), 2.0))
    np.testing.assert_array_equal(compare(2.0, a).numpy(), compare(2.0, a.detach().numpy()))


def test_a_comparison_used_as_a_mask_stops_the_gradient_there():
    x = tn.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = (x * (x > 0).float()).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 1.0])


# --------------------------------------------------------------------------- dtypes
def test_python_scalars_keep_the_tensor_dtype():
    for dtype in (np.float32, np.float64):
        x = tn.ones(2, dtype=dtype)
        for op in OPERATORS.values():
            assert op(x, 2).dtype == dtype and op(2, x).dtype == dtype
            assert op(x, 0.5).dtype == dtype and op(0.5, x).dtype == dtype


def test_integer_tensors_promote_as_pytorch_does():
    i = tn.tensor([1, 2, 3])
    assert (i + 1).dtype == np.int64 and (i * 2).dtype == np.int64
    assert (i * 1.5).dtype == np.float32  # a Python float makes the default float dtype
    assert (i / 2).dtype == np.float32  # true division of ints is float
    assert (i + tn.ones(3)).dtype == np.float32
    assert (i + tn.ones(3, dtype=tn.float64)).dtype == np.float64
    np.testing.assert_allclose((i / 2).numpy(), [0.5, 1.0, 1.5])


def test_float32_ops_stay_float32():
    x = tn.randn(2, 3, requires_grad=True)
    y = (x.exp() + x.abs().sqrt() * x - x / 3) @ tn.randn(3, 2)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
