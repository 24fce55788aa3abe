"""Bad input raises a clear error naming the op and the shapes or dtypes; extreme but finite
input gives finite output and gradients with no overflow warning."""

import re
import warnings

import numpy as np
import pytest

import tinynet as tn
import tinynet.nn.functional as F


def raises(error, *fragments):
    """pytest.raises that also wants every fragment (op name, shapes…) in the message."""
    return pytest.raises(error, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# --------------------------------------------------------------------------- shapes
def test_matmul_mismatch_names_op_and_shapes():
    with raises(ValueError, "matmul", "(2, 3)", "(4, 5)"):
        tn.randn(2, 3) @ tn.randn(4, 5)
    with raises(ValueError, "matmul", "(3,)", "(2,)"):
        tn.matmul(tn.randn(3), tn.randn(2))
    with raises(ValueError, "matmul", "(2, 2, 3)", "(3, 3, 4)"):
        tn.randn(2, 2, 3) @ tn.randn(3, 3, 4)  # batch dims 2 and 3 don't broadcast
    with raises(ValueError, "matmul", "()"):
        tn.tensor(2.0) @ tn.randn(2)


def test_linear_mismatch():
    with raises(ValueError, "linear", "(4, 3)", "(2, 5)"):
        F.linear(tn.randn(4, 3), tn.randn(2, 5))
    with raises(ValueError, "linear", "bias", "(3,)"):
        F.linear(tn.randn(4, 5), tn.randn(2, 5), tn.randn(3))


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "maximum", "minimum", "<", "=="])
def test_broadcasting_failure_names_op_and_shapes(op):
    a, b = tn.randn(2, 3), tn.randn(4)
    calls = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
             "maximum": lambda: tn.maximum(a, b), "minimum": lambda: tn.minimum(a, b),
             "<": lambda: a < b, "==": lambda: a == b}
    names = {"+": "add", "-": "sub", "*": "mul", "/": "div", "<": "lt", "==": "eq"}
    with raises(ValueError, names.get(op, op), "(2, 3)", "(4,)"):
        calls[op]()


def test_where_and_expand_broadcasting_failures():
    with raises(ValueError, "where", "(3,)", "(2, 2)"):
        tn.where(tn.tensor([True, False, True]), tn.randn(2, 2), 0.0)
    with raises(ValueError, "expand", "(2, 3)", "(4, 3)"):
        tn.randn(2, 3).expand(4, 3)


def test_shape_op_errors():
    x = tn.randn(2, 3)
    with raises(ValueError, "reshape", "(2, 3)", "(4, 2)"):
        x.reshape(4, 2)
    with raises(ValueError, "cat", "(2, 3)", "(2, 4)"):
        tn.cat([x, tn.randn(2, 4)], dim=0)
    with raises(ValueError, "stack", "(2, 3)", "(3, 2)"):
        tn.stack([x, tn.randn(3, 2)])
    with raises(ValueError, "permute", "(2, 3)"):
        x.permute(0, 0)
    with raises(IndexError, "transpose"):
        x.transpose(0, 2)
    with raises(IndexError, "getitem", "(2, 3)"):
        x[5]
    with raises(IndexError, "getitem", "float"):
        x[np.array([0.5])]
    with raises(ValueError, "pad"):
        F.pad(x, (1, 1, 1, 1, 1, 1))


def test_conv2d_errors_name_op_and_shapes():
    with raises(ValueError, "conv2d", "(1, 3, 8, 8)", "(4, 2, 3, 3)", "channels"):
        F.conv2d(tn.randn(1, 3, 8, 8), tn.randn(4, 2, 3, 3))
    with raises(ValueError, "conv2d", "kernel (5, 5)", "(1, 1, 3, 3)", "padding (0, 0)"):
        F.conv2d(tn.randn(1, 1, 3, 3), tn.randn(1, 1, 5, 5))
    with raises(ValueError, "conv2d", "dilation (2, 2)"):
        F.conv2d(tn.randn(1, 1, 4, 4), tn.randn(1, 1, 3, 3), dilation=2)
    with raises(ValueError, "conv2d", "(3, 8)"):  # (C, H, W) is an unbatched input, as in PyTorch
        F.conv2d(tn.randn(3, 8), tn.randn(4, 3, 3, 3))
    with raises(ValueError, "conv2d", "bias", "(3,)"):
        F.conv2d(tn.randn(1, 3, 8, 8), tn.randn(4, 3, 3, 3), tn.randn(3))
    with raises(ValueError, "stride"):
        F.conv2d(tn.randn(1, 1, 4, 4), tn.randn(1, 1, 3, 3), stride=0)
    with raises(ValueError, "conv_transpose2d", "(1, 3, 4, 4)", "(2, 1, 3, 3)"):
        F.conv_transpose2d(tn.randn(1, 3, 4, 4), tn.randn(2, 1, 3, 3))


