"""``batch_norm`` and ``instance_norm`` of ``tinynet.nn.functional``: normalisation with
statistics of the batch (per channel) or of each sample (per sample and channel), and running
statistics that follow them, as PyTorch's.

With the input's statistics, y = (x - mean) / sqrt(var + eps) · weight + bias, with the biased
variance; running statistics passed in move towards the batch's, with the unbiased variance:
running = (1 - momentum) · running + momentum · batch (instance norm: averaged over the
samples). Without them, the running statistics take the batch's place. Everything on the
gradient path is tinynet ops, so double backward works; the running statistics change in place,
outside the graph.

>>> running_mean, running_var = tn.zeros(3), tn.ones(3)
>>> y = F.batch_norm(tn.randn(8, 3), running_mean, running_var, training=True)
"""

from __future__ import annotations

from typing import Any

from tinynet import strides
from tinynet.autograd.engine import bump_version
from tinynet.tensor import Tensor

__all__ = ["batch_norm", "instance_norm"]


def _normalise(input: Tensor, dims: tuple[int, ...], stats_shape: tuple[int, ...],
               use_input_stats: bool, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None, bias: Tensor | None, momentum: Any, eps: float,
               op: str) -> Tensor:
    """The normalisation both share: the statistics over ``dims`` (each kept in the shape
    ``stats_shape``, the running statistics' length in dim 1) or the running ones, then the
    per-channel affine map."""
    channels = input.shape[1]
    channel_shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        count = 1
        for d in dims:
            count *= input.shape[d]
        if count <= 1:
            what = "value per channel" if op == "batch_norm" else "spatial element"
            raise ValueError(f"{op}: Expected more than 1 {what} when training, got input size "
                             f"{list(input.shape)}")
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)  # biased, as PyTorch normalises
        if running_mean is not None or running_var is not None:
            _update_running(running_mean, running_var, mean.array.reshape(stats_shape),
                            var.array.reshape(stats_shape) * (count / max(count - 1, 1)),
                            momentum)
        inv_std = (var + eps) ** -0.5
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError(f"{op}: running_mean and running_var must be given when the "
                               "input's own statistics are not used")
        centered = input - running_mean.reshape(channel_shape)
        inv_std = ((running_var + eps) ** -0.5).reshape(channel_shape)
    if weight is not None:  # weight · inv_std is small: folding it first saves a full multiply
        inv_std = inv_std * weight.reshape(channel_shape)
    out = centered * inv_std
    return out if bias is None else out + bias.reshape(channel_shape)


def _update_running(running_mean: Tensor | None, running_var: Tensor | None, mean: Any,
                    unbiased_var: Any, momentum: Any) -> None:
    """running ← (1 - m)·running + m·batch on the raw arrays (no graph), averaged over the
    leading (sample) axis of the statistics when they are per sample."""
    if mean.ndim > 1:
        mean, unbiased_var = mean.mean(0), unbiased_var.mean(0)
    for running, batch in ((running_mean, mean), (running_var, unbiased_var)):
        if running is not None:
            running.array *= 1 - momentum
            running.array += momentum * batch
            bump_version(running)


def _check_channels(op: str, input: Tensor, **per_channel: Tensor | None) -> None:
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of at least 2 dims (N, C, …), got shape "
                         f"{tuple(input.shape)}")
    for name, t in per_channel.items():
        if t is not None and tuple(t.shape) != (input.shape[1],):
            raise RuntimeError(f"{op}: {name} should have {input.shape[1]} elements, one per "
                               f"channel of the input of shape {tuple(input.shape)}, got shape "
                               f"{tuple(t.shape)}")


@strides.contiguous_result
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of (N, C, …) input over the batch and positions:
    ``training`` uses the batch's statistics (and moves the running ones, when given, towards
    them), otherwise the running ones."""
    _check_channels("batch_norm", input, running_mean=running_mean, running_var=running_var,
                    weight=weight, bias=bias)
    dims = (0,) + tuple(range(2, input.ndim))
    return _normalise(input, dims, (input.shape[1],), training, running_mean, running_var,
                      weight, bias, momentum, eps, "batch_norm")


@strides.contiguous_result
def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of (N, C, …) input over its positions (style
    transfer's normalisation): with ``use_input_stats`` the sample's own statistics (the
    running ones, when given, move towards their average over the batch), otherwise the
    running ones."""
    _check_channels("instance_norm", input, running_mean=running_mean, running_var=running_var,
                    weight=weight, bias=bias)
    dims = tuple(range(2, input.ndim))
    return _normalise(input, dims, tuple(input.shape[:2]), use_input_stats, running_mean,
                      running_var, weight, bias, momentum, eps, "instance_norm")
