"""The Tensor and its factories: dtype rules, seeding, repr, conversions, requires_grad_."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet as tn


# --------------------------------------------------------------------------- dtype rules
@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32), ([1.0, 2.0], np.float32), ([[1, 2.5]], np.float32),
    (3, np.int64), ([1, 2], np.int64), (True, np.bool_), ([True, False], np.bool_),
    (np.zeros(2), np.float64), (np.zeros(2, dtype=np.float32), np.float32),
    (np.arange(3), np.int64), (np.arange(3, dtype=np.int32), np.int32),
    (np.float64(2.0), np.float64), (np.zeros(2, dtype=np.uint8), np.uint8),
])
def test_tensor_dtype_follows_pytorch(data, dtype):
    """Python floats become float32 and ints int64; NumPy data keeps its dtype."""
    assert tn.tensor(data).dtype == dtype


def test_an_explicit_dtype_wins():
    assert tn.tensor([1, 2], dtype=tn.float64).dtype == np.float64
    assert tn.tensor(np.zeros(2), dtype=tn.float32).dtype == np.float32
    assert tn.tensor([1.7], dtype=tn.int64).dtype == np.int64


def test_tensor_copies_its_data_and_from_numpy_shares_it():
    source = np.zeros(3)
    copied, shared = tn.tensor(source), tn.from_numpy(source)
    source[0] = 5.0
    assert copied.numpy()[0] == 0.0 and shared.numpy()[0] == 5.0
    again = tn.tensor(copied)
    assert again.array is not copied.array and again.dtype == np.float64


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tn.tensor([1, 2], requires_grad=True)
    assert tn.tensor([1.0], requires_grad=True).requires_grad


# --------------------------------------------------------------------------- factories
def test_filled_factories():
    assert tn.zeros(2, 3).shape == (2, 3) and tn.zeros((2, 3)).shape == (2, 3)
    assert tn.zeros(2).dtype == np.float32 and tn.ones(2, dtype=tn.float64).dtype == np.float64
    np.testing.assert_array_equal(tn.ones(2, 2).numpy(), np.ones((2, 2)))
    assert tn.zeros(()).shape == () and tn.zeros(0).shape == (0,)
    assert tn.full((2,), 7).dtype == np.int64 and tn.full((2,), 7.0).dtype == np.float32
    assert tn.full(3, True).dtype == np.bool_
    np.testing.assert_array_equal(tn.full((2, 2), 1.5).numpy(), np.full((2, 2), 1.5))
    assert tn.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="non-negative"):
        tn.zeros(-1)


def test_like_factories_keep_dtype_and_shape():
    x = tn.tensor(np.zeros((2, 3), dtype=np.float64))
    for like in (tn.zeros_like(x), tn.ones_like(x)):
        assert like.shape == (2, 3) and like.dtype == np.float64
    assert tn.ones_like(x).numpy().sum() == 6
    assert tn.zeros_like(x, dtype=tn.int64).dtype == np.int64
    assert tn.zeros_like(tn.tensor([1, 2])).dtype == np.int64


def test_arange():
    np.testing.assert_array_equal(tn.arange(5).numpy(), np.arange(5))
    assert tn.arange(5).dtype == np.int64
    assert tn.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_allclose(tn.arange(1, 2, 0.5).numpy(), [1.0, 1.5])
    np.testing.assert_array_equal(tn.arange(2, 8, 3).numpy(), [2, 5])
    with pytest.raises(RuntimeError, match="step"):
        tn.arange(0, 1, 0)


def test_random_factories():
    x = tn.randn(1000, 10)
    assert x.shape == (1000, 10) and x.dtype == np.float32
    assert abs(x.numpy().mean()) < 0.05 and abs(x.numpy().std() - 1) < 0.05
    u = tn.rand(1000, dtype=tn.float64)
    assert u.dtype == np.float64 and 0 <= u.numpy().min() and u.numpy().max() < 1
    r = tn.randint(3, 7, (500,))
    assert r.dtype == np.int64 and set(np.unique(r.numpy())) == {3, 4, 5, 6}
    p = tn.randperm(10)
    assert p.dtype == np.int64 and sorted(p.numpy()) == list(range(10))
    assert tn.randn(2, requires_grad=True).requires_grad


@given(seed=st.integers(0, 2 ** 32 - 1))
def test_manual_seed_makes_every_draw_reproducible(seed):
    def draws():
        return [tn.randn(3).numpy(), tn.rand(2, 2).numpy(), tn.randint(0, 100, (4,)).numpy(),
                tn.randperm(6).numpy()]

    tn.manual_seed(seed)
    first = draws()
    tn.manual_seed(seed)
    for a, b in zip(first, draws()):
        np.testing.assert_array_equal(a, b)
    tn.manual_seed(seed + 1)
    assert not np.array_equal(tn.randn(3).numpy(), first[0])


# --------------------------------------------------------------------------- properties
def test_properties():
    x = tn.zeros(2, 3)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert x.dtype == np.float32 and x.device == "cpu" and x.is_leaf
    assert x.grad is None and x.grad_fn is None and not x.requires_grad
    assert x.is_floating_point() and not tn.tensor([1]).is_floating_point()


def test_repr_reads_like_pytorch():
    assert repr(tn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tn.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tn.tensor([1.0], dtype=tn.float64)) == "tensor([1.], dtype=tinynet.float64)"
    assert repr(tn.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = tn.tensor([1.0], requires_grad=True)
    assert repr(x * 2).endswith("grad_fn=<MulBackward0>)")
    assert repr(tn.tensor(3.5)) == "tensor(3.5000)"


def test_item_and_python_numbers():
    assert tn.tensor(2.5).item() == 2.5 and isinstance(tn.tensor(2.5).item(), float)
    assert tn.tensor([[7]]).item() == 7 and isinstance(tn.tensor([7]).item(), int)
    assert float(tn.tensor([1.5])) == 1.5 and int(tn.tensor(3)) == 3
    assert bool(tn.tensor(True)) and not bool(tn.tensor([0.0]))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        tn.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tn.tensor([1.0, 2.0]))
    assert tn.tensor([[1, 2]]).tolist() == [[1, 2]]


def test_numpy_shares_memory_and_refuses_tensors_that_require_grad():
    x = tn.zeros(3)
    x.numpy()[0] = 4.0
    assert x.numpy()[0] == 4.0
    w = tn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert isinstance(w.detach().numpy(), np.ndarray)


def test_to_casts_dtype_differentiably():
    x = tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True)
    y = x.to(tn.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.to("cpu") is x and x.cpu() is x and x.to(tn.float64) is x
    assert x.to("cpu", tn.float32).dtype == np.float32
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert x.long().dtype == np.int64 and x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert not x.long().requires_grad  # integer results carry no gradient


def test_unknown_or_unavailable_devices_are_refused_clearly():
    with pytest.raises(ValueError, match="tpu"):
        tn.zeros(2, device="tpu")
    if not tn.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            tn.zeros(2).to("cuda")
        with pytest.raises(RuntimeError, match="cuda"):
            tn.ones(2, device="cuda")


def test_requires_grad_():
    x = tn.zeros(2)
    assert x.requires_grad_() is x and x.requires_grad
    assert not x.requires_grad_(False).requires_grad
    y = tn.zeros(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    z = y.detach().requires_grad_()
    assert z.is_leaf and z.requires_grad


def test_len_and_iteration():
    x = tn.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(x) == 3 and [row.tolist() for row in x] == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(TypeError, match="0-d"):
        len(tn.tensor(1.0))


def test_set_num_threads_caps_blas_and_can_be_restored():
    pytest.importorskip("threadpoolctl")
    before = tn.get_num_threads()
    try:
        tn.set_num_threads(1)
        assert tn.get_num_threads() == 1
    finally:
        tn.set_num_threads(before)
    assert tn.get_num_threads() == before
    with pytest.raises(ValueError, match="positive"):
        tn.set_num_threads(0)


def test_assigned_gradients_must_fit_their_tensor_as_in_pytorch():
    x = tn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size: grad "
                                           "\\(3,\\), tensor \\(2,\\)"):
        x.grad = tn.ones(3)
    with pytest.raises(RuntimeError, match="assigned grad has data of a different type"):
        x.grad = tn.ones(2, dtype=tn.float64)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        x.grad = 3
    x.grad = tn.full((2,), 5.0)
    x.grad = None
    assert x.grad is None


def test_the_tensor_constructor_on_python_data_is_pytorchs_legacy_one():
    """Custom-layer tutorials write nn.Parameter(torch.Tensor(out, in)): sizes give a float
    tensor of that shape, a sequence its values in the default float dtype."""
    torch = pytest.importorskip("torch")
    for args in ((2, 3), (3,), ([1, 2],), ((2, 3),), ()):
        ours, theirs = tn.Tensor(*args), torch.Tensor(*args)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == np.float32
        if args and isinstance(args[0], (list, tuple)):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tn.Tensor(tn.Size([2, 3])).shape == (2, 3)
    assert tn.nn.Parameter(tn.Tensor(4, 2)).shape == (4, 2)
    for bad in ((3.5,), ([1], 2)):
        with pytest.raises(TypeError):
            tn.Tensor(*bad)
        with pytest.raises(TypeError):
            torch.Tensor(*bad)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
                                  "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
                                  "BoolTensor"])
def test_legacy_typed_constructors_are_pytorchs(name):
    """Older tutorials write torch.LongTensor(labels) and torch.FloatTensor(2, 3): the same
    dtypes and shapes (values where data is given), isinstance and .type() as PyTorch."""
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(tn, name), getattr(torch, name)
    for args in ((2, 3), (3,), ([1, 0, 2],), ((1, 0),), (), (tn.Size([2, 2]),),
                 (np.array([1.0, 0.0], dtype=np.float32),), (np.array([2, 1]),)):
        made = ours(*args)
        expected = theirs(*[torch.Size(a) if isinstance(a, tn.Size) else a for a in args])
        assert tuple(made.shape) == tuple(expected.shape) and made.type() == expected.type()
        if args and not isinstance(args[0], (int, tn.Size)):
            np.testing.assert_array_equal(made.numpy(), expected.numpy())
        assert isinstance(made, ours) and isinstance(made, tn.Tensor)
        assert not isinstance(made.to(tn.complex64), ours)
    assert tn.ones(2).type(ours).type() == torch.ones(2).type(theirs).type()
    same = tn.zeros(2).type(ours)
    assert ours(same).array is same.array  # an alias of a tensor of its own type
    assert repr(ours) == f"<class 'tinynet.{name}'>" and repr(tn.cuda.FloatTensor) == \
        "<class 'tinynet.cuda.FloatTensor'>"


def test_legacy_typed_constructors_refuse_what_pytorch_refuses():
    with pytest.raises(TypeError, match="FloatTensor: expected a cpu tensor of dtype float32, "
                                        "got cpu int64"):
        tn.FloatTensor(tn.tensor([1, 2]))
    with pytest.raises(TypeError, match="LongTensor: expected sizes"):
        tn.LongTensor(2.5)
    with pytest.raises(RuntimeError, match="expects device type cpu but got cuda"):
        tn.FloatTensor([1.0], device="cuda")
    assert not isinstance(tn.zeros(2), tn.cuda.FloatTensor)
