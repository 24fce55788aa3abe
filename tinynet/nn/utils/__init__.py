"""``tinynet.nn.utils``: count parameters, flatten them to one vector and back, clip gradients;
``tinynet.nn.utils.rnn``: pad or pack variable-length sequences for the recurrent layers;
``parametrize``, ``parametrizations.weight_norm``/``spectral_norm`` and PyTorch's older
hook-based ``weight_norm``/``spectral_norm``, with PyTorch's parameter names.

>>> nn.utils.count_parameters(nn.Linear(10, 5))
55
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tinynet import backend
from tinynet.autograd.engine import bump_version, writable_in_place
from tinynet.nn.modules.module import Module
from tinynet.ops import cat
from tinynet.tensor import Tensor
from tinynet.nn.utils import rnn
from tinynet.nn.utils import parametrize
from tinynet.nn.utils import parametrizations
from tinynet.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from tinynet.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "count_parameters", "parameters_to_vector",
           "parametrizations", "parametrize", "remove_spectral_norm", "remove_weight_norm", "rnn",
           "spectral_norm", "vector_to_parameters", "weight_norm"]


def count_parameters(module: Module) -> int:
    """The number of learnable numbers in ``module`` (a parameter shared by two layers counts
    once).

    >>> nn.utils.count_parameters(nn.Sequential(nn.Linear(1, 190), nn.LeakyReLU(), nn.Linear(190, 1)))
    571
    """
    if not isinstance(module, Module):
        raise TypeError(f"count_parameters: expected an nn.Module, got {type(module).__name__}")
    return sum(param.numel() for param in module.parameters())


def _as_list(parameters: Tensor | Iterable[Tensor], fn: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: expected Tensors, got {type(p).__name__}")
    return params


def parameters_to_vector(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor, in order.

    It is differentiable: the vector is built with tinynet ops, so gradients flow back to the
    parameters (useful for Hessian work and for interpolating between two models).
    """
    params = _as_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise RuntimeError(f"parameters_to_vector: parameters are on different devices: "
                           f"{sorted(devices)}")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Tensor | Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place.

    The inverse of ``parameters_to_vector``. Unlike PyTorch, the parameters get copies, not
    views of ``vec``, so changing ``vec`` later leaves the model alone.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = _as_list(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: vec has shape {tuple(vec.shape)} but the "
                         f"parameters hold {total} numbers: expected shape ({total},)")
    offset = 0
    for p in params:
        n = p.numel()
        piece = vec.array[offset:offset + n].reshape(p.shape)
        p.array[...] = backend.to_device(piece, p.device)
        bump_version(p)
        offset += n


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients so that their total norm (all of them as one vector) is at most
    ``max_norm``; return the total norm before clipping.

    As in PyTorch, each ``.grad`` is scaled in place (and moves to its next version): a
    reference to it held elsewhere sees the clipped values.

    >>> loss.backward()
    >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> optimizer.step()
    """
    if not max_norm >= 0:  # PyTorch would flip every gradient's sign; NaN fails this too
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm} (a negative bound "
                         "would reverse the gradients)")
    params = [p for p in _as_list(parameters, "clip_grad_norm_") if p.grad is not None]
    norm_type = float(norm_type)
    if not params:
        return Tensor(backend.xp_of("cpu").asarray(0.0, dtype=backend.default_float))
    grads = [p.grad.array for p in params]
    xp = backend.get_array_module(grads[0])
    # The norm stays a 0-d array and every gradient is scaled by min(1, coefficient), as PyTorch
    # does: no value is read, which on a GPU would be a sync per parameter.
    if math.isinf(norm_type):
        total = xp.stack([xp.abs(g).max() if g.size else xp.zeros((), g.dtype) for g in grads]).max()
    else:
        total = sum((xp.abs(g) ** norm_type).sum() for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients "
                           "is non-finite, so it cannot be clipped; pass error_if_nonfinite=False "
                           "to scale them by it anyway")
    coefficient = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for p in params:
        if writable_in_place(p.grad.array):
            p.grad.array *= coefficient.astype(p.grad.dtype)
            bump_version(p.grad)
        else:  # a broadcast or read-only view set as the gradient: a scaled copy replaces it
            p.grad = Tensor(p.grad.array * coefficient.astype(p.grad.dtype))
    return Tensor(xp.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place, as PyTorch's
    ``clip_grad_value_`` (``foreach`` is accepted and changes nothing here).

    >>> loss.backward()
    >>> nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:  # PyTorch would set every element to -clip_value; NaN fails too
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value} (the "
                         "bounds [-clip_value, clip_value] would be empty)")
    for p in _as_list(parameters, "clip_grad_value_"):
        if p.grad is None:
            continue
        if writable_in_place(p.grad.array):
            p.grad.xp.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)
            bump_version(p.grad)
        else:  # a broadcast or read-only view set as the gradient: a clamped copy replaces it
            p.grad = Tensor(p.grad.xp.clip(p.grad.array, -clip_value, clip_value))
