"""``Flatten``: merge dims ``start_dim`` to ``end_dim``, by default everything but the batch."""

from __future__ import annotations

from tinynet.nn.modules.module import Module
from tinynet.tensor import Tensor


class Flatten(Module):
    """(N, C, H, W) → (N, C·H·W) with the defaults; the bridge from conv layers to Linear."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
