"""F.affine_grid and F.grid_sample: every mode, padding mode and corner convention through the
op factory to second order (the grid kept off the kinks, where pixel coordinates are whole or
half numbers), then against PyTorch's values and gradients with the kinks and far-off points
included, and PyTorch's warnings and errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tinynet.testing import OpSpec, check_case, op_settings

import tinynet as tn
import tinynet.nn.functional as F
from torch_oracle import assert_matches_torch


@st.composite
def sample_cases(draw):
    """(input shape, grid shape, keyword arguments) of one grid_sample call."""
    mode = draw(st.sampled_from(["bilinear", "nearest", "bicubic"]))
    dims = 2 if mode == "bicubic" else draw(st.sampled_from([2, 3]))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    points = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    batch = draw(st.integers(1, 2))
    kwargs = {"mode": mode, "padding_mode": draw(st.sampled_from(["zeros", "border", "reflection"])),
              "align_corners": draw(st.booleans())}
    return (batch, draw(st.integers(1, 2))) + spatial, (batch,) + points + (dims,), kwargs


def off_the_kinks(grid, spatial, align_corners):
    """Each coordinate moved so that its pixel position's fraction lies in [0.1, 0.4] or
    [0.6, 0.9]: away from the whole numbers (the neighbours change, the border clips) and the
    half numbers (nearest rounds, reflection turns without corners aligned)."""
    grid = grid.copy()
    for d, n in enumerate(reversed(spatial)):  # the grid lists x (the last dim) first
        c = grid[..., d]
        if align_corners and n == 1:
            continue  # every point reads pixel 0 and the grid gets no gradient
        u = (c + 1) * (n - 1) / 2 if align_corners else ((c + 1) * n - 1) / 2
        f = u - np.floor(u)
        u = np.floor(u) + np.where(f < 0.5, 0.1 + 0.6 * f, 0.6 + 0.6 * (f - 0.5))
        grid[..., d] = 2 * u / (n - 1) - 1 if align_corners else (2 * u + 1) / n - 1
    return grid


GRID_SAMPLE = OpSpec("grid_sample", F.grid_sample, st.nothing())


@op_settings
@given(case=sample_cases(), seed=st.integers(0, 2**16))
def test_grid_sample_through_the_op_factory(case, seed):
    input_shape, grid_shape, kwargs = case
    rng = np.random.default_rng(seed)
    grid = rng.uniform(-2.5, 2.5, grid_shape)
    grid = off_the_kinks(grid, input_shape[2:], kwargs["align_corners"])
    check_case(GRID_SAMPLE, [rng.standard_normal(input_shape), grid], kwargs)


def special_grid(rng, grid_shape):
    """Points at the edges, the centre, whole and half pixel positions, and far outside (where
    reflection turns many times), with random ones between."""
    specials = np.array([-1.0, 1.0, 0.0, -0.5, 0.5, -1.5, 1.5, 1 / 3, -2 / 3, 0.25, 7.3, -12.1])
    grid = rng.uniform(-2.5, 2.5, grid_shape)
    chosen = rng.random(grid_shape) < 0.5
    return np.where(chosen, rng.choice(specials, grid_shape), grid)


@op_settings
@given(case=sample_cases(), seed=st.integers(0, 2**16))
def test_grid_sample_matches_pytorch_on_and_off_the_kinks(case, seed):
    torch = pytest.importorskip("torch")
    input_shape, grid_shape, kwargs = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape)
    assert_matches_torch(torch, lambda a, g: F.grid_sample(a, g, **kwargs),
                         lambda a, g: torch.nn.functional.grid_sample(a, g, **kwargs),
                         x, special_grid(rng, grid_shape), rtol=1e-10, atol=1e-12)


def test_grid_sample_without_a_differentiable_input_or_grid():
    """Each of the two may be a constant; nearest gives the grid a zero gradient, as PyTorch."""
    x = tn.randn(1, 2, 3, 3, dtype=tn.float64)
    grid = tn.rand(1, 2, 2, 2, dtype=tn.float64, requires_grad=True)
    for mode in ("bilinear", "nearest", "bicubic"):
        grid.grad = None
        F.grid_sample(x, grid, mode, align_corners=False).sum().backward()
        assert grid.grad is not None and (mode != "nearest" or not grid.grad.numpy().any())
    x.requires_grad_()
    out = F.grid_sample(x, grid.detach(), align_corners=True)
    out.sum().backward()
    assert x.grad.shape == x.shape and out.grad_fn is not None


@op_settings
@given(dims=st.sampled_from([2, 3]), align_corners=st.booleans(),
       spatial=st.lists(st.integers(1, 4), min_size=3, max_size=3), batch=st.integers(1, 2),
       seed=st.integers(0, 2**16))
def test_affine_grid_is_theta_times_the_pixel_positions(dims, align_corners, spatial, batch, seed):
    size = (batch, 2) + tuple(spatial[:dims])

    def positions(n):  # the pixel centres (or, with corners aligned, the corners) in [-1, 1]
        if n == 1:
            return np.zeros(1)
        return np.linspace(-1, 1, n) * (1 if align_corners else (n - 1) / n)

    def reference(theta):
        axes = np.meshgrid(*[positions(n) for n in size[2:]], indexing="ij")
        base = np.stack(list(axes[::-1]) + [np.ones(size[2:])], axis=-1)  # (x, y[, z], 1)
        return np.einsum("...j,nij->n...i", base, theta)

    spec = OpSpec("affine_grid", lambda t: F.affine_grid(t, size, align_corners), st.nothing(),
                  reference=reference)
    theta = np.random.default_rng(seed).standard_normal((batch, dims, dims + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unit-size warning, checked below
        check_case(spec, [theta])
        torch = pytest.importorskip("torch")
        assert_matches_torch(torch, lambda t: F.affine_grid(t, size, align_corners),
                             lambda t: torch.nn.functional.affine_grid(t, size, align_corners),
                             theta, rtol=1e-12, atol=1e-15)


def test_a_spatial_transformer_step_learns_theta():
    """The tutorial's use: a grid from a learnt θ, the image sampled through it, a loss."""
    tn.manual_seed(0)
    image = tn.rand(2, 1, 8, 8)
    theta = tn.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * 2, requires_grad=True)
    shifted = F.grid_sample(image, F.affine_grid(theta.detach() + tn.tensor([[0.0, 0.0, 0.2],
                                                                            [0.0, 0.0, 0.0]]),
                                                 image.shape, align_corners=False),
                            align_corners=False)
    optimizer = tn.optim.SGD([theta], lr=0.5)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        grid = F.affine_grid(theta, image.shape, align_corners=False)
        loss = F.mse_loss(F.grid_sample(image, grid, align_corners=False), shifted)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert theta.grad.shape == (2, 2, 3)


