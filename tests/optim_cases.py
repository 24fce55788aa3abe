"""What the optimizer tests share: three float64 parameters, gradient sequences drawn for them,
a loop that steps an optimizer through a sequence, and the comparison with a formula."""

import numpy

import tinynet as tn
import tinynet.nn.functional as F

SHAPES = [(3, 2), (2,), (4,)]


def make_params(seed: int = 0, dtype=tn.float64) -> list[tn.Tensor]:
    rng = numpy.random.default_rng(seed)
    return [tn.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True) for shape in SHAPES]


def gradient_sequence(seed: int = 1, steps: int = 5) -> list[list[numpy.ndarray]]:
    rng = numpy.random.default_rng(seed)
    return [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]


def run(optimizer_factory, grads_per_step, params=None, after_step=None):
    """Step an optimizer through the given gradients (set by hand, so a test checks the update
    rule alone); returns the parameters after each step."""
    params = make_params() if params is None else params
    optimizer = optimizer_factory(params)
    history = []
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = None if g is None else tn.tensor(g, dtype=p.dtype)
        optimizer.step()
        if after_step is not None:
            after_step(optimizer)
        history.append([p.detach().numpy().copy() for p in params])
    return history


def check_against(history, reference_fn, grads_per_step, **settings):
    """Each parameter after each step equals the NumPy formula ``reference_fn`` gives."""
    initial = [p.detach().numpy() for p in make_params()]
    for i, p0 in enumerate(initial):
        expected = reference_fn(p0, [grads[i] for grads in grads_per_step], **settings)
        for step in range(len(grads_per_step)):
            numpy.testing.assert_allclose(history[step][i], expected[step], rtol=1e-12, atol=1e-14,
                                          err_msg=f"parameter {i}, step {step + 1}")


def train_steps(model, optimizer, batches):
    """Train ``model`` on (x, y) ``batches`` with MSE, one optimizer step each."""
    for x, y in batches:
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
