"""Every op of tinynet, one small unit each, grouped by kind.

The Tensor methods and the ``tinynet``/``tinynet.nn.functional`` namespaces are thin names for
the functions here.
"""

from tinynet.ops import inplace
from tinynet.ops.activation import (elu, leaky_relu, log_softmax, relu, sigmoid, softmax,
                                    softplus, tanh)
from tinynet.ops.arithmetic import add, div, linear, matmul, mul, neg, pow, sub
from tinynet.ops.conv import conv2d, conv_transpose2d
from tinynet.ops.elementwise import (abs, cast, clamp, clone, compare, exp, log, maximum, minimum, sqrt,
                                     to_device, where)
from tinynet.ops.pool import avg_pool2d, max_pool2d
from tinynet.ops.reduction import (amax, argmax, argmin, logsumexp, max, mean, min, sum, var)
from tinynet.ops.shape import (broadcast_to, cat, expand, flatten, getitem, pad, permute, reshape,
                               squeeze, stack, sum_to, transpose, unsqueeze)

__all__ = [
    "abs", "add", "amax", "argmax", "argmin", "avg_pool2d", "broadcast_to", "cast", "cat",
    "clamp", "clone", "compare", "conv2d", "conv_transpose2d", "div", "elu", "exp", "expand", "flatten",
    "getitem", "inplace", "leaky_relu", "linear", "log", "log_softmax", "logsumexp", "matmul", "max",
    "max_pool2d", "maximum", "mean", "min", "minimum", "mul", "neg", "pad", "permute", "pow",
    "relu", "reshape", "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "sub", "sum",
    "sum_to", "tanh", "to_device", "transpose", "unsqueeze", "var", "where",
]
