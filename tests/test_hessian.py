"""tinynet.hessian: HVPs, the full Hessian, its eigenvalues and trace, and the other tools.

Models are written functionally (lists of tensors), so these tests depend on the engine only.
Every reference is computed independently: finite differences of gradients, NumPy linear
algebra on a matrix with a known spectrum, or derivatives worked out by hand.
"""

from __future__ import annotations

import gc
import warnings
from collections import OrderedDict

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet as tn
import tinynet.nn.functional as F
from tinynet.autograd import Op
from tinynet.hessian import (grad_norm, hessian, hessian_eigenvalues, hessian_trace, hvp,
                             input_sensitivity, interpolate)


# ---------------------------------------------------------------------------- models and helpers
def mlp_problem(seed: int = 0):
    """A 3→4→2 tanh MLP with MSE, float64: (loss closure, params)."""
    rng = numpy.random.default_rng(seed)
    params = [tn.tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in [(4, 3), (4,), (2, 4), (2,)]]
    x, y = tn.tensor(rng.standard_normal((5, 3))), tn.tensor(rng.standard_normal((5, 2)))

    def loss():
        w1, b1, w2, b2 = params
        return F.mse_loss(F.linear(F.tanh(F.linear(x, w1, b1)), w2, b2), y)

    return loss, params


def cnn_problem(seed: int = 0, device: str | None = None):
    """conv2d(1→2, 3×3) → elu → max_pool2d(2) → linear(8→3) → cross entropy, float64."""
    rng = numpy.random.default_rng(seed)
    params = [tn.tensor(rng.standard_normal(shape) * 0.5, device=device, requires_grad=True)
              for shape in [(2, 1, 3, 3), (2,), (3, 8), (3,)]]
    images = tn.tensor(rng.standard_normal((2, 1, 6, 6)), device=device)
    labels = tn.tensor([0, 2], device=device)

    def loss():
        conv_w, conv_b, fc_w, fc_b = params
        features = F.max_pool2d(F.elu(F.conv2d(images, conv_w, conv_b)), 2)
        return F.cross_entropy(F.linear(features.flatten(1), fc_w, fc_b), labels)

    return loss, params


PROBLEMS = {"mlp": mlp_problem, "cnn": cnn_problem}


def flat(tensors) -> numpy.ndarray:
    return numpy.concatenate([t.detach().numpy().ravel() for t in tensors])


def unflat(vector: numpy.ndarray, like) -> list[tn.Tensor]:
    pieces = numpy.split(vector, numpy.cumsum([p.numel() for p in like])[:-1])
    return [tn.tensor(piece.reshape(p.shape)) for piece, p in zip(pieces, like)]


def gradient(f, params) -> numpy.ndarray:
    return flat(tn.grad(f(), params))


def finite_difference_hessian(f, params, eps: float = 1e-5) -> numpy.ndarray:
    """Column j = (∇f(θ + ε eⱼ) - ∇f(θ - ε eⱼ)) / 2ε, nudging the parameters in place."""
    columns = []
    for p in params:
        values = p.array.reshape(-1)  # a view: writing it moves the parameter
        for k in range(p.numel()):
            original = values[k]
            values[k] = original + eps
            plus = gradient(f, params)
            values[k] = original - eps
            minus = gradient(f, params)
            values[k] = original
            columns.append((plus - minus) / (2 * eps))
    return numpy.stack(columns, axis=1)