def test_a_kernel_that_fits_only_with_padding_is_accepted():
    assert F.conv2d(tn.randn(1, 1, 3, 3), tn.randn(1, 1, 5, 5), padding=1).shape == (1, 1, 1, 1)


def test_pool_errors_name_op_and_shapes():
    with raises(ValueError, "max_pool2d", "kernel (3, 3)", "(1, 1, 2, 2)"):
        F.max_pool2d(tn.randn(1, 1, 2, 2), 3)
    with raises(ValueError, "avg_pool2d", "padding (2, 2)", "kernel (3, 3)"):
        F.avg_pool2d(tn.randn(1, 1, 8, 8), 3, padding=2)
    with raises(ValueError, "max_pool2d", "(8, 8)"):
        F.max_pool2d(tn.randn(8, 8), 2)


def test_a_fractional_padding_is_a_type_error_naming_padding():
    x, w = tn.randn(1, 1, 4, 4), tn.randn(1, 1, 3, 3)
    with raises(TypeError, "conv2d: padding", "1.5", "float"):
        F.conv2d(x, w, padding=1.5)
    with raises(TypeError, "conv2d: stride", "(1, 2.0)"):
        F.conv2d(x, w, stride=(1, 2.0))
    with raises(TypeError, "conv_transpose2d: padding", "1.5"):
        F.conv_transpose2d(x, w, padding=1.5)
    with raises(TypeError, "max_pool2d: padding", "0.5"):
        F.max_pool2d(x, 2, padding=0.5)
    with raises(ValueError, "conv2d: padding", "(1, 1, 1)"):
        F.conv2d(x, w, padding=(1, 1, 1))
    assert F.conv2d(x, w, padding=np.int64(1)).shape == (1, 1, 4, 4)  # NumPy integers are integers


def test_conv_transpose2d_validates_like_conv2d():
    x, w = tn.randn(1, 1, 3, 3), tn.randn(1, 1, 3, 3)
    with raises(ValueError, "conv_transpose2d", "padding (-1, -1) >= 0"):
        F.conv_transpose2d(x, w, padding=-1)
    with raises(ValueError, "conv_transpose2d", "(1, 1, 3, 3)", "padding (3, 3)", "-1x-1", "too small"):
        F.conv_transpose2d(x, w, padding=3)
    with raises(ValueError, "conv_transpose2d", "stride (0, 0)", "must be >= 1"):
        F.conv_transpose2d(x, w, stride=0)
    with raises(ValueError, "conv_transpose2d", "dilation (0, 0)"):
        F.conv_transpose2d(x, w, dilation=0)
    with raises(ValueError, "conv_transpose2d", "output_padding (-1, -1)", "stride (2, 2)"):
        F.conv_transpose2d(x, w, stride=2, output_padding=-1)
    assert F.conv_transpose2d(x, w, padding=2).shape == (1, 1, 1, 1)  # the smallest output left


def test_pools_of_an_empty_batch_are_empty_as_in_pytorch():
    for pool in (F.max_pool2d, F.avg_pool2d):
        for args in ((2,), (3, 1, 1), (2, 1)):
            x = tn.zeros(0, 3, 6, 6, requires_grad=True)
            out = pool(x, *args)
            assert out.shape == (0, 3) + out.shape[2:] and out.shape[2] > 0
            out.sum().backward()
            assert x.grad.shape == (0, 3, 6, 6)
    from_conv = F.conv2d(tn.zeros(0, 2, 6, 6), tn.randn(3, 2, 1, 1))  # the conv's memory layout
    assert F.max_pool2d(from_conv, 2).shape == (0, 3, 3, 3)


def test_logsumexp_over_an_empty_dim_is_minus_infinity():
    x = tn.zeros(3, 0, requires_grad=True)
    out = x.logsumexp(1)
    assert out.shape == (3,) and out.tolist() == [-np.inf] * 3
    out.sum().backward()
    assert x.grad.shape == (3, 0)
    assert x.logsumexp(1, keepdim=True).shape == (3, 1)
    assert tn.logsumexp(x, (0, 1)).item() == -np.inf
    assert tn.zeros(0, 3).logsumexp(1).shape == (0,)  # no rows: an empty result, not -inf


def test_clip_grad_norm_refuses_a_negative_max_norm():
    p = tn.ones(3, requires_grad=True)
    p.grad = tn.ones(3)
    for bad in (-1.0, float("nan")):
        with raises(ValueError, "clip_grad_norm_", "max_norm", "reverse"):
            tn.nn.utils.clip_grad_norm_([p], bad)
    assert p.grad.tolist() == [1.0, 1.0, 1.0]
    tn.nn.utils.clip_grad_norm_([p], 0.0)  # zero is a valid bound: the gradients vanish
    assert p.grad.tolist() == [0.0, 0.0, 0.0]


