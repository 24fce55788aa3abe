"""Neural-network building blocks, as ``torch.nn``.

* layers (``Module`` subclasses): ``Linear``, ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``,
  ``BatchNorm1d/2d``, ``Dropout``, ``Flatten``, activations, losses, ``Sequential``…;
* ``tinynet.nn.functional`` (``F``): the same computations as plain functions;
* ``tinynet.nn.init``: initialisers; ``tinynet.nn.utils``: counting, flattening and clipping.

>>> import tinynet.nn as nn
>>> model = nn.Sequential(nn.Linear(1, 190), nn.LeakyReLU(), nn.Linear(190, 1))
>>> nn.utils.count_parameters(model)
571
"""

from tinynet.nn import functional, init, utils
from tinynet.nn.modules import (ELU, AvgPool2d, BatchNorm1d, BatchNorm2d, BCEWithLogitsLoss, Conv2d,
                                CrossEntropyLoss, Dropout, Flatten, LeakyReLU, Linear, LogSoftmax,
                                MaxPool2d, Module, ModuleList, MSELoss, NLLLoss, Parameter, ReLU,
                                Sequential, Sigmoid, Softmax, Tanh)

__all__ = [
    "AvgPool2d", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss",
    "Dropout", "ELU", "Flatten", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d",
    "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "Tanh", "functional", "init", "utils",
]
