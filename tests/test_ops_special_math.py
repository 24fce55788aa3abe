"""The special functions (erf … polygamma, i0, sinc, logit, xlogy, ``tn.special``) and the
elementwise math added with them (logaddexp, hypot, fmax/fmin, copysign, heaviside,
float_power, deg2rad, sgn, the bitwise functions and shifts, gcd, lcm…).

The differentiable ones go through the op factory to second order against SciPy/NumPy; then,
when torch is installed, values, dtypes (integer inputs too), gradients of both orders, NaN,
inf and extreme values, and the errors are compared with PyTorch's.
"""

from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.special as sp
import strict_cupy
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import (InplaceSpec, OpSpec, away_from, away_from_zero, broadcast_cases, cases,
                             check_inplace, check_op, distinct, op_settings, per_input, positive,
                             shapes, unchanged)

import tinynet as tn
from tinynet import backend
from test_pytorch_parity import run_both
from torch_oracle import assert_matches_torch

inf, nan = math.inf, math.nan

# SciPy's functions that the ops take from cupyx.scipy.special on a GPU
SPECIAL_FUNCTIONS = ("erf", "erfc", "erfinv", "gammaln", "digamma", "polygamma", "i0", "i1",
                     "entr", "ndtri", "log_ndtr")


@pytest.fixture(autouse=True)
def _stand_in_has_the_special_functions(monkeypatch):
    """tests/strict_cupy.py models cupyx.scipy.special with erf alone: under ``--device strict``
    give it (for this module's tests) the others these ops call, computed by SciPy as CuPy's
    would be, on the stand-in's device arrays."""
    special = getattr(getattr(backend.cupyx, "scipy", None), "special", None)
    if special is strict_cupy.cupyx.scipy.special:
        for name in SPECIAL_FUNCTIONS:
            monkeypatch.setattr(special, name, strict_cupy._special(name), raising=False)


# --------------------------------------------------------------------------- the op factory
GAMMA_POLES = away_from([-2.0, -1.0, 0.0], margin=0.15)
LOGIT_EPS_KINKS = away_from([0.1, 0.25, 0.75, 0.9], margin=0.03)
WHOLE_NUMBERS = away_from([-2.0, -1.0, 0.0, 1.0, 2.0])


def _logit_reference(x, eps):
    return sp.logit(np.clip(x, eps, 1 - eps))


