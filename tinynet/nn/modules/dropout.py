"""``Dropout``: zero random elements while training, pass everything through in eval mode."""

from __future__ import annotations

from tinynet.nn import functional as F
from tinynet.nn.modules.module import Module
from tinynet.tensor import Tensor


class Dropout(Module):
    """In training mode zero each element with probability ``p`` and scale the survivors by
    1/(1-p), so the expected output equals the input; in eval mode return the input as is.

    >>> drop = nn.Dropout(0.2)
    >>> drop.eval()(x) is x
    True
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p has to be between 0 and 1, got {p}")
        self.p = p

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
