"""``einsum``: products and sums written as index equations (``'bij,bjk->bik'``).

The equation is first made explicit (implicit outputs, ``...`` and size-1 broadcasting spelled out
with letters and ``broadcast_to``), so that the op sees operands whose letters all agree in size.
The gradient of operand i is then an einsum of the output's gradient with the other operands,
giving operand i's letters; letters summed over operand i alone are broadcast back, and a letter
repeated in operand i (``'ii->i'``, a diagonal) is placed on that diagonal by an identity matrix.
So every order of derivative is another einsum.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from tinynet import backend
from tinynet.autograd import Op
from tinynet.ops.arithmetic import check_same_dtype
from tinynet.ops.shape import broadcast_to, reshape
from tinynet.tensor import Tensor

LETTERS = string.ascii_letters


class Einsum(Op):
    """An explicit equation over operands whose letters agree in size."""

    def forward(self, *arrays):
        return backend.get_array_module(arrays[0]).einsum(self.equation, *arrays)

    def backward(self, g):
        inputs, output = self.equation.split("->")
        terms = inputs.split(",")
        grads = []
        for i, t in enumerate(self.inputs):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(terms[j], self.inputs[j]) for j in range(len(terms)) if j != i]
            grads.append(_operand_gradient(terms[i], t, output, g, others))
        return tuple(grads)


def _operand_gradient(term: str, operand: Tensor, output: str, g: Tensor,
                      others: list[tuple[str, Tensor]]) -> Tensor:
    sizes = dict(zip(term, operand.shape))
    unique = "".join(dict.fromkeys(term))
    reachable = set(output).union(*[set(t) for t, _ in others])
    kept = "".join(c for c in unique if c in reachable)
    grad = explicit_einsum(",".join([output] + [t for t, _ in others]) + "->" + kept,
                           [g] + [o for _, o in others])
    if kept != unique:  # letters summed over this operand alone: their gradient is broadcast
        shape = [sizes[c] if c in kept else 1 for c in unique]
        grad = broadcast_to(reshape(grad, shape), [sizes[c] for c in unique])
    if unique == term:
        return grad
    # a repeated letter: the gradient lives on that diagonal, one identity matrix per repeat
    fresh = iter(c for c in LETTERS if c not in term)
    renamed, seen, eyes, factors = [], set(), [], []
    for c in term:
        if c in seen:
            new = next(fresh)
            eyes.append(c + new)
            factors.append(Tensor(operand.xp.eye(sizes[c], dtype=g.dtype)))
            renamed.append(new)
        else:
            seen.add(c)
            renamed.append(c)
    return explicit_einsum(",".join([unique] + eyes) + "->" + "".join(renamed), [grad] + factors)


def explicit_einsum(equation: str, operands: Sequence[Tensor]) -> Tensor:
    return Einsum.apply(*operands, equation=equation)


def _parse(equation: str, operands: Sequence[Tensor]) -> tuple[list[str], str]:
    """The terms and output with ``...`` replaced by letters, and the output made explicit."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} operands, "
                         f"got {len(operands)} tensors")
    letters = set(equation) - set(".,->")
    if not letters <= set(LETTERS):
        raise ValueError(f"einsum: subscripts must be letters, got {sorted(letters - set(LETTERS))}")
    spare = [c for c in LETTERS if c not in letters]
    ellipsis_dims = 0
    for term, t in zip(terms, operands):
        named = len(term.replace("...", ""))
        if ("..." in term and t.ndim < named) or ("..." not in term and t.ndim != named):
            raise ValueError(f"einsum: the term {term!r} does not fit an operand of shape "
                             f"{tuple(t.shape)}")
        if "..." in term:
            ellipsis_dims = max(ellipsis_dims, t.ndim - named)
    ellipsis = "".join(spare[:ellipsis_dims])
    # each operand's broadcast dims are the last of the ellipsis letters (right-aligned)
    terms = [term.replace("...", ellipsis[len(ellipsis) - (t.ndim - len(term) + 3):])
             for term, t in zip(terms, operands)]
    if arrow:
        output = output.replace("...", ellipsis)
    else:  # implicit: the broadcast dims, then the letters used once, in alphabetical order
        counts = "".join(terms)
        output = ellipsis + "".join(sorted(c for c in set(counts) - set(ellipsis)
                                           if counts.count(c) == 1))
    if len(set(output)) != len(output) or not set(output) <= set("".join(terms)):
        raise ValueError(f"einsum: the output {output!r} must name distinct letters of the inputs")
    return terms, output


def einsum(equation: str, *operands: Any) -> Tensor:
    """Sum of products given by an index equation, as ``torch.einsum``:
    ``einsum('ij,jk->ik', a, b)`` is ``a @ b``, ``einsum('ii', a)`` the trace, ``einsum('bi,bi->b',
    x, y)`` row-wise dot products. ``...`` stands for broadcast dims; without ``->`` the output
    is the letters used once, in alphabetical order. Size-1 dims broadcast."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, output = _parse(equation, operands)
    check_same_dtype("einsum", **{f"operand {i}": t for i, t in enumerate(operands)})
    sizes: dict[str, int] = {}
    for term, t in zip(terms, operands):
        for c, n in zip(term, t.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ValueError(f"einsum: letter {c!r} has sizes {sizes[c]} and {n} in "
                                 f"{equation!r} (shapes {[tuple(o.shape) for o in operands]})")
            sizes[c] = max(sizes.get(c, 1), n)
    expanded = [broadcast_to(t, [sizes[c] for c in term]) for term, t in zip(terms, operands)]
    return explicit_einsum(",".join(terms) + "->" + output, expanded)
