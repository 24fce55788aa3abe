"""Recurrent layers, as PyTorch's: ``RNN``, ``LSTM`` and ``GRU`` (several layers, both
directions, ``batch_first``, dropout between layers), and their one-step cells ``RNNCell``,
``LSTMCell`` and ``GRUCell``.

They take a padded batch or a ``PackedSequence`` (``tinynet.nn.utils.rnn``), whose sequences
each run for their own length. Each is its textbook recurrence written in tinynet ops, so
backpropagation through time (and its second derivatives) comes from the ops. The input's part
of every gate, x·W_ihᵀ + b_ih, is one matrix product over the whole sequence before the loop
over time; each step then adds h·W_hhᵀ + b_hh. Parameter names, shapes, gate order and
initialisation (uniform in ±1/sqrt(hidden_size)) are PyTorch's, so a ``state_dict`` moves
between the two.

>>> lstm = nn.LSTM(input_size=10, hidden_size=20, num_layers=2)
>>> output, (h_n, c_n) = lstm(tn.randn(5, 3, 10))   # (time, batch, features)
>>> output.shape, h_n.shape
(tinynet.Size([5, 3, 20]), tinynet.Size([2, 3, 20]))
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from tinynet.nn import functional as F
from tinynet.nn import init
from tinynet.nn.modules.linear import check_size, empty_parameter, to_chosen_device
from tinynet.nn.modules.module import Module
from tinynet.nn.utils.rnn import PackedSequence
from tinynet.factories import zeros
from tinynet.ops import cat, relu, sigmoid, stack, tanh
from tinynet.tensor import Tensor

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # gate blocks in each weight


def _step(mode: str, x_part: Tensor, h: Tensor, c: Tensor | None, w_hh: Tensor,
          b_hh: Tensor | None, w_hr: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """One step of the recurrence from the input's part of the gates (x·W_ihᵀ + b_ih), the
    hidden state ``h`` and, for an LSTM, the cell state ``c``: returns the new (h, c). An LSTM
    with projections (``w_hr``) projects its new hidden state down to ``proj_size``."""
    h_part = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":  # gates in PyTorch's order: input, forget, cell, output
        i, f, g, o = (x_part + h_part).chunk(4, -1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h = sigmoid(o) * tanh(c)
        return (h if w_hr is None else F.linear(h, w_hr)), c
    if mode == "GRU":  # reset, update, new; the reset gate scales the hidden part of "new"
        x_r, x_z, x_n = x_part.chunk(3, -1)
        h_r, h_z, h_n = h_part.chunk(3, -1)
        r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
        n = tanh(x_n + r * h_n)
        return (1 - z) * n + z * h, None
    pre = x_part + h_part
    return (tanh(pre) if mode == "RNN_TANH" else relu(pre)), None


def _reset_uniform(module: Module, hidden_size: int) -> None:
    """PyTorch's initialisation of recurrent layers: every parameter U(±1/sqrt(hidden_size))."""
    bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for parameter in module.parameters():
        init.uniform_(parameter, -bound, bound)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters of every layer and direction,
    and the loop over layers, directions and time."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_size(name, input_size=input_size, hidden_size=hidden_size)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", UserWarning,
                          stacklevel=3)
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             f"projections, got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size > 0:
            raise ValueError(f"proj_size has to be smaller than hidden_size, got proj_size="
                             f"{proj_size} and hidden_size={hidden_size}")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gates, state_size = _GATES[mode] * self.hidden_size, proj_size or self.hidden_size
        # per layer and direction: its parameters' names (w_ih, w_hh, b_ih, b_hh, w_hr), or None
        self._names: list[tuple[str | None, ...]] = []
        for layer in range(num_layers):
            layer_input = self.input_size if layer == 0 else state_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}", f"bias_ih{suffix}",
                         f"bias_hh{suffix}", f"weight_hr{suffix}"]
                shapes = [(gates, layer_input), (gates, state_size), (gates,), (gates,),
                          (proj_size, self.hidden_size)]
                if not bias:
                    names[2] = names[3] = None
                if not proj_size:
                    names[4] = None
                for key, shape in zip(names, shapes):  # in PyTorch's order
                    if key is not None:
                        self.register_parameter(key, empty_parameter(shape, dtype))
                self._names.append(tuple(names))
        self.reset_parameters()
        to_chosen_device(self, device)

    def reset_parameters(self) -> None:
        """Draw fresh initial values, U(±1/sqrt(hidden_size)) (seeded by ``tn.manual_seed``)."""
        _reset_uniform(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights for cuDNN here; tinynet has nothing to pack, so this does
        nothing (programs that call it run unchanged)."""

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> Any:
        name, lstm = type(self).__name__, self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected the input as a Tensor or a PackedSequence, got "
                            f"{type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        batched = input.ndim == 3
        sequence = (input.transpose(0, 1) if self.batch_first else input) if batched \
            else input.unsqueeze(1)  # (time, batch, features) from here on
        self._check_features(sequence)
        if sequence.shape[0] == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN")
        steps, batch = sequence.shape[:2]
        h0, c0 = self._initial_states(hx, sequence, batch, batched)
        data, h_last, c_last = self._layers(sequence.reshape(steps * batch, self.input_size),
                                            [batch] * steps, h0, c0)
        output = data.reshape(steps, batch, data.shape[-1])
        if not batched:
            output, h_last = output.squeeze(1), h_last.squeeze(1)
            c_last = c_last.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_last, c_last)) if lstm else (output, h_last)

    def _forward_packed(self, input: PackedSequence, hx: Any) -> Any:
        """Each sequence of the pack runs for its own length: at step t only the first
        ``batch_sizes[t]`` sequences (the pack's order is longest first) take a step, and the
        others keep their state. Returns a PackedSequence and the states in the original order."""
        self._check_features(input.data, packed=True)
        lstm = self.mode == "LSTM"
        batch_sizes = [int(size) for size in input.batch_sizes.tolist()]
        sort, unsort = input.sorted_indices, input.unsorted_indices
        h0, c0 = self._initial_states(hx, input.data, batch_sizes[0], True)
        if sort is not None and hx is not None:  # in the caller's order, as the batch was
            h0, c0 = h0[:, sort], (c0[:, sort] if lstm else None)
        data, h_last, c_last = self._layers(input.data, batch_sizes, h0, c0)
        if unsort is not None:
            h_last, c_last = h_last[:, unsort], (c_last[:, unsort] if lstm else None)
        output = PackedSequence(data, input.batch_sizes, sort, unsort)
        return (output, (h_last, c_last)) if lstm else (output, h_last)

    def _check_features(self, sequence: Tensor, packed: bool = False) -> None:
        if packed and sequence.ndim != 2:
            raise RuntimeError(f"{type(self).__name__}: the data of a PackedSequence must have 2 "
                               f"dimensions (steps, features), got {sequence.ndim}")
        if sequence.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {sequence.shape[-1]}")

    def _layers(self, data: Tensor, batch_sizes: list[int], h0: Tensor, c0: Tensor | None
                ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Every layer and direction over the steps in ``data`` (time-major rows, the
        ``batch_sizes[t]`` rows of step t together): (the last layer's output rows, h_n, c_n)."""
        lstm, directions = self.mode == "LSTM", 2 if self.bidirectional else 1
        starts = [sum(batch_sizes[:t]) for t in range(len(batch_sizes))]
        params, layer_input, h_n, c_n = self._parameters, data, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = (params[key] if key else None
                                                for key in self._names[index])
                x_parts = F.linear(layer_input, w_ih, b_ih)  # every step's input part at once
                h, c = h0[index], (c0[index] if lstm else None)
                steps = range(len(batch_sizes))
                states: list[Any] = [None] * len(batch_sizes)
                for t in (steps if direction == 0 else reversed(steps)):
                    size, start = batch_sizes[t], starts[t]
                    if size == h.shape[0]:
                        h, c = _step(self.mode, x_parts[start:start + size], h, c, w_hh, b_hh,
                                     w_hr)
                        states[t] = h
                        continue
                    # fewer sequences have step t: the others keep their state (going forward,
                    # the ones that ended; going backward, the ones that have not begun)
                    new_h, new_c = _step(self.mode, x_parts[start:start + size], h[:size],
                                         c[:size] if lstm else None, w_hh, b_hh, w_hr)
                    states[t] = new_h
                    h = cat([new_h, h[size:]])
                    c = cat([new_c, c[size:]]) if lstm else None
                outputs.append(cat(states))
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        return layer_input, stack(h_n), (stack(c_n) if lstm else None)

    def _initial_states(self, hx: Any, like: Tensor, batch: int, batched: bool
                        ) -> tuple[Any, Any]:
        """(h0, c0) as (layers·directions, batch, hidden), h0's last size ``proj_size`` when
        set: the given ones, checked, or zeros of ``like``'s dtype and device."""
        layers = (2 if self.bidirectional else 1) * self.num_layers
        shapes = [(layers, batch, self.proj_size or self.hidden_size),
                  (layers, batch, self.hidden_size)]
        lstm = self.mode == "LSTM"
        if hx is None:
            h0, c0 = (zeros(*shape, dtype=like.dtype, device=like.device) for shape in shapes)
            return h0, (c0 if lstm else None)
        states = list(hx) if lstm else [hx]
        if lstm and len(states) != 2:
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {len(states)} tensors")
        for i, (state, shape) in enumerate(zip(states, shapes)):
            state = state if batched else state.unsqueeze(1)
            if tuple(state.shape) != shape:
                where = f"hidden[{i}]" if lstm else "hidden"
                given = list(state.shape if batched else states[i].shape)
                wanted = shape if batched else (shape[0], shape[2])
                raise RuntimeError(f"Expected {where} size {wanted}, got {given}")
            states[i] = state
        return states[0], (states[1] if lstm else None)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        for key, default in (("proj_size", 0), ("num_layers", 1), ("bias", True), ("batch_first", False),
                             ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_(t-1) W_hhᵀ + b_hh) (or ``relu``).

    Input (L, N, input_size), or (N, L, input_size) with ``batch_first``, or unbatched
    (L, input_size); returns (output of every step, h_n of every layer and direction).

    >>> output, h_n = nn.RNN(4, 8)(tn.randn(6, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: str | None = None,
                 dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: input, forget, cell and output gates update a cell state c and
    the hidden state h = o·tanh(c). Returns (output, (h_n, c_n)); ``hx`` is (h_0, c_0). With
    ``proj_size`` > 0 the hidden state is projected, h = W_hr·(o·tanh(c)), to that size (the
    parameters ``weight_hr_l{k}``), so the output and h_n have ``proj_size`` features.

    >>> output, (h_n, c_n) = nn.LSTM(4, 8, batch_first=True)(tn.randn(2, 6, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: str | None = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: reset and update gates mix the previous hidden state with a new
    candidate, h = (1 - z)·n + z·h_prev. Returns (output, h_n).

    >>> output, h_n = nn.GRU(4, 8, num_layers=2)(tn.randn(6, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class RNNCellBase(Module):
    """One step of a recurrent layer, for loops written by hand: ``weight_ih``, ``weight_hh``
    and the two biases, as PyTorch's cells."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool,
                 device: str | None, dtype: Any) -> None:
        super().__init__()
        check_size(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.bias = bias
        gates = _GATES[mode] * self.hidden_size
        self.weight_ih = empty_parameter((gates, self.input_size), dtype)
        self.weight_hh = empty_parameter((gates, self.hidden_size), dtype)
        for key in ("bias_ih", "bias_hh"):
            self.register_parameter(key, empty_parameter((gates,), dtype) if bias else None)
        self.reset_parameters()
        to_chosen_device(self, device)

    def reset_parameters(self) -> None:
        """Draw fresh initial values, U(±1/sqrt(hidden_size)) (seeded by ``tn.manual_seed``)."""
        _reset_uniform(self, self.hidden_size)

    def _run(self, input: Tensor, hx: Any) -> tuple[Tensor, Tensor | None]:
        name, lstm = type(self).__name__, self.mode == "LSTM"
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            start = zeros(*shape, dtype=x.dtype, device=x.device)
            h, c = start, start
        else:
            states = [s if batched else s.unsqueeze(0) for s in (hx if lstm else (hx,))]
            for state in states:
                if tuple(state.shape) != shape:
                    raise RuntimeError(f"{name}: expected a hidden state of shape "
                                       f"{shape if batched else shape[1:]}, got "
                                       f"{list(state.shape if batched else state.shape[1:])}")
            h, c = states[0], (states[1] if lstm else None)
        params = self._parameters
        h, c = _step(self.mode, F.linear(x, params["weight_ih"], params["bias_ih"]), h, c,
                     params["weight_hh"], params["bias_hh"])
        if not batched:
            h, c = h.squeeze(0), (c.squeeze(0) if lstm else None)
        return h, c

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or ``relu``).

    >>> cell = nn.RNNCell(4, 8)
    >>> h = cell(tn.randn(2, 4))          # h starts at zeros
    >>> h = cell(tn.randn(2, 4), h)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: str | None = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, bias, device,
                         dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run(input, hx)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c') from the input and ``hx`` = (h, c), zeros when None."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        return self._run(input, hx)  # type: ignore[return-value]


class GRUCell(RNNCellBase):
    """One GRU step: returns h' from the input and ``hx`` (zeros when None)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: str | None = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run(input, hx)[0]