SPECS = [
    OpSpec("erf", tn.erf, cases(shapes()), sp.erf),
    OpSpec("erfc", lambda a: a.erfc(), cases(shapes()), sp.erfc, low=-3.0, high=3.0),
    OpSpec("erfinv", tn.erfinv, cases(shapes()), sp.erfinv, low=-0.9, high=0.9),
    OpSpec("lgamma", tn.lgamma, cases(shapes()), sp.gammaln, values=GAMMA_POLES, low=-2.5,
           high=3.0),
    OpSpec("digamma", lambda a: a.digamma(), cases(shapes()), sp.digamma, values=GAMMA_POLES,
           low=-2.5, high=3.0),
    OpSpec("polygamma", lambda a, n: tn.polygamma(n, a), cases(shapes(), n=st.sampled_from(
        [0, 1, 2, 3])), lambda a, n: sp.polygamma(n, a), values=GAMMA_POLES, low=-2.5, high=3.0),
    OpSpec("polygamma_method", lambda a, n: a.polygamma(n), cases(shapes(), n=st.sampled_from(
        [1, 2])), lambda a, n: sp.polygamma(n, a), values=positive(0.3)),
    OpSpec("i0", tn.i0, cases(shapes()), sp.i0, low=-3.0, high=3.0),
    # 0 and tiny values included: sinc's derivatives are exact there too
    OpSpec("sinc", tn.sinc, cases(shapes()), np.sinc),
    OpSpec("logit", tn.logit, cases(shapes()), sp.logit, low=0.05, high=0.95),
    OpSpec("logit_eps", lambda a, eps: a.logit(eps), cases(shapes(), eps=st.sampled_from(
        [0.1, 0.25])), _logit_reference, values=LOGIT_EPS_KINKS, low=-0.3, high=1.3),
    # input 0 included: xlogy is 0 there, with the gradient log(y)
    OpSpec("xlogy", tn.xlogy, broadcast_cases(), sp.xlogy,
           values=per_input(unchanged, positive(0.2))),
    OpSpec("xlogy_number_other", lambda a: tn.xlogy(a, 2.5), cases(shapes()),
           lambda a: sp.xlogy(a, 2.5)),
    OpSpec("xlogy_number_input", lambda a: tn.xlogy(1.5, a), cases(shapes()),
           lambda a: sp.xlogy(1.5, a), values=positive(0.2)),
    OpSpec("special.entr", tn.special.entr, cases(shapes()), sp.entr, values=positive(0.2)),
    OpSpec("special.ndtr", tn.special.ndtr, cases(shapes()), sp.ndtr, low=-4.0, high=4.0),
    OpSpec("special.ndtri", tn.special.ndtri, cases(shapes()), sp.ndtri, low=0.02, high=0.98),
    OpSpec("special.log_ndtr", tn.special.log_ndtr, cases(shapes()), sp.log_ndtr, low=-30.0,
           high=5.0),
    OpSpec("special.expit", tn.special.expit, cases(shapes()), sp.expit),
    OpSpec("special.gammaln", tn.special.gammaln, cases(shapes()), sp.gammaln,
           values=positive(0.2)),
    OpSpec("logaddexp", tn.logaddexp, broadcast_cases(), np.logaddexp),
    OpSpec("logaddexp_far_apart", lambda a, b: a.logaddexp(b), broadcast_cases(), np.logaddexp,
           low=-800.0, high=800.0),
    OpSpec("logaddexp2", tn.logaddexp2, broadcast_cases(), np.logaddexp2),
    OpSpec("hypot", tn.hypot, broadcast_cases(), np.hypot,
           values=per_input(away_from_zero(0.2), unchanged)),
    OpSpec("fmax", tn.fmax, broadcast_cases(), np.fmax, values=distinct()),
    OpSpec("fmin", lambda a, b: a.fmin(b), broadcast_cases(), np.fmin, values=distinct()),
    OpSpec("copysign", tn.copysign, broadcast_cases(), np.copysign, values=away_from_zero()),
    OpSpec("copysign_number", lambda a: a.copysign(-1.0), cases(shapes()),
           lambda a: np.copysign(a, -1.0), values=away_from_zero()),
    OpSpec("float_power", tn.float_power, broadcast_cases(), np.power,
           values=per_input(positive(0.3), unchanged)),
    OpSpec("float_power_number", lambda a, e: a.float_power(e),
           cases(shapes(), e=st.sampled_from([2, 0.5, -1.5, 3])),
           lambda a, e: np.power(a, float(e)), values=positive(0.3)),
    OpSpec("float_power_number_base", lambda a: tn.float_power(2.5, a), cases(shapes()),
           lambda a: np.power(2.5, a)),
    OpSpec("deg2rad", tn.deg2rad, cases(shapes()), np.deg2rad),
    OpSpec("rad2deg", lambda a: a.rad2deg(), cases(shapes()), np.rad2deg),
    OpSpec("clamp_min", lambda a: tn.clamp_min(a, 0.3), cases(shapes()),
           lambda a: np.maximum(a, 0.3), values=away_from([0.3])),
    OpSpec("clamp_max_tensor", lambda a, b: tn.clamp_max(a, b), broadcast_cases(), np.minimum,
           values=distinct()),
    # piecewise constant: gradient zero, checked away from the jumps
    OpSpec("sgn", tn.sgn, cases(shapes()), np.sign, values=away_from_zero()),
    OpSpec("fix", lambda a: a.fix(), cases(shapes()), np.trunc, values=WHOLE_NUMBERS),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


INPLACE_SPECS = [
    InplaceSpec("erf_", lambda t: t.erf_(), cases(shapes()), sp.erf),
    InplaceSpec("erfinv_", lambda t: t.erfinv_(), cases(shapes()), sp.erfinv,
                values=lambda arrays: [0.4 * a for a in arrays]),
    InplaceSpec("lgamma_", lambda t: t.lgamma_(), cases(shapes()), sp.gammaln,
                values=positive(0.2)),
    InplaceSpec("polygamma_", lambda t: t.polygamma_(1), cases(shapes()),
                lambda a: sp.polygamma(1, a), values=positive(0.3)),
    InplaceSpec("sinc_", lambda t: t.sinc_(), cases(shapes()), np.sinc),
    InplaceSpec("arcsinh_", lambda t: t.arcsinh_(), cases(shapes()), np.arcsinh),
    InplaceSpec("logit_", lambda t: t.logit_(0.2), cases(shapes()),
                lambda a: _logit_reference(a, 0.2), values=away_from([0.2, 0.8])),
    InplaceSpec("xlogy_", lambda t, o: t.xlogy_(o), broadcast_cases().filter(
        lambda c: tuple(c[0][0]) == np.broadcast_shapes(*c[0][:2])), sp.xlogy,
        values=per_input(unchanged, positive(0.2))),
    InplaceSpec("hypot_", lambda t: t.hypot_(tn.tensor(0.75, dtype=t.dtype)), cases(shapes()),
                lambda a: np.hypot(a, 0.75)),
    InplaceSpec("copysign_", lambda t: t.copysign_(-2.0), cases(shapes()),
                lambda a: np.copysign(a, -2.0), values=away_from_zero()),
    InplaceSpec("clamp_min_", lambda t: t.clamp_min_(0.2), cases(shapes()),
                lambda a: np.maximum(a, 0.2), values=away_from([0.2])),
    InplaceSpec("float_power_", lambda t: t.float_power_(3), cases(shapes()),
                lambda a: a ** 3.0),
]


@pytest.mark.parametrize("spec", INPLACE_SPECS, ids=str)
@op_settings
@given(data=st.data())
def test_inplace_op(spec, data):
    check_inplace(spec, data)


# --------------------------------------------------------------------------- exact points
def _grads(fn, *values, order=2, dtype=tn.float64):
    """fn's value and the gradients of its sum, of order 1 and 2 (the second: of the sum of the
    first), at ``values``."""
    xs = [tn.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    out = fn(*xs)
    first = tn.autograd.grad(out.sum(), xs, create_graph=order > 1)
    if order == 1:
        return out.detach(), [g.detach() for g in first]
    second = tn.autograd.grad(sum(g.sum() for g in first), xs, allow_unused=True)
    return out.detach(), [g.detach() for g in first], second


def test_sinc_has_exact_derivatives_at_and_near_zero():
    """sinc'(0) = 0 and sinc''(0) = -π²/3 (PyTorch gives NaN for the latter); near 0 the
    Taylor branch keeps both to full precision where the closed forms cancel."""
    points = np.array([0.0, -0.0, 1e-300, 1e-12, -1e-6, 1e-3, 0.01, 0.2, 1.0, -2.5])
    out, (first,), (second,) = _grads(tn.sinc, points)
    x = np.pi * points
    with np.errstate(invalid="ignore", divide="ignore"):
        d1 = np.where(points == 0, 0.0, (np.cos(x) - np.sin(x) / x) / points)
        d2 = np.where(points == 0, -np.pi ** 2 / 3, -np.pi ** 2 * np.sinc(points) - 2 * d1 / points)
    far = np.abs(points) >= 0.01  # the closed forms are exact enough there only
    np.testing.assert_allclose(out.numpy(), np.sinc(points), rtol=1e-15)
    np.testing.assert_allclose(first.numpy()[far], d1[far], rtol=1e-12)
    np.testing.assert_allclose(second.numpy()[far], d2[far], rtol=1e-10)
    series1 = -np.pi ** 2 * points / 3 + np.pi ** 4 * points ** 3 / 30 - np.pi ** 6 * points ** 5 / 840
    series2 = -np.pi ** 2 / 3 + np.pi ** 4 * points ** 2 / 10 - np.pi ** 6 * points ** 4 / 168
    np.testing.assert_allclose(first.numpy()[~far], series1[~far], rtol=1e-12, atol=0)
    np.testing.assert_allclose(second.numpy()[~far], series2[~far], rtol=1e-12)
    # float32: no NaN at 0, and the derivatives to float32's precision
    out, (first,), (second,) = _grads(tn.sinc, points, dtype=tn.float32)
    assert first.dtype == tn.float32 and np.isfinite(second.numpy()).all()
    np.testing.assert_allclose(second.numpy(), np.where(far, d2, series2), rtol=1e-4)


def test_logaddexp_is_exact_and_stable_at_plus_minus_1000():
    a = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0, 700.0])
    b = np.array([-1000.0, 1000.0, 1000.0, -1000.0, -800.0, 710.0])
    for fn, reference, scale in [(tn.logaddexp, np.logaddexp, 1.0),
                                 (tn.logaddexp2, np.logaddexp2, math.log(2))]:
        for dtype in (tn.float64, tn.float32):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no overflow, 0·inf or inf - inf on the way
                out, (ga, gb), (gga, ggb) = _grads(fn, a, b, dtype=dtype)
            np.testing.assert_allclose(out.numpy(), reference(a, b), rtol=1e-6, atol=1e-30)
            weight = 1 / (1 + np.exp(np.clip(b - a, -700, 700) * scale))  # sigmoid((a - b)·s)
            np.testing.assert_allclose(ga.numpy(), weight, atol=1e-7)
            np.testing.assert_allclose(gb.numpy(), 1 - weight, atol=1e-7)
            # second order: d/da of (ga + gb) = d/da 1 = 0, exactly finite everywhere
            assert np.isfinite(gga.numpy()).all() and np.isfinite(ggb.numpy()).all()
            np.testing.assert_allclose(gga.numpy(), 0, atol=1e-6)


