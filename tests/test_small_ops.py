"""The lean small ops of a small model's step: transposed products as one node, LeakyReLU
through ``maximum``, the bias gradient's sum. Correctness only: their speed is measured by
``python -m benchmarks`` (mlp-step and the per-op overhead rows)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.autograd import graph_nodes
from tinynet.ops.arithmetic import MatMul
from tinynet.ops.shape import SumTo
from tinynet.ops.small_kernels import sum_leading
from tinynet.testing import OpSpec, check_op, op_settings


@st.composite
def transposed_product_cases(draw):
    ta, tb = draw(st.booleans()), draw(st.booleans())
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (2, 1)]))
    a = batch + ((k, m) if ta else (m, k))
    b = ((1,) if batch else ()) + ((n, k) if tb else (k, n))
    return (a, b), {"ta": ta, "tb": tb}


def _np_product(a, b, ta, tb):
    return (a.swapaxes(-1, -2) if ta else a) @ (b.swapaxes(-1, -2) if tb else b)


TRANSPOSED = OpSpec("MatMul(ta, tb)", lambda a, b, **kw: MatMul.apply(a, b, **kw),
                    transposed_product_cases(), _np_product)
SUM_TO = OpSpec("SumTo", lambda a, shape: SumTo.apply(a, shape=shape),
                st.sampled_from([((4, 3), (3,)), ((2, 4, 3), (3,)), ((4, 3), (1, 3)),
                                 ((2, 4, 3), (4, 1)), ((4, 3), (4, 3))]).map(
                    lambda c: ((c[0],), {"shape": c[1]})),
                lambda a, shape: a.sum(axis=tuple(range(a.ndim - len(shape)))).sum(
                    axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
                .reshape(shape))


@pytest.mark.parametrize("spec", [TRANSPOSED, SUM_TO], ids=str)
@op_settings
@given(data=st.data())
def test_op(spec, data):
    check_op(spec, data)


def test_linear_weight_gradient_is_one_product_node():
    x = tn.randn(5, 3, requires_grad=True)
    w = tn.randn(2, 3, requires_grad=True)
    (gw,) = tn.grad(F.linear(x, w).sum(), [w], create_graph=True)
    assert [type(fn).__name__ for fn in graph_nodes(gw)] == ["MatMul"]
    assert gw.grad_fn.ta and not gw.grad_fn.tb
    np.testing.assert_allclose(gw.detach().numpy(), np.ones((5, 2)).T @ x.detach().numpy(), rtol=1e-5)


@pytest.mark.parametrize("slope", [0.01, 0.0, 1.0, 2.0, -0.5])
def test_leaky_relu_matches_pytorch_at_zero_infinities_and_nan(slope):
    torch = pytest.importorskip("torch")
    values = np.array([-2.0, -0.0, 0.0, 1.5, np.nan, -np.inf, np.inf], dtype=np.float32)
    with np.errstate(invalid="ignore"):
        mine = F.leaky_relu(tn.tensor(values), slope).numpy()
    theirs = torch.nn.functional.leaky_relu(torch.tensor(values), slope).numpy()
    np.testing.assert_array_equal(mine, theirs)
    assert np.signbit(mine).tolist() == np.signbit(theirs).tolist()
    upstream = np.linspace(-1.0, 2.0, values.size, dtype=np.float32)
    x, x_torch = tn.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    with np.errstate(invalid="ignore"):
        (F.leaky_relu(x, slope) * tn.tensor(upstream)).sum().backward()
    (torch.nn.functional.leaky_relu(x_torch, slope) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), x_torch.grad.numpy())


@pytest.mark.parametrize("shape, lead", [((256, 10), 1), ((4, 64, 3), 2), ((2, 3), 1),
                                         ((1, 5), 1), ((2000, 10), 1), ((8, 100), 1),
                                         ((3, 0), 1), ((0, 4), 1), ((5, 4), 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
def test_sum_leading_equals_numpys_sum(shape, lead, dtype):
    """The BLAS fast path (short rows) and the fallbacks (long rows, big, empty, half, integer,
    non-contiguous) all give NumPy's sum, with its dtype and shape, NaN and infinities included."""
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    if a.size and dtype in (np.float32, np.float64):
        a.reshape(-1)[:3] = [np.nan, np.inf, -np.inf][:a.size]
    for array in (a, np.asfortranarray(a)):
        expected = array.sum(axis=tuple(range(lead)))
        with np.errstate(invalid="ignore"):
            got = sum_leading(array, lead)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        rtol = {np.float16: 1e-2, np.float32: 1e-5}.get(dtype, 1e-12)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * 100)


def test_linear_layer_reads_its_parameters_from_the_registry():
    layer = tn.nn.Linear(3, 2, bias=False)
    assert layer(tn.ones(4, 3)).shape == (4, 2)  # a None bias in the registry is fine
    layer.weight = tn.nn.Parameter(tn.zeros(2, 3))  # a reassigned parameter is the one used
    assert float(layer(tn.ones(4, 3)).abs().sum()) == 0.0
