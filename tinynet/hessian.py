"""Second-order tools: Hessian-vector products and everything built on them.

The loss is given as a closure ``f`` that takes no arguments and computes a scalar from the
parameters ``params`` (the leaf tensors it reads, all with ``requires_grad=True``):

>>> import tinynet as tn, tinynet.nn.functional as F
>>> from tinynet.hessian import hvp, hessian_eigenvalues
>>> w = tn.randn(3, 2, dtype=tn.float64, requires_grad=True)
>>> x, y = tn.randn(8, 2, dtype=tn.float64), tn.randn(8, 3, dtype=tn.float64)
>>> loss = lambda: F.mse_loss(F.linear(x, w), y)
>>> hv = hvp(loss, [w], [tn.ones_like(w)])          # H·v, shaped like [w]
>>> top = hessian_eigenvalues(loss, [w], k=1)[0]    # the sharpness, a float

Every tool rests on one trick, double backward: ``g = ∇f`` computed with
``create_graph=True`` is itself a graph, and differentiating ``g·v`` again gives ``H·v``
without ever forming the Hessian H. The first-order graph is built once per call and reused
for every product, so ``hessian``, ``hessian_eigenvalues`` and ``hessian_trace`` cost one
backward walk per product, not a new forward. Nothing outlives a call: results are detached.

Where the Hessian is assembled or handed to an eigensolver, parameters are flattened into one
float64 vector in the order of ``params`` (each tensor raveled, row-major). The vectors stay on the
params' device (SciPy's eigensolver on the CPU, CuPy's on a GPU); only eigenvalues and a few
scalars per iteration come back to the host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import enable_grad, grad, no_grad
from tinynet.tensor import Tensor

__all__ = ["grad_norm", "hessian", "hessian_eigenvalues", "hessian_trace", "hvp",
           "input_sensitivity", "interpolate"]

Loss = Callable[[], Tensor]

_WHICH = ("LA", "SA", "LM")
_METHODS = ("lanczos", "power")


# ---------------------------------------------------------------------------- checking inputs
def _tensor_list(tensors: Tensor | Iterable[Tensor], what: str, op: str) -> list[Tensor]:
    """A list from a Tensor, a sequence or a generator such as ``model.parameters()``."""
    items = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {what} must be tinynet Tensors, item {i} is "
                            f"{type(t).__name__}")
    return items


def _check_params(params: Tensor | Iterable[Tensor], op: str) -> list[Tensor]:
    params = _tensor_list(params, "params", op)
    if not params:
        raise ValueError(f"{op}: params is empty; pass the tensors the loss depends on")
    for i, p in enumerate(params):
        if not p.requires_grad:
            raise ValueError(f"{op}: params[{i}] of shape {tuple(p.shape)} does not require grad; "
                             "create it with requires_grad=True or call .requires_grad_()")
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise ValueError(f"{op}: params live on several devices {sorted(devices)}; "
                         "move them to one device first")
    return params


def _check_directions(v: Tensor | Iterable[Tensor], params: list[Tensor], op: str) -> list[Tensor]:
    """``v`` as fresh constants with the dtype of their params (a direction carries no graph)."""
    v = _tensor_list(v, "v", op)
    if len(v) != len(params):
        raise ValueError(f"{op}: v has {len(v)} tensors but params has {len(params)}")
    result = []
    for i, (t, p) in enumerate(zip(v, params)):
        if tuple(t.shape) != tuple(p.shape):
            raise ValueError(f"{op}: v[{i}] has shape {tuple(t.shape)} but params[{i}] has shape "
                             f"{tuple(p.shape)}")
        if t.device != p.device:
            raise ValueError(f"{op}: v[{i}] is on {t.device} but params[{i}] on {p.device}")
        result.append(Tensor(t.array.astype(p.dtype, copy=False)))
    return result


def _scalar_loss(f: Loss, op: str) -> Tensor:
    with enable_grad():
        loss = f()
    if not isinstance(loss, Tensor):
        raise TypeError(f"{op}: f() must return a tinynet Tensor, got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ValueError(f"{op}: f() must return a scalar loss, got shape {tuple(loss.shape)}; "
                         "reduce it with .mean() or .sum()")
    if not loss.requires_grad:
        raise RuntimeError(f"{op}: f() returned a tensor that does not depend on params "
                           "(requires_grad=False); does f read the params, outside no_grad?")
    return loss


# ---------------------------------------------------------------------------- params <-> vector
def _sizes(params: list[Tensor]) -> list[int]:
    return [p.numel() for p in params]


def _to_vector(tensors: list[Tensor]) -> Any:
    """Tensors flattened into one float64 vector on their device, the eigensolvers' format."""
    return tensors[0].xp.concatenate([t.array.astype(numpy.float64).ravel() for t in tensors])