def test_hypot_never_overflows():
    out, (ga, gb), (gga, ggb) = _grads(tn.hypot, [1e200, 3e-200], [1e200, 4e-200])
    np.testing.assert_allclose(out.numpy(), [math.sqrt(2) * 1e200, 5e-200], rtol=1e-15)
    np.testing.assert_allclose(ga.numpy(), [math.sqrt(0.5), 0.6], rtol=1e-15)
    np.testing.assert_allclose(gb.numpy(), [math.sqrt(0.5), 0.8], rtol=1e-15)
    # the second derivative (1/r scale) is finite where r² is (not at 5e-200)
    assert np.isfinite(gga.numpy()[0]) and np.isfinite(ggb.numpy()[0])


def test_log_ndtr_and_ndtri_in_the_tails():
    out, (first,), (second,) = _grads(tn.special.log_ndtr, [-40.0, -10.0, 0.0, 10.0])
    np.testing.assert_allclose(out.numpy(), sp.log_ndtr([-40.0, -10.0, 0.0, 10.0]), rtol=1e-14)
    # d/dx log Φ(x) = φ(x)/Φ(x) → -x in the lower tail: finite where Φ underflows
    np.testing.assert_allclose(first.numpy()[:2], [40.02496884721236, 10.098093233962508],
                               rtol=1e-10)
    assert np.isfinite(second.numpy()).all()
    y = tn.special.ndtri(tn.tensor([0.0, 1.0, 0.5, 1e-300], dtype=tn.float64))
    assert y.tolist()[:3] == [-inf, inf, 0.0] and -38 < y.tolist()[3] < -36


# --------------------------------------------------------------------------- dtypes, no torch
@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "lgamma", "digamma", "i0", "sinc",
                                  "logit", "deg2rad", "rad2deg"])
def test_integer_and_bool_inputs_give_the_default_float_dtype(name):
    fn = getattr(tn, name)
    for values in ([0, 1, 2, -3], [True, False]):
        out = fn(tn.tensor(values))
        assert out.dtype == tn.float32, (name, values, out.dtype)
        np.testing.assert_array_equal(out.numpy(), fn(tn.tensor(values, dtype=tn.float32)).numpy())
    tn.set_default_dtype(tn.float64)
    try:
        assert fn(tn.tensor([1, 2])).dtype == tn.float64
    finally:
        tn.set_default_dtype(tn.float32)
    assert tn.polygamma(1, tn.tensor([1, 2])).dtype == tn.float32


def test_float_power_computes_in_float64_and_returns_gradients_in_the_input_dtype():
    x = tn.tensor([1.5, 2.0], requires_grad=True)  # float32
    e = tn.tensor([2, 3])  # int64
    out = tn.float_power(x, e)
    assert out.dtype == tn.float64 and out.tolist() == [2.25, 8.0]
    out.sum().backward()
    assert x.grad.dtype == tn.float32 and x.grad.tolist() == [3.0, 12.0]
    assert tn.float_power(tn.tensor([True, False]), 2).dtype == tn.float64
    assert tn.float_power(2, tn.tensor([1, 2])).tolist() == [2.0, 4.0]


def test_heaviside_has_no_derivative_as_in_pytorch():
    x = tn.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    out = tn.heaviside(x, tn.tensor([0.5]))
    assert out.tolist() == [0.0, 0.5, 1.0] and out.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
        out.sum().backward()


def test_positive_is_the_input_itself_and_refuses_bool():
    x = tn.tensor([1.0, -2.0], requires_grad=True)
    assert tn.positive(x) is x and x.positive() is x and (+x) is x
    with pytest.raises(RuntimeError, match="bool tensor is not supported"):
        tn.positive(tn.tensor([True]))
    with pytest.raises(RuntimeError, match="bool tensor is not supported"):
        +tn.tensor([True])


def test_out_arguments_receive_the_result():
    out = tn.empty(3)
    result = tn.erf(tn.tensor([0.0, 1.0, -1.0]), out=out)
    assert result is out and np.allclose(out.numpy(), sp.erf([0.0, 1.0, -1.0]))
    out = tn.empty(2, dtype=tn.int64)
    assert tn.gcd(tn.tensor([4, 9]), tn.tensor([6, 6]), out=out) is out and out.tolist() == [2, 3]
    out = tn.empty(2)
    assert tn.special.expit(tn.tensor([0.0, 0.0]), out=out) is out and out.tolist() == [0.5, 0.5]


