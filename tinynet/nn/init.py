"""``tinynet.nn.init``: fill a tensor in place with initial values, as ``torch.nn.init``.

Same names, signatures and fan computations as PyTorch. Random values are drawn on the CPU from
the generator ``tn.manual_seed`` seeds (or from the ``generator=`` given, a ``tn.Generator``), then
copied onto the tensor's device, so one seed gives one model on every device. The numbers are
not PyTorch's (the two libraries' generators differ); their distributions are.

>>> w = tn.zeros(64, 32)
>>> nn.init.kaiming_normal_(w, nonlinearity="relu")   # std = sqrt(2 / 32)
>>> nn.init.orthogonal_(w)                             # w.T @ w = I
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy

from tinynet import backend
from tinynet.autograd import no_grad
from tinynet.generator import numpy_generator
from tinynet.tensor import Tensor

__all__ = [
    "calculate_gain", "constant_", "dirac_", "eye_", "kaiming_normal_", "kaiming_uniform_",
    "normal_", "ones_", "orthogonal_", "sparse_", "trunc_normal_", "uniform_", "xavier_normal_",
    "xavier_uniform_", "zeros_",
    # deprecated aliases, as in PyTorch
    "constant", "dirac", "eye", "kaiming_normal", "kaiming_uniform", "normal", "orthogonal",
    "sparse", "uniform", "xavier_normal", "xavier_uniform",
]

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh),
    sqrt(2) (relu), sqrt(2 / (1 + slope²)) (leaky_relu), 3/4 (selu)."""
    if nonlinearity in _LINEAR_LIKE:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """fan_in = inputs × receptive field, fan_out = outputs × receptive field.

    A Linear weight is (out, in); a Conv2d weight is (out, in, kh, kw), whose receptive field
    is kh·kw.
    """
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions, got shape {tuple(tensor.shape)}")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _rng(generator: Any, function: str, tensor: Tensor) -> numpy.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the shared one (``tn.manual_seed``).
    Random fills are for floating tensors, as in PyTorch: an integer one is refused."""
    if tensor.dtype.kind not in "fc":
        raise NotImplementedError(f"nn.init.{function}: random fills are not implemented for "
                                  f"{tensor.dtype} tensors; use a floating tensor")
    return numpy_generator(generator, f"nn.init.{function}")


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write the CPU array ``values`` into ``tensor`` in place (cast, moved to its device)."""
    with no_grad():
        tensor.copy_(Tensor(backend.to_device(numpy.asarray(values).astype(tensor.dtype),
                                              tensor.device)))
    return tensor


def _shape(tensor: Tensor) -> tuple[int, ...]:
    return tuple(int(n) for n in tensor.shape)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with values drawn from U(a, b)."""
    return _fill(tensor, _rng(generator, "uniform_", tensor).uniform(a, b, size=_shape(tensor)))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with values drawn from N(mean, std²)."""
    return _fill(tensor, _rng(generator, "normal_", tensor).normal(mean, std, size=_shape(tensor)))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """Fill with values drawn from N(mean, std²) truncated to [a, b] (values outside are drawn
    again), as PyTorch's ``trunc_normal_``; works best when a <= mean <= b."""

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    rng = _rng(generator, "trunc_normal_", tensor)
    shape, dtype = _shape(tensor), tensor.dtype
    lo, hi = numpy.asarray(a).astype(dtype), numpy.asarray(b).astype(dtype)  # the bounds as stored
    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    if p > 0.3:  # draw normals, draw again those outside [a, b]
        values = rng.normal(mean, std, size=shape).astype(dtype)
        outside = (values < lo) | (values > hi)
        while outside.any():
            values[outside] = rng.normal(mean, std, size=int(outside.sum())).astype(dtype)
            outside = (values < lo) | (values > hi)
    else:  # a narrow window: uniform proposals on [a, b], accepted with the normal's density
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        values = numpy.empty(shape, dtype=dtype)
        pending = numpy.ones(shape, dtype=bool)
        while pending.any():
            n = int(pending.sum())
            candidates = rng.uniform(a, b, size=n)
            log_density = -0.5 * ((candidates - mean) / std) ** 2 - log_peak
            accept = numpy.log(rng.uniform(size=n)) <= log_density
            accepted = candidates.astype(dtype)
            accept &= (accepted >= lo) & (accepted <= hi)
            index = numpy.flatnonzero(pending)[accept]
            values.reshape(-1)[index] = accepted[accept]
            pending.reshape(-1)[index] = False
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal of a non-square one),
    which keeps as many inputs of a Linear layer as it can."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, numpy.eye(*_shape(tensor)))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: the convolution then keeps
    as many input channels as it can (per group with ``groups > 1``)."""
    dimensions = tensor.ndim
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = _shape(tensor)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    values = numpy.zeros(sizes)
    centre = tuple(n // 2 for n in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_chans_per_grp + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain · sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # a uniform on [-bound, bound] has this std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain · sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He uniform: U(-bound, bound), bound = gain · sqrt(3 / fan).

    ``a`` is the negative slope of the leaky_relu that follows. PyTorch's Linear and Conv2d
    use ``a=sqrt(5)``, which makes the bound exactly 1/sqrt(fan_in).
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He normal: N(0, std²), std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Any = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``: the rows (or, for a wide matrix, the
    columns) are orthonormal. Dimensions after the first are flattened; at least 2 are needed.

    As PyTorch: the QR factorisation of a standard normal matrix, with the signs of R's diagonal
    moved into Q so that Q is uniformly (Haar) distributed.
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = int(tensor.shape[0])
    cols = tensor.numel() // rows
    flattened = _rng(generator, "orthogonal_", tensor).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = numpy.linalg.qr(flattened)
    q = q * numpy.sign(numpy.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(_shape(tensor)))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> Tensor:
    """Fill a 2-D tensor with N(0, std²) values, then zero ``ceil(sparsity · rows)`` randomly
    chosen entries in each column (Martens, 2010)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = _shape(tensor)
    num_zeros = math.ceil(sparsity * rows)
    rng = _rng(generator, "sparse_", tensor)
    values = rng.normal(0.0, std, size=(rows, cols))
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0
    return _fill(tensor, values)


def _make_deprecate(meth: Callable[..., Tensor]) -> Callable[..., Tensor]:
    new_name = meth.__name__
    old_name = new_name[:-1]

    @functools.wraps(meth)
    def deprecated_init(*args: Any, **kwargs: Any) -> Tensor:
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"Deprecated alias of ``{new_name}`` (warns, as PyTorch's)."
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
