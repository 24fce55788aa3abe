"""PyTorch's type promotion: tn.promote_types and tn.result_type against torch's for every pair
of dtypes, of tensors with dims, 0-d tensors and Python numbers; and the arithmetic that
follows it (values wrap as PyTorch's do)."""

import itertools

import numpy as np
import pytest

import tinynet as tn
from tinynet.dtypes import promote_types, result_type

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
         "complex64", "complex128"]


def test_promote_types_and_result_type_are_pytorchs_for_every_pair():
    torch = pytest.importorskip("torch")
    ours = {name: np.dtype(name) for name in NAMES}
    theirs = {name: getattr(torch, name) for name in NAMES}
    back = {theirs[name]: ours[name] for name in NAMES}
    for a, b in itertools.product(NAMES, NAMES):
        assert promote_types(ours[a], ours[b]) == back[torch.promote_types(theirs[a], theirs[b])]
        for dims_a, dims_b in itertools.product((0, 1), (0, 1)):
            expected = torch.result_type(torch.zeros((2,) * dims_a, dtype=theirs[a]),
                                         torch.zeros((2,) * dims_b, dtype=theirs[b]))
            if expected == torch.complex32:  # NumPy has no complex32
                continue
            got = result_type(tn.zeros(*(2,) * dims_a, dtype=ours[a]),
                              tn.zeros(*(2,) * dims_b, dtype=ours[b]))
            assert got == back[expected], (a, dims_a, b, dims_b)
    for name, number, dims in itertools.product(NAMES, (True, 3, 2.5, 1j), (0, 1)):
        expected = torch.result_type(torch.zeros((2,) * dims, dtype=theirs[name]), number)
        if expected != torch.complex32:
            assert result_type(tn.zeros(*(2,) * dims, dtype=ours[name]), number) == back[expected]


def test_arithmetic_follows_the_promotion_and_wraps_as_pytorch():
    torch = pytest.importorskip("torch")
    cases = [lambda lib: lib.ones(2) * lib.tensor(2.0, dtype=lib.float64),  # 0-d loses to dims
             lambda lib: lib.ones(2, dtype=lib.int32) + 5,
             lambda lib: lib.tensor([250, 3], dtype=lib.uint8) + 10,  # wraps
             lambda lib: lib.tensor([250, 3], dtype=lib.uint8) + 300,
             lambda lib: lib.ones(2, dtype=lib.int32) * 2.5,
             lambda lib: lib.ones(2, dtype=lib.int32) / 2,
             lambda lib: lib.ones(2, dtype=lib.int16) / lib.tensor(4.0, dtype=lib.float64),
             lambda lib: lib.ones(2, dtype=lib.float16) * lib.tensor(3.0),
             lambda lib: lib.tensor([True, False]) + 1,
             lambda lib: lib.tensor(2.0) * lib.tensor(3.0, dtype=lib.float64)]
    for case in cases:
        ours, theirs = case(tn), case(torch)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_float32_gradient_stays_float32_next_to_a_0d_float64():
    x = tn.ones(3, requires_grad=True)
    (x * tn.tensor(2.0, dtype=tn.float64, requires_grad=True)).sum().backward()
    assert x.grad.dtype == np.float32


def test_comparisons_where_remainder_and_addcmul_promote_as_pytorch():
    torch = pytest.importorskip("torch")
    cases = [lambda lib: lib.tensor([1, 200, 3], dtype=lib.uint8) % 300,
             lambda lib: lib.tensor([1, 200, 3], dtype=lib.uint8) // -1,
             lambda lib: lib.tensor([7, -7], dtype=lib.int8) % 3,
             lambda lib: lib.tensor([44], dtype=lib.uint8) == 300,
             lambda lib: lib.tensor([1, 200], dtype=lib.uint8) < -1,
             lambda lib: lib.tensor([0.1]) == lib.tensor(0.1, dtype=lib.float64),
             lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1, 2]), 2.5),
             lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1, 2], dtype=lib.int8), 2),
             lambda lib: lib.where(lib.tensor([True, False]), lib.ones(2),
                                   lib.tensor(0.0, dtype=lib.float64)),
             lambda lib: lib.addcmul(lib.ones(2), lib.ones(2), lib.tensor(2.0, dtype=lib.float64))]
    for case in cases:
        ours, theirs = case(tn), case(torch)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), case
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_where_and_clamp_take_gradients_through_mixed_and_tensor_arguments():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (tn, torch):
        x = lib.tensor([1.0, 2.0, -3.0], requires_grad=True)
        low = lib.tensor(0.5, requires_grad=True)
        out = lib.where(x > 1.5, x, lib.tensor(0.0, dtype=lib.float64)) + lib.clamp(x, min=low)
        out.sum().backward()
        grads.append((x.grad.numpy(), low.grad.numpy(), str(x.grad.dtype)))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
    assert grads[0][2] == grads[1][2].replace("torch.", "")


def test_an_empty_batch_reduces_to_empty_results_and_numpy_ints_are_sizes():
    values, indices = tn.zeros(0, 3).max(dim=1)
    assert values.shape == (0,) and indices.shape == (0,)
    with pytest.raises(ValueError, match="over its dim 1 of size 0"):
        tn.zeros(3, 0).max(dim=1)
    assert tn.Tensor(np.int64(2), 3).shape == (2, 3) and tn.Tensor(2, np.int64(3)).shape == (2, 3)
    assert tn.Tensor(np.int64(3)).shape == ()  # a NumPy scalar alone is data, as an array is


def test_bool_subtraction_negation_and_integer_powers_as_pytorch():
    torch = pytest.importorskip("torch")
    mask, ints = [True, False], [2, 3]
    for call in (lambda lib: lib.tensor(mask) - lib.tensor(mask), lambda lib: -lib.tensor(mask),
                 lambda lib: lib.tensor(ints) - lib.tensor(mask), lambda lib: lib.tensor(ints) ** -1):
        for lib in (tn, torch):
            with pytest.raises(RuntimeError):
                call(lib)
    for call in (lambda lib: lib.tensor(mask) ** 2, lambda lib: lib.tensor(ints) ** 2,
                 lambda lib: lib.tensor(ints) ** 2.5, lambda lib: lib.tensor(mask) ** True,
                 lambda lib: lib.tensor([2, 1, -1, -1, 0, 3]) ** lib.tensor([-1, -1, -1, -2, -1, 2])):
        ours, theirs = call(tn), call(torch)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
