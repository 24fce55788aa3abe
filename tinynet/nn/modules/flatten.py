"""``Flatten``: merge dims ``start_dim`` to ``end_dim``, by default everything but the batch;
``Unflatten``: split one dim into several again."""

from __future__ import annotations

from collections.abc import Sequence

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


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: the inverse of ``Flatten``.

    >>> nn.Unflatten(1, (2, 5))(tn.zeros(3, 10)).shape
    tinynet.Size([3, 2, 5])
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if isinstance(dim, str) or not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"Unflatten: expected an int dim and a tuple or list of sizes, got "
                            f"dim={dim!r} and unflattened_size={unflattened_size!r} (tinynet has "
                            "no named tensors)")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
