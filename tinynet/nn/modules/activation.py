"""Activation layers: each one calls its function in ``tinynet.nn.functional``."""

from __future__ import annotations

from tinynet.nn import functional as F
from tinynet.nn.modules.module import Module
from tinynet.tensor import Tensor


class ReLU(Module):
    """max(0, x)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class LeakyReLU(Module):
    """x for x > 0, else negative_slope · x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, else alpha · (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """The hyperbolic tangent, (eˣ - e⁻ˣ) / (eˣ + e⁻ˣ)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class _AlongDim(Module):
    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        if dim is None:  # PyTorch guesses a dim here (deprecated); guessing hides bugs
            raise TypeError(f"{type(self).__name__}: pass the dim to normalise over, "
                            f"e.g. {type(self).__name__}(dim=1) for (N, C) scores")
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """exp(x) / sum(exp(x)) along ``dim``: probabilities that sum to 1."""

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)


class LogSoftmax(_AlongDim):
    """log(softmax(x)) along ``dim``, computed stably; pair with ``nn.NLLLoss``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)
