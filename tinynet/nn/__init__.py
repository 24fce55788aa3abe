"""Neural-network building blocks, as ``torch.nn``.

* layers (``Module`` subclasses): ``Linear``, ``Conv2d``, ``ConvTranspose2d``, ``MaxPool2d``,
  ``AvgPool2d``, the adaptive pools (and their 1-D forms), ``BatchNorm1d/2d``,
  ``InstanceNorm1d/2d``, ``LayerNorm``, ``GroupNorm``, ``Embedding``, ``Dropout``,
  ``Dropout2d``, ``Flatten``, ``Unflatten``, ``Upsample``, ``PixelShuffle``, the padding
  layers, the recurrent ``RNN``, ``LSTM``, ``GRU`` and their cells, ``MultiheadAttention``,
  ``Transformer`` and its parts, activations, losses, and the containers ``Sequential``,
  ``ModuleList``, ``ModuleDict``, ``ParameterList`` and ``ParameterDict``;
* ``tinynet.nn.functional`` (``F``): the same computations as plain functions;
* ``tinynet.nn.init``: initialisers; ``tinynet.nn.utils``: counting, flattening and clipping.

>>> import tinynet.nn as nn
>>> model = nn.Sequential(nn.Linear(1, 190), nn.LeakyReLU(), nn.Linear(190, 1))
>>> nn.utils.count_parameters(model)
571
"""

from tinynet.nn import functional, init, utils
from tinynet.nn.modules import (GRU, LSTM, RNN, AvgPool1d, Conv1d, CosineSimilarity, GroupNorm,
                                GRUCell, LSTMCell, MaxPool1d, MaxUnpool1d, MaxUnpool2d,
                                MultiheadAttention, PairwiseDistance, RNNCell, Transformer,
                                TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                                TransformerEncoderLayer, Upsample)
from tinynet.nn.modules import (GELU, BCELoss, Dropout2d, Embedding, HuberLoss, Identity, KLDivLoss,
                                L1Loss, LayerNorm, Mish, ModuleDict, ParameterDict, ParameterList,
                                SiLU, SmoothL1Loss, Softplus, Unflatten)
from tinynet.nn.modules import (ELU, AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d,
                                BCEWithLogitsLoss, Conv2d, CrossEntropyLoss, Dropout, Flatten,
                                LeakyReLU, Linear, LogSoftmax, MaxPool2d, Module, ModuleList,
                                MSELoss, NLLLoss, Parameter, ReLU, Sequential, Sigmoid, Softmax,
                                Tanh)
from tinynet.nn.modules import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, CELU,
                                ChannelShuffle, CircularPad1d, CircularPad2d, CircularPad3d,
                                ConstantPad1d, ConstantPad2d, ConstantPad3d, ConvTranspose1d,
                                ConvTranspose2d, GLU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                                InstanceNorm1d, InstanceNorm2d, LogSigmoid, PReLU, PixelShuffle,
                                PixelUnshuffle, RReLU, ReLU6, ReflectionPad1d, ReflectionPad2d,
                                ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d,
                                SELU, Softmin, Softshrink, Softsign, Tanhshrink, Threshold, ZeroPad1d,
                                ZeroPad2d, ZeroPad3d)
from tinynet.nn.modules import (AlphaDropout, Bilinear, Dropout1d, Dropout3d, FeatureAlphaDropout,
                                LocalResponseNorm, RMSNorm, Softmax2d, UpsamplingBilinear2d,
                                UpsamplingNearest2d)
from tinynet.nn.modules import Fold, LPPool1d, LPPool2d, Unfold
__all__ = [
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "BCELoss",
    "BCEWithLogitsLoss", "Conv1d", "Conv2d", "CosineSimilarity", "CrossEntropyLoss", "Dropout",
    "Dropout2d", "ELU", "Embedding", "Flatten", "functional", "GELU", "GroupNorm", "GRU",
    "GRUCell", "HuberLoss", "Identity", "init", "KLDivLoss", "L1Loss", "LayerNorm", "LeakyReLU",
    "Linear", "LogSoftmax", "LSTM", "LSTMCell", "MaxPool1d", "MaxPool2d", "MaxUnpool1d",
    "MaxUnpool2d", "Mish", "Module", "ModuleDict", "ModuleList", "MSELoss", "MultiheadAttention",
    "NLLLoss", "PairwiseDistance", "Parameter", "ParameterDict", "ParameterList", "ReLU", "RNN",
    "RNNCell", "Sequential", "Sigmoid", "SiLU", "SmoothL1Loss", "Softmax", "Softplus", "Tanh",
    "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerEncoderLayer", "Unflatten", "Upsample", "utils",
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "CELU", "ChannelShuffle",
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ConvTranspose1d", "ConvTranspose2d", "GLU", "Hardshrink", "Hardsigmoid",
    "Hardswish", "Hardtanh", "InstanceNorm1d", "InstanceNorm2d", "LogSigmoid", "PReLU",
    "PixelShuffle", "PixelUnshuffle", "RReLU", "ReLU6", "ReflectionPad1d", "ReflectionPad2d",
    "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "SELU",
    "Softmin", "Softshrink", "Softsign", "Tanhshrink", "Threshold", "ZeroPad1d", "ZeroPad2d",
    "ZeroPad3d",
    "AlphaDropout", "Bilinear", "Dropout1d", "Dropout3d", "FeatureAlphaDropout",
    "LocalResponseNorm", "RMSNorm", "Softmax2d", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "Fold", "LPPool1d", "LPPool2d", "Unfold",
]
