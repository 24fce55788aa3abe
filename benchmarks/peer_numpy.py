"""The hand-written peer: each workload written directly in NumPy, gradients by hand.

This is what the arithmetic costs without an autodiff engine: the GEMMs a Linear layer performs,
an im2col convolution, a reshape max-pool, and whole training steps with their backward passes
and a fused Adam written out. Every function takes its array module from its arguments, so the
same code is the raw ``cupy`` peer on a GPU.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy

from benchmarks.harness import Workload
from tinynet import backend  # only to tell NumPy arrays from CuPy ones


# ---------------------------------------------------------------------------- kernels
def linear_forward(x: Any, w: Any) -> Any:
    return x @ w.T


def linear_backward(g: Any, x: Any, w: Any) -> tuple[Any, Any]:
    """(input gradient, weight gradient) of ``x @ w.T``."""
    return g @ w, g.T @ x


def conv2d_forward(x: Any, w: Any, padding: int) -> tuple[Any, Any]:
    """im2col + one GEMM, rows = output pixels: (N·Ho·Wo, C·k·k) @ (C·k·k, Cout).

    Returns the NCHW output (a transposed view) and the columns the backward needs.
    """
    xp = backend.get_array_module(x)
    n, c = x.shape[:2]
    cout, k = w.shape[0], w.shape[2]
    if padding:
        x = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = x.shape[2] - k + 1, x.shape[3] - k + 1
    # every k×k window as a view: as_strided, which CuPy makes without reading the GPU
    windows = xp.lib.stride_tricks.as_strided(x, (n, c, ho, wo, k, k), x.strides + x.strides[2:])
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
    out = cols @ w.reshape(cout, -1).T
    return out.reshape(n, ho, wo, cout).transpose(0, 3, 1, 2), cols


def conv2d_backward(g: Any, x_shape: Sequence[int], w: Any, cols: Any, padding: int,
                    input_grad: bool = True) -> tuple[Any, Any]:
    """(input gradient or None, weight gradient): a GEMM each, then col2im by slice-adds."""
    xp = backend.get_array_module(g)
    n, c, h, wd = x_shape
    cout, k = w.shape[0], w.shape[2]
    ho, wo = g.shape[2:]
    g2d = g.transpose(0, 2, 3, 1).reshape(-1, cout)
    gw = (g2d.T @ cols).reshape(w.shape)
    if not input_grad:
        return None, gw
    gcols = (g2d @ w.reshape(cout, -1)).reshape(n, ho, wo, c, k, k)
    gx = xp.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=g.dtype)
    for i in range(k):
        for j in range(k):
            gx[:, :, i:i + ho, j:j + wo] += gcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return gx[:, :, padding:padding + h, padding:padding + wd], gw


def max_pool2x2_forward(x: Any) -> Any:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def max_pool2x2_backward(g: Any, x: Any, out: Any) -> Any:
    """Route the gradient to the maxima. Ties all receive it: harmless after a ReLU, whose
    backward zeroes the tied zeros again, and absent for continuous random inputs."""
    n, c, h, w = x.shape
    hit = x.reshape(n, c, h // 2, 2, w // 2, 2) == out[:, :, :, None, :, None]
    return (hit * g[:, :, :, None, :, None]).reshape(x.shape)


class Adam:
    """Adam (PyTorch's defaults), its update written as a few in-place array ops per parameter."""

    def __init__(self, params: list[Any], lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        xp = backend.get_array_module(params[0])
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [xp.zeros_like(p) for p in params]
        self.v = [xp.zeros_like(p) for p in params]

    def step(self, grads: list[Any]) -> None:
        xp = backend.get_array_module(self.params[0])
        b1, b2 = self.betas
        self.t += 1
        step_size = self.lr / (1 - b1 ** self.t)
        root_correction = math.sqrt(1 - b2 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= step_size * m / (xp.sqrt(v) / root_correction + self.eps)


def _uniform_init(rng: numpy.random.Generator, fan_in: int, shape: tuple[int, ...]) -> numpy.ndarray:
    bound = 1 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(numpy.float32)


# ---------------------------------------------------------------------------- workloads
def linear_workload(x: Any, w: Any, g: Any) -> Workload:
    """The three GEMMs of a bias-free Linear layer: y = x wᵀ, then gx = g w and gw = gᵀ x."""
    return Workload(forward=lambda: linear_forward(x, w),
                    backward=lambda _: linear_backward(g, x, w))


def conv_workload(x: Any, w: Any, g: Any, padding: int) -> Workload:
    def backward(cache: tuple[Any, Any]) -> Any:
        return conv2d_backward(g, x.shape, w, cache[1], padding)

    return Workload(forward=lambda: conv2d_forward(x, w, padding), backward=backward)


def max_pool_workload(x: Any, g: Any) -> Workload:
    return Workload(forward=lambda: max_pool2x2_forward(x),
                    backward=lambda out: max_pool2x2_backward(g, x, out))


def add_workload(a: Any, b: Any, g: Any) -> Workload:
    """``a + b``; its backward adds the output gradient into each input's gradient."""
    ga, gb = numpy.zeros_like(a), numpy.zeros_like(b)

    def backward(_: Any) -> None:
        ga.__iadd__(g)
        gb.__iadd__(g)

    return Workload(forward=lambda: a + b, backward=backward)


def chain_workload(a: Any, length: int) -> Workload:
    """``length`` negations in a row, and their backward (``length`` more): the array calls an
    engine's per-op overhead comes on top of."""

    def forward() -> Any:
        for _ in range(length):
            out = -a
        return out

    def backward(out: Any) -> None:
        g = out
        for _ in range(length):
            g = -g

    return Workload(forward=forward, backward=backward)


class MLP:
    """Linear layers with LeakyReLU between them, MSE loss, written out by hand."""

    def __init__(self, sizes: Sequence[int], negative_slope: float = 0.01, seed: int = 0) -> None:
        rng = numpy.random.default_rng(seed)
        self.slope = negative_slope
        self.weights = [_uniform_init(rng, a, (b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [_uniform_init(rng, a, (b,)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]

    def forward(self, x: Any, y: Any) -> tuple[float, list[Any], Any]:
        """The loss, the inputs of every layer, and the output minus the target."""
        inputs, h = [], x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            inputs.append(h)
            h = h @ w.T + b
            if i < last:
                h = numpy.where(h > 0, h, h * self.slope)
        diff = h - y
        return float((diff * diff).mean()), inputs, diff

    def backward(self, cache: tuple[float, list[Any], Any]) -> list[Any]:
        _, inputs, diff = cache
        g = diff * (2 / diff.size)
        grads = []
        for i in reversed(range(len(self.weights))):
            h = inputs[i]
            grads += [g.sum(0), g.T @ h]  # bias, weight (reversed below)
            if i:
                g = g @ self.weights[i]
                g = numpy.where(h > 0, g, g * self.slope)  # h > 0 exactly where its input was
        return grads[::-1]


def mlp_workload(sizes: Sequence[int], x: Any, y: Any, lr: float = 1e-3) -> Workload:
    model = MLP(sizes)
    adam = Adam(model.params, lr)
    grads: list[Any] = []

    def backward(cache: Any) -> None:
        grads[:] = model.backward(cache)

    return Workload(forward=lambda: model.forward(x, y), backward=backward,
                    update=lambda: adam.step(grads))


class MnistCNN:
    """conv(1→32,3,p1)-relu-pool2-conv(32→64,3,p1)-relu-pool2-linear(3136→128)-relu-linear(128→10),
    in the array module of its data (CuPy too: the loss stays a 0-d array on the device)."""

    def __init__(self, seed: int = 0, params: list[Any] | None = None, xp: Any = numpy) -> None:
        """``params``: arrays in tinynet's order (conv1 w, b, conv2 w, b, fc1 w, b, fc2 w, b);
        drawn as PyTorch initialises by default. They are moved into ``xp``."""
        if params is None:
            rng = numpy.random.default_rng(seed)
            params = [_uniform_init(rng, 9, (32, 1, 3, 3)), _uniform_init(rng, 9, (32,)),
                      _uniform_init(rng, 288, (64, 32, 3, 3)), _uniform_init(rng, 288, (64,)),
                      _uniform_init(rng, 3136, (128, 3136)), _uniform_init(rng, 3136, (128,)),
                      _uniform_init(rng, 128, (10, 128)), _uniform_init(rng, 128, (10,))]
        self.params = [xp.asarray(p) for p in params]

    def forward(self, x: Any, labels: Any) -> tuple[Any, dict[str, Any]]:
        xp = backend.get_array_module(x)
        w1, b1, w2, b2, w3, b3, w4, b4 = self.params
        c1, cols1 = conv2d_forward(x, w1, 1)
        r1 = xp.maximum(c1 + b1[:, None, None], 0)
        p1 = max_pool2x2_forward(r1)
        c2, cols2 = conv2d_forward(p1, w2, 1)
        r2 = xp.maximum(c2 + b2[:, None, None], 0)
        p2 = max_pool2x2_forward(r2)
        flat = p2.reshape(len(x), -1)
        h = xp.maximum(flat @ w3.T + b3, 0)
        logits = h @ w4.T + b4
        shifted = logits - logits.max(1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(1, keepdims=True))
        onehot = labels[:, None] == xp.arange(10)[None, :]  # no index array to copy to a GPU
        loss = -(log_probs * onehot).sum() / len(x)
        return loss, dict(x=x, onehot=onehot, cols1=cols1, r1=r1, p1=p1, cols2=cols2, r2=r2,
                          p2=p2, flat=flat, h=h, log_probs=log_probs)

    def backward(self, cache: tuple[Any, dict[str, Any]]) -> list[Any]:
        w1, b1, w2, b2, w3, b3, w4, b4 = self.params
        c = cache[1]
        xp = backend.get_array_module(c["x"])
        g = (xp.exp(c["log_probs"]) - c["onehot"]) / len(c["x"])
        gw4, gb4 = g.T @ c["h"], g.sum(0)
        g = (g @ w4) * (c["h"] > 0)
        gw3, gb3 = g.T @ c["flat"], g.sum(0)
        g = (g @ w3).reshape(c["p2"].shape)
        g = max_pool2x2_backward(g, c["r2"], c["p2"]) * (c["r2"] > 0)
        gb2 = g.sum((0, 2, 3))
        g, gw2 = conv2d_backward(g, c["p1"].shape, w2, c["cols2"], 1)
        g = max_pool2x2_backward(g, c["r1"], c["p1"]) * (c["r1"] > 0)
        gb1 = g.sum((0, 2, 3))
        _, gw1 = conv2d_backward(g, c["x"].shape, w1, c["cols1"], 1, input_grad=False)
        return [gw1, gb1, gw2, gb2, gw3, gb3, gw4, gb4]


def cnn_workload(batches: Sequence[tuple[Any, Any]], lr: float = 1e-3) -> Workload:
    model = MnistCNN()
    adam = Adam(model.params, lr)
    cycle = itertools.cycle(batches)
    grads: list[Any] = []

    def backward(cache: Any) -> None:
        grads[:] = model.backward(cache)

    return Workload(forward=lambda: model.forward(*next(cycle)), backward=backward,
                    update=lambda: adam.step(grads))