def test_errors_name_the_op_argument_and_dtypes():
    with pytest.raises(TypeError, match=r"erf\(\): argument 'input' \(position 1\) must be Tensor, "
                                        "not float"):
        tn.erf(2.0)
    with pytest.raises(TypeError, match=r"polygamma\(\): argument 'n' \(position 1\) must be int"):
        tn.polygamma(1.0, tn.ones(2))
    with pytest.raises(NotImplementedError, match="logaddexp: not implemented for dtype int64"):
        tn.logaddexp(tn.tensor([1]), tn.tensor([2]))
    with pytest.raises(TypeError, match=r"hypot\(\): argument 'other' \(position 2\) must be "
                                        "Tensor, not float"):
        tn.hypot(tn.ones(2), 2.0)
    with pytest.raises(RuntimeError, match=r"logaddexp: the shapes of input \(3,\) and other "
                                           r"\(2,\) cannot be broadcast"):
        tn.logaddexp(tn.ones(3), tn.ones(2))
    with pytest.raises(RuntimeError, match="different dtypes.*float32.*float64"):
        tn.heaviside(tn.ones(2), tn.ones(1, dtype=tn.float64))
    with pytest.raises(NotImplementedError, match="gcd: not implemented for dtype float32"):
        tn.gcd(tn.ones(2), tn.ones(2))
    with pytest.raises(NotImplementedError, match="complex"):
        tn.erf(tn.tensor([1 + 1j]))
    # the bitwise ops' dtype error is also the TypeError tinynet's `&` always raised
    with pytest.raises(TypeError, match="compare first"):
        tn.ones(2).bitwise_left_shift(1)
    with pytest.raises(RuntimeError, match="float_power_.*float32.*float64"):
        tn.ones(2).float_power_(2)


# --------------------------------------------------------------------------- against torch
def _torch():
    return pytest.importorskip("torch")


def _np(t):
    if type(t).__module__.startswith("torch"):
        return t.detach().numpy(force=True)
    return t.detach().numpy()


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _agree(ours, theirs, rtol, atol, what):
    assert _dtype_name(ours.dtype) == _dtype_name(theirs.dtype), \
        f"{what}: dtype {ours.dtype}, PyTorch {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), \
        f"{what}: shape {tuple(ours.shape)}, PyTorch {tuple(theirs.shape)}"
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


def both_agree(program, rtol=1e-7, atol=1e-12):
    """``program(L)`` on both libraries returns a list of tensors: values, NaN/inf, dtypes
    and shapes agree."""
    torch = _torch()
    ours, theirs = program(tn), program(torch)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b is None:
            assert a is None or not np.any(_np(a)), f"result {i}: PyTorch has no gradient"
            continue
        _agree(a, b, rtol, atol, f"result {i}")


def both_raise(program):
    """``program(L)`` raises on both libraries, tinynet an instance of PyTorch's type."""
    torch = _torch()
    errors = []
    for lib in (tn, torch):
        with pytest.raises(Exception) as info:
            program(lib)
        errors.append(info.value)
    ours, theirs = errors
    assert isinstance(ours, type(theirs)), f"tinynet {ours!r}, PyTorch {theirs!r}"


def _special(L, name):
    return getattr(L.special, name)


