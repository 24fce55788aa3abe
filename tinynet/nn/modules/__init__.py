"""Every layer of ``tinynet.nn``, one concept per file."""

from tinynet.nn.modules.activation import (CELU, ELU, GELU, GLU, Hardshrink, Hardsigmoid, Hardswish,
                                           Hardtanh, Identity, LeakyReLU, LogSigmoid, LogSoftmax,
                                           Mish, PReLU, ReLU, ReLU6, RReLU, SELU, Sigmoid, SiLU,
                                           Softmax, Softmax2d, Softmin, Softplus, Softshrink,
                                           Softsign, Tanh, Tanhshrink, Threshold)
from tinynet.nn.modules.attention import MultiheadAttention
from tinynet.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from tinynet.nn.modules.container import (ModuleDict, ModuleList, ParameterDict, ParameterList,
                                          Sequential)
from tinynet.nn.modules.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                                     ConvTranspose3d)
from tinynet.nn.modules.distance import CosineSimilarity, PairwiseDistance
from tinynet.nn.modules.dropout import (AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d,
                                        FeatureAlphaDropout)
from tinynet.nn.modules.flatten import Flatten, Unflatten
from tinynet.nn.modules.fold import Fold, Unfold
from tinynet.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from tinynet.nn.modules.linear import Bilinear, Linear
from tinynet.nn.modules.loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss,
                                     CrossEntropyLoss, GaussianNLLLoss, HingeEmbeddingLoss,
                                     HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss,
                                     MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
                                     MultiMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss,
                                     SoftMarginLoss, TripletMarginLoss)
from tinynet.nn.modules.module import Module, Parameter
from tinynet.nn.modules.normalization import GroupNorm, LayerNorm, LocalResponseNorm, RMSNorm
from tinynet.nn.modules.padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d,
                                        ConstantPad2d, ConstantPad3d, ReflectionPad1d,
                                        ReflectionPad2d, ReflectionPad3d, ReplicationPad1d,
                                        ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                                        ZeroPad3d)
from tinynet.nn.modules.pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from tinynet.nn.modules.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
                                        AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
                                        AvgPool1d, AvgPool2d, AvgPool3d, LPPool1d, LPPool2d,
                                        LPPool3d, MaxPool1d, MaxPool2d, MaxPool3d, MaxUnpool1d,
                                        MaxUnpool2d)
from tinynet.nn.modules.rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell
from tinynet.nn.modules.sparse import Embedding, EmbeddingBag
from tinynet.nn.modules.transformer import (Transformer, TransformerDecoder,
                                            TransformerDecoderLayer, TransformerEncoder,
                                            TransformerEncoderLayer)
from tinynet.nn.modules.upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AlphaDropout", "AvgPool1d", "AvgPool2d",
    "AvgPool3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "BCELoss", "BCEWithLogitsLoss",
    "Bilinear", "CELU", "ChannelShuffle", "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "CosineEmbeddingLoss",
    "CosineSimilarity", "CrossEntropyLoss", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "ELU", "Embedding", "EmbeddingBag", "FeatureAlphaDropout", "Flatten", "Fold",
    "GaussianNLLLoss", "GELU", "GLU", "GroupNorm", "GRU", "GRUCell", "Hardshrink", "Hardsigmoid",
    "Hardswish", "Hardtanh", "HingeEmbeddingLoss", "HuberLoss", "Identity", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "KLDivLoss", "L1Loss", "LayerNorm", "LeakyReLU", "Linear",
    "LocalResponseNorm", "LogSigmoid", "LogSoftmax", "LPPool1d", "LPPool2d", "LPPool3d", "LSTM",
    "LSTMCell", "MarginRankingLoss", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d",
    "MaxUnpool2d", "Mish", "Module", "ModuleDict", "ModuleList", "MSELoss", "MultiheadAttention",
    "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss",
    "PairwiseDistance", "Parameter", "ParameterDict", "ParameterList", "PixelShuffle",
    "PixelUnshuffle", "PoissonNLLLoss", "PReLU", "ReflectionPad1d", "ReflectionPad2d",
    "ReflectionPad3d", "ReLU", "ReLU6", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "RMSNorm", "RNN", "RNNCell", "RReLU", "SELU", "Sequential", "Sigmoid", "SiLU", "SmoothL1Loss",
    "SoftMarginLoss", "Softmax", "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign",
    "Tanh", "Tanhshrink", "Threshold", "Transformer", "TransformerDecoder",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer",
    "TripletMarginLoss", "Unflatten", "Unfold", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]
