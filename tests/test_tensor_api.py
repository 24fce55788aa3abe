"""PyTorch's names around the Tensor: dtypes and the default dtype, devices, tn.Size, printing,
Python protocols (format, index, numpy), conversions, factories and the method twins."""

import math

import numpy as np
import pytest

import tinynet as tn
from tinynet import backend


@pytest.fixture
def default_float64():
    tn.set_default_dtype(tn.float64)
    yield
    tn.set_default_dtype(tn.float32)


# --------------------------------------------------------------------------- dtypes
def test_dtype_names_are_pytorchs():
    assert tn.float is tn.float32 and tn.double is tn.float64 and tn.half is tn.float16
    assert tn.long is tn.int64 and tn.int is tn.int32 and tn.short is tn.int16
    assert tn.bool is tn.bool_ and tn.cfloat is tn.complex64
    x = tn.zeros(2)
    assert x.dtype == tn.float and x.long().dtype == tn.long and x.bool().dtype == tn.bool
    assert x.half().dtype == tn.half and x.short().dtype == tn.short and x.byte().dtype == tn.uint8
    assert tn.zeros(2, dtype=float).dtype == tn.float64  # Python's types, as PyTorch takes them
    assert tn.zeros(2, dtype=int).dtype == tn.int64


def test_default_dtype_governs_python_floats_factories_and_layers(default_float64):
    assert tn.get_default_dtype() is tn.float64
    assert tn.tensor([1.0]).dtype == tn.float64 and tn.randn(2).dtype == tn.float64
    assert tn.linspace(0, 1, 3).dtype == tn.float64 and tn.arange(0.0, 1.0, 0.5).dtype == tn.float64
    assert (tn.tensor([1, 2]) / 2).dtype == tn.float64 and tn.sin(tn.arange(2)).dtype == tn.float64
    assert tn.nn.Linear(2, 3).weight.dtype == tn.float64
    assert repr(tn.tensor([1.0])) == "tensor([1.])"
    assert repr(tn.tensor([1.0], dtype=tn.float32)) == "tensor([1.], dtype=tinynet.float32)"


def test_default_dtype_must_be_floating():
    with pytest.raises(TypeError, match="floating-point"):
        tn.set_default_dtype(tn.int64)
    assert tn.get_default_dtype() is tn.float32


def test_type_names_and_conversions_follow_pytorch():
    x = tn.tensor([1.5, 2.5])
    assert x.type() == "torch.FloatTensor" and x.long().type() == "torch.LongTensor"
    assert x.double().type() == "torch.DoubleTensor" and x.bool().type() == "torch.BoolTensor"
    assert x.type(tn.int64).tolist() == [1, 2]
    assert x.type("torch.DoubleTensor").dtype == tn.float64
    with pytest.raises(ValueError, match="torch.Floaty"):
        x.type("torch.Floaty")
    y = tn.tensor([1.0], requires_grad=True)
    z = y.type(tn.float64)
    assert z.requires_grad and repr(z).endswith("grad_fn=<ToCopyBackward0>)")
    assert x.type_as(tn.tensor([1])).dtype == tn.int64


def test_to_takes_every_pytorch_form():
    x = tn.zeros(2, 3)
    assert x.to("cpu") is x and x.to(tn.device("cpu")) is x and x.to(tn.float32) is x
    assert x.to("cpu", tn.float64).dtype == tn.float64
    assert x.to(tn.zeros(1, dtype=tn.int32)).dtype == tn.int32
    assert x.to(dtype=tn.float16).dtype == tn.float16 and x.to(device="cpu") is x
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.array is not x.array
    assert x.cpu() is x and x.to(non_blocking=True) is x