def _from_vector(vector: Any, like: list[Tensor]) -> list[Tensor]:
    """Split a flat vector (on the params' device) into tensors shaped and typed like ``like``."""
    tensors, offset = [], 0
    for p in like:
        n = p.numel()
        tensors.append(Tensor(vector[offset:offset + n].reshape(p.shape).astype(p.dtype)))
        offset += n
    return tensors


def _result_dtype(params: list[Tensor]) -> numpy.dtype:
    return numpy.result_type(*[p.dtype for p in params])


class _GradientGraph:
    """∇f with its graph kept alive, so that each H·v is one more backward walk.

    Entries of ∇f that do not depend on the params (the gradient of a bias that enters the
    loss linearly, say) have no graph: their rows of H are zero and they are left out.
    """

    def __init__(self, f: Loss, params: list[Tensor], op: str) -> None:
        loss = _scalar_loss(f, op)
        with enable_grad():
            grads = grad(loss, params, create_graph=True, allow_unused=True)
        self.params = params
        self.differentiable = [(i, g) for i, g in enumerate(grads)
                               if g is not None and g.requires_grad]

    def hvp(self, v: list[Tensor]) -> list[Tensor]:
        hv: tuple[Tensor | None, ...] = (None,) * len(self.params)
        if self.differentiable:
            outputs = [g for _, g in self.differentiable]
            directions = [v[i] for i, _ in self.differentiable]
            hv = grad(outputs, self.params, grad_outputs=directions, retain_graph=True,
                      allow_unused=True)
        return [Tensor(p.xp.zeros(p.shape, dtype=p.dtype)) if h is None else h
                for p, h in zip(self.params, hv)]

    def matvec(self, vector: Any) -> Any:
        """H·v on flat float64 vectors on the params' device (what the eigensolvers call)."""
        return _to_vector(self.hvp(_from_vector(vector.ravel(), self.params)))


