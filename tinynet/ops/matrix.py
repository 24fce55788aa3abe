"""Matrix helpers with PyTorch's strict shape rules: mm, bmm, mv, dot, outer, t, tril, triu,
diag, diagonal, trace.

Unlike ``matmul``, ``mm``/``bmm``/``mv``/``dot`` neither broadcast nor promote 1-D operands: each
checks its operands' shapes and names them when they don't fit. All are built on the existing
differentiable ops, except ``tril``/``triu``, whose backward masks the gradient the same way.
"""

from __future__ import annotations

from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import check_same_dtype, matmul
from tinynet.ops.shape import _normalize_dim, index_put, transpose
from tinynet.tensor import Tensor


def _need(op: str, condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(f"{op}: {message}")


def _shapes(*tensors: Tensor) -> str:
    return " and ".join(str(tuple(t.shape)) for t in tensors)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (n, m) @ (m, p)."""
    _need("mm", input.ndim == 2 and mat2.ndim == 2,
          f"expected two 2-D tensors, got shapes {_shapes(input, mat2)}")
    _need("mm", input.shape[1] == mat2.shape[0],
          f"shapes {_shapes(input, mat2)} cannot be multiplied")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product (b, n, m) @ (b, m, p), without broadcasting."""
    _need("bmm", input.ndim == 3 and mat2.ndim == 3,
          f"expected two 3-D tensors, got shapes {_shapes(input, mat2)}")
    _need("bmm", input.shape[0] == mat2.shape[0] and input.shape[2] == mat2.shape[1],
          f"shapes {_shapes(input, mat2)} cannot be multiplied: expected (b, n, m) and (b, m, p)")
    return matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """The product of a matrix (n, m) and a vector (m,)."""
    _need("mv", input.ndim == 2 and vec.ndim == 1,
          f"expected a 2-D and a 1-D tensor, got shapes {_shapes(input, vec)}")
    _need("mv", input.shape[1] == vec.shape[0], f"shapes {_shapes(input, vec)} cannot be multiplied")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """The inner product of two 1-D tensors of the same length (a 0-d tensor)."""
    _need("dot", input.ndim == 1 and other.ndim == 1,
          f"expected two 1-D tensors, got shapes {_shapes(input, other)}")
    _need("dot", input.shape == other.shape,
          f"expected tensors of the same length, got shapes {_shapes(input, other)}")
    return matmul(input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum over the last dims of both: ``dot`` for vectors, ``input @ other.mT`` in general."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    _need("inner", input.shape[-1] == other.shape[-1],
          f"the last dims of {_shapes(input, other)} must be equal")
    lead = tuple(other.shape[:-1])
    flat = other.reshape(-1, other.shape[-1]).mT
    return matmul(input, flat).reshape(tuple(input.shape[:-1]) + lead)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    _need("outer", input.ndim == 1 and vec2.ndim == 1,
          f"expected two 1-D tensors, got shapes {_shapes(input, vec2)}")
    check_same_dtype("outer", input=input, vec2=vec2)
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def t(input: Tensor) -> Tensor:
    """The transpose of a matrix; 0-d and 1-D tensors come back unchanged, as in PyTorch."""
    _need("t", input.ndim <= 2, f"expects a tensor with <= 2 dimensions, got shape "
                                 f"{tuple(input.shape)}; use transpose(dim0, dim1) or mT")
    return input if input.ndim < 2 else transpose(input, 0, 1)


class Tril(Op):
    """Keep the lower triangle (on and below ``diagonal``) of the last two dims, zero the rest;
    the gradient is masked the same way."""

    saves_inputs = False

    def forward(self, a):
        return backend.get_array_module(a).tril(a, self.diagonal)

    def backward(self, g):
        return (type(self).apply(g, diagonal=self.diagonal),)


class Triu(Tril):
    """Keep the upper triangle (on and above ``diagonal``); the gradient likewise."""

    def forward(self, a):
        return backend.get_array_module(a).triu(a, self.diagonal)


def _triangle(op: type[Tril], input: Tensor, diagonal: int) -> Tensor:
    name = op.__name__.lower()
    _need(name, input.ndim >= 2, f"expected a tensor with at least 2 dims, got shape "
                                 f"{tuple(input.shape)}")
    return op.apply(input, diagonal=int(diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below ``diagonal``) of the last two dims; the rest is zero."""
    return _triangle(Tril, input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above ``diagonal``) of the last two dims; the rest is zero."""
    return _triangle(Triu, input, diagonal)


def _diagonal_indices(xp: Any, rows: int, cols: int, offset: int) -> tuple[Any, Any]:
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    steps = xp.arange(length)
    return steps - min(offset, 0), steps + max(offset, 0)


def _diagonal_view(a: Any, offset: int, dim1: int, dim2: int) -> Any:
    """A strided view of ``a``'s diagonal over ``dim1`` and ``dim2`` (a new last axis), writable,
    where NumPy's ``diagonal`` view is read-only."""
    start = [slice(None)] * a.ndim
    start[dim1], start[dim2] = slice(max(-offset, 0), None), slice(max(offset, 0), None)
    shifted = a[tuple(start)]
    length = max(0, min(shifted.shape[dim1], shifted.shape[dim2]))
    rest = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(shifted.shape[d] for d in rest) + (length,)
    strides = tuple(shifted.strides[d] for d in rest) + (shifted.strides[dim1] + shifted.strides[dim2],)
    return backend.get_array_module(a).lib.stride_tricks.as_strided(shifted, shape, strides)


class Diagonal(Op):
    """The diagonal over ``dim1`` and ``dim2`` as a view of the input (PyTorch's is one too)."""

    saves_inputs = False
    is_view = True

    def forward(self, a):
        self.in_shape = a.shape
        return _diagonal_view(a, self.offset, self.dim1, self.dim2)

    def backward(self, g):
        return (DiagonalBackward.apply(g, offset=self.offset, dim1=self.dim1, dim2=self.dim2,
                                       shape=self.in_shape),)


class DiagonalBackward(Op):
    """Zeros of ``shape`` with ``g`` on the diagonal: the adjoint of Diagonal."""

    saves_inputs = False

    def forward(self, g):
        out = backend.get_array_module(g).zeros(self.shape, dtype=g.dtype)
        _diagonal_view(out, self.offset, self.dim1, self.dim2)[...] = g
        return out

    def backward(self, gg):
        return (Diagonal.apply(gg, offset=self.offset, dim1=self.dim1, dim2=self.dim2),)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the matrices spanned by ``dim1`` and ``dim2``, as the last dim: a view,
    so in-place changes of it reach ``input``, as in PyTorch."""
    d1, d2 = _normalize_dim(dim1, input.ndim, "diagonal"), _normalize_dim(dim2, input.ndim, "diagonal")
    _need("diagonal", d1 != d2, f"dim1 and dim2 must differ, got {dim1} and {dim2}")
    return Diagonal.apply(input, offset=int(offset), dim1=d1, dim2=d2)


_diagonal = diagonal  # diag's parameter is called ``diagonal`` too, as in PyTorch


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor -> a square matrix with it on the ``diagonal``; a matrix -> its diagonal."""
    if input.ndim == 2:
        return _diagonal(input, diagonal).clone()  # a copy, as PyTorch's diag
    _need("diag", input.ndim == 1, f"expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
    size = input.shape[0] + abs(diagonal)
    rows, cols = _diagonal_indices(input.xp, size, size, diagonal)
    zeros = Tensor(input.xp.zeros((size, size), dtype=input.dtype))
    return index_put(zeros, (rows, cols), input)


def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's diagonal."""
    _need("trace", input.ndim == 2, f"expected a 2-D tensor, got shape {tuple(input.shape)}")
    return diagonal(input).sum()

