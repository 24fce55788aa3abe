"""Check analytic gradients against central finite differences, in float64.

``gradcheck`` compares the vector-Jacobian products that backward computes with
(f(x + εp) - f(x - εp)) / 2ε for probe vectors p. Small inputs are probed along every
coordinate and small outputs along every element, so the whole Jacobian is checked; larger ones
along random coordinates and random directions. ``gradgradcheck`` runs the same check on the
gradient function itself, which is what Hessian-vector products rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import grad
from tinynet.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the finite-difference one."""


def _outputs(result: Any) -> list[Tensor]:
    outs = [result] if isinstance(result, Tensor) else list(result)
    if not all(isinstance(o, Tensor) for o in outs):
        raise TypeError("gradcheck: the function must return a Tensor or a sequence of Tensors")
    return outs


def _flat_outputs(func: Callable[..., Any], inputs: Sequence[Any]) -> numpy.ndarray:
    """The differentiable outputs at ``inputs``, flattened into one float64 vector.

    The graph is still recorded: for gradgradcheck, ``func`` itself calls backward.
    """
    outs = [o for o in _outputs(func(*inputs)) if o.requires_grad]
    return numpy.concatenate([backend.to_numpy(o.array).astype(numpy.float64).ravel()
                              for o in outs] or [numpy.zeros(0)])


def _probes(n: int, max_full: int, n_random: int, rng: numpy.random.Generator):
    """(label, vector) pairs: every coordinate when n is small, else some coordinates and
    some random unit directions."""
    if n <= max_full:
        coords = range(n)
    else:
        coords = sorted(rng.choice(n, size=n_random, replace=False))
    for k in coords:
        p = numpy.zeros(n)
        p[k] = 1.0
        yield k, p
    if n > max_full:
        for d in range(n_random):
            p = rng.standard_normal(n)
            yield f"random direction {d}", p / numpy.linalg.norm(p)


def gradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              max_full: int = 32, n_random: int = 6, seed: int = 0) -> bool:
    """True when the gradients of ``func`` at ``inputs`` match central finite differences.

    Every input with ``requires_grad=True`` must be float64. On failure (with
    ``raise_exception``) a ``GradcheckError`` names the input and its worst element.

    >>> x = tn.randn(3, dtype=tn.float64, requires_grad=True)
    >>> tn.gradcheck(lambda t: (t * t).sum(), x)
    True
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in diff:
        if inputs[i].dtype != numpy.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need "
                            "float64 inputs (use .double())")
    rng = numpy.random.default_rng(seed)

    outputs = [o for o in _outputs(func(*inputs)) if o.requires_grad]
    sizes = [o.numel() for o in outputs]
    m = sum(sizes)
    directions = numpy.eye(m) if m <= max_full else rng.standard_normal((1, m))

    # analytic[i][row] = (J_i^T u_row), one backward per output direction
    analytic: dict[int, list[numpy.ndarray]] = {i: [] for i in diff}
    for u in directions:
        pieces = numpy.split(u, numpy.cumsum(sizes)[:-1])
        grad_outputs = [Tensor(backend.to_device(p.reshape(o.shape).astype(o.dtype), o.device))
                        for p, o in zip(pieces, outputs)]
        grads = grad(outputs, [inputs[i] for i in diff], grad_outputs, retain_graph=True,
                     allow_unused=True) if outputs else [None] * len(diff)
        for i, g in zip(diff, grads):
            n = inputs[i].numel()
            analytic[i].append(numpy.zeros(n) if g is None else backend.to_numpy(g.array).ravel())

    worst: tuple[float, str] = (-1.0, "")
    for i in diff:
        x = inputs[i]
        base = backend.to_numpy(x.array)
        for label, p in _probes(x.numel(), max_full, n_random, rng):
            shifted = []
            for sign in (1, -1):
                moved = list(inputs)
                moved[i] = Tensor(backend.to_device(base + sign * eps * p.reshape(base.shape),
                                                    x.device), requires_grad=True)
                shifted.append(_flat_outputs(func, moved))
            numeric = directions @ ((shifted[0] - shifted[1]) / (2 * eps)) if m else numpy.zeros(0)
            exact = numpy.array([row @ p for row in analytic[i]])
            excess = numpy.abs(exact - numeric) - (atol + rtol * numpy.abs(numeric))
            if excess.size and excess.max() > worst[0]:
                r = int(excess.argmax())
                where = label
                if isinstance(label, (int, numpy.integer)):
                    where = f"element {tuple(int(k) for k in numpy.unravel_index(label, x.shape))}"
                out_where = f"output element {r}" if m <= max_full else "a random output direction"
                worst = (excess.max(), f"input {i} (shape {tuple(x.shape)}), {where}, "
                                       f"{out_where}: analytic {exact[r]:.6g} vs numeric "
                                       f"{numeric[r]:.6g} (atol {atol}, rtol {rtol})")
    if worst[0] > 0:
        if raise_exception:
            raise GradcheckError(f"gradcheck failed for {worst[1]}")
        return False
    return True


def gradgradcheck(func: Callable[..., Any], inputs: Tensor | Sequence[Any],
                  grad_outputs: Sequence[Tensor] | None = None, **kwargs: Any) -> bool:
    """Check second derivatives: gradcheck of x, v ↦ (∂f/∂x)ᵀ v, differentiated through backward.

    ``grad_outputs`` (the v) are drawn at random (float64) when not given.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outputs = [o for o in _outputs(func(*inputs)) if o.requires_grad]
    if grad_outputs is None:
        rng = numpy.random.default_rng(kwargs.get("seed", 0) + 1)
        grad_outputs = [Tensor(backend.to_device(rng.standard_normal(o.shape), o.device),
                               requires_grad=True) for o in outputs]
    n_in = len(inputs)

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        xs, vs = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func(*xs)) if o.requires_grad]
        grads = grad(outs, [xs[i] for i in diff], list(vs), create_graph=True, allow_unused=True)
        seeded = any(isinstance(v, Tensor) and v.requires_grad for v in vs)
        for i, g in zip(diff, grads):
            # A gradient is linear in the seed v, so unless it is zero it depends on v: one that
            # carries no graph came from a backward that left tinynet's ops (NumPy inside, or
            # no_grad), and its second derivatives would silently be zero.
            if seeded and g is not None and not g.requires_grad and bool((g.array != 0).any()):
                raise GradcheckError(
                    f"gradgradcheck: the gradient of input {i} is not differentiable (it carries no "
                    "graph), so second derivatives through it would be zero; write the backward "
                    "with tinynet ops on Tensors, not on raw arrays or under no_grad")
        return tuple(g for g in grads if g is not None and g.requires_grad)

    return gradcheck(first_derivative, tuple(inputs) + tuple(grad_outputs), **kwargs)