def test_warnings_and_errors_are_pytorchs():
    torch = pytest.importorskip("torch")
    x, grid, theta = tn.zeros(1, 1, 3, 3), tn.zeros(1, 2, 2, 2), tn.zeros(1, 2, 3)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.grid_sample(x, grid)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.affine_grid(theta, (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="behavior has changed for unit-size grids"):
        F.affine_grid(theta, (1, 1, 1, 2), align_corners=True)
    bad_calls = [  # (tinynet's call, PyTorch's call, tinynet's message)
        (lambda f, t: f.grid_sample(t.zeros(1, 1, 3, 3), t.zeros(1, 2, 2, 3), align_corners=False),
         "expected grid to have size 2 in last dimension, but got grid with sizes \\[1, 2, 2, 3\\]"),
        (lambda f, t: f.grid_sample(t.zeros(1, 1, 3, 3), t.zeros(2, 2, 2, 2), align_corners=False),
         "same batch size, but got input with sizes \\[1, 1, 3, 3\\] and grid with sizes"),
        (lambda f, t: f.grid_sample(t.zeros(1, 1, 2, 3, 3), t.zeros(1, 2, 2, 2, 3), mode="bicubic",
                                    align_corners=False),
         "bicubic interpolation only supports 4D input"),
        (lambda f, t: f.grid_sample(t.zeros(1, 1, 0, 3), t.zeros(1, 2, 2, 2), align_corners=False),
         "non-empty spatial dimensions, but input has sizes \\[1, 1, 0, 3\\] with dimension 2"),
        (lambda f, t: f.grid_sample(t.zeros(1, 1, 3, 3), t.zeros(1, 2, 2, 2, dtype=t.float64),
                                    align_corners=False),
         "expected input and grid to have the same dtype, but got input"),
        (lambda f, t: f.grid_sample(t.zeros(1, 3, 3), t.zeros(1, 2, 1), align_corners=False),
         "expected a 4-D \\(N, C, H, W\\) or 5-D \\(N, C, D, H, W\\) input, but got input with "
         "sizes \\[1, 3, 3\\]"),
    ]
    for call, message in bad_calls:
        with pytest.raises(RuntimeError, match=message):
            call(F, tn)
        with pytest.raises(RuntimeError):
            call(torch.nn.functional, torch)
    for call, error, message in [
            (lambda f, t: f.grid_sample(t.zeros(1, 1, 3, 3), t.zeros(1, 2, 2, 2), mode="area"),
             ValueError, "expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'area'"),
            (lambda f, t: f.grid_sample(t.zeros(1, 1, 3, 3), t.zeros(1, 2, 2, 2),
                                        padding_mode="wrap"),
             ValueError, "expected padding_mode to be 'zeros', 'border', or 'reflection'"),
            (lambda f, t: f.affine_grid(t.zeros(1, 2, 3), (1, 1, 2, 2, 2), align_corners=False),
             ValueError, "Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                         "\\(1, 1, 2, 2, 2\\). Got \\(1, 2, 3\\)"),
            (lambda f, t: f.affine_grid(t.zeros(1, 2, 3), (1, 2, 2), align_corners=False),
             NotImplementedError, "affine_grid only supports 4D and 5D sizes"),
            (lambda f, t: f.affine_grid(t.zeros(1, 2, 3, dtype=t.int64), (1, 1, 2, 2),
                                        align_corners=False),
             ValueError, "Expected theta to have floating point type, but got"),
            (lambda f, t: f.affine_grid(t.zeros(1, 2, 3), (1, 1, 0, 2), align_corners=False),
             ValueError, "Expected non-zero, positive output size. Got \\(1, 1, 0, 2\\)")]:
        with pytest.raises(error, match=message):
            call(F, tn)
        with pytest.raises(error):
            call(torch.nn.functional, torch)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", [(2, 3, 28, 28), (1, 1, 7, 9), (2, 2, 4, 5, 6)])
def test_an_identity_grid_reads_the_pixels_pytorch_reads(size, dtype):
    """The spatial transformer starts from the identity, whose points lie on pixel centres:
    there the last bit of the grid and of its pixel coordinates decides which pixels a point
    reads, and so the gradient to θ. Both are rounded as PyTorch's CPU kernels round them."""
    torch = pytest.importorskip("torch")
    dims = len(size) - 2
    theta = np.zeros((size[0], dims, dims + 1), dtype=dtype)
    for i in range(dims):
        theta[:, i, i] = 1
    x = np.random.default_rng(0).standard_normal(size).astype(dtype)
    modes = ("bilinear", "nearest", "bicubic") if dims == 2 else ("bilinear", "nearest")
    for align_corners in (False, True):
        for mode in modes:
            for padding_mode in ("zeros", "border", "reflection"):
                results = []
                for lib in (tn, torch):
                    t = lib.tensor(theta, requires_grad=True)
                    grid = lib.nn.functional.affine_grid(t, size, align_corners=align_corners)
                    out = lib.nn.functional.grid_sample(lib.tensor(x), grid, mode, padding_mode,
                                                        align_corners)
                    (out * lib.tensor(x[:, :1])).sum().backward()  # any weighting
                    results.append((grid.detach().numpy(), out.detach().numpy(), t.grad.numpy()))
                (grid, out, grad), (t_grid, t_out, t_grad) = results
                np.testing.assert_array_equal(grid, t_grid)
                np.testing.assert_allclose(out, t_out, rtol=1e-5 if dtype == "float32" else 1e-12,
                                           atol=1e-5 if dtype == "float32" else 1e-12)
                np.testing.assert_allclose(grad, t_grad, rtol=1e-3 if dtype == "float32" else 1e-9,
                                           atol=1e-3 if dtype == "float32" else 1e-9)
