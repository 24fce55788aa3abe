"""tinynet.nn: Module bookkeeping, every layer, default initialisation, init and utils.

References are written out independently: layers against the functional ops or NumPy,
BatchNorm against its formulas, initial values against PyTorch's bounds. Optional checks
against PyTorch itself run only where torch is installed.
"""

from __future__ import annotations

import copy
import math

import numpy
import pytest

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from tinynet.nn.utils import (clip_grad_norm_, count_parameters, parameters_to_vector,
                              vector_to_parameters)

cuda_only = pytest.mark.skipif(not tn.cuda.is_available(), reason="needs CuPy and a CUDA GPU")


def mlp(*sizes: int) -> nn.Sequential:
    """Linear layers with bias, LeakyReLU between them: the seed models' family."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU()]
    return nn.Sequential(*layers[:-1])


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.MaxPool2d(2))
        self.flatten = nn.Flatten()
        self.head = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        return self.head(self.flatten(self.features(x)))


# ---------------------------------------------------------------------------- counting and printing
@pytest.mark.parametrize("sizes, count", [((1, 5, 10, 10, 10, 10, 10, 5, 1), 571),
                                          ((1, 10, 18, 15, 4, 1), 572),
                                          ((1, 190, 1), 571)])
def test_seed_models_count_their_parameters(sizes, count):
    assert count_parameters(mlp(*sizes)) == count


def test_count_parameters_counts_a_shared_parameter_once():
    layer = nn.Linear(3, 3)
    assert count_parameters(nn.Sequential(layer, nn.ReLU(), layer)) == 12


def test_sequential_prints_like_pytorch():
    assert repr(nn.Sequential(nn.Linear(1, 5), nn.LeakyReLU())) == (
        "Sequential(\n  (0): Linear(in_features=1, out_features=5, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.01)\n)")


def test_nested_modules_print_as_an_indented_tree():
    assert repr(Net()) == (
        "Net(\n"
        "  (features): Sequential(\n"
        "    (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "    (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "    (2): ReLU()\n"
        "    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  )\n"
        "  (flatten): Flatten(start_dim=1, end_dim=-1)\n"
        "  (head): Linear(in_features=64, out_features=3, bias=True)\n"
        ")")


def test_layer_reprs():
    assert repr(nn.Conv2d(3, 8, (3, 5), stride=2, dilation=2, bias=False)) == \
        "Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), dilation=(2, 2), bias=False)"
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])) == \
        "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)"
    assert repr(nn.ModuleList()) == "ModuleList()"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"
    assert repr(nn.MSELoss()) == "MSELoss()"


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(tn.ones(2))
    assert isinstance(p, tn.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert not hasattr(p, "__dict__")  # Tensor's __slots__ carry over
    out = p * 2
    assert type(out) is tn.Tensor and out.grad_fn is not None
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(tn.tensor([1, 2]))


# ---------------------------------------------------------------------------- the module tree
def test_registration_order_names_and_walks():
    net = Net()
    assert [name for name, _ in net.named_parameters()] == [
        "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "head.weight", "head.bias"]
    assert [name for name, _ in net.named_buffers()] == [
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"]
    assert [name for name, _ in net.named_children()] == ["features", "flatten", "head"]
    assert [name for name, _ in net.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "features.3", "flatten", "head"]
    assert len(list(net.modules())) == 8
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "Flatten", "Linear"]
    assert len(list(net.parameters(recurse=False))) == 0


def test_state_dict_keys_follow_pytorch():
    net = Net()
    assert list(net.state_dict()) == [
        "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
        "head.weight", "head.bias"]
    state = nn.Sequential(nn.Linear(2, 2)).state_dict()
    assert list(state) == ["0.weight", "0.bias"]
    assert state["0.weight"].grad_fn is None and not state["0.weight"].requires_grad


def test_assignment_rules():
    class Forgetful(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Forgetful()
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = tn.zeros(2, 2)
    layer.scale = nn.Parameter(tn.ones(1))  # a new parameter registers itself
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias", "scale"]
    del layer.scale
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(KeyError, match="already exists"):
        layer.register_buffer("forward", tn.zeros(1))
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        layer.missing  # noqa: B018


def test_register_buffer_and_non_persistent_buffers():
    module = nn.Module()
    module.register_buffer("saved", tn.zeros(2))
    module.register_buffer("scratch", tn.zeros(3), persistent=False)
    assert list(module.state_dict()) == ["saved"]
    assert [name for name, _ in module.named_buffers()] == ["saved", "scratch"]
    module.saved = tn.ones(2)  # assigning a tensor to a buffer's name replaces the buffer
    assert module.state_dict()["saved"].tolist() == [1.0, 1.0]


def test_train_eval_reach_every_submodule():
    net = Net()
    assert net.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("no")


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(tn.zeros(1))


def test_zero_grad():
    model = mlp(2, 3, 1)
    F.mse_loss(model(tn.randn(4, 2)), tn.zeros(4, 1)).backward()
    kept = model[0].weight.grad
    model.zero_grad(set_to_none=False)
    assert all(float(abs(p.grad).sum()) == 0 for p in model.parameters())
    assert model[0].weight.grad is kept  # zeroed in place, as in PyTorch
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_casts_floating_state_in_place_and_keeps_the_objects():
    net = Net()
    weight = net.head.weight
    assert net.to(tn.float64) is net
    assert net.head.weight is weight and weight.dtype == numpy.float64
    assert net.features[1].running_mean.dtype == numpy.float64
    assert net.features[1].num_batches_tracked.dtype == numpy.int64
    assert net(tn.randn(2, 1, 8, 8, dtype=tn.float64)).dtype == numpy.float64
    assert net.float().head.weight.dtype == numpy.float32
    with pytest.raises(TypeError, match="floating"):
        net.to(tn.int64)
    if not tn.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda"):
            net.to("cuda")


@cuda_only
def test_to_cuda_moves_parameters_buffers_and_grads():
    net = Net()
    F.cross_entropy(net(tn.randn(2, 1, 8, 8)), tn.tensor([0, 1])).backward()
    net.to("cuda")
    assert {t.device for t in list(net.parameters()) + list(net.buffers())} == {"cuda"}
    assert net.head.weight.grad.device == "cuda"
    out = net(tn.randn(2, 1, 8, 8, device="cuda"))
    assert out.device == "cuda"
    assert nn.Linear(2, 2, device="cuda").weight.device == "cuda"


def test_load_state_dict_round_trip_and_copies():
    tn.manual_seed(0)
    source, target = Net(), Net()
    x = tn.randn(2, 1, 8, 8)
    source.train()(x)  # moves the running statistics away from their initial values
    source.eval(), target.eval()
    assert not numpy.allclose(source(x).detach().numpy(), target(x).detach().numpy())
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    numpy.testing.assert_array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    assert int(target.features[1].num_batches_tracked.item()) == 1
    source.head.weight.array += 1  # the target got copies
    assert not numpy.allclose(source.head.weight.array, target.head.weight.array)


def test_load_state_dict_errors_name_the_keys_and_shapes():
    model = mlp(2, 3, 1)
    state = model.state_dict()
    before = copy.deepcopy(state)
    missing = {k: v for k, v in state.items() if k != "2.bias"}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "2.bias"'):
        model.load_state_dict(missing)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        model.load_state_dict({**state, "extra": tn.zeros(1)})
    bad = {**{k: tn.zeros(v.shape) for k, v in state.items()}, "0.weight": tn.zeros(3, 5)}
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.weight: copying a param with "
                                           r"shape \(3, 5\) from checkpoint, the shape in current "
                                           r"model is \(3, 2\)"):
        model.load_state_dict(bad)
    for key, value in model.state_dict().items():  # a failed load changed nothing
        numpy.testing.assert_array_equal(value.numpy(), before[key].numpy())
    result = model.load_state_dict({**missing, "extra": tn.zeros(1)}, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict({"0.weight": tn.zeros(1)}, strict=False)


def test_load_state_dict_casts_to_the_parameter_dtype_and_accepts_arrays():
    model = nn.Linear(2, 1)
    model.load_state_dict({"weight": numpy.ones((1, 2)), "bias": tn.tensor([0.5], dtype=tn.float64)})
    assert model.weight.dtype == numpy.float32 and model.weight.tolist() == [[1.0, 1.0]]
    assert model.bias.tolist() == [0.5]


# ---------------------------------------------------------------------------- initialisation
def test_default_init_is_pytorch_fan_in_uniform():
    tn.manual_seed(1)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound
    weights = layer.weight.detach().numpy()
    assert weights.max() > 0.99 * bound and weights.min() < -0.99 * bound
    assert abs(weights.std() - bound / math.sqrt(3)) < 0.01 * bound  # the std of U(-b, b)
    conv = nn.Conv2d(8, 16, 3)
    conv_bound = 1 / math.sqrt(8 * 3 * 3)
    assert numpy.abs(conv.weight.detach().numpy()).max() <= conv_bound
    assert numpy.abs(conv.weight.detach().numpy()).max() > 0.9 * conv_bound
    assert numpy.abs(conv.bias.detach().numpy()).max() <= conv_bound


def test_manual_seed_makes_initialisation_reproducible():
    tn.manual_seed(7)
    first = mlp(1, 10, 18, 15, 4, 1).state_dict()
    tn.manual_seed(7)
    second = mlp(1, 10, 18, 15, 4, 1).state_dict()
    third = mlp(1, 10, 18, 15, 4, 1).state_dict()
    assert all(numpy.array_equal(first[k].array, second[k].array) for k in first)
    assert not numpy.array_equal(first["0.weight"].array, third["0.weight"].array)


def test_init_functions_follow_their_formulas():
    tn.manual_seed(0)
    w = tn.zeros(200, 300)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(float(w.array.std()) - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(200)
    assert float(abs(w.array).max()) <= bound and float(abs(w.array).max()) > 0.99 * bound
    nn.init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 500)
    assert float(abs(w.array).max()) <= bound and float(abs(w.array).max()) > 0.99 * bound
    nn.init.xavier_normal_(w)
    assert abs(float(w.array.std()) - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    nn.init.normal_(w, 3.0, 0.5)
    assert abs(float(w.array.mean()) - 3) < 0.01 and abs(float(w.array.std()) - 0.5) < 0.01
    nn.init.uniform_(w, -2, -1)
    assert -2 <= float(w.array.min()) and float(w.array.max()) <= -1
    assert nn.init.constant_(w, 0.25) is w and float(w.array.mean()) == 0.25
    assert float(nn.init.ones_(w).array.sum()) == w.numel()
    assert float(abs(nn.init.zeros_(w).array).sum()) == 0
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(tn.zeros(5))
    with pytest.raises(ValueError, match="fan_in"):
        nn.init.kaiming_uniform_(w, mode="fan")


def test_calculate_gain():
    assert nn.init.calculate_gain("linear") == 1 and nn.init.calculate_gain("sigmoid") == 1
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported"):
        nn.init.calculate_gain("swish")


# ---------------------------------------------------------------------------- layers
def test_layers_compute_their_functions():
    tn.manual_seed(0)
    x = tn.randn(2, 3, 6, 6)
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=1)
    numpy.testing.assert_allclose(
        conv(x).detach().numpy(), F.conv2d(x, conv.weight, conv.bias, 2, 1).detach().numpy(), rtol=1e-6)
    linear = nn.Linear(6, 2)
    expected = x.detach().numpy() @ linear.weight.detach().numpy().T + linear.bias.detach().numpy()
    numpy.testing.assert_allclose(linear(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_array_equal(nn.MaxPool2d(2)(x).detach().numpy(), F.max_pool2d(x, 2).detach().numpy())
    numpy.testing.assert_array_equal(nn.AvgPool2d(3, 1, 1)(x).detach().numpy(),
                                     F.avg_pool2d(x, 3, 1, 1).detach().numpy())
    assert nn.Flatten()(x).shape == (2, 108) and nn.Flatten(0, 1)(x).shape == (6, 6, 6)
    data = x.detach().numpy()
    numpy.testing.assert_allclose(nn.ReLU()(x).detach().numpy(), numpy.maximum(data, 0))
    numpy.testing.assert_allclose(nn.LeakyReLU(0.2)(x).detach().numpy(),
                                  numpy.where(data > 0, data, 0.2 * data))
    numpy.testing.assert_allclose(nn.ELU(0.5)(x).detach().numpy(),
                                  numpy.where(data > 0, data, 0.5 * numpy.expm1(data)), rtol=1e-6)
    numpy.testing.assert_allclose(nn.Sigmoid()(x).detach().numpy(), 1 / (1 + numpy.exp(-data)), rtol=1e-6)
    numpy.testing.assert_allclose(nn.Tanh()(x).detach().numpy(), numpy.tanh(data), rtol=1e-6)
    numpy.testing.assert_allclose(nn.Softmax(dim=1)(x).detach().numpy().sum(1), 1, rtol=1e-6)
    numpy.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).detach().numpy(),
                                  numpy.log(nn.Softmax(dim=1)(x).detach().numpy()), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="dim"):
        nn.Softmax()


def test_losses_match_functional():
    logits, labels = tn.randn(5, 3), tn.tensor([0, 2, 1, 1, 0])
    assert nn.CrossEntropyLoss()(logits, labels).item() == F.cross_entropy(logits, labels).item()
    assert nn.NLLLoss(reduction="sum")(logits, labels).item() == \
        F.nll_loss(logits, labels, reduction="sum").item()
    y = tn.randn(5, 3)
    assert nn.MSELoss()(logits, y).item() == F.mse_loss(logits, y).item()
    assert nn.BCEWithLogitsLoss()(logits, y).item() == \
        F.binary_cross_entropy_with_logits(logits, y).item()
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)
    with pytest.raises(ValueError, match="stride"):
        nn.Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="linear"):
        nn.Linear(3, 2)(tn.randn(4, 5))


def test_sequential_and_module_list_containers():
    model = mlp(1, 5, 10, 1)
    assert len(model) == 5 and isinstance(model[-1], nn.Linear)
    head = model[:2]
    assert isinstance(head, nn.Sequential) and head(tn.randn(3, 1)).shape == (3, 5)
    assert head[0] is model[0]  # slicing shares the layers
    with pytest.raises(IndexError):
        model[5]  # noqa: B018
    named = nn.Sequential({"fc": nn.Linear(2, 2), "act": nn.Tanh()})
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    holder = nn.Module()
    holder.blocks = blocks
    assert count_parameters(holder) == 18
    blocks.append(nn.Linear(2, 1))
    assert len(blocks) == 4 and list(holder.state_dict())[-1] == "blocks.3.bias"


def test_dropout_train_and_eval():
    tn.manual_seed(0)
    x = tn.ones(100, 100)
    drop = nn.Dropout(0.3)
    out = drop(x).detach().numpy()
    numpy.testing.assert_allclose(numpy.unique(out), [0.0, 1 / 0.7], rtol=1e-6)
    assert abs((out == 0).mean() - 0.3) < 0.02
    assert drop.eval()(x) is x


def test_apply_reaches_every_module_and_requires_grad_freezes():
    model = mlp(2, 3, 1)
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "LeakyReLU", "Linear", "Sequential"]
    model.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert float(abs(model[0].weight).sum()) == 0
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


# ---------------------------------------------------------------------------- batch norm
def test_batchnorm_training_normalises_and_updates_running_stats():
    tn.manual_seed(0)
    bn = nn.BatchNorm2d(3, momentum=0.2)
    x = tn.randn(8, 3, 4, 4) * 3 + 1
    out = bn(x).detach().numpy()
    numpy.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    numpy.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)
    data = x.detach().numpy()
    n = 8 * 4 * 4
    numpy.testing.assert_allclose(bn.running_mean.numpy(), 0.2 * data.mean(axis=(0, 2, 3)), rtol=1e-5)
    unbiased = data.var(axis=(0, 2, 3)) * n / (n - 1)
    numpy.testing.assert_allclose(bn.running_var.numpy(), 0.8 + 0.2 * unbiased, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1


def test_batchnorm_eval_uses_running_stats_and_affine_parameters():
    bn = nn.BatchNorm1d(2)
    bn.running_mean.array[...] = [1.0, -1.0]
    bn.running_var.array[...] = [4.0, 0.25]
    bn.weight.array[...] = [2.0, 3.0]
    bn.bias.array[...] = [0.5, 0.0]
    x = tn.tensor([[3.0, 0.0], [1.0, -1.0]])
    expected = (x.detach().numpy() - [1.0, -1.0]) / numpy.sqrt(numpy.array([4.0, 0.25]) + 1e-5) * [2.0, 3.0] \
        + [0.5, 0.0]
    numpy.testing.assert_allclose(bn.eval()(x).detach().numpy(), expected, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 0  # eval never updates


def test_batchnorm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(1, momentum=None)
    batches = [tn.tensor([[1.0], [3.0]]), tn.tensor([[5.0], [9.0]])]
    for batch in batches:
        bn(batch)
    assert bn.running_mean.item() == pytest.approx((2.0 + 7.0) / 2)
    free = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert list(free.state_dict()) == [] and free.running_mean is None
    x = tn.randn(5, 2, 3)
    numpy.testing.assert_allclose(free.eval()(x).detach().numpy().mean(axis=(0, 2)), 0, atol=1e-5)


def test_batchnorm_input_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tn.randn(1, 3))
    with pytest.raises(ValueError, match="expected 4 channels"):
        nn.BatchNorm2d(4)(tn.randn(2, 3, 2, 2))
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.BatchNorm1d(4)(tn.randn(2, 4, 2, 2))


def test_batchnorm_has_correct_first_and_second_derivatives():
    tn.manual_seed(0)
    bn = nn.BatchNorm2d(2).double()
    x = tn.randn(3, 2, 2, 2, dtype=tn.float64, requires_grad=True)
    w = tn.tensor([1.5, -0.5], dtype=tn.float64, requires_grad=True)
    b = tn.tensor([0.1, -0.3], dtype=tn.float64, requires_grad=True)

    def fn(x, w, b):
        bn._parameters["weight"], bn._parameters["bias"] = w, b  # gradcheck passes fresh tensors
        return bn(x).tanh()

    assert tn.gradcheck(fn, (x, w, b))
    assert tn.gradgradcheck(fn, (x, w, b))


def test_batchnorm_matches_pytorch():
    torch = pytest.importorskip("torch")
    tn.manual_seed(0)
    ours = nn.BatchNorm2d(3, momentum=0.3)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.3)
    ours.weight.array[...] = [1.0, 2.0, 0.5]
    ours.bias.array[...] = [0.0, -1.0, 0.3]
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    for _ in range(3):
        x = tn.randn(4, 3, 5, 5) * 2 + 0.5
        numpy.testing.assert_allclose(ours(x).detach().numpy(),
                                      theirs(torch.tensor(x.detach().numpy())).detach().numpy(),
                                      rtol=1e-4, atol=1e-5)
    for key, value in theirs.state_dict().items():
        numpy.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-5)
    x = tn.randn(2, 3, 5, 5)
    numpy.testing.assert_allclose(ours.eval()(x).detach().numpy(),
                                  theirs.eval()(torch.tensor(x.detach().numpy())).detach().numpy(),
                                  rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- utils
def test_parameters_to_vector_and_back():
    model = mlp(2, 3, 1)
    vector = parameters_to_vector(model.parameters())
    assert vector.shape == (13,)
    vector.sum().backward()  # differentiable
    assert float(model[0].weight.grad.sum()) == 6
    with tn.no_grad():
        doubled = vector * 2
    vector_to_parameters(doubled, model.parameters())
    numpy.testing.assert_allclose(parameters_to_vector(model.parameters()).detach().numpy(),
                                  doubled.detach().numpy())
    with pytest.raises(ValueError, match=r"expected shape \(13,\)"):
        vector_to_parameters(tn.zeros(12), model.parameters())


def test_clip_grad_norm_scales_in_place_and_returns_the_old_norm():
    a = tn.zeros(2, requires_grad=True)
    b = tn.zeros(1, requires_grad=True)
    shared = tn.tensor([3.0, 4.0])
    a.grad, b.grad = shared, tn.tensor([12.0])
    norm = clip_grad_norm_([a, b], max_norm=6.5)
    assert norm.item() == pytest.approx(13.0)
    numpy.testing.assert_allclose(a.grad.detach().numpy(), [1.5, 2.0], rtol=1e-5)
    numpy.testing.assert_allclose(b.grad.detach().numpy(), [6.0], rtol=1e-5)
    assert a.grad is shared and shared.tolist() == pytest.approx([1.5, 2.0])  # in place, as PyTorch
    assert clip_grad_norm_([a, b], max_norm=100).item() == pytest.approx(6.5, rel=1e-5)
    numpy.testing.assert_allclose(a.grad.detach().numpy(), [1.5, 2.0], rtol=1e-5)  # under the max: kept
    assert clip_grad_norm_(b, max_norm=1, norm_type=float("inf")).item() == pytest.approx(6.0)
    b.grad = tn.tensor([float("nan")])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(b, 1.0, error_if_nonfinite=True)
    c, base = tn.zeros(4, requires_grad=True), tn.tensor([1.0])
    c.grad = base.expand(4)  # one element seen four times: scaled as a copy, not in place
    assert clip_grad_norm_(c, max_norm=1.0).item() == pytest.approx(2.0)
    numpy.testing.assert_allclose(c.grad.numpy(), [0.5] * 4, rtol=1e-5)
    assert base.tolist() == [1.0]


def test_clip_grad_value_clamps_each_element_in_place_as_pytorch():
    torch = pytest.importorskip("torch")
    data = [[-3.0, 0.2], [0.7, 5.0]]
    p, tp = tn.zeros(2, 2, requires_grad=True), torch.zeros(2, 2, requires_grad=True)
    p.grad, tp.grad = tn.tensor(data), torch.tensor(data)
    held, version = p.grad, p.grad._version
    skipped = tn.zeros(1, requires_grad=True)  # no gradient: left alone
    assert tn.nn.utils.clip_grad_value_([p, skipped], clip_value=0.5) is None
    torch.nn.utils.clip_grad_value_([tp], clip_value=0.5)
    numpy.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    assert p.grad is held and held._version == version + 1 and skipped.grad is None
    c, base = tn.zeros(3, requires_grad=True), tn.tensor([2.0])
    c.grad = base.expand(3)  # a broadcast view: clamped as a copy, its base untouched
    tn.nn.utils.clip_grad_value_(c, 1.0)
    assert c.grad.tolist() == [1.0, 1.0, 1.0] and base.tolist() == [2.0]
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be >= 0, got -1.0"):
        tn.nn.utils.clip_grad_value_(c, -1)


def test_unflatten_undoes_flatten_and_prints_as_pytorch():
    torch = pytest.importorskip("torch")
    model = tn.nn.Sequential(tn.nn.Flatten(), tn.nn.Unflatten(1, (2, 3)))
    x = tn.randn(4, 2, 3)
    assert model(x).tolist() == x.tolist()
    assert repr(model[1]) == repr(torch.nn.Unflatten(1, (2, 3)))
    with pytest.raises(TypeError, match="Unflatten: expected an int dim and a tuple or list"):
        tn.nn.Unflatten(1, 6)


def test_a_small_model_learns():
    tn.manual_seed(0)
    model = mlp(1, 16, 16, 1)
    optimizer = tn.optim.Adam(model.parameters(), lr=1e-2)
    x = tn.tensor(numpy.linspace(-1, 1, 64, dtype=numpy.float32).reshape(-1, 1))
    y = x * x
    losses = []
    for _ in range(150):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 20
