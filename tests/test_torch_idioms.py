"""PyTorch programs in the style of its beginner tutorials, run with ``import tinynet as torch``.

The programs are written here for these tests (in the idioms of the tensors and autograd
tutorials, the 60-minute blitz, "Learning PyTorch with Examples" and the quickstart), not copied.
Each takes the library as its ``torch`` argument, so the same code runs on tinynet and, when
PyTorch is installed, on PyTorch as the oracle: where a program is deterministic (its random
start handed over from tinynet), the numbers must agree to float32 round-off.
"""

import math

import numpy as np
import pytest

import tinynet as torch  # the point of the module: PyTorch code, tinynet underneath


@pytest.fixture
def real_torch():
    return pytest.importorskip("torch")


def close(ours, theirs, rtol=1e-5, atol=1e-6):
    """Tensors (or nested lists/tuples of them, or numbers) of both libraries agree."""
    if isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            close(a, b, rtol, atol)
        return
    np.testing.assert_allclose(_as_numpy(ours), _as_numpy(theirs), rtol=rtol, atol=atol)


def _as_numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


# --------------------------------------------------------------------------- tensors
def tensor_basics(torch, data):
    """Making tensors, their attributes, indexing, joining, arithmetic and in-place ops."""
    x_data = torch.tensor(data)
    x_np = torch.from_numpy(np.array(data))
    x_ones = torch.ones_like(x_data)
    x_zeros = torch.zeros_like(x_data, dtype=torch.float)
    shape = (2, 3,)
    ones, zeros = torch.ones(shape), torch.zeros(shape)
    tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())
    facts = [tuple(tensor.shape), str(tensor.dtype).split(".")[-1], tensor.device.type]
    first_row, last_column = tensor[0], tensor[..., -1]
    tensor[:, 1] = 0
    joined = torch.cat([tensor, tensor, tensor], dim=1)
    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    agg = tensor.sum()
    agg_item = agg.item()
    tensor.add_(5)
    return ([x_data, x_np, x_ones, x_zeros, ones, zeros, first_row, last_column, joined, y1, y2,
             y3, z1, z2, z3, tensor], facts, agg_item, type(agg_item))


def test_tensor_basics(real_torch):
    data = [[1, 2], [3, 4]]
    ours, theirs = tensor_basics(torch, data), tensor_basics(real_torch, data)
    close(ours[0], theirs[0])
    assert ours[1] == theirs[1] and ours[2] == theirs[2] and ours[3] is theirs[3] is float
    for a, b in zip(ours[0], theirs[0]):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]


def test_numpy_bridge_shares_memory():
    t = torch.ones(5)
    n = t.numpy()
    t.add_(1)
    assert n.tolist() == [2.0] * 5
    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    assert t.tolist() == [2.0] * 5 and t.dtype == torch.float64


def test_blitz_tensor_idioms(real_torch):
    def program(torch):
        x = torch.empty(5, 3)
        zeros = torch.zeros(5, 3, dtype=torch.long)
        x = torch.tensor([5.5, 3])
        x = x.new_ones(5, 3, dtype=torch.double)
        y = torch.arange(15.0).reshape(5, 3)
        result = torch.empty(5, 3)
        torch.add(x, y.double(), out=result.double())
        y.add_(x.float())
        z = y.view(15)
        w = y.view(-1, 5)
        single = torch.tensor([1.5]).item()
        return [zeros, x, y, z, w], [tuple(y.size()), tuple(w.size()), single, y[:, 1].tolist()]
    ours, theirs = program(torch), program(real_torch)
    close(ours[0], theirs[0])
    assert ours[1] == theirs[1] and torch.zeros(2, 3).size() == (2, 3)


def test_printing_reads_as_in_the_tutorials(real_torch):
    def program(torch):
        shape = (2, 3)
        x = torch.tensor([[0.1234, 2.0, -3.5], [4.0, 5.25, 6.0]])
        w = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        exact = torch.tensor([[0.125, 2.0, -3.5], [4.0, 5.25, 6.0]])  # sums without round-off
        return [repr(x), repr(torch.ones(shape)), repr(torch.zeros(shape, dtype=torch.long)),
                repr(x * w), repr((exact * w).sum()), repr(torch.tensor(3.0)),
                f"{(exact * w).sum():>7f}", repr(torch.arange(5)), repr(w)]
    assert program(torch) == program(real_torch)
    assert repr(torch.zeros(2, 3).shape) == "tinynet.Size([2, 3])"  # torch prints torch.Size


