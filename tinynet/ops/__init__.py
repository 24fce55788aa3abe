"""Every op of tinynet, one small unit each, grouped by kind.

The Tensor methods and the ``tinynet``/``tinynet.nn.functional`` namespaces are thin names for
the functions here.
"""

from tinynet.ops import inplace, inplace_more
from tinynet.ops import inplace_shape, tensor_queries
from tinynet.ops.inplace_shape import detach_, resize_as_
from tinynet.ops.tensor_queries import (is_complex, is_inference, is_nonzero, is_same_size,
                                        is_signed)
from tinynet.ops.activation import (elu, leaky_relu, log_softmax, relu, sigmoid, softmax,
                                    softplus, tanh)
from tinynet.ops.arithmetic import add, div, lerp, linear, matmul, mul, neg, pow, sub
from tinynet.ops.conv import conv2d, conv_transpose2d
from tinynet.ops.conv1d import avg_pool1d, conv1d, max_pool1d, max_unpool1d
from tinynet.ops.elementwise import (abs, cast, clamp, clone, compare, exp, log, maximum, minimum,
                                     sqrt, to_device)
from tinynet.ops.einsum import einsum
from tinynet.ops.indexing import (argwhere, chunk, gather, index_add, index_copy, index_fill,
                                  index_select, masked_fill, masked_select, narrow, nonzero, scatter,
                                  scatter_add, select, split, unbind, where)
from tinynet.ops import index_writes
from tinynet.ops.index_writes import index_put, masked_scatter, scatter_reduce, take
from tinynet.ops.layout import (broadcast_tensors, column_stack, fliplr, flipud, hstack, ravel,
                                repeat_interleave, rot90, take_along_dim, tensor_split, tile,
                                unflatten, vstack)
from tinynet.ops.linalg import torch_norm as norm
from tinynet.ops.logical import (allclose, eq, equal, ge, gt, isclose,
                                 isfinite, isinf, isnan, le, logical_and, logical_not, logical_or,
                                 logical_xor, lt, ne)
from tinynet.ops.matrix import bmm, diag, diagonal, dot, inner, mm, mv, outer, t, trace, tril, triu
from tinynet.ops.ordering import argsort, cumprod, cumsum, median, nanmedian, prod, sort, topk
from tinynet.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_unpool2d
from tinynet.ops.powers import exp2, expm1, log1p, log2, log10, reciprocal, rsqrt, square
from tinynet.ops.products import addmm, cdist, cross, diff, kron, tensordot
from tinynet.ops.reduction import (all, amax, amin, any, argmax, argmin, count_nonzero, logsumexp,
                                   max, mean, min, nanmean, nansum, std, std_mean, sum, var,
                                   var_mean)
from tinynet.ops.rounding import ceil, floor, floor_divide, frac, remainder, round, sign, trunc
from tinynet.ops.shape import (broadcast_to, cat, expand, flatten, flip, getitem, movedim, pad,
                               permute, repeat, reshape, roll, squeeze, stack, sum_to, transpose,
                               unsqueeze)
from tinynet.ops.det import det
from tinynet.ops.decompositions import inverse, logdet, matrix_exp, pinverse
from tinynet.ops.decompositions import torch_cholesky as cholesky, torch_qr as qr
from tinynet.ops.decompositions import torch_slogdet as slogdet, torch_svd as svd
from tinynet.ops.linalg import matrix_power
from tinynet.ops.more_math import (addcdiv, addcmul, atleast_1d, atleast_2d, atleast_3d, bincount,
                                   cartesian_prod, fmod, nan_to_num)
from tinynet.ops.binary_math import (copysign, float_power, fmax, fmin, heaviside, hypot,
                                     logaddexp, logaddexp2)
from tinynet.ops.bits import (bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,
                              bitwise_right_shift, bitwise_xor, gcd, lcm)
from tinynet.ops.more_math import (clamp_max, clamp_min, deg2rad, fix, isneginf, isposinf, isreal,
                                   positive, rad2deg, sgn, signbit)
from tinynet.ops.special import (digamma, entr, erf, erfc, erfinv, i0, lgamma, log_ndtr, logit,
                                 ndtr, ndtri, polygamma, sinc, xlogy)
from tinynet.ops.sampling import bernoulli, multinomial
from tinynet.ops.sliding import unfold
from tinynet.ops.unique import unique
from tinynet.ops.scans import (bucketize, cummax, cummin, histc, kthvalue, logcumsumexp, mode,
                               msort, searchsorted, unique_consecutive)
from tinynet.ops.trig import (acos, acosh, asin, asinh, atan, atan2, atanh, cos, cosh, sin, sinh,
                              tan)