UNARY = {  # name: (function of (library, x), interior points where both orders are smooth)
    "erf": (lambda L, x: L.erf(x), np.linspace(-3, 3, 9)),
    "erfc": (lambda L, x: x.erfc(), np.linspace(-3, 5, 9)),
    "erfinv": (lambda L, x: L.erfinv(x), np.linspace(-0.99, 0.99, 9)),
    "lgamma": (lambda L, x: x.lgamma(), np.array([-2.5, -1.5, -0.5, 0.3, 1.0, 2.0, 7.5, 40.0])),
    "digamma": (lambda L, x: L.digamma(x), np.array([-2.5, -0.5, 0.3, 1.0, 2.0, 7.5, 40.0])),
    "polygamma 1": (lambda L, x: L.polygamma(1, x), np.array([-2.5, -0.5, 0.3, 1.0, 7.5])),
    "polygamma 3": (lambda L, x: x.polygamma(3), np.array([-2.5, -0.5, 0.3, 1.0, 7.5])),
    "i0": (lambda L, x: L.i0(x), np.linspace(-5, 5, 11)),
    "sinc": (lambda L, x: L.sinc(x), np.array([-2.5, -1.0, -0.3, 0.1, 0.5, 1.0, 3.7])),
    "logit": (lambda L, x: L.logit(x), np.linspace(0.01, 0.99, 9)),
    "logit eps": (lambda L, x: x.logit(0.05), np.array([0.1, 0.3, 0.5, 0.8, 0.94, 0.97, 1.2])),
    "deg2rad": (lambda L, x: L.deg2rad(x), np.linspace(-360, 360, 5)),
    "rad2deg": (lambda L, x: x.rad2deg(), np.linspace(-4, 4, 5)),
    "special.expit": (lambda L, x: _special(L, "expit")(x), np.linspace(-30, 30, 7)),
    "special.gammaln": (lambda L, x: _special(L, "gammaln")(x), np.linspace(0.2, 9, 5)),
    "special.psi": (lambda L, x: _special(L, "psi")(x), np.linspace(0.2, 9, 5)),
    "special.entr": (lambda L, x: _special(L, "entr")(x), np.linspace(0.01, 5, 7)),
    "special.ndtr": (lambda L, x: _special(L, "ndtr")(x), np.linspace(-8, 8, 9)),
    "special.ndtri": (lambda L, x: _special(L, "ndtri")(x), np.linspace(0.001, 0.999, 9)),
    "special.log_ndtr": (lambda L, x: _special(L, "log_ndtr")(x), np.linspace(-40, 8, 9)),
    "special.i0": (lambda L, x: _special(L, "i0")(x), np.linspace(-3, 3, 5)),
    "special.erfinv": (lambda L, x: _special(L, "erfinv")(x), np.linspace(-0.9, 0.9, 5)),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_two_orders_of_gradients_match_torch(name):
    fn, points = UNARY[name]

    def program(L):
        x = L.tensor(points, dtype=L.float64, requires_grad=True)
        y = fn(L, x)
        weights = L.tensor(np.linspace(0.5, 1.5, len(points)), dtype=L.float64)
        (first,) = L.autograd.grad((y * weights).sum(), x, create_graph=True)
        second = L.autograd.grad((first * weights).sum(), x)[0] if first.requires_grad \
            else L.zeros_like(x)
        return [y, first, second]

    both_agree(program, rtol=1e-9, atol=1e-12)


SPECIAL_POINTS = np.array([0.0, -0.0, 1e-300, 1e-8, 0.5, -0.5, 1.0, -1.0, 0.999, 2.0, -2.5, 10.0,
                           -10.0, 40.0, -40.0, inf, -inf, nan])
# Where tinynet and PyTorch differ by design: at the poles of the gamma family PyTorch's
# approximations give finite huge numbers (or NaN at ±inf) where SciPy gives inf (or the limit 0).
POLES = {-1.0, -10.0, -40.0, inf, -inf}
UNEQUAL = {"digamma": POLES, "special.psi": POLES, "polygamma 1": POLES, "polygamma 3": POLES,
           # PyTorch's float32 logit gradient is +inf at -0.0, its float64 one -inf (as ours)
           "logit": {-0.0}, "logit eps": {nan},
           # PyTorch's sinc' cancels to 0 near 0 (ours: -π²x/3), its ndtr 1 + erf(x/√2)
           # underflows to 0 in the lower tail (ours: erfc(-x/√2)/2, 7.6e-24 at -10)
           "sinc": {1e-8, 1e-300}, "special.ndtr": {-10.0, -40.0}}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_nan_inf_zero_and_extremes_match_torch(name, dtype):
    fn = UNARY[name][0]
    skip = UNEQUAL.get(name, set())
    points = np.array([p for p in SPECIAL_POINTS
                       if not any(p == s or (np.isnan(p) and np.isnan(s)) or
                                  (p == 0 and s == 0 and np.signbit(p) == np.signbit(s))
                                  for s in skip)])
    if 0.0 in skip:
        points = points[~((points == 0) & np.signbit(points))]
    float32 = dtype == "float32"

    def program(L):
        x = L.tensor(points.astype(dtype), requires_grad=True)
        y = fn(L, x)
        y.sum().backward()
        return [y, x.grad]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the NumPy reference's own warnings
        both_agree(program, rtol=3e-5 if float32 else 1e-9, atol=1e-30)


@pytest.mark.parametrize("name", UNARY)
def test_integer_inputs_match_torch_dtype_and_values(name):
    fn = UNARY[name][0]
    ints = [0, 1, 2, 7] if POLES <= UNEQUAL.get(name, set()) else [0, 1, 2, -3, 7]
    # PyTorch's float32 ndtr loses digits in the lower tail (see UNEQUAL)
    rtol = 1e-4 if name == "special.ndtr" else 3e-6
    both_agree(lambda L: [fn(L, L.tensor(ints)), fn(L, L.tensor([True, False]))], rtol=rtol,
               atol=1e-30)


BINARY = {  # name: function of (library, a, b)
    "xlogy": lambda L, a, b: L.xlogy(a, b),
    "logaddexp": lambda L, a, b: L.logaddexp(a, b),
    "logaddexp2": lambda L, a, b: a.logaddexp2(b),
    "hypot": lambda L, a, b: L.hypot(a, b),
    "fmax": lambda L, a, b: L.fmax(a, b),
    "fmin": lambda L, a, b: a.fmin(b),
    "copysign": lambda L, a, b: L.copysign(a, b),
    "float_power": lambda L, a, b: L.float_power(a, b),
    "special.xlogy": lambda L, a, b: L.special.xlogy(a, b),
}


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_and_two_orders_of_gradients_match_torch_with_broadcasting(name):
    fn = BINARY[name]
    rng = np.random.default_rng(1)
    a = rng.uniform(0.2, 2.0, (3, 1)) * np.array([[1.0], [-1.0], [1.0]])
    b = rng.uniform(0.2, 2.0, (4,))
    if name == "float_power":
        a = np.abs(a)
    w = rng.standard_normal((3, 4))

    def program(L):
        x = L.tensor(a, requires_grad=True)
        y = L.tensor(b, requires_grad=True)
        out = fn(L, x, y)
        weights = L.tensor(w)
        first = L.autograd.grad((out * weights).sum(), [x, y], create_graph=True)
        if not any(g.requires_grad for g in first):  # piecewise linear: second order zero
            return [out, *first, L.zeros_like(x), L.zeros_like(y)]
        total = sum((g * g).sum() for g in first if g.requires_grad)
        second = L.autograd.grad(total, [x, y], allow_unused=True)
        return [out, *first, *second]

    both_agree(program, rtol=1e-9, atol=1e-12)
    torch = _torch()
    assert_matches_torch(torch, lambda x, y: fn(tn, x, y), lambda x, y: fn(torch, x, y),
                         a.astype(np.float32), b.astype(np.float32), rtol=1e-5, atol=1e-6)


GRID = np.array([0.0, -0.0, 1.0, -1.0, 2.5, 1000.0, -1000.0, inf, -inf, nan])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_special_values_match_torch(name, dtype):
    """Every pair of 0, -0, ±1, 2.5, ±1000, ±inf and NaN: values and gradients (xlogy 0 at
    x = 0 even where y = 0 or inf, with PyTorch's NaN gradient for y at x = y = 0;
    logaddexp of equal infinities; fmax/fmin's NaN rules; copysign's -0.0)."""
    fn = BINARY[name]
    a, b = np.repeat(GRID, len(GRID)), np.tile(GRID, len(GRID))
    if name == "float_power":  # tinynet's pow: NaN ** 0 has gradient NaN (PyTorch: 0)
        keep = ~(np.isnan(a) & (b == 0))
        a, b = a[keep], b[keep]

    def program(L):
        x = L.tensor(a.astype(dtype), requires_grad=True)
        y = L.tensor(b.astype(dtype), requires_grad=True)
        out = fn(L, x, y)
        out.sum().backward()
        return [out, x.grad, y.grad]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # atol: PyTorch's fused multiply-add leaves logaddexp2(-1, -1) at -4.8e-17, not 0
        both_agree(program, rtol=2e-6 if dtype == "float32" else 1e-12,
                   atol=1e-7 if dtype == "float32" else 1e-15)


def test_xlogy_at_zero_follows_torch_to_second_order():
    x, y = [0.0, 0.0, 0.0, 2.0, 0.0, 1.5], [0.0, 2.0, nan, 0.0, inf, -1.0]

    def program(L):
        a = L.tensor(x, dtype=L.float64, requires_grad=True)
        b = L.tensor(y, dtype=L.float64, requires_grad=True)
        out = L.xlogy(a, b)
        ga, gb = L.autograd.grad(out.sum(), [a, b], create_graph=True)
        return [out, ga, gb, *L.autograd.grad(ga.sum() + gb.sum(), [a, b])]

    with np.errstate(all="ignore"):
        both_agree(program)
    out = tn.xlogy(tn.tensor([0.0, 0.0]), tn.tensor([0.0, inf]))
    assert out.tolist() == [0.0, 0.0]


def test_logit_with_eps_near_0_and_1_follows_torch():
    points = [0.0, 1e-8, 1e-6, 0.5, 1 - 1e-6, 1.0, -0.5, 1.5]

    def program(L):
        x = L.tensor(points, dtype=L.float64, requires_grad=True)
        out = L.logit(x, eps=1e-6)
        (g,) = L.autograd.grad(out.sum(), x, create_graph=True)
        return [out, g]

    both_agree(program, rtol=1e-9)
    # without eps: ∓inf at 0 and 1, NaN outside, inf gradients at the ends
    both_agree(lambda L: [L.logit(L.tensor([0.0, 1.0, 1.5, 0.25]))])


def test_fmax_fmin_nan_rules_and_gradients_follow_torch():
    a = [1.0, 2.0, nan, 1.0, nan, 3.0]
    b = [1.0, 3.0, 1.0, nan, nan, -inf]
    for op in ("fmax", "fmin", "maximum", "minimum"):
        def program(L, op=op):
            x = L.tensor(a, requires_grad=True)
            y = L.tensor(b, requires_grad=True)
            out = getattr(L, op)(x, y)
            out.backward(L.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
            return [out, x.grad, y.grad]

        both_agree(program)


def test_int_and_bool_operands_promote_as_torch():
    i32 = np.array([1, -2, 6], dtype=np.int32)
    u8 = np.array([200, 3, 9], dtype=np.uint8)

    def program(L):
        a, b = L.tensor(i32), L.tensor(u8)
        f = L.tensor([0.5, -1.5, 2.0])
        mask = L.tensor([True, False, True])
        return [L.xlogy(a, b), L.xlogy(a, 2.5), L.xlogy(2, f), L.copysign(a, -1), L.copysign(mask, f),
                L.fmax(a, b), L.fmin(mask, a), L.fmax(a, f), L.hypot(f, a),
                L.logaddexp(a, f), L.float_power(a, b), L.float_power(mask, 2),
                L.heaviside(a, L.tensor([7], dtype=L.int32)), L.deg2rad(mask),
                L.gcd(a, b), L.lcm(a, L.tensor([4], dtype=L.int64)),
                L.sgn(mask), L.sgn(a), L.signbit(a), L.signbit(L.tensor([-0.0, 0.0, -nan])),
                L.isposinf(a), L.isneginf(L.tensor([-inf, inf, nan])), L.isreal(a),
                L.fix(a), L.clamp_min(a, 0.5), L.clamp_max(b, 5)]

    both_agree(program, rtol=1e-6)


def test_bitwise_ops_and_shifts_follow_torch_dtypes_and_out_of_range_counts():
    def program(L):
        i64 = L.tensor([-3, 5, -128, 127, 1])
        i32 = L.tensor([-3, 5, -128, 127, 1], dtype=L.int32)
        i8 = L.tensor([-3, 5, -128, 127, 1], dtype=L.int8)
        u8 = L.tensor([253, 5, 128, 127, 1], dtype=L.uint8)
        counts = L.tensor([0, 1, 7, 8, 70])
        negative = L.tensor([-1, 2, 64, 63, 65])
        mask = L.tensor([True, False, True, False, True])
        results = [i32 & 3, 3 & i32, u8 & 300, mask & True, mask & 1, mask | i8, i32 ^ u8,
                   ~i8, ~mask, ~u8, L.bitwise_and(i8, u8), L.bitwise_or(3, i32),
                   L.bitwise_xor(mask, mask), L.bitwise_not(i64)]
        for x in (i64, i32, i8, u8):
            results += [x << counts, x >> counts, x << negative, x >> negative, x << 1, x >> 1,
                        L.bitwise_left_shift(x, 3), L.bitwise_right_shift(x, 2),
                        x.bitwise_left_shift(L.tensor(9, dtype=x.dtype)), 2 << x.abs() % 8,
                        # not of -128, whose |·| overflows int8 (PyTorch then answers -2)
                        L.gcd(x[:2], L.tensor([6], dtype=x.dtype)),
                        x[:2].lcm(L.tensor(4, dtype=x.dtype))]
        return results

    both_agree(program)


def test_in_place_forms_match_torch():
    def program(L):
        x = L.tensor([0.25, 0.5, 0.75], dtype=L.float64)
        i = L.tensor([12, -7, 5])
        m = L.tensor([True, False, True])
        outs = []
        for method, args in [("erf_", ()), ("erfc_", ()), ("erfinv_", ()), ("lgamma_", ()),
                             ("digamma_", ()), ("polygamma_", (2,)), ("i0_", ()), ("sinc_", ()),
                             ("logit_", ()), ("logit_", (0.3,)), ("xlogy_", (2.0,)),
                             ("hypot_", (L.tensor(0.5, dtype=L.float64),)),
                             ("copysign_", (-1.0,)), ("deg2rad_", ()), ("rad2deg_", ()),
                             ("arcsinh_", ()), ("arccosh_", ()), ("arctanh_", ()),
                             ("arctan2_", (L.tensor(0.5, dtype=L.float64),)),
                             ("clamp_min_", (0.4,)), ("clamp_max_", (0.6,)), ("fix_", ()),
                             ("sgn_", ()), ("float_power_", (2,)),
                             ("heaviside_", (L.tensor(0.5, dtype=L.float64),))]:
            y = x.clone()
            assert getattr(y, method)(*args) is y, method
            outs.append(y)
        for method, args in [("gcd_", (L.tensor(8),)), ("lcm_", (L.tensor(3),)),
                             ("bitwise_and_", (6,)), ("bitwise_or_", (6,)), ("bitwise_xor_", (6,)),
                             ("bitwise_not_", ()), ("bitwise_left_shift_", (2,)),
                             ("bitwise_right_shift_", (1,))]:
            y = i.clone()
            assert getattr(y, method)(*args) is y, method
            outs.append(y)
        m.bitwise_not_()
        return outs + [m]

    both_agree(program, rtol=1e-12)


def test_in_place_forms_refuse_what_torch_refuses():
    both_raise(lambda L: L.tensor([1, 2]).erf_())  # float result into an int tensor
    both_raise(lambda L: L.tensor([1.0, 2.0]).float_power_(2))  # float32, not float64
    both_raise(lambda L: L.tensor([True]).bitwise_left_shift_(1))
    both_raise(lambda L: L.tensor([True, False]).bitwise_or_(L.tensor([1, 2])))


ERRORS = {
    "erf of a float": lambda L: L.erf(2.0),
    "erf of complex": lambda L: L.erf(L.tensor([1 + 1j])),
    "polygamma n float": lambda L: L.polygamma(1.0, L.ones(2)),
    "polygamma n negative": lambda L: L.polygamma(-1, L.ones(2)),
    "logaddexp ints": lambda L: L.logaddexp(L.tensor([1]), L.tensor([2])),
    "logaddexp bools": lambda L: L.logaddexp(L.tensor([True]), L.tensor([True])),
    "logaddexp number": lambda L: L.logaddexp(L.ones(2), 2.0),
    "logaddexp2 ints": lambda L: L.logaddexp2(L.tensor([1]), L.tensor([2])),
    "logaddexp shapes": lambda L: L.logaddexp(L.ones(3), L.ones(2)),
    "hypot ints": lambda L: L.hypot(L.tensor([3]), L.tensor([4])),
    "hypot number": lambda L: L.hypot(L.ones(2), 2.0),
    "fmax number": lambda L: L.fmax(L.ones(2), 2.0),
    "fmin shapes": lambda L: L.fmin(L.ones(3), L.ones(2)),
    "xlogy numbers": lambda L: L.xlogy(2, 3),
    "xlogy shapes": lambda L: L.xlogy(L.ones(3), L.ones(2)),
    "copysign number first": lambda L: L.copysign(2, L.ones(2)),
    "heaviside number": lambda L: L.heaviside(L.ones(2), 0.5),
    "heaviside dtypes": lambda L: L.heaviside(L.ones(2), L.tensor([1])),
    "float_power numbers": lambda L: L.float_power(2, 3),
    "positive bool": lambda L: L.positive(L.tensor([True])),
    "fix bool": lambda L: L.fix(L.tensor([True])),
    "gcd floats": lambda L: L.gcd(L.ones(2), L.ones(2)),
    "gcd bools": lambda L: L.gcd(L.tensor([True]), L.tensor([True])),
    "gcd number": lambda L: L.gcd(L.tensor([4]), 2),
    "lcm shapes": lambda L: L.lcm(L.tensor([4, 6, 8]), L.tensor([2, 3])),
    "bitwise_and floats": lambda L: L.bitwise_and(L.ones(2), L.ones(2)),
    "& floats": lambda L: L.ones(2) & L.ones(2),
    "& float number": lambda L: L.tensor([5]) & 2.5,
    "bitwise_and numbers": lambda L: L.bitwise_and(3, 4),
    "bitwise_not float": lambda L: L.bitwise_not(L.ones(2)),
    "~ float": lambda L: ~L.ones(2),
    "shift floats": lambda L: L.bitwise_left_shift(L.ones(2), 1),
    "<< float": lambda L: L.ones(2) << 1,
    ">> by a float": lambda L: L.tensor([5]) >> 2.5,
    "shift bools": lambda L: L.bitwise_right_shift(L.tensor([True]), L.tensor([True])),
    "signbit complex": lambda L: L.signbit(L.tensor([1 + 1j])),
    "isposinf complex": lambda L: L.isposinf(L.tensor([1 + 1j])),
    "erfinv_ int": lambda L: L.tensor([0, 1]).erfinv_(),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors_are_pytorchs_types(name):
    both_raise(ERRORS[name])


def test_heaviside_and_isreal_match_torch():
    def program(L):
        x = L.tensor([-2.0, 0.0, -0.0, 3.0, nan, inf, -inf])
        c = L.tensor([1 + 0j, 1 + 1j, 0j])
        return [L.heaviside(x, L.tensor([0.5])), L.heaviside(x, L.tensor(7.0)),
                L.heaviside(L.tensor([[-1], [0], [2]]), L.tensor([5, 6])), L.isreal(x),
                L.isreal(c), x.isreal(), L.sgn(c)]

    both_agree(program)


# --------------------------------------------------------------------------- namespaces
NEW_FUNCTIONS = ["erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0", "sinc", "logit",
                 "xlogy", "logaddexp", "logaddexp2", "hypot", "fmax", "fmin", "copysign",
                 "heaviside", "float_power", "deg2rad", "rad2deg", "sgn", "positive", "fix",
                 "signbit", "isposinf", "isneginf", "isreal", "arccosh", "arcsinh", "arctanh",
                 "arctan2", "clamp_min", "clamp_max", "gcd", "lcm", "bitwise_and", "bitwise_or",
                 "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]


def test_functions_are_in_the_namespaces_with_docstrings_and_type_hints():
    for name in NEW_FUNCTIONS:
        fn = getattr(tn, name)
        assert name in tn.__all__ and callable(fn) and fn.__doc__, name
        hints = inspect.get_annotations(fn)
        assert "return" in hints, name
    for name in tn.special.__all__:
        fn = getattr(tn.special, name)
        assert fn.__doc__ and "return" in inspect.get_annotations(fn), name
    import tinynet.special

    assert tinynet.special is tn.special
    assert tn.special.psi is tn.special.digamma


def test_the_special_namespace_holds_torch_specials_names_only():
    torch = _torch()
    for name in tn.special.__all__:
        assert hasattr(torch.special, name), f"torch.special has no {name}"
    wanted = {"erf", "erfc", "erfinv", "expit", "logit", "xlogy", "gammaln", "digamma", "psi",
              "polygamma", "i0", "sinc", "log1p", "expm1", "exp2", "logsumexp", "softmax",
              "log_softmax", "entr", "ndtr", "ndtri", "log_ndtr", "round"}
    assert wanted == set(tn.special.__all__)


def test_special_namespace_wrappers_match_torch():
    def program(L):
        x = L.tensor([[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]], dtype=L.float64)
        i = L.tensor([1, 2, 3])
        s = L.special
        return [s.log1p(x.abs()), s.expm1(x), s.exp2(x), s.logsumexp(x, 1), s.logsumexp(x, (0, 1),
                keepdim=True), s.softmax(x, 0), s.log_softmax(x, dim=1, dtype=L.float32),
                s.round(x * 1.234, decimals=2), s.round(x), s.expit(i), s.log1p(i), s.exp2(i),
                s.logsumexp(i, 0), s.gammaln(i), s.ndtr(i), s.entr(i), s.xlogy(i, 2)]

    both_agree(program, rtol=1e-6)


def test_tensor_methods_and_in_place_forms_exist_where_torch_has_them():
    torch = _torch()
    for name in NEW_FUNCTIONS:
        for suffix in ("", "_"):
            method = name + suffix
            if not hasattr(torch.Tensor, method):
                continue
            assert hasattr(tn.Tensor, method), f"Tensor.{method}"
            assert getattr(tn.Tensor, method).__doc__, f"Tensor.{method} has no docstring"
    for operator in ("__lshift__", "__rlshift__", "__rshift__", "__rrshift__", "__ilshift__",
                     "__irshift__"):
        assert hasattr(tn.Tensor, operator), operator


def test_special_functions_come_from_the_backend_switch_alone():
    """The ops ask ``backend.special_functions`` for SciPy or cupyx.scipy.special: none of
    their modules imports SciPy (or CuPy) itself."""
    import scipy.special

    assert backend.special_functions(np.ones(2)) is scipy.special
    root = Path(tn.__file__).parent
    for module in ("ops/special.py", "ops/binary_math.py", "ops/bits.py", "ops/more_math.py",
                   "special.py"):
        text = (root / module).read_text("utf-8")
        for forbidden in ("import scipy", "from scipy", "import cupy", "from cupy"):
            assert forbidden not in text, (module, forbidden)


def test_the_gpu_path_takes_cupyx_special_functions_without_syncs(monkeypatch):
    """On tests/strict_cupy.py's CuPy stand-in (device arrays that refuse host data, and count
    every device-to-host sync): the ops run on the device, give the CPU's values, and neither
    their forward nor their backward (to second order) reads from the device."""
    strict_cupy.install(monkeypatch)
    for name in SPECIAL_FUNCTIONS:  # the stand-in models cupyx.scipy.special with erf alone
        monkeypatch.setattr(strict_cupy.cupyx.scipy.special, name, strict_cupy._special(name),
                            raising=False)
    points = np.array([0.0, 0.3, -0.6, 0.9, 1e-9])
    calls = {
        "erf": tn.erf, "erfc": tn.erfc, "erfinv": tn.erfinv, "lgamma": lambda x: tn.lgamma(x + 1),
        "digamma": lambda x: tn.digamma(x + 2), "polygamma": lambda x: tn.polygamma(2, x + 2),
        "i0": tn.i0, "sinc": tn.sinc, "logit": lambda x: tn.logit(x, 0.1),
        "logit no eps": lambda x: tn.logit(x.abs() * 0.5 + 0.2), "xlogy": lambda x: tn.xlogy(x, x + 2),
        "entr": lambda x: tn.special.entr(x.abs()), "ndtr": tn.special.ndtr,
        "ndtri": lambda x: tn.special.ndtri(x.abs() * 0.5 + 0.2),
        "log_ndtr": tn.special.log_ndtr, "logaddexp": lambda x: tn.logaddexp(x, x * 2),
        "logaddexp2": lambda x: tn.logaddexp2(x, 1 - x), "hypot": lambda x: tn.hypot(x, x + 1),
        "fmax": lambda x: tn.fmax(x, x.flip(0)), "fmin": lambda x: tn.fmin(x, x.flip(0)),
        "copysign": lambda x: tn.copysign(x + 1, x), "float_power": lambda x: tn.float_power(
            x.abs() + 1, x), "deg2rad": tn.deg2rad, "sgn": tn.sgn, "special.expit": tn.special.expit,
    }
    for name, fn in calls.items():
        cpu = fn(tn.tensor(points, requires_grad=True))
        x = tn.tensor(points, device="cuda", requires_grad=True)
        with strict_cupy.counting() as counts:
            out = fn(x)
            (first,) = tn.autograd.grad(out.sum(), x, create_graph=True)
            if first.requires_grad:
                tn.autograd.grad(first.sum(), x)
        assert not counts.syncs, f"{name}: {counts.report()}"
        assert out.device == "cuda"
        np.testing.assert_allclose(out.detach().numpy(), cpu.detach().numpy(), rtol=1e-6,
                                   err_msg=name)
    a = tn.tensor([12, -7, 5], device="cuda")
    with strict_cupy.counting() as counts:
        results = [tn.gcd(a, a + 3), tn.lcm(a, 4 + a * 0), a << 2, a >> 70, a & 6, ~a,
                   tn.signbit(a), tn.isposinf(a * 1.0), tn.heaviside(a * 1.0, a * 0.0)]
    assert not counts.syncs, counts.report()
    assert [r.device for r in results] == ["cuda"] * len(results)
    assert (a >> 70).tolist() == [0, -1, 0]


# --------------------------------------------------------------------------- the README
def test_the_readme_lists_the_new_ops():
    readme = (Path(tn.__file__).parent.parent / "README.md").read_text("utf-8")
    for name in ["erfinv", "polygamma", "logaddexp2", "float_power", "bitwise_left_shift", "gcd",
                 "isposinf", "tn.special"]:
        assert name in readme, name


# --------------------------------------------------------------------------- regressions
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_is_nan_at_the_infinities_where_torchs_is(n, dtype):
    """ψ⁽ⁿ⁾(+inf) is NaN for n >= 2 and ψ⁽¹⁾(-inf) is NaN in PyTorch (SciPy gives 0 and inf):
    the values and digamma's gradient at -inf."""
    def program(L):
        x = L.tensor([-inf, inf, -2.5, 0.5, 7.0], dtype=getattr(L, dtype), requires_grad=True)
        d = L.tensor([-inf, inf, 0.5], dtype=getattr(L, dtype), requires_grad=True)
        L.digamma(d).sum().backward()
        return [L.polygamma(n, x), d.grad]
    run_both(program)


def _changed_output_program(op):
    def program(L):
        a = L.tensor([0.5, -0.3, 0.7], requires_grad=True)
        y = op(L, a * 1)
        y.mul_(2)  # PyTorch's copysign saves its result (so this is an error); erfinv its input
        y.sum().backward()
        return [y, a.grad]
    return program


@pytest.mark.parametrize("name, op", [
    ("copysign", lambda L, a: L.copysign(a, -1.0)),
    ("copysign tensor", lambda L, a: L.copysign(a, L.tensor([1.0, -1.0, -0.0]))),
    ("erfinv", lambda L, a: L.erfinv(a)),
])
def test_an_output_changed_in_place_before_backward_as_pytorch(name, op):
    """copysign's backward read its output's memory, so an in-place change of the output gave
    a wrong gradient silently (PyTorch raises); erfinv's raised where PyTorch, which saves the
    input, differentiates."""
    run_both(_changed_output_program(op))