def test_loss_errors_name_op_shapes_and_dtypes():
    logits = tn.randn(4, 3)
    with raises(ValueError, "cross_entropy", "(4, 3)", "(5,)"):
        F.cross_entropy(logits, tn.tensor([0, 1, 2, 0, 1]))
    with raises(ValueError, "cross_entropy", "(4, 1)"):
        F.cross_entropy(logits, tn.tensor([[0], [1], [2], [0]]))
    with raises(ValueError, "cross_entropy", "3 classes", "[0, 3]"):
        F.cross_entropy(logits, tn.tensor([0, 1, 3, 0]))
    with raises(ValueError, "cross_entropy", "[-1, 2]"):
        F.cross_entropy(logits, tn.tensor([0, -1, 2, 0]))
    with raises(TypeError, "cross_entropy", "float32"):
        F.cross_entropy(logits, tn.tensor([0.0, 1.0, 2.0, 0.0]))
    with raises(ValueError, "cross_entropy", "(4,)"):
        F.cross_entropy(tn.randn(4), tn.tensor([0, 1, 2, 0]))
    with raises(ValueError, "nll_loss", "(4, 3)", "(2,)"):
        F.nll_loss(logits, tn.tensor([0, 1]))
    with raises(ValueError, "mse_loss", "(4, 3)", "(3, 4)"):
        F.mse_loss(logits, tn.randn(3, 4))
    with raises(ValueError, "binary_cross_entropy_with_logits", "(4, 3)", "(4,)"):
        F.binary_cross_entropy_with_logits(logits, tn.rand(4))
    with raises(ValueError, "mse_loss", "reduction", "average"):
        F.mse_loss(logits, logits, reduction="average")


def test_type_errors_name_the_dtype():
    with raises(TypeError, "sigmoid", "int64"):
        F.sigmoid(tn.tensor([1, 2]))
    with raises(TypeError, "log_softmax", "int64"):
        F.log_softmax(tn.tensor([1, 2]), 0)


# --------------------------------------------------------------------------- extreme values
@pytest.fixture
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.usefixtures("warnings_are_errors")
@pytest.mark.parametrize("dtype", [tn.float32, tn.float64])
def test_log_softmax_and_cross_entropy_stay_finite_at_logits_of_1e4(dtype):
    logits = tn.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], dtype=dtype,
                       requires_grad=True)
    log_p = F.log_softmax(logits, 1)
    assert np.all(np.isfinite(log_p.detach().numpy()))
    np.testing.assert_allclose(log_p.detach().numpy()[0], [0.0, -2e4, -1e4])
    probabilities = F.softmax(logits, 1).detach().numpy()
    np.testing.assert_allclose(probabilities[2], [0.5, 0.5, 0.0])
    loss = F.cross_entropy(logits, tn.tensor([1, 2, 0]))
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2e4 / 3 + np.log(2) / 3, rtol=1e-6)
    assert np.all(np.isfinite(logits.grad.numpy()))
    np.testing.assert_allclose(logits.grad.numpy()[0], [1 / 3, -1 / 3, 0.0], atol=1e-7)


@pytest.mark.usefixtures("warnings_are_errors")
@pytest.mark.parametrize("dtype", [tn.float32, tn.float64])
def test_sigmoid_softplus_and_bce_stay_finite_at_1000(dtype):
    x = tn.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype, requires_grad=True)
    s = F.sigmoid(x)
    np.testing.assert_allclose(s.detach().numpy(), [0.0, 1.9287498e-22, 0.5, 1.0, 1.0],
                               rtol=1e-6)
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.9287498e-22, 0.25, 0.0, 0.0], rtol=1e-6)
    x.grad = None
    sp = F.softplus(x)
    np.testing.assert_allclose(sp.detach().numpy(), [0.0, 1.9287498e-22, np.log(2), 50.0, 1000.0],
                               rtol=1e-6)
    sp.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.9287498e-22, 0.5, 1.0, 1.0], rtol=1e-6)
    x.grad = None
    target = tn.tensor([1.0, 1.0, 0.0, 0.0, 0.0], dtype=dtype)
    bce = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    np.testing.assert_allclose(bce.detach().numpy(), [1000.0, 50.0, np.log(2), 50.0, 1000.0],
                               rtol=1e-6)
    bce.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, -1.0, 0.5, 1.0, 1.0], rtol=1e-6)


@pytest.mark.usefixtures("warnings_are_errors")
def test_other_activations_at_extreme_inputs():
    x = tn.tensor([-1000.0, 1000.0], requires_grad=True)
    for fn in (F.elu, F.tanh, F.relu, lambda t: F.leaky_relu(t, 0.1)):
        out = fn(x)
        out.sum().backward()
        assert np.all(np.isfinite(out.detach().numpy())) and np.all(np.isfinite(x.grad.numpy()))
        x.grad = None
    big = tn.tensor([[1e4, -1e4]], requires_grad=True)
    out = big.logsumexp(1)
    out.backward()
    np.testing.assert_allclose(out.item(), 1e4)
    np.testing.assert_allclose(big.grad.numpy(), [[1.0, 0.0]])