# --------------------------------------------------------------------------- devices
def test_device_objects():
    cpu = tn.device("cpu")
    assert cpu.type == "cpu" and cpu.index is None and repr(cpu) == "device(type='cpu')"
    gpu = tn.device("cuda", 0)
    assert gpu.type == "cuda" and gpu.index == 0 and str(gpu) == "cuda:0"
    assert tn.device("cuda:1").index == 1 and repr(tn.device("cuda:1")) == "device(type='cuda', index=1)"
    assert tn.zeros(1).device == "cpu" and tn.zeros(1).device == cpu
    assert tn.zeros(1).device.type == "cpu" and not tn.zeros(1).is_cuda
    with pytest.raises(ValueError, match="tpu"):
        tn.device("tpu")
    with pytest.raises(ValueError, match="cuda:x"):
        tn.device("cuda:x")
    assert tn.zeros(2, device=tn.device("cpu")).device == "cpu"


def test_device_queries():
    assert tn.backends.mps.is_available() is False and tn.backends.mps.is_built() is False
    assert tn.cuda.is_available() == backend.cuda_is_available()
    assert tn.accelerator.is_available() == tn.cuda.is_available()
    assert tn.accelerator.device_count() == tn.cuda.device_count()
    current = tn.accelerator.current_accelerator()
    if backend.cupy is None:
        assert current is None
    else:
        assert current.type == "cuda"
    if not tn.accelerator.is_available():
        assert tn.accelerator.current_accelerator(check_available=True) is None
        assert tn.accelerator.device_count() == 0
    tn.backends.cudnn.deterministic = True  # accepted, as programs set it for reproducibility
    tn.backends.cudnn.deterministic = False


def test_default_device_is_where_factories_put_tensors():
    assert tn.get_default_device() == "cpu"
    tn.set_default_device("cpu")
    tn.set_default_device(None)
    assert tn.get_default_device() == "cpu"
    if not tn.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            tn.set_default_device("cuda")
        assert tn.zeros(1).device == "cpu"


@pytest.mark.skipif(not backend.cuda_is_available(), reason="needs a GPU")
def test_default_device_cuda_moves_new_tensors():
    tn.set_default_device("cuda")
    try:
        assert tn.zeros(2).device == "cuda" and tn.tensor([1.0]).device == "cuda"
        assert repr(tn.zeros(1)) == "tensor([0.])"  # the default device is not printed
    finally:
        tn.set_default_device("cpu")
    assert repr(tn.zeros(1, device="cuda")) == "tensor([0.], device='cuda:0')"


# --------------------------------------------------------------------------- Size
def test_size_is_a_tuple_that_prints_like_pytorchs():
    x = tn.zeros(2, 3)
    assert isinstance(x.size(), tn.Size) and isinstance(x.shape, tn.Size)
    assert x.size() == (2, 3) and x.shape == (2, 3) and tuple(x.shape) == (2, 3)
    assert repr(x.shape) == "tinynet.Size([2, 3])" and str(tn.zeros(()).shape) == "tinynet.Size([])"
    assert x.size(1) == 3 and x.size(-1) == 3 and x.shape[0] == 2
    assert isinstance(x.shape[1:], tn.Size) and x.shape[1:] == (3,)
    assert isinstance(x.shape + (4,), tn.Size) and x.shape.numel() == 6
    assert tn.zeros(x.shape).shape == (2, 3) and np.zeros(x.shape).shape == (2, 3)


# --------------------------------------------------------------------------- printing
def _print_cases():
    rng = np.random.default_rng(0)
    return [
        np.array(3.5, np.float32), np.array(-7.0, np.float32), np.array([1e-5, 1.0], np.float32),
        np.array([1.0, 1000.0], np.float32), np.array([1.5, 2.25, 1e5], np.float32),
        np.array([np.nan, np.inf, 1.0], np.float32), np.array([np.nan, 1.5], np.float32),
        np.array([1e10], np.float32), np.array([-0.0, 1.0], np.float32), np.array([0.0, 0.0], np.float32),
        np.arange(2000, dtype=np.float32), rng.standard_normal((3, 30)).astype(np.float32),
        rng.standard_normal((4, 5, 6)).astype(np.float32), rng.standard_normal((20, 60)).astype(np.float32),
        rng.standard_normal((2, 2, 2, 3)).astype(np.float32),
        (rng.standard_normal((2, 3)) * 1e9).astype(np.float32),
        np.array([[1e-8, 1.0], [3.0, -2]], np.float32), np.arange(12).reshape(3, 4),
        np.arange(1200).reshape(30, 40),
        np.array([True, False]), np.zeros((2, 0), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64),
        np.array([1, 2], np.int32), np.array([1.5], np.float64), np.array([1 + 2j, 3 - 4.5j], np.complex64),
        np.array([0.1, 0.25], np.float16), np.array([2, 200], np.uint8),
    ]