# ---------------------------------------------------------------------------- public tools
def hvp(f: Loss, params: Tensor | Iterable[Tensor], v: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The Hessian-vector product H·v of the scalar ``f()`` with respect to ``params``.

    ``v`` holds one tensor per parameter, of the same shape. The result does too; it is
    detached, and no graph survives the call. Parameters that ``f`` does not use get zeros.

    >>> w = tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True)
    >>> hvp(lambda: (w ** 3).sum(), [w], [tn.ones_like(w)])    # H = diag(6w)
    [tensor([ 6., 12.], dtype=float64)]
    """
    params = _check_params(params, "hvp")
    v = _check_directions(v, params, "hvp")
    return _GradientGraph(f, params, "hvp").hvp(v)


def hessian(f: Loss, params: Tensor | Iterable[Tensor]) -> Tensor:
    """The full n×n Hessian of ``f()``, n being the total number of parameter elements.

    Row i is H·eᵢ, one backward walk per parameter through a single first-order graph, so
    this is for small models (a few thousand parameters): memory grows as n². Use float64
    parameters when you want to compare it with finite differences or eigendecompose it.

    >>> w = tn.tensor([1.0, 2.0], dtype=tn.float64, requires_grad=True)
    >>> hessian(lambda: w[0] ** 2 * w[1], [w])     # [[2·w1, 2·w0], [2·w0, 0]]
    tensor([[4., 2.],
            [2., 0.]], dtype=float64)
    """
    params = _check_params(params, "hessian")
    graph = _GradientGraph(f, params, "hessian")
    n, xp = sum(_sizes(params)), params[0].xp
    matrix = xp.empty((n, n), dtype=_result_dtype(params))
    row = 0
    for i, p in enumerate(params):
        for k in range(p.numel()):
            basis = [Tensor(q.xp.zeros(q.shape, dtype=q.dtype)) for q in params]
            unit = p.xp.zeros(p.numel(), dtype=p.dtype)
            unit[k] = 1
            basis[i] = Tensor(unit.reshape(p.shape))
            matrix[row] = xp.concatenate([h.array.ravel() for h in graph.hvp(basis)])
            row += 1
    return Tensor(matrix)


def hessian_eigenvalues(f: Loss, params: Tensor | Iterable[Tensor], k: int = 1, which: str = "LA",
                        method: str = "lanczos", return_eigenvectors: bool = False,
                        tol: float | None = None, maxiter: int | None = None,
                        seed: int = 0) -> numpy.ndarray | tuple[numpy.ndarray, list[list[Tensor]]]:
    """``k`` eigenvalues of the Hessian of ``f()``, from Hessian-vector products only.

    ``which``: ``'LA'`` the largest (algebraic; the sharpness for k=1), ``'SA'`` the smallest,
    ``'LM'`` the largest in magnitude. ``method``: ``'lanczos'`` (SciPy's ``eigsh`` on a
    ``LinearOperator``, fewest products; needs k < n) or ``'power'`` (block power iteration,
    simpler to follow; for 'LA'/'SA' the spectrum is first shifted by the dominant eigenvalue
    so that the wanted end dominates). ``tol`` is the residual ‖Hx - λx‖ allowed, relative to
    the largest eigenvalue found; by default the square root of the params' machine epsilon.
    On a GPU, 'lanczos' is CuPy's ``eigsh``: there ``tol`` bounds the residual itself, and a run
    that reaches ``maxiter`` returns its estimates instead of raising.

    Returns the eigenvalues as a float64 NumPy array in ascending order; with
    ``return_eigenvectors=True`` also their eigenvectors, in the same order, each a list of
    tensors shaped like ``params`` (unit norm over all of them), ready for ``hvp`` or
    ``interpolate``.

    >>> sharpness = hessian_eigenvalues(loss, params)[0]
    >>> lowest, low_vectors = hessian_eigenvalues(loss, params, k=3, which="SA",
    ...                                           return_eigenvectors=True)
    """
    params = _check_params(params, "hessian_eigenvalues")
    n = sum(_sizes(params))
    if which not in _WHICH:
        raise ValueError(f"hessian_eigenvalues: which must be one of {_WHICH}, got {which!r}")
    if method not in _METHODS:
        raise ValueError(f"hessian_eigenvalues: method must be one of {_METHODS}, got {method!r}")
    if not 1 <= k <= n or (method == "lanczos" and k >= n):
        limit = f"1 <= k < {n}" if method == "lanczos" else f"1 <= k <= {n}"
        raise ValueError(f"hessian_eigenvalues: k={k} is out of range for {n} parameters with "
                         f"method={method!r}: expected {limit} (for all of them use hessian() "
                         "and numpy.linalg.eigvalsh)")
    if tol is None:
        tol = float(numpy.sqrt(numpy.finfo(_result_dtype(params)).eps))
    graph = _GradientGraph(f, params, "hessian_eigenvalues")
    rng = numpy.random.default_rng(seed)
    xp = params[0].xp
    if method == "lanczos":
        values, vectors = _lanczos(graph.matvec, n, k, which, tol, maxiter,
                                   xp.asarray(rng.standard_normal(n)), params[0].device)
    else:
        values, vectors = _power_iteration(graph.matvec, n, k, which, tol, maxiter or 1000, rng,
                                           xp)
    order = numpy.argsort(values)
    if not return_eigenvectors:
        return values[order]
    return values[order], [_from_vector(vectors[:, int(j)], params) for j in order]


def _lanczos(matvec: Callable[[Any], Any], n: int, k: int, which: str, tol: float,
             maxiter: int | None, start: Any, device: str) -> tuple[numpy.ndarray, Any]:
    """SciPy's eigsh (ARPACK) on the CPU, CuPy's (thick-restart Lanczos) on a GPU, where ``tol``
    bounds the residual norm itself and a run that hits ``maxiter`` returns what it has."""
    linalg = backend.sparse_linalg(device)
    operator = linalg.LinearOperator((n, n), matvec=matvec, dtype=numpy.float64)
    no_convergence = getattr(linalg, "ArpackNoConvergence", ())
    try:
        values, vectors = linalg.eigsh(operator, k=k, which=which, tol=tol, maxiter=maxiter,
                                       v0=start)
    except no_convergence as err:
        raise RuntimeError(f"hessian_eigenvalues: Lanczos (eigsh) did not converge to tol={tol} "
                           f"in maxiter={maxiter} restarts ({len(err.eigenvalues)} of {k} "
                           "eigenvalues converged); raise maxiter or tol") from None
    return backend.to_numpy(values), vectors


def _power_iteration(matvec: Callable[[Any], Any], n: int, k: int, which: str, tol: float,
                     maxiter: int, rng: numpy.random.Generator,
                     xp: Any) -> tuple[numpy.ndarray, Any]:
    """Block power iteration for the k wanted eigenpairs of H.

    Power iteration finds the eigenvalues largest in magnitude. For the largest (or smallest)
    algebraic ones, first find the dominant eigenvalue μ, then iterate on H - σI with
    σ = -|μ| (or +|μ|): its spectrum lies on one side of zero, with the wanted end farthest.
    """
    if which == "LM":
        return _block_power(matvec, n, k, 0.0, tol, maxiter, rng, xp)
    (dominant,), vector = _block_power(matvec, n, 1, 0.0, tol, maxiter, rng, xp)
    if k == 1 and (dominant >= 0) == (which == "LA"):
        return numpy.array([dominant]), vector
    shift = -abs(dominant) if which == "LA" else abs(dominant)
    return _block_power(matvec, n, k, shift, tol, maxiter, rng, xp)


def _block_power(matvec: Callable[[Any], Any], n: int, k: int, shift: float, tol: float,
                 maxiter: int, rng: numpy.random.Generator, xp: Any) -> tuple[numpy.ndarray, Any]:
    """The k eigenpairs of H whose eigenvalues lie farthest from ``shift``.

    Each step multiplies a block of k + 1 orthonormal vectors by H - shift·I and
    re-orthonormalises (QR); a Rayleigh-Ritz step (the eigendecomposition of the small matrix
    QᵀHQ) reads off the eigenvalue estimates. The extra vector speeds convergence up and
    copes with eigenvalues ±μ of equal magnitude. The n-long vectors stay on their device (``xp``);
    the small (k+1)×(k+1) problem is solved on the host, so each step reads that matrix and the k
    residual norms, and sends back its (k+1)² coefficients and k eigenvalues.
    """
    block = min(n, k + 1)
    q, _ = xp.linalg.qr(xp.asarray(rng.standard_normal((n, block))))
    residual = numpy.inf
    for _ in range(maxiter):
        hq = xp.stack([matvec(q[:, j]) for j in range(block)], axis=1)
        small = backend.to_numpy(q.T @ hq)
        theta, s = numpy.linalg.eigh((small + small.T) / 2)
        order = numpy.argsort(-numpy.abs(theta - shift), kind="stable")
        theta, s = theta[order], xp.asarray(s[:, order])
        x, hx = q @ s, hq @ s
        residual = backend.to_numpy(xp.linalg.norm(hx[:, :k] - x[:, :k] * xp.asarray(theta[:k]),
                                                   axis=0)).max()
        if residual <= tol * numpy.abs(theta).max():
            return theta[:k], x[:, :k]
        q, _ = xp.linalg.qr(hx - shift * x)
    raise RuntimeError(f"hessian_eigenvalues: power iteration did not converge in {maxiter} "
                       f"iterations (residual {residual:.3g}, tol {tol:.3g} relative); the wanted "
                       "eigenvalues may be nearly tied with the next ones: raise maxiter or tol, "
                       "or use method='lanczos'")


def hessian_trace(f: Loss, params: Tensor | Iterable[Tensor], n_samples: int = 100,
                  seed: int = 0) -> float:
    """Hutchinson's estimate of trace(H): the mean of zᵀHz over random ±1 vectors z.

    Unbiased, since E[zzᵀ] = I; its variance is 2·Σ_{i≠j} H_ij², so it is exact for a diagonal
    Hessian and its error shrinks as 1/√n_samples otherwise. Each sample is one HVP.

    >>> hessian_trace(loss, params, n_samples=200, seed=0)
    """
    params = _check_params(params, "hessian_trace")
    if n_samples < 1:
        raise ValueError(f"hessian_trace: n_samples must be at least 1, got {n_samples}")
    graph = _GradientGraph(f, params, "hessian_trace")
    rng = numpy.random.default_rng(seed)
    n, xp = sum(_sizes(params)), params[0].xp
    signs = numpy.array([-1, 1], dtype=numpy.int8)  # drawn on the host, sent as bytes
    total = xp.zeros((), dtype=numpy.float64)
    for _ in range(n_samples):
        z = xp.asarray(rng.choice(signs, size=n)).astype(numpy.float64)
        total = total + z @ graph.matvec(z)
    return float(total) / n_samples  # the one read


def grad_norm(f: Loss, params: Tensor | Iterable[Tensor], *, squared: bool = False,
              create_graph: bool = True) -> Tensor:
    """The gradient norm ‖∇f‖ over all ``params`` together, as a differentiable scalar Tensor.

    With ``create_graph=True`` (the default) the result can be backpropagated, so the
    gradient norm itself can be minimised, its gradient being H·∇f/‖∇f‖. Prefer
    ``squared=True`` (‖∇f‖², gradient 2·H·∇f) for that: the square root has no derivative
    where the gradient vanishes.

    >>> objective = grad_norm(loss, params, squared=True)
    >>> objective.backward()          # fills p.grad with 2·H·∇f for each p
    """
    params = _check_params(params, "grad_norm")
    loss = _scalar_loss(f, "grad_norm")
    with enable_grad():
        grads = [g for g in grad(loss, params, create_graph=create_graph, allow_unused=True)
                 if g is not None]
        total = Tensor(params[0].xp.zeros((), dtype=_result_dtype(params)))
        for g in grads:
            total = total + (g * g).sum()
        return total if squared else total.sqrt()


def interpolate(params_a: Any, params_b: Any, alpha: float) -> Any:
    """The point (1 - α)·a + α·b between two sets of parameters (any real α: extrapolation too).

    Takes two lists of tensors (returns a list) or two state_dict-like mappings with the same
    keys (returns the same kind of mapping). Float tensors are mixed and keep their dtype and
    ``requires_grad``; integer ones (a BatchNorm counter) are copied from the nearer endpoint.
    No graph is recorded.

    >>> midpoint = interpolate(model_a.state_dict(), model_b.state_dict(), 0.5)
    >>> [w] = interpolate([tn.zeros(2)], [tn.ones(2)], 0.25)     # tensor([0.25, 0.25])
    """
    alpha = float(alpha)
    if isinstance(params_a, Mapping) or isinstance(params_b, Mapping):
        if not (isinstance(params_a, Mapping) and isinstance(params_b, Mapping)):
            raise TypeError(f"interpolate: give two mappings or two lists of tensors, got "
                            f"{type(params_a).__name__} and {type(params_b).__name__}")
        missing, extra = set(params_a) - set(params_b), set(params_b) - set(params_a)
        if missing or extra:
            raise ValueError(f"interpolate: the state dicts have different keys: only in a: "
                             f"{sorted(missing)}, only in b: {sorted(extra)}")
        mixed = [(key, _mix(params_a[key], params_b[key], alpha, repr(key)))
                 for key in params_a]
        return type(params_a)(mixed) if isinstance(params_a, dict) else dict(mixed)
    list_a = _tensor_list(params_a, "params_a", "interpolate")
    list_b = _tensor_list(params_b, "params_b", "interpolate")
    if len(list_a) != len(list_b):
        raise ValueError(f"interpolate: params_a has {len(list_a)} tensors but params_b has "
                         f"{len(list_b)}")
    return [_mix(a, b, alpha, f"[{i}]") for i, (a, b) in enumerate(zip(list_a, list_b))]


def _mix(a: Tensor, b: Tensor, alpha: float, where: str) -> Tensor:
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError(f"interpolate: entry {where} must be a Tensor in both, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    if tuple(a.shape) != tuple(b.shape) or a.device != b.device:
        raise ValueError(f"interpolate: entry {where} has shape {tuple(a.shape)} on {a.device} in "
                         f"a but {tuple(b.shape)} on {b.device} in b")
    with no_grad():
        if not a.is_floating_point():
            nearer = a if alpha < 0.5 else b
            return Tensor(nearer.array.copy())
        mixed = a * (1 - alpha) + b.to(a.dtype) * alpha
    return mixed.requires_grad_(a.requires_grad)


def input_sensitivity(model: Callable[[Tensor], Tensor],
                      loss_fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Any) -> float:
    """The Frobenius norm of dL/dx, L = loss_fn(model(x), y), for the batch ``x``.

    How strongly the loss reacts to a change of the inputs: flat, robust models score low.
    The parameters' ``.grad`` are left untouched. Put the model in eval mode first if it has
    dropout or batch norm.

    >>> input_sensitivity(model, F.cross_entropy, images, labels)
    """
    if not isinstance(x, Tensor) or not x.is_floating_point():
        kind = x.dtype if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"input_sensitivity: x must be a floating point Tensor, got {kind}")
    x = x.detach().requires_grad_()
    loss = _scalar_loss(lambda: loss_fn(model(x), y), "input_sensitivity")
    (dx,) = grad(loss, [x], allow_unused=True)
    if dx is None:
        return 0.0
    return float((dx * dx).sum().sqrt())
