"""Every layer of ``tinynet.nn``, one concept per file."""

from tinynet.nn.modules.activation import (ELU, GELU, Identity, LeakyReLU, LogSoftmax, Mish,
                                           ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh)
from tinynet.nn.modules.attention import MultiheadAttention
from tinynet.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d
from tinynet.nn.modules.container import (ModuleDict, ModuleList, ParameterDict, ParameterList,
                                          Sequential)
from tinynet.nn.modules.conv import Conv1d, Conv2d
from tinynet.nn.modules.dropout import Dropout, Dropout2d
from tinynet.nn.modules.distance import CosineSimilarity, PairwiseDistance
from tinynet.nn.modules.flatten import Flatten, Unflatten
from tinynet.nn.modules.linear import Linear
from tinynet.nn.modules.loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss,
                                     KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from tinynet.nn.modules.module import Module, Parameter
from tinynet.nn.modules.sparse import Embedding
from tinynet.nn.modules.upsampling import Upsample
from tinynet.nn.modules.transformer import (Transformer, TransformerDecoder,
                                             TransformerDecoderLayer, TransformerEncoder,
                                             TransformerEncoderLayer)
from tinynet.nn.modules.normalization import GroupNorm, LayerNorm
from tinynet.nn.modules.pooling import (AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                                         MaxPool2d, MaxUnpool1d, MaxUnpool2d)
from tinynet.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from tinynet.nn.modules.activation import (CELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                                           LogSigmoid, PReLU, RReLU, ReLU6, SELU, Softmin,
                                           Softshrink, Softsign, Tanhshrink, Threshold)
from tinynet.nn.modules.conv import ConvTranspose1d, ConvTranspose2d
from tinynet.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d
from tinynet.nn.modules.padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d,
                                        ConstantPad2d, ConstantPad3d, ReflectionPad1d,
                                        ReflectionPad2d, ReflectionPad3d, ReplicationPad1d,
                                        ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                                        ZeroPad3d)
from tinynet.nn.modules.pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from tinynet.nn.modules.pooling import (AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
                                         LPPool1d, LPPool2d)
from tinynet.nn.modules.activation import Softmax2d
from tinynet.nn.modules.dropout import AlphaDropout, Dropout1d, Dropout3d, FeatureAlphaDropout
from tinynet.nn.modules.linear import Bilinear
from tinynet.nn.modules.fold import Fold, Unfold
from tinynet.nn.modules.normalization import LocalResponseNorm, RMSNorm
from tinynet.nn.modules.upsampling import UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "BCELoss",
    "BCEWithLogitsLoss", "Conv1d", "Conv2d", "CosineSimilarity", "CrossEntropyLoss", "Dropout",
    "Dropout2d", "ELU", "Embedding", "Flatten", "GELU", "GroupNorm", "GRU", "GRUCell", "HuberLoss",
    "Identity", "KLDivLoss", "L1Loss", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "LSTM",
    "LSTMCell", "MaxPool1d", "MaxPool2d", "MaxUnpool1d", "MaxUnpool2d", "Mish", "Module",
    "ModuleDict", "ModuleList", "MSELoss", "MultiheadAttention", "NLLLoss", "PairwiseDistance",
    "Parameter", "ParameterDict", "ParameterList", "ReLU", "RNN", "RNNCell", "Sequential",
    "Sigmoid", "SiLU", "SmoothL1Loss", "Softmax", "Softplus", "Tanh", "Transformer",
    "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerEncoderLayer", "Unflatten", "Upsample",
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
    "Fold", "Unfold", "LPPool1d", "LPPool2d",
]