def test_tensors_print_as_pytorch_prints_them():
    torch = pytest.importorskip("torch")
    for values in _print_cases():
        expected = repr(torch.tensor(values)).replace("torch.", "tinynet.")
        assert repr(tn.tensor(values)) == expected


def test_print_suffixes_and_print_options_match_pytorch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((2, 40))
    x, tx = tn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    assert repr(x) == repr(tx).replace("torch.", "tinynet.")
    assert repr(x * 2) == repr(tx * 2).replace("torch.", "tinynet.")
    assert repr(x.exp()) == repr(tx.exp()).replace("torch.", "tinynet.")
    data = data.astype(np.float32)  # no dtype suffix: "tinynet." is longer than "torch."
    for options in [dict(precision=2), dict(threshold=5), dict(profile="short"), dict(sci_mode=True),
                    dict(linewidth=40), dict(edgeitems=1, threshold=10)]:
        with tn.printoptions(**options):
            torch.set_printoptions(**options)
            try:
                for values in [data[0], np.arange(10.0), np.array([1.12345, 2.5]), data]:
                    assert repr(tn.tensor(values)) == repr(torch.tensor(values)).replace("torch.", "tinynet.")
            finally:
                torch.set_printoptions(profile="default")
    assert tn.get_printoptions()["precision"] == 4


@pytest.mark.parametrize("make, name", [
    (lambda x: x * 2, "MulBackward0"), (lambda x: x + 1, "AddBackward0"), (lambda x: x ** 2, "PowBackward0"),
    (lambda x: x.sum(), "SumBackward0"), (lambda x: x.exp(), "ExpBackward0"),
    (lambda x: x.sum(0), "SumBackward1"), (lambda x: x.mean(), "MeanBackward0"),
    (lambda x: x.mean((0, 1)), "MeanBackward1"),
    (lambda x: tn.nn.functional.mse_loss(x, x.detach() * 2), "MseLossBackward0"),
    (lambda x: x.relu(), "ReluBackward0"),
    (lambda x: x.reshape(4), "ViewBackward0"), (lambda x: x[0], "SelectBackward0"),
    (lambda x: x[1:], "SliceBackward0"), (lambda x: x.max(), "MaxBackward1"),
    (lambda x: x.sin(), "SinBackward0"),
    (lambda x: x @ x, "MmBackward0"), (lambda x: tn.nn.functional.linear(x, x, x[0]), "AddmmBackward0"),
    (lambda x: x.double(), "ToCopyBackward0"), (lambda x: x.tril(), "TrilBackward0"),
    (lambda x: x.clamp(0, 1), "ClampBackward1"), (lambda x: x.cumsum(0), "CumsumBackward0"),
])
def test_grad_fn_names_are_pytorchs(make, name):
    x = tn.ones(2, 2, requires_grad=True)
    out = make(x)
    assert out.grad_fn.name() == name and repr(out).endswith(f"grad_fn=<{name}>)")


INDEXES = ["0", ":, 0", "0, :1", ":1, 1", "..., 1", "None", ":", "1:", "0, None", "None, 0",
           ":, :", "...", "::2", "0:2", ":, 0:2", "0:2, :", ":, ::1", ":, None", "None, :",
           "..., None", "0, ...", "-1", "1, 1", "..., None, 1:"]


@pytest.mark.parametrize("index", INDEXES)
def test_indexing_nodes_are_named_as_pytorch_names_them(index):
    """PyTorch names the node after the last step the index applies (select, slice, unsqueeze),
    skipping full slices, and an alias when nothing is applied."""
    torch = pytest.importorskip("torch")
    names = [eval(f"x[{index}]", {"x": lib.ones(2, 2, requires_grad=True)}).grad_fn.name()
             for lib in (tn, torch)]
    assert names[0] == names[1]


