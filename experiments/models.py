"""Model families the studies share: MLPs given their widths, and small MNIST-style CNNs."""

from __future__ import annotations

from collections.abc import Sequence

import tinynet.nn as nn

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
}


def mlp(widths: Sequence[int], activation: str = "relu", dropout: float = 0.0,
        flatten: bool = False) -> nn.Sequential:
    """Linear layers ``widths[0] → widths[1] → … → widths[-1]`` with an activation between.

    >>> mlp([1, 190, 1], "leaky_relu")     # the seeds' shallow model, 571 parameters
    """
    layers: list[nn.Module] = [nn.Flatten()] if flatten else []
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def cnn(channels: Sequence[int], dense: int, kernel: int = 3, image: int = 28,
        in_channels: int = 1, classes: int = 10) -> nn.Sequential:
    """Conv(k, same padding)-ReLU-MaxPool2 blocks with ``channels``, then one hidden dense layer.

    >>> cnn([32, 64], 128)   # the benchmark's MNIST CNN
    """
    layers: list[nn.Module] = []
    size, previous = image, in_channels
    for c in channels:
        layers += [nn.Conv2d(previous, c, kernel, padding=kernel // 2), nn.ReLU(), nn.MaxPool2d(2)]
        size, previous = size // 2, c
    layers += [nn.Flatten(), nn.Linear(previous * size * size, dense), nn.ReLU(),
               nn.Linear(dense, classes)]
    return nn.Sequential(*layers)
