"""Every layer of ``tinynet.nn``, one concept per file."""

from tinynet.nn.modules.activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from tinynet.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from tinynet.nn.modules.container import ModuleList, Sequential
from tinynet.nn.modules.conv import Conv2d
from tinynet.nn.modules.dropout import Dropout
from tinynet.nn.modules.flatten import Flatten
from tinynet.nn.modules.linear import Linear
from tinynet.nn.modules.loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from tinynet.nn.modules.module import Module, Parameter
from tinynet.nn.modules.pooling import AvgPool2d, MaxPool2d

__all__ = [
    "AvgPool2d", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss",
    "Dropout", "ELU", "Flatten", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d",
    "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "Tanh",
]
