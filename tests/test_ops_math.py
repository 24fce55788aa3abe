"""Elementwise math added for PyTorch programs: trigonometric and hyperbolic functions and their
inverses, atan2, powers and logarithms, rounding and remainders; through the op factory and,
when torch is installed, against torch."""

import math
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import (OpSpec, away_from, away_from_zero, broadcast_cases, cases, check_op,
                             op_settings, per_input, positive, shapes)

import tinynet as tn
from torch_oracle import assert_matches_torch


def scaled(factor):
    """Every input times ``factor``: keeps asin/acos/atanh inside (-1, 1)."""
    return lambda arrays: [a * factor for a in arrays]


WHOLE_NUMBERS = away_from([-2.0, -1.0, 0.0, 1.0, 2.0])  # rounding jumps there
HALVES = away_from([k / 2 for k in range(-4, 5)])  # round() jumps at the halves
POLES_OF_TAN = away_from([-math.pi / 2, math.pi / 2], margin=0.3)

SPECS = [
    OpSpec("sin", tn.sin, cases(shapes()), np.sin),
    OpSpec("cos", lambda a: a.cos(), cases(shapes()), np.cos),
    OpSpec("tan", tn.tan, cases(shapes()), np.tan, values=POLES_OF_TAN),
    OpSpec("asin", tn.asin, cases(shapes()), np.arcsin, values=scaled(0.4)),
    OpSpec("acos", lambda a: a.acos(), cases(shapes()), np.arccos, values=scaled(0.4)),
    OpSpec("atan", tn.atan, cases(shapes()), np.arctan),
    OpSpec("sinh", tn.sinh, cases(shapes()), np.sinh),
    OpSpec("cosh", lambda a: a.cosh(), cases(shapes()), np.cosh),
    OpSpec("asinh", tn.asinh, cases(shapes()), np.arcsinh),
    OpSpec("acosh", tn.acosh, cases(shapes()), np.arccosh, values=positive(1.2)),
    OpSpec("atanh", tn.atanh, cases(shapes()), np.arctanh, values=scaled(0.4)),
    # the branch cut of atan2 is y = 0 with x < 0: keep y off it, and (x, y) off the origin
    OpSpec("atan2", tn.atan2, broadcast_cases(), np.arctan2,
           values=per_input(away_from_zero(0.1), away_from_zero(0.5))),
    OpSpec("tn.pow", tn.pow, broadcast_cases(), np.power, values=per_input(positive(0.3), lambda a: a)),
    OpSpec("pow_method", lambda a, exponent: a.pow(exponent),
           cases(shapes(), exponent=st.sampled_from([2, 3, 0.5])), lambda a, exponent: a ** exponent,
           values=positive(0.3)),
    OpSpec("square", lambda a: a.square(), cases(shapes()), np.square),
    OpSpec("reciprocal", tn.reciprocal, cases(shapes()), np.reciprocal, values=away_from_zero(0.3)),
    OpSpec("rsqrt", tn.rsqrt, cases(shapes()), lambda a: 1 / np.sqrt(a), values=positive(0.2)),
    OpSpec("log1p", tn.log1p, cases(shapes()), np.log1p, values=positive(0.0)),
    OpSpec("expm1", tn.expm1, cases(shapes()), np.expm1),
    OpSpec("log2", tn.log2, cases(shapes()), np.log2, values=positive(0.2)),
    OpSpec("log10", lambda a: a.log10(), cases(shapes()), np.log10, values=positive(0.2)),
    OpSpec("exp2", tn.exp2, cases(shapes()), np.exp2),
    # piecewise constant: gradient zero, checked away from the jumps
    OpSpec("floor", tn.floor, cases(shapes()), np.floor, values=WHOLE_NUMBERS),
    OpSpec("ceil", lambda a: a.ceil(), cases(shapes()), np.ceil, values=WHOLE_NUMBERS),
    OpSpec("trunc", tn.trunc, cases(shapes()), np.trunc, values=WHOLE_NUMBERS),
    OpSpec("round", tn.round, cases(shapes()), np.round, values=HALVES),
    OpSpec("sign", tn.sign, cases(shapes()), np.sign, values=away_from_zero()),
    OpSpec("frac", tn.frac, cases(shapes()), lambda a: a - np.trunc(a), values=WHOLE_NUMBERS),
    OpSpec("remainder_by_number", lambda a: a % 0.75, cases(shapes()), lambda a: np.remainder(a, 0.75),
           values=away_from([0.75 * k for k in range(-3, 4)])),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


# --------------------------------------------------------------------------- dtypes and edges
@pytest.mark.parametrize("fn", [tn.sin, tn.cos, tn.exp, tn.sqrt, tn.log1p, tn.reciprocal, tn.atan])
def test_integer_inputs_compute_in_the_default_float_dtype(fn):
    assert fn(tn.tensor([1, 2])).dtype == np.float32
    assert fn(tn.tensor([True, False])).dtype == np.float32


def test_rounding_keeps_integers_and_sends_zero_gradient():
    whole = tn.tensor([-3, 4])
    assert tn.floor(whole).tolist() == [-3, 4] and tn.round(whole).dtype == np.int64
    assert tn.sign(whole).tolist() == [-1, 1]
    x = tn.tensor([-1.5, 0.4, 2.5], requires_grad=True)
    (tn.floor(x) + x.round() + x.ceil() + x.sign() + x.trunc()).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    assert tn.round(tn.tensor([0.5, 1.5, 2.5])).tolist() == [0.0, 2.0, 2.0]  # halves to even


def test_integer_floor_division_and_remainder_follow_python_and_refuse_zero():
    a, b = tn.tensor([7, -7, 7]), tn.tensor([2, 2, -2])
    assert (a // b).tolist() == [3, -4, -4] and (a % b).tolist() == [1, 1, -1]
    assert tn.div(a, b, rounding_mode="trunc").tolist() == [3, -3, -3]
    assert tn.div(a, b, rounding_mode="floor").tolist() == [3, -4, -4]
    assert (a // b).dtype == np.int64 and (7.5 // tn.tensor([2.0])).tolist() == [3.0]
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a // tn.tensor([1, 0, 1])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a % 0
    with pytest.raises(ValueError, match="rounding_mode"):
        tn.div(a, b, rounding_mode="round")


def test_atan2_of_integers_is_float_and_covers_every_quadrant():
    y, x = tn.tensor([1, 1, -1, -1]), tn.tensor([1, -1, -1, 1])
    out = tn.atan2(y, x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), np.arctan2([1, 1, -1, -1], [1, -1, -1, 1]), rtol=1e-6)


# --------------------------------------------------------------------------- against torch
TORCH_UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh",
               "square", "reciprocal", "rsqrt", "log1p", "expm1", "log2", "log10", "exp2",
               "floor", "ceil", "round", "trunc", "sign", "frac"]


@pytest.mark.parametrize("name", TORCH_UNARY + ["acosh"])
def test_unary_math_matches_torch_in_float32(name):
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).uniform(-0.9, 0.9, size=(3, 5)).astype(np.float32)
    if name in ("rsqrt", "log2", "log10", "acosh"):
        values = np.abs(values) + (1.1 if name == "acosh" else 0.1)
    assert getattr(tn, name)(tn.tensor(values)).dtype == np.float32
    assert_matches_torch(torch, getattr(tn, name), getattr(torch, name), values, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["atan2", "remainder"])
