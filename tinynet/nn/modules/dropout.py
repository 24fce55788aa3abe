"""``Dropout``, ``Dropout1d``, ``Dropout2d`` and ``Dropout3d``: zero random elements (or whole
channels) while training, pass everything through in eval mode."""

from __future__ import annotations

from tinynet.nn import functional as F
from tinynet.nn.modules.module import Module
from tinynet.tensor import Tensor


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and "
                             f"1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode zero each element with probability ``p`` and scale the survivors by
    1/(1-p), so the expected output equals the input; in eval mode return the input as is.

    >>> drop = nn.Dropout(0.2)
    >>> drop.eval()(x) is x
    True
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Like ``Dropout``, but zeroing whole channels of an (N, C, H, W) input (neighbouring
    pixels are correlated, so dropping single ones regularises little)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Like ``Dropout2d``, for (N, C, L) or (C, L) sequences: whole channels are zeroed."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Like ``Dropout2d``, for (N, C, D, H, W) or (C, D, H, W) volumes: whole channels are
    zeroed."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value, and
    an affine map keeps the mean and variance of a standard normal input (training only)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """``AlphaDropout`` of whole channels of an (N, C, …) input."""

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
