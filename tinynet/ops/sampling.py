"""Random sampling ops: ``bernoulli`` (and ``bernoulli_``) and ``multinomial``.

Every draw comes from tinynet's CPU generator (``tn.manual_seed`` seeds it), or from the
``tn.Generator`` given as ``generator=``, and is moved to the tensor's device afterwards, as
``uniform_``/``normal_`` and the factories do, so one seed gives the same draws on any device.
The draws are not PyTorch's (its generator is another), only their distribution is.

``bernoulli``'s gradient is zero, as PyTorch's ``BernoulliBackward0``: the sample is piecewise
constant in the probabilities. ``multinomial`` returns int64 indices, which carry no gradient.
"""

from __future__ import annotations

import operator
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.generator import numpy_generator
from tinynet.ops.inplace import _replace, inplace
from tinynet.tensor import Tensor, as_tensor


def _uniform(rng: Any, shape: tuple, device: str) -> Any:
    """Draws from U[0, 1) of ``shape`` from the NumPy generator ``rng``, moved to ``device``
    (float64)."""
    return backend.to_device(rng.random(shape), device)


def _check_probabilities(probabilities: Any) -> None:
    """PyTorch's check: every probability in [0, 1] (a NaN fails too)."""
    if probabilities.size and not bool(((probabilities >= 0) & (probabilities <= 1)).all()):
        raise RuntimeError("bernoulli: expected every probability in [0, 1] "
                           "(Expected p_in >= 0 && p_in <= 1 to be true, but got false)")


class Bernoulli(Op):
    """A 0/1 sample of ``a``'s dtype: 1 where the uniform draw ``u`` is below the probability
    (``a`` itself, or the number ``p``). Its gradient is zero."""

    saves_inputs = False
    node_name = "BernoulliBackward0"

    def forward(self, a):
        probabilities = a if self.p is None else self.p
        return (self.u < probabilities).astype(a.dtype)

    def backward(self, g):
        return (Tensor(g.xp.zeros(self.inputs[0].shape, dtype=g.dtype)),)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:
    """A tensor of 0s and 1s of ``input``'s shape and dtype: each element is 1 with probability
    ``input``'s element (which must lie in [0, 1]), or with probability ``p`` when given. The
    gradient is zero, as in PyTorch. ``generator``: a ``tn.Generator`` to draw from."""
    rng = numpy_generator(generator, "bernoulli")
    input = as_tensor(input)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"bernoulli: not implemented for dtype {input.dtype}; the "
                                  "probabilities must be a floating-point tensor")
    if p is None:
        _check_probabilities(input.array)
    elif not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli expects p to be in [0, 1], but got p={p}")
    return Bernoulli.apply(input, p=p, u=_uniform(rng, tuple(input.shape), input.device))


def bernoulli_(t: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """In place: fill ``t`` with 0s and 1s, each 1 with probability ``p`` (a number, or a tensor
    that broadcasts to ``t``'s shape). Works on any dtype; the gradient is zero.
    ``generator``: a ``tn.Generator`` to draw from."""
    rng = numpy_generator(generator, "bernoulli_")
    shape = tuple(t.shape)
    if not isinstance(p, Tensor):
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        return inplace("bernoulli_", t, lambda old: _replace(old, Tensor(
            (_uniform(rng, shape, t.device) < p).astype(t.dtype))))
    p = p.to(t.device) if p.device != t.device else p
    try:
        fits = t.xp.broadcast_shapes(tuple(p.shape), shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"bernoulli_: p of shape {tuple(p.shape)} can't be expanded to the "
                           f"tensor's shape {shape}")
    _check_probabilities(p.array)
    p_float = p if p.dtype.kind == "f" else p.to(backend.default_float)

    def draw(old: Tensor, probabilities: Tensor) -> Tensor:
        sample = Bernoulli.apply(probabilities.expand(shape), p=None,
                                 u=_uniform(rng, shape, t.device))
        return _replace(old, sample)
    return inplace("bernoulli_", t, draw, p_float)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """Indices drawn from the categories of each row of ``input`` (1-D, or 2-D for a batch of
    rows), with probabilities proportional to its non-negative weights: ``num_samples`` per row,
    with or without ``replacement``. Returns int64 of shape (num_samples,) or (rows,
    num_samples). Without replacement, categories of weight 0 come only after every category of
    positive weight has been drawn, as in PyTorch. Errors are PyTorch's (RuntimeError).

    The sampling runs on the host (the draws come from the CPU generator, or from the
    ``tn.Generator`` given); the indices are moved to ``input``'s device."""
    rng = numpy_generator(generator, "multinomial")
    if isinstance(num_samples, bool) or not hasattr(num_samples, "__index__"):
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{type(num_samples).__name__}")
    k = operator.index(num_samples)
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(input.shape)}")
    if k <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n = input.shape[-1]
    if not replacement and k > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement ({k} > {n})")
    if n > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    host = backend.xp_of("cpu")
    weights = backend.to_numpy(input.array).reshape(-1, n).astype(host.float64)
    rows = weights.shape[0]
    if rows and not bool((host.isfinite(weights) & (weights >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not bool((weights.sum(axis=1) > 0).all()) or n == 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:  # inverse CDF: the first category whose cumulative weight exceeds the draw
        cdf = weights.cumsum(axis=1)
        draws = rng.random((rows, k)) * cdf[:, -1:]
        picks = host.zeros((rows, k), dtype=host.int64)
        for r in range(rows):
            picks[r] = host.searchsorted(cdf[r], draws[r], side="right")
        last = n - 1 - host.argmax(weights[:, ::-1] > 0, axis=1)  # rounding never passes it
        picks = host.minimum(picks, last[:, None])
    else:  # successive sampling: the k largest weight / Exp(1) keys (zero weights after, at random)
        e = rng.exponential(size=(rows, n))
        keys = host.where(weights > 0, weights / host.maximum(e, 1e-300), -e)
        picks = host.argsort(-keys, axis=1, kind="stable")[:, :k]
    picks = picks.astype(host.int64).reshape((k,) if input.ndim == 1 else (rows, k))
    return Tensor(backend.to_device(picks, input.device))