from tinynet.ops import scatter_views, statistics
from tinynet.ops.products import addbmm, addmv, addr, baddbmm, ger, vdot
from tinynet.ops.scatter_views import (diag_embed, diagflat, diagonal_scatter, dsplit, hsplit,
                                       index_reduce, put, select_scatter, slice_scatter,
                                       split_with_sizes, sum_to_size, vsplit)
from tinynet.ops.statistics import (aminmax, corrcoef, cov, dist, nanquantile, quantile,
                                    renorm)

__all__ = [
    "detach_", "inplace_shape", "is_complex", "is_inference", "is_nonzero", "is_same_size",
    "is_signed", "resize_as_", "tensor_queries",
    "addcdiv", "addcmul", "argwhere", "atleast_1d", "atleast_2d", "atleast_3d", "bernoulli",
    "bincount", "cartesian_prod", "det", "fmod", "index_add", "index_copy", "index_fill",
    "inplace_more", "multinomial", "nan_to_num", "rot90", "take_along_dim", "tensor_split",
    "tensordot", "unfold",
    "cholesky", "inverse", "logdet", "matrix_exp", "matrix_power", "pinverse", "qr", "slogdet",
    "svd",
    "bitwise_and", "bitwise_left_shift", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
    "clamp_max", "clamp_min", "copysign", "deg2rad", "digamma", "entr", "erf", "erfc", "erfinv",
    "fix", "float_power", "fmax", "fmin", "gcd", "heaviside", "hypot", "i0", "isneginf",
    "isposinf", "isreal", "lcm", "lgamma", "log_ndtr", "logaddexp", "logaddexp2", "logit", "ndtr",
    "ndtri", "polygamma", "positive", "rad2deg", "sgn", "signbit", "sinc", "xlogy",
    "index_put", "index_writes", "masked_scatter", "scatter_reduce", "take",
    "abs", "acos", "acosh", "adaptive_avg_pool2d", "add", "addmm", "all", "allclose", "amax",
    "amin", "any", "argmax", "argmin", "argsort", "asin", "asinh", "atan", "atan2", "atanh",
    "avg_pool1d", "avg_pool2d", "bitwise_not", "bmm", "broadcast_tensors",
    "broadcast_to", "cast", "cat", "cdist", "ceil", "chunk", "clamp", "clone", "column_stack",
    "compare",
    "conv1d", "conv2d", "conv_transpose2d", "cos", "cosh", "count_nonzero", "cross", "cumprod",
    "cumsum", "diag", "diagonal", "diff", "div", "dot", "einsum", "elu", "eq", "equal", "exp",
    "exp2", "expand", "expm1", "flatten", "flip", "fliplr", "flipud", "floor", "floor_divide",
    "frac", "gather", "ge", "getitem", "gt", "hstack", "index_select", "inner", "inplace",
    "isclose", "isfinite", "isinf", "isnan", "kron", "le", "leaky_relu", "lerp", "linear", "log",
    "log10", "log1p", "log2", "log_softmax", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logsumexp", "lt", "masked_fill", "masked_select", "matmul", "max", "max_pool1d",
    "max_pool2d", "max_unpool1d", "max_unpool2d", "maximum", "mean", "median", "min", "minimum",
    "mm", "movedim", "mul", "mv",
    "nanmean", "nanmedian", "nansum", "narrow", "ne", "neg", "nonzero", "norm", "outer", "pad",
    "permute", "pow",
    "prod", "ravel", "reciprocal", "relu", "remainder", "repeat", "repeat_interleave", "reshape",
    "roll", "round", "rsqrt", "scatter", "scatter_add", "select", "sigmoid", "sign", "sin", "sinh",
    "softmax", "softplus", "sort", "split", "sqrt", "square", "squeeze", "stack", "std",
    "std_mean", "sub",
    "sum", "sum_to", "t", "tan", "tanh", "tile", "to_device", "topk", "trace", "transpose", "tril",
    "triu", "trunc", "unbind", "unflatten", "unique", "unsqueeze", "var", "var_mean", "vstack",
    "where",
    "bucketize", "cummax", "cummin", "histc", "kthvalue", "logcumsumexp", "mode", "msort",
    "searchsorted", "unique_consecutive",
    "addbmm", "addmv", "addr", "aminmax", "baddbmm", "corrcoef", "cov", "diag_embed", "diagflat",
    "diagonal_scatter", "dist", "dsplit", "ger", "hsplit", "index_reduce", "nanquantile", "put",
    "quantile", "renorm", "scatter_views", "select_scatter", "slice_scatter", "split_with_sizes",
    "statistics", "sum_to_size", "vdot", "vsplit",
]