def test_reduction_and_linear_nodes_are_named_as_pytorch_names_them():
    torch = pytest.importorskip("torch")
    reductions = [lambda L, x: x.max(), lambda L, x: x.min(), lambda L, x: x.max(1)[0],
                  lambda L, x: x.min(0).values, lambda L, x: x.amax(1), lambda L, x: x.amin((0, 1))]
    linears = [lambda L, x, picked=picked, bias=bias: L.nn.functional.linear(
        picked(x), x, x[0] if bias else None) for picked in (lambda x: x, lambda x: x[None],
                                                             lambda x: x[0]) for bias in (0, 1)]
    for make in reductions + linears:
        names = [make(lib, lib.ones(2, 2, requires_grad=True)).grad_fn.name() for lib in (tn, torch)]
        assert names[0] == names[1]


def test_loss_nodes_are_named_as_pytorch_names_them():
    """The losses tinynet composes of several ops name their last node as PyTorch names its
    one node, for every reduction."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    scores, probabilities = rng.standard_normal((4, 3)), rng.random((4, 3))

    def losses(lib):
        F = lib.nn.functional
        x, p = lib.tensor(scores, requires_grad=True), lib.tensor(probabilities)
        labels = lib.tensor([0, 2, 1, 1])
        found = [F.cross_entropy(x, labels, reduction=r) for r in ("mean", "sum", "none")]
        found += [F.cross_entropy(x, lib.tensor([0, -100, 1, 1])),
                  F.nll_loss(x, labels, weight=lib.tensor(probabilities[0])),
                  F.cross_entropy(lib.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True),
                                  lib.zeros(2, 4, dtype=lib.int64))]
        for r in ("mean", "none"):
            found += [F.binary_cross_entropy(x.sigmoid(), p, reduction=r),
                      F.binary_cross_entropy_with_logits(x, p, reduction=r),
                      F.smooth_l1_loss(x, p, reduction=r), F.huber_loss(x, p, reduction=r),
                      F.mse_loss(x, p, reduction=r), F.l1_loss(x, p, reduction=r)]
        return [loss.grad_fn.name() for loss in found]

    assert losses(tn) == losses(torch)


# --------------------------------------------------------------------------- Python protocols
def test_format_spec_on_a_0d_tensor_formats_its_number():
    loss = tn.tensor(1.23456, requires_grad=True) * 1
    assert f"{loss:.4f}" == "1.2346" and f"{tn.tensor(3):>3}" == "  3" and f"{tn.tensor(1.5)}" == "1.5"
    assert f"{tn.tensor([1.5])}" == "tensor([1.5000])"
    with pytest.raises(TypeError, match="0-d"):
        f"{tn.tensor([1.5]):.2f}"


def test_index_protocol_on_one_element_integer_tensors():
    items = ["a", "b", "c"]
    assert items[tn.tensor(1)] == "b" and items[tn.tensor([2])] == "c"
    assert list(range(10))[tn.tensor(2):tn.tensor(5)] == [2, 3, 4]
    with pytest.raises(TypeError, match="integer tensors of a single element"):
        items[tn.tensor(1.0)]
    with pytest.raises(TypeError, match="single element"):
        items[tn.tensor([0, 1])]


def test_numpy_protocol_and_membership():
    x = tn.tensor([1.0, 2.0])
    assert np.asarray(x).tolist() == [1.0, 2.0] and np.asarray(x, dtype=np.int64).dtype == np.int64
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(tn.zeros(2, requires_grad=True))
    assert 2.0 in x and 3.0 not in x and tn.tensor(1.0) in x
    assert isinstance(np.float64(2.0) * x, tn.Tensor) and isinstance(np.ones(2) + x, tn.Tensor)
    assert tn.tensor([tn.tensor(1.0), tn.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_properties_and_small_helpers():
    x = tn.zeros(2, 3)
    assert x.nelement() == 6 and x.element_size() == 4 and tn.numel(x) == 6
    assert tn.is_tensor(x) and not tn.is_tensor(np.zeros(2)) and tn.is_floating_point(x)
    assert x.is_contiguous() and x.contiguous() is x
    assert x.new_zeros(2).dtype == tn.float32 and x.new_tensor([1, 2]).dtype == tn.float32
    assert x.double().new_ones((1, 2)).dtype == tn.float64 and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_empty(3).shape == (3,)


# --------------------------------------------------------------------------- factories
def test_filled_factories_take_every_size_form():
    for made in [tn.zeros(2, 3), tn.zeros((2, 3)), tn.zeros([2, 3]), tn.zeros(size=(2, 3)),
                 tn.zeros(tn.zeros(2, 3).shape), tn.ones(2, 3), tn.empty(2, 3), tn.randn(size=(2, 3)),
                 tn.rand([2, 3])]:
        assert made.shape == (2, 3)
    assert tn.empty(2).tolist() == [0.0, 0.0]  # tinynet's empty is zeros, never garbage
    with pytest.raises(TypeError, match="either"):
        tn.zeros(2, size=(2,))
    with pytest.raises(TypeError, match="unsupported"):
        tn.zeros(2, pin_memory=True)
    assert tn.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]] and tn.eye(2).dtype == tn.float32
    x = tn.tensor([[1, 2]], dtype=tn.int32)
    assert tn.full_like(x, 7).tolist() == [[7, 7]] and tn.full_like(x, 7).dtype == tn.int32
    assert tn.empty_like(x).shape == (1, 2)


def test_random_factories_take_pytorchs_signatures():
    tn.manual_seed(0)
    assert tn.randint(5, (3,)).dtype == tn.int64 and tn.randint(2, 5, (100,)).numpy().min() >= 2
    assert set(tn.randint(low=2, high=4, size=(50,)).tolist()) == {2, 3}
    like = tn.zeros(2, 3, dtype=tn.float64)
    assert tn.rand_like(like).dtype == tn.float64 and tn.randn_like(like).shape == (2, 3)
    ints = tn.randint_like(tn.zeros(200, dtype=tn.int32), 3)
    assert ints.dtype == tn.int32 and set(ints.tolist()) == {0, 1, 2}
    assert set(tn.randint_like(tn.zeros(200), 3, 5).tolist()) == {3.0, 4.0}
    with pytest.raises(TypeError, match="floating point"):
        tn.randn_like(tn.zeros(2, dtype=tn.int64))
    samples = tn.normal(2.0, 0.5, size=(20000,))
    assert samples.dtype == tn.float32 and abs(samples.mean().item() - 2.0) < 0.02
    assert abs(samples.std().item() - 0.5) < 0.02
    assert tn.normal(tn.zeros(3), 1.0).shape == (3,) and tn.normal(1.0, tn.ones(2, 4)).shape == (2, 4)
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.normal(0.0, -1.0, size=(2,))


def test_normal_and_randint_draws_follow_manual_seed():
    tn.manual_seed(3)
    first = [tn.normal(0.0, 1.0, size=(3,)).tolist(), tn.randint_like(tn.zeros(3), 10).tolist()]
    tn.manual_seed(3)
    assert [tn.normal(0.0, 1.0, size=(3,)).tolist(), tn.randint_like(tn.zeros(3), 10).tolist()] == first


def test_linspace_and_logspace_match_torch_bit_for_bit():
    torch = pytest.importorskip("torch")
    for start, end, steps in [(-math.pi, math.pi, 2000), (0, 1, 7), (-3, 5.5, 101), (1e-3, 7.3, 333),
                              (0, 1, 1), (0, 1, 0), (2.0, -1.0, 10)]:
        ours, theirs = tn.linspace(start, end, steps).numpy(), torch.linspace(start, end, steps).numpy()
        assert ours.tobytes() == theirs.tobytes(), (start, end, steps)
        np.testing.assert_allclose(tn.linspace(start, end, steps, dtype=tn.float64).numpy(),
                                   torch.linspace(start, end, steps, dtype=torch.float64).numpy(),
                                   rtol=1e-15, atol=1e-15)
    for start, end, steps, base in [(-2, 2, 9, 10.0), (0, 3, 7, 2.0), (-1.5, 1.5, 50, 10.0)]:
        assert tn.logspace(start, end, steps, base).numpy().tobytes() == \
            torch.logspace(start, end, steps, base).numpy().tobytes()
    assert tn.linspace(tn.tensor(0.0), tn.tensor(1.0), 3).tolist() == [0.0, 0.5, 1.0]
    assert tn.linspace(0, 10, 5, dtype=tn.int64).tolist() == \
        torch.linspace(0, 10, 5, dtype=torch.int64).tolist()
    with pytest.raises(RuntimeError, match="non-negative"):
        tn.linspace(0, 1, -1)


def test_as_tensor_shares_memory_when_it_can():
    array = np.zeros(3)
    shared = tn.as_tensor(array)
    array[0] = 1.0
    assert shared.tolist()[0] == 1.0 and tn.as_tensor(array, dtype=tn.float32).dtype == tn.float32
    x = tn.zeros(2)
    assert tn.as_tensor(x) is x and tn.as_tensor([1, 2]).dtype == tn.int64
    with pytest.raises(TypeError, match="ndarray"):
        tn.from_numpy([1.0, 2.0])


# --------------------------------------------------------------------------- methods and names
def test_named_arithmetic_comparisons_and_logic():
    a, b = tn.tensor([1.0, 2.0, 3.0]), tn.tensor([3.0, 2.0, 1.0])
    assert a.add(b, alpha=2).tolist() == [7.0, 6.0, 5.0] and a.sub(b, alpha=0.5).tolist() == [-0.5, 1.0, 2.5]
    assert a.mul(b).tolist() == tn.multiply(a, b).tolist() == [3.0, 4.0, 3.0]
    assert a.div(2).tolist() == [0.5, 1.0, 1.5] and a.pow(2).tolist() == [1.0, 4.0, 9.0]
    assert a.eq(b).tolist() == [False, True, False] and a.ne(b).tolist() == [True, False, True]
    assert a.lt(b).tolist() == [True, False, False] and a.ge(b).tolist() == [False, True, True]
    assert tn.greater(a, b).tolist() == a.gt(b).tolist() and tn.less_equal(a, b).tolist() == a.le(b).tolist()
    assert ((a > 1) & (a < 3)).tolist() == [False, True, False]
    assert (~(a > 1)).tolist() == [True, False, False]
    assert ((a > 2) | (b > 2)).tolist() == [True, False, True]
    assert ((a > 1) ^ (b > 1)).tolist() == [True, False, True]
    with pytest.raises(TypeError, match="compare first"):
        a & b
    assert tn.equal(a, a.clone()) and not tn.equal(a, b) and not tn.equal(a, a[:2])
    assert tn.allclose(a, a + 1e-7) and not a.allclose(b)
    assert tn.isclose(tn.tensor([1.0, float("nan")]), tn.tensor([1.0, float("nan")]), equal_nan=True).all()
    z = tn.tensor([1.0, float("nan"), float("inf")])
    assert z.isnan().tolist() == [False, True, False] and tn.isinf(z).tolist() == [False, False, True]
    assert z.isfinite().tolist() == [True, False, False]
    assert tn.logical_and(tn.tensor([1, 0]), tn.tensor([2.0, 3.0])).tolist() == [True, False]
    assert tn.logical_not(tn.tensor([0.0, 2.0])).tolist() == [True, False]


def test_reductions_take_dims_and_pytorchs_keywords():
    x = tn.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.sum(dim=0).tolist() == [4.0, 6.0] and x.sum(dim=(0, 1)).item() == 10.0
    assert x.sum(1, keepdim=True).shape == (2, 1) and x.sum(dtype=tn.float64).dtype == tn.float64
    assert x.mean(dim=1).tolist() == [1.5, 3.5] and tn.std(x).item() == pytest.approx(1.2909944)
    assert x.std(dim=0, correction=0).tolist() == [1.0, 1.0]
    assert x.any().item() and (x > 3).any(dim=1).tolist() == [False, True]
    assert (x > 0).all() and (x > 1).all(0).tolist() == [False, True]
    assert x.argmax().item() == 3 and tn.argmax(x, dim=1).tolist() == [1, 1]
    assert x.max(tn.tensor([2.0, 2.0])).tolist() == [[2.0, 2.0], [3.0, 4.0]]
    assert tn.min(x, tn.tensor(2.5)).tolist() == [[1.0, 2.0], [2.5, 2.5]]
    assert x.amin(0).tolist() == [1.0, 2.0] and x.count_nonzero().item() == 4
    assert x.prod().item() == 24.0 and x.norm().item() == pytest.approx(math.sqrt(30))


def test_shape_methods():
    x = tn.arange(6.0).reshape(2, 3)
    y = tn.zeros(3, 2)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,) and x.view_as(y).shape == (3, 2)
    assert x.reshape_as(y).shape == (3, 2) and x[:1].expand_as(x).shape == (2, 3)
    assert x.t().shape == (3, 2) and x.T.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert x.numel() == 6 and x.dim() == 2 and x.swapaxes(0, 1).shape == (3, 2)
    assert x.unsqueeze(0).unsqueeze(-1).squeeze((0, 3)).shape == (2, 3)
    assert tn.squeeze(tn.zeros(1, 2, 1)).shape == (2,) and tn.unsqueeze(x, 1).shape == (2, 1, 3)
    assert tn.flatten(tn.zeros(2, 3, 4), 1).shape == (2, 12) and tn.clone(x).tolist() == x.tolist()
    assert [t.shape for t in x.unbind(1)] == [(2,), (2,), (2,)] and x.narrow(1, 1, 2).shape == (2, 2)
    assert x.select(1, 0).tolist() == [0.0, 3.0] and x.nonzero().shape == (5, 2)
    assert [t.tolist() for t in x.nonzero(as_tuple=True)] == [[0, 0, 1, 1, 1], [1, 2, 0, 1, 2]]


def test_method_twins_exist_for_every_new_function():
    x = tn.tensor([[0.5, -0.25], [0.75, 0.125]])
    for name in ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log1p",
                 "expm1", "sign", "floor", "ceil", "round", "trunc", "frac", "abs", "square", "sqrt",
                 "reciprocal", "exp2", "sigmoid", "relu", "isnan"]:
        method, function = getattr(x, name)(), getattr(tn, name)(x)
        np.testing.assert_array_equal(method.numpy(), function.numpy(), err_msg=name)
    assert x.cumsum(0).tolist() == tn.cumsum(x, 0).tolist()
    assert x.cumprod(1).tolist() == tn.cumprod(x, 1).tolist()
    assert x.atan2(x).tolist() == tn.atan2(x, x).tolist() and x.pow(3).tolist() == tn.pow(x, 3).tolist()
    assert x.sort().values.tolist() == tn.sort(x).values.tolist() and x.topk(1).indices.tolist() == [[0], [0]]
    assert x.diag().tolist() == [0.5, 0.125] and x.trace().item() == 0.625 and x.triu().tolist()[1][0] == 0.0
    assert x.remainder(0.5).tolist() == (x % 0.5).tolist()
    assert x.floor_divide(0.5).tolist() == (x // 0.5).tolist()
    assert x.clamp_min(0).tolist() == x.clamp(min=0).tolist()
    assert x.clamp_max(0).tolist() == x.clamp(max=0).tolist()
    assert x.where(x > 0, 0.0).tolist() == [[0.5, 0.0], [0.75, 0.125]]


def test_dtype_names_have_the_sizes_of_pytorchs():
    torch = pytest.importorskip("torch")
    for name in ("float", "double", "half", "long", "int", "short", "bool", "float32", "float64",
                 "int64", "int32", "int16", "int8", "uint8", "float16", "complex64", "complex128",
                 "cfloat", "cdouble"):
        assert np.dtype(getattr(tn, name)).itemsize == getattr(torch, name).itemsize, name