def test_atan2_and_remainder_match_torch_with_gradients(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-3, 3, (4, 3)), rng.uniform(0.5, 2, (3,))
    assert_matches_torch(torch, getattr(tn, name), getattr(torch, name), a, b)



def test_ieee_infs_and_nans_arise_silently_as_in_pytorch():
    """log(0), 1/0, sqrt(-1) and an overflowing exp give their IEEE values without NumPy's
    warnings, which would name a line inside tinynet; the program's own NumPy still warns. In a
    fresh process: pytest imports tinynet inside its own warning-catching block, which drops
    the filter tinynet adds on import when the block ends."""
    import subprocess
    import sys

    program = (
        "import numpy as np, tinynet as tn\n"
        "x = tn.tensor([0.0, -1.0, 100.0], requires_grad=True)\n"
        "out = [tn.log(x), 1 / x, tn.sqrt(x), x.exp() * 1e30, x.reciprocal(), tn.log1p(x - 1)]\n"
        "sum(o.sum() for o in out).backward()\n"
        "print(out[0].tolist(), x.grad.tolist())\n"
        "np.log(np.zeros(1))\n")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("[-inf, nan, 4.60517")
    warned = [line for line in run.stderr.splitlines() if "Warning" in line]
    assert len(warned) == 1 and warned[0].startswith("<string>:6: RuntimeWarning: divide by zero")


def test_median_of_all_shares_a_tie_and_atan2_has_slope_zero_at_the_origin_as_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([[0.0, 0.0, -1.0, 3.0], [0.0, 2.0, np.nan, np.nan]])
    for call in (lambda lib, t: t[0].median(), lambda lib, t: t.median(),
                 lambda lib, t: t[:, :2].median(1).values.sum(),
                 lambda lib, t: lib.atan2(t[0, :2] * 1, t[1, :2] * 0).sum()):
        grads, names = [], []
        for lib in (tn, torch):
            t = lib.tensor(data, requires_grad=True)
            out = call(lib, t)
            out.backward()
            grads.append(t.grad.numpy())
            names.append(out.grad_fn.name())
        np.testing.assert_array_equal(*grads)
        assert names[0] == names[1]