# --------------------------------------------------------------------------- autograd
def autograd_basics(torch, w0, b0):
    """One logistic layer's gradients, no_grad, detach, and a non-scalar backward."""
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    names = [f"{z.grad_fn}".split(" object at ")[0], z.grad_fn.name(), loss.requires_grad]
    loss.backward()
    with torch.no_grad():
        z_no_grad = torch.matmul(x, w) + b
    z_det = (torch.matmul(x, w) + b).detach()
    flags = [z.requires_grad, z_no_grad.requires_grad, z_det.requires_grad, w.is_leaf, z.is_leaf]

    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first = inp.grad.clone()
    out.backward(torch.ones_like(out))  # gradients accumulate
    second = inp.grad.clone()
    inp.grad.zero_()
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out))
    return [loss, w.grad, b.grad, first, second, inp.grad], names, flags


def test_autograd_basics(real_torch):
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    ours, theirs = autograd_basics(torch, w0, b0), autograd_basics(real_torch, w0, b0)
    close(ours[0], theirs[0])
    assert ours[1] == theirs[1] == ["<AddBackward0", "AddBackward0", True]
    assert ours[2] == theirs[2] == [True, False, False, True, False]


def test_blitz_external_gradient(real_torch):
    def program(torch):
        a = torch.tensor([2., 3.], requires_grad=True)
        b = torch.tensor([6., 4.], requires_grad=True)
        Q = 3 * a**3 - b**2
        external_grad = torch.tensor([1., 1.])
        Q.backward(gradient=external_grad)
        return [a.grad, b.grad], (9 * a**2 == a.grad).tolist(), (-2 * b == b.grad).tolist()
    ours, theirs = program(torch), program(real_torch)
    close(ours[0], theirs[0])
    assert ours[1] == theirs[1] == [True, True] and ours[2] == theirs[2] == [True, True]


# --------------------------------------------------------------------------- learning with examples
def cubic_fit_by_hand(torch, start, steps=2000):
    """Fit a + bx + cx² + dx³ to sin(x) on [-π, π] with gradients written out by hand."""
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(v, device=device, dtype=dtype) for v in start)
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 100 == 99:
            losses.append(loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    return [a.item(), b.item(), c.item(), d.item()], losses


def cubic_fit_with_autograd(torch, start, steps=2000):
    """The same fit, with autograd computing the gradients and updates under no_grad."""
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=torch.float)
    y = torch.sin(x)
    a, b, c, d = (torch.tensor(v, dtype=torch.float, requires_grad=True) for v in start)
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    return [a.item(), b.item(), c.item(), d.item()], losses


def legendre_fit(torch, start, steps=500):
    """y = a + b·P3(c + dx), with P3 a custom autograd Function."""

    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    a, b, c, d = (torch.full((), v, requires_grad=True) for v in start)
    learning_rate = 5e-6
    for _ in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    return [a.item(), b.item(), c.item(), d.item()], loss.item()


def cubic_fit_with_nn(torch, weight, bias, optimizer_name=None, steps=500):
    """The fit as a Linear layer on (x, x², x³), by hand or with an optimizer."""
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(weight))
        model[0].bias.copy_(torch.tensor(bias))
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = None
    if optimizer_name == "RMSprop":
        optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    elif optimizer_name == "SGD":
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    for _ in range(steps):
        loss = loss_fn(model(xx), y)
        if optimizer is None:
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param -= 1e-6 * param.grad
        else:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    linear_layer = model[0]
    return [linear_layer.bias.item(), *(linear_layer.weight[:, i].item() for i in range(3))], loss.item()


def _start(n=4, seed=0):
    torch.manual_seed(seed)
    return [torch.randn(()).item() for _ in range(n)]


def test_cubic_fit_by_hand_matches_pytorch(real_torch):
    start = _start()
    ours, theirs = cubic_fit_by_hand(torch, start), cubic_fit_by_hand(real_torch, start)
    close(ours[0], theirs[0], rtol=1e-5)
    close(ours[1], theirs[1], rtol=1e-5)
    assert ours[1][-1] < ours[1][0] and ours[1][-1] < 20  # it fits


