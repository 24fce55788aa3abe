"""More in-place ops: ``scatter_``, ``scatter_add_``, ``index_add_``, ``index_fill_``,
``index_copy_``, ``addcmul_``, ``addcdiv_`` and ``fmod_`` (``bernoulli_`` is in ``sampling.py``).

Each is its out-of-place op run through ``inplace.inplace``, so it follows tinynet's in-place
rules exactly as ``add_`` does: the tensor's memory is written (its views see the change), its
version goes up by one, a leaf that requires grad refuses under grad mode, and under grad mode
the tensor takes the result's ``grad_fn`` (so the op is differentiable where the out-of-place
op is). Tensor arguments that require grad are passed on to ``inplace`` so that it records them.
"""

from __future__ import annotations

from typing import Any

from tinynet.ops import indexing, more_math
from tinynet.ops.inplace import inplace
from tinynet.tensor import Tensor


def scatter_(t: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    """In place: ``t.scatter(dim, index, src or value, reduce=reduce)`` (see ``tn.scatter``)."""
    if (src is None) == (value is None):
        raise TypeError("scatter_: give exactly one of src and value")
    if isinstance(src, Tensor):
        return inplace("scatter_", t, lambda a, s: indexing._scatter(
            "scatter_", a, dim, index, s, None, reduce), src)
    number = value if src is None else src
    return inplace("scatter_", t, lambda a: indexing._scatter(
        "scatter_", a, dim, index, None, number, reduce))


def scatter_add_(t: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """In place: ``t.scatter_add(dim, index, src)``; repeated indices add up."""
    return inplace("scatter_add_", t, lambda a, s: indexing.scatter_add(a, dim, index, s), src)


def index_add_(t: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """In place: ``t.index_add(dim, index, source, alpha=alpha)``."""
    return inplace("index_add_", t, lambda a, s: indexing.index_add(a, dim, index, s, alpha=alpha),
                   source)


def index_fill_(t: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """In place: ``t.index_fill(dim, index, value)``."""
    return inplace("index_fill_", t, lambda a, v: indexing.index_fill(a, dim, index, v), value)


def index_copy_(t: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """In place: ``t.index_copy(dim, index, source)``."""
    return inplace("index_copy_", t, lambda a, s: indexing.index_copy(a, dim, index, s), source)


def addcmul_(t: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In place: ``t += value * tensor1 * tensor2``."""
    more_math.check_tensors("addcmul_", tensor1, tensor2)
    return inplace("addcmul_", t, lambda a, b, c: more_math.addcmul(a, b, c, value=value),
                   tensor1, tensor2)


def addcdiv_(t: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In place: ``t += value * tensor1 / tensor2``."""
    more_math.check_tensors("addcdiv_", tensor1, tensor2)
    return inplace("addcdiv_", t, lambda a, b, c: more_math.addcdiv(a, b, c, value=value),
                   tensor1, tensor2)


def fmod_(t: Tensor, other: Any) -> Tensor:
    """In place: ``t = fmod(t, other)``."""
    return inplace("fmod_", t, more_math.fmod, other)