def quadratic_problem(spectrum, seed: int = 0):
    """f = ½ θᵀAθ with A = Q diag(spectrum) Qᵀ, θ split over two tensors (4,) and (2, n/2 - 2)."""
    rng = numpy.random.default_rng(seed)
    n = len(spectrum)
    q, _ = numpy.linalg.qr(rng.standard_normal((n, n)))
    a = q @ numpy.diag(spectrum) @ q.T
    params = [tn.tensor(rng.standard_normal(4), requires_grad=True),
              tn.tensor(rng.standard_normal((2, (n - 4) // 2)), requires_grad=True)]
    matrix = tn.tensor(a)

    def loss():
        theta = tn.cat([params[0], params[1].reshape(-1)])
        return 0.5 * (theta * (matrix @ theta)).sum()

    return loss, params, a


SPECTRUM = numpy.array([6.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.0, -0.5, -1.0, -2.0, -3.0, -5.0])


# ---------------------------------------------------------------------------- hessian and hvp
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_hessian_is_symmetric_and_matches_finite_differences(name):
    f, params = PROBLEMS[name]()
    exact = hessian(f, params)
    n = sum(p.numel() for p in params)
    assert exact.shape == (n, n) and exact.dtype == numpy.float64
    h = exact.numpy()
    numpy.testing.assert_allclose(h, h.T, atol=1e-12)
    numpy.testing.assert_allclose(h, finite_difference_hessian(f, params), atol=1e-6, rtol=1e-5)
    assert numpy.abs(h).max() > 1e-2  # a meaningful comparison, not zeros against zeros


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_hvp_matches_hessian_times_v(name):
    f, params = PROBLEMS[name]()
    rng = numpy.random.default_rng(1)
    v = unflat(rng.standard_normal(sum(p.numel() for p in params)), params)
    result = hvp(f, params, v)
    assert [tuple(t.shape) for t in result] == [tuple(p.shape) for p in params]
    assert not any(t.requires_grad or t.grad_fn is not None for t in result)
    numpy.testing.assert_allclose(flat(result), hessian(f, params).numpy() @ flat(v), atol=1e-12)


def test_hvp_of_a_cubic_is_known_by_hand():
    w = tn.tensor([1.0, -2.0], dtype=tn.float64, requires_grad=True)
    (result,) = hvp(lambda: (w ** 3).sum(), [w], [tn.tensor([1.0, 0.5], dtype=tn.float64)])
    numpy.testing.assert_allclose(result.numpy(), [6.0, -6.0])  # H = diag(6w)
    assert w.grad is None  # hvp leaves .grad alone


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_hvp_is_linear_and_symmetric(seed):
    f, params = mlp_problem()
    rng = numpy.random.default_rng(seed)
    n = sum(p.numel() for p in params)
    u, v, scale = rng.standard_normal(n), rng.standard_normal(n), rng.uniform(-3, 3)
    hu, hv = flat(hvp(f, params, unflat(u, params))), flat(hvp(f, params, unflat(v, params)))
    combined = flat(hvp(f, params, unflat(scale * u + v, params)))
    numpy.testing.assert_allclose(combined, scale * hu + hv, atol=1e-10)
    assert u @ hv == pytest.approx(v @ hu, abs=1e-10)


def test_parameters_the_loss_ignores_get_zero_rows():
    w = tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True)
    unused = tn.tensor([3.0], dtype=tn.float64, requires_grad=True)
    linear_in = tn.tensor([4.0], dtype=tn.float64, requires_grad=True)  # its gradient is constant
    f = lambda: (w * w).sum() + 2 * linear_in.sum()  # noqa: E731
    h = hessian(f, [w, unused, linear_in]).numpy()
    numpy.testing.assert_allclose(h, numpy.diag([2.0, 2.0, 0.0, 0.0]))
    assert flat(hvp(f, [unused], [tn.ones(1, dtype=tn.float64)])) == pytest.approx([0.0])


def test_hvp_explains_bad_input():
    f, params = mlp_problem()
    wrong = [tn.zeros(p.shape, dtype=tn.float64) for p in params]
    wrong[2] = tn.zeros(4, 2, dtype=tn.float64)
    with pytest.raises(ValueError, match=r"v\[2\] has shape \(4, 2\) but params\[2\] has shape \(2, 4\)"):
        hvp(f, params, wrong)
    with pytest.raises(ValueError, match="v has 3 tensors but params has 4"):
        hvp(f, params, wrong[:3])
    right = [tn.zeros(p.shape, dtype=tn.float64) for p in params]
    with pytest.raises(ValueError, match=r"scalar loss, got shape \(5, 2\)"):
        hvp(lambda: params[0].sum() * tn.ones(5, 2, dtype=tn.float64), params, right)
    frozen = tn.zeros(3, dtype=tn.float64)
    with pytest.raises(ValueError, match=r"params\[0\] of shape \(3,\) does not require grad"):
        hvp(lambda: frozen.sum(), [frozen], [frozen])
    with pytest.raises(RuntimeError, match="does not depend on params"):
        hessian(lambda: tn.zeros((), dtype=tn.float64), params)


def test_float32_parameters_give_a_float32_hessian_close_to_float64():
    f64, params64 = mlp_problem()
    params32 = [p.detach().float().requires_grad_() for p in params64]
    w1, b1, w2, b2 = params32
    x, y = tn.randn(5, 3), tn.randn(5, 2)
    f32 = lambda: F.mse_loss(F.linear(F.tanh(F.linear(x, w1, b1)), w2, b2), y)  # noqa: E731
    f64 = lambda: F.mse_loss(F.linear(F.tanh(F.linear(x.double(), *params64[:2])),  # noqa: E731
                                      *params64[2:]), y.double())
    h32 = hessian(f32, params32)
    assert h32.dtype == numpy.float32
    numpy.testing.assert_allclose(h32.numpy(), hessian(f64, params64).numpy(), atol=1e-4)


# ---------------------------------------------------------------------------- eigenvalues
@pytest.mark.parametrize("method", ["lanczos", "power"])
@pytest.mark.parametrize("which, k, expected", [
    ("LA", 1, [6.0]), ("SA", 1, [-5.0]), ("SA", 3, [-5.0, -3.0, -2.0]),
    ("LA", 3, [3.0, 4.0, 6.0]), ("LM", 2, [-5.0, 6.0])])
def test_eigenvalues_of_a_quadratic_with_a_known_spectrum(method, which, k, expected):
    f, params, _ = quadratic_problem(SPECTRUM)
    values = hessian_eigenvalues(f, params, k=k, which=which, method=method)
    assert isinstance(values, numpy.ndarray) and values.dtype == numpy.float64
    numpy.testing.assert_allclose(values, expected, atol=1e-6)


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_eigenvectors_satisfy_hv_equals_lambda_v(method):
    f, params, _ = quadratic_problem(SPECTRUM)
    values, vectors = hessian_eigenvalues(f, params, k=2, which="SA", method=method,
                                          return_eigenvectors=True)
    assert len(vectors) == 2
    for value, vector in zip(values, vectors):
        assert [tuple(t.shape) for t in vector] == [tuple(p.shape) for p in params]
        assert numpy.linalg.norm(flat(vector)) == pytest.approx(1.0)
        numpy.testing.assert_allclose(flat(hvp(f, params, vector)), value * flat(vector),
                                      atol=1e-6)


def test_dominant_eigenvalues_of_equal_magnitude_and_opposite_sign():
    """±4 tie in magnitude: single-vector power iteration would oscillate between them."""
    f, params, _ = quadratic_problem(numpy.array([4.0, 3.0, 1.0, 0.0, -1.0, -2.0, -3.0, -4.0]))
    for method in ("lanczos", "power"):
        assert hessian_eigenvalues(f, params, which="LA", method=method)[0] == pytest.approx(4.0)
        assert hessian_eigenvalues(f, params, which="SA", method=method)[0] == pytest.approx(-4.0)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_sharpness_of_a_network_matches_the_full_hessian(name):
    f, params = PROBLEMS[name]()
    reference = numpy.linalg.eigvalsh(hessian(f, params).numpy())
    for method in ("lanczos", "power"):
        top = hessian_eigenvalues(f, params, k=2, which="LA", method=method)
        numpy.testing.assert_allclose(top, reference[-2:], rtol=1e-6, atol=1e-9)


def test_eigenvalues_explain_bad_arguments():
    f, params, _ = quadratic_problem(SPECTRUM)
    with pytest.raises(ValueError, match="which must be one of"):
        hessian_eigenvalues(f, params, which="largest")
    with pytest.raises(ValueError, match="method must be one of"):
        hessian_eigenvalues(f, params, method="qr")
    with pytest.raises(ValueError, match=r"k=12 is out of range for 12 parameters"):
        hessian_eigenvalues(f, params, k=12)
    all_twelve = hessian_eigenvalues(f, params, k=12, method="power")
    numpy.testing.assert_allclose(all_twelve, numpy.sort(SPECTRUM), atol=1e-6)


def test_power_iteration_reports_when_it_cannot_converge():
    f, params, _ = quadratic_problem(SPECTRUM)
    with pytest.raises(RuntimeError, match="did not converge in 3 iterations"):
        hessian_eigenvalues(f, params, method="power", maxiter=3)


# ---------------------------------------------------------------------------- trace
def test_hutchinson_is_exact_for_a_diagonal_hessian():
    """zᵀ diag(d) z = Σ dᵢ zᵢ² = Σ dᵢ for ±1 entries: any other distribution would miss."""
    d = tn.tensor([3.0, -1.0, 0.5, 2.0, 7.0], dtype=tn.float64)
    w = tn.randn(5, dtype=tn.float64, requires_grad=True)
    estimate = hessian_trace(lambda: 0.5 * (d * w * w).sum(), [w], n_samples=3, seed=5)
    assert estimate == pytest.approx(11.5, abs=1e-12)


def test_hutchinson_is_close_to_the_true_trace():
    f, params = mlp_problem()
    h = hessian(f, params).numpy()
    # Var(zᵀHz) = 2 Σ_{i≠j} H_ij²: allow four standard errors
    standard_error = numpy.sqrt(2 * ((h ** 2).sum() - (numpy.diag(h) ** 2).sum()) / 2000)
    estimate = hessian_trace(f, params, n_samples=2000, seed=0)
    assert abs(estimate - numpy.trace(h)) < 4 * standard_error
    assert estimate == hessian_trace(f, params, n_samples=2000, seed=0)  # a seed repeats


# ---------------------------------------------------------------------------- gradient norm
def test_grad_norm_value_and_its_gradient():
    f, params = mlp_problem()
    g = gradient(f, params)
    h = hessian(f, params).numpy()
    norm = grad_norm(f, params)
    assert norm.item() == pytest.approx(numpy.linalg.norm(g))
    numpy.testing.assert_allclose(flat(tn.grad(norm, params)), h @ g / numpy.linalg.norm(g),
                                  atol=1e-10)
    squared = grad_norm(f, params, squared=True)
    assert squared.item() == pytest.approx(g @ g)
    squared.backward()  # into .grad, as an optimizer would read it
    numpy.testing.assert_allclose(flat([p.grad for p in params]), 2 * h @ g, atol=1e-10)


def test_grad_norm_gradient_matches_finite_differences():
    f, params = cnn_problem()
    direction = numpy.random.default_rng(3).standard_normal(sum(p.numel() for p in params))
    analytic = flat(tn.grad(grad_norm(f, params), params)) @ direction
    eps, values = 1e-6, []
    base = [p.array.copy() for p in params]
    for sign in (1, -1):
        for p, b, step in zip(params, base, unflat(sign * eps * direction, params)):
            p.array[...] = b + step.array
        values.append(grad_norm(f, params, create_graph=False).item())
    for p, b in zip(params, base):
        p.array[...] = b
    assert analytic == pytest.approx((values[0] - values[1]) / (2 * eps), rel=1e-5)


def test_grad_norm_without_graph_is_a_plain_number():
    f, params = mlp_problem()
    norm = grad_norm(f, params, create_graph=False)
    assert not norm.requires_grad and norm.shape == ()


# ---------------------------------------------------------------------------- interpolate
def test_interpolate_lists_hits_the_endpoints_and_the_midpoint():
    a = [tn.tensor([1.0, 2.0], requires_grad=True), tn.tensor([[0.0], [4.0]], requires_grad=True)]
    b = [tn.tensor([3.0, -2.0], requires_grad=True), tn.tensor([[2.0], [0.0]], requires_grad=True)]
    for alpha, expected in [(0, a), (1, b)]:
        result = interpolate(a, b, alpha)
        assert isinstance(result, list)
        for r, e in zip(result, expected):
            numpy.testing.assert_array_equal(r.detach().numpy(), e.detach().numpy())
            assert r is not e and r.requires_grad and r.grad_fn is None and r.dtype == e.dtype
    midpoint = interpolate(a, b, 0.5)
    numpy.testing.assert_allclose(flat(midpoint), [2.0, 0.0, 1.0, 2.0])
    numpy.testing.assert_allclose(flat(interpolate(a, b, 2.0)), [5.0, -6.0, 4.0, -4.0])


def test_interpolate_state_dicts_keeps_their_kind_and_integer_entries():
    a = OrderedDict(weight=tn.tensor([0.0, 0.0]), steps=tn.tensor(3))
    b = OrderedDict(weight=tn.tensor([1.0, 2.0]), steps=tn.tensor(5))
    result = interpolate(a, b, 0.25)
    assert type(result) is OrderedDict and list(result) == ["weight", "steps"]
    numpy.testing.assert_allclose(result["weight"].numpy(), [0.25, 0.5])
    assert result["steps"].item() == 3 and interpolate(a, b, 0.75)["steps"].item() == 5
    assert not result["weight"].requires_grad


def test_interpolate_explains_mismatches():
    with pytest.raises(ValueError, match=r"only in a: \['bias'\], only in b: \[\]"):
        interpolate({"weight": tn.zeros(2), "bias": tn.zeros(1)}, {"weight": tn.zeros(2)}, 0.5)
    with pytest.raises(ValueError, match=r"entry 'weight' has shape \(2,\) on \w+ in a but \(3,\)"):
        interpolate({"weight": tn.zeros(2)}, {"weight": tn.zeros(3)}, 0.5)
    with pytest.raises(ValueError, match="params_a has 1 tensors but params_b has 2"):
        interpolate([tn.zeros(2)], [tn.zeros(2), tn.zeros(2)], 0.5)
    with pytest.raises(TypeError, match="two mappings or two lists"):
        interpolate({"weight": tn.zeros(2)}, [tn.zeros(2)], 0.5)


# ---------------------------------------------------------------------------- input sensitivity
def test_input_sensitivity_matches_a_hand_computation():
    """L = mean((xWᵀ + b - y)²) over N·M entries, so dL/dx = 2/(N·M) (xWᵀ + b - y) W."""
    rng = numpy.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    weight, bias = tn.tensor(w, requires_grad=True), tn.tensor(b, requires_grad=True)
    inputs = tn.tensor(x)
    value = input_sensitivity(lambda t: F.linear(t, weight, bias), F.mse_loss, inputs, tn.tensor(y))
    by_hand = numpy.linalg.norm(2 / y.size * (x @ w.T + b - y) @ w)
    assert isinstance(value, float) and value == pytest.approx(by_hand, rel=1e-12)
    assert weight.grad is None and bias.grad is None and not inputs.requires_grad


def test_input_sensitivity_of_a_cnn_is_the_norm_of_a_finite_difference_gradient():
    rng = numpy.random.default_rng(0)
    weight = tn.tensor(rng.standard_normal((2, 1, 3, 3)), requires_grad=True)
    images, labels = rng.standard_normal((2, 1, 5, 5)), tn.tensor([1, 0])

    def model(t):
        return F.max_pool2d(F.elu(F.conv2d(t, weight)), 3).flatten(1)

    def loss_at(array):
        return F.cross_entropy(model(tn.tensor(array)), labels).item()

    eps, numeric = 1e-6, numpy.zeros(images.size)
    for k in range(images.size):
        step = numpy.zeros(images.size)
        step[k] = eps
        numeric[k] = (loss_at(images + step.reshape(images.shape))
                      - loss_at(images - step.reshape(images.shape))) / (2 * eps)
    value = input_sensitivity(model, F.cross_entropy, tn.tensor(images), labels)
    assert value == pytest.approx(numpy.linalg.norm(numeric), rel=1e-6)


def test_input_sensitivity_rejects_integer_inputs():
    with pytest.raises(TypeError, match="floating point Tensor, got int64"):
        input_sensitivity(lambda t: t, F.mse_loss, tn.tensor([1, 2]), tn.tensor([1, 2]))


# ---------------------------------------------------------------------------- memory
def live_graph_objects() -> int:
    with warnings.catch_warnings():  # isinstance on PyTorch's deprecated aliases, when imported, warns
        warnings.simplefilter("ignore", FutureWarning)
        return sum(isinstance(o, (tn.Tensor, Op)) for o in gc.get_objects())


def test_hvp_loop_does_not_grow_memory():
    f, params = cnn_problem()
    v = [tn.ones(p.shape, dtype=tn.float64) for p in params]
    hvp(f, params, v)
    gc.collect()
    before = live_graph_objects()
    gc.disable()  # anything kept alive by a reference cycle would now pile up
    try:
        for _ in range(100):
            result = hvp(f, params, v)
        del result
        after = live_graph_objects()
    finally:
        gc.enable()
    assert after == before


def test_eigenvalues_and_trace_leave_no_graph_behind():
    f, params = mlp_problem()
    gc.collect()
    before = live_graph_objects()
    hessian_eigenvalues(f, params, k=2, method="power")
    hessian_eigenvalues(f, params, k=2)
    hessian_trace(f, params, n_samples=5)
    hessian(f, params)
    grad_norm(f, params)
    assert live_graph_objects() == before


# ---------------------------------------------------------------------------- CUDA
@pytest.mark.skipif(not tn.cuda.is_available(), reason="CuPy with a GPU is not available")
def test_hessian_tools_on_cuda_match_cpu():
    f, params = cnn_problem()
    f_gpu, params_gpu = cnn_problem(device="cuda")
    v = [tn.ones(p.shape, dtype=tn.float64) for p in params]
    result = hvp(f_gpu, params_gpu, [t.to("cuda") for t in v])
    assert all(t.device == "cuda" for t in result)
    numpy.testing.assert_allclose(flat([t.cpu() for t in result]), flat(hvp(f, params, v)),
                                  atol=1e-10)
    gpu_hessian = hessian(f_gpu, params_gpu)
    assert gpu_hessian.device == "cuda"
    numpy.testing.assert_allclose(gpu_hessian.cpu().numpy(), hessian(f, params).numpy(), atol=1e-10)
    for method in ("lanczos", "power"):
        numpy.testing.assert_allclose(hessian_eigenvalues(f_gpu, params_gpu, k=2, method=method),
                                      hessian_eigenvalues(f, params, k=2, method=method), rtol=1e-7)
    assert hessian_trace(f_gpu, params_gpu, n_samples=4) == pytest.approx(
        hessian_trace(f, params, n_samples=4))
    assert grad_norm(f_gpu, params_gpu).item() == pytest.approx(grad_norm(f, params).item())
    [midpoint] = interpolate(params_gpu[:1], [tn.zeros_like(params_gpu[0])], 0.5)
    assert midpoint.device == "cuda"
    x_cpu, w_cpu = tn.randn(4, 3, dtype=tn.float64), tn.randn(2, 3, dtype=tn.float64)
    y_cpu = tn.randn(4, 2, dtype=tn.float64)
    x_gpu, w_gpu, y_gpu = x_cpu.to("cuda"), w_cpu.to("cuda"), y_cpu.to("cuda")
    assert input_sensitivity(lambda t: F.linear(t, w_gpu), F.mse_loss, x_gpu, y_gpu) == \
        pytest.approx(input_sensitivity(lambda t: F.linear(t, w_cpu), F.mse_loss, x_cpu, y_cpu))