def test_cubic_fit_with_autograd_matches_the_hand_written_gradients(real_torch):
    start = _start(seed=1)
    by_hand = cubic_fit_by_hand(torch, start, steps=300)
    ours, theirs = cubic_fit_with_autograd(torch, start, 300), cubic_fit_with_autograd(real_torch, start, 300)
    close(ours[0], by_hand[0], rtol=1e-5)
    close(ours[0], theirs[0], rtol=1e-5)


def test_custom_function_fit_matches_pytorch(real_torch):
    start = [0.0, -1.0, 0.0, 0.3]
    ours, theirs = legendre_fit(torch, start), legendre_fit(real_torch, start)
    close(ours[0], theirs[0], rtol=1e-5)
    close(ours[1], theirs[1], rtol=1e-5)


@pytest.mark.parametrize("optimizer_name", [None, "SGD", "RMSprop"])
def test_cubic_fit_with_nn_and_optim_matches_pytorch(real_torch, optimizer_name):
    torch.manual_seed(2)
    weight, bias = torch.randn(1, 3).mul(0.1).tolist(), torch.randn(1).mul(0.1).tolist()
    ours = cubic_fit_with_nn(torch, weight, bias, optimizer_name)
    theirs = cubic_fit_with_nn(real_torch, weight, bias, optimizer_name)
    close(ours[0], theirs[0], rtol=1e-4, atol=1e-5)  # 500 steps of momentum: round-off grows
    close(ours[1], theirs[1], rtol=1e-5)


# --------------------------------------------------------------------------- quickstart
def quickstart(torch, state, features, labels, tmp_path):
    """Train, evaluate, save and reload a small classifier the quickstart's way."""
    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"

    class NeuralNetwork(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = torch.nn.Flatten()
            self.linear_relu_stack = torch.nn.Sequential(
                torch.nn.Linear(4 * 4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    model = NeuralNetwork().to(device)
    model.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    X_all, y_all = torch.tensor(features), torch.tensor(labels)
    losses, log = [], []
    model.train()
    for batch in range(len(X_all) // 16):
        X, y = X_all[16 * batch:16 * (batch + 1)].to(device), y_all[16 * batch:16 * (batch + 1)].to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        log.append(f"loss: {loss:>7f}  [{(batch + 1) * len(X):>5d}/{len(X_all):>5d}]")
    model.eval()
    correct = 0
    with torch.no_grad():
        pred = model(X_all.to(device))
        correct += (pred.argmax(1) == y_all).type(torch.float).sum().item()
    torch.save(model.state_dict(), tmp_path / "model.pth")
    reloaded = NeuralNetwork().to(device)
    reloaded.load_state_dict(torch.load(tmp_path / "model.pth", weights_only=True))
    same = bool((reloaded(X_all) == pred).all())
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_all, y_all), batch_size=16)
    batches = [tuple(X.shape) for X, _ in loader]
    return losses, correct / len(X_all), log, same, batches


def test_quickstart_matches_pytorch(real_torch, tmp_path):
    rng = np.random.default_rng(3)
    features = rng.standard_normal((64, 4, 4)).astype(np.float32)
    labels = (features.reshape(64, -1)[:, :3].argmax(1)).astype(np.int64)
    shapes = {"0.weight": (32, 16), "0.bias": (32,), "2.weight": (3, 32), "2.bias": (3,)}
    state = {f"linear_relu_stack.{k}": (0.3 * rng.standard_normal(s)).astype(np.float32)
             for k, s in shapes.items()}
    (tmp_path / "tinynet").mkdir()
    (tmp_path / "torch").mkdir()
    ours = quickstart(torch, state, features, labels, tmp_path / "tinynet")
    theirs = quickstart(real_torch, state, features, labels, tmp_path / "torch")
    close(ours[0], theirs[0], rtol=1e-5)
    assert ours[1] == theirs[1] and ours[3] and theirs[3]
    assert [line.split("[")[1] for line in ours[2]] == [line.split("[")[1] for line in theirs[2]]
    assert ours[4] == theirs[4] == [(16, 4, 4)] * 4

