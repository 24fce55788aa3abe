"""tinynet: a small reverse-mode autodiff engine on NumPy (CPU) and CuPy (GPU).

>>> import tinynet as tn
>>> x = tn.tensor([[1.0, 2.0]], requires_grad=True)
>>> w = tn.randn(2, 3, requires_grad=True)
>>> (x @ w).sum().backward()
>>> w.grad.shape
tinynet.Size([2, 3])

Where things are: ``tensor.py`` (the Tensor; its one-line methods in ``tensor_methods.py``),
``autograd/engine.py`` (``Op``, ops' base class, and the backward walk), ``ops/`` (every op),
``nn/`` (functional and layers), ``backend.py`` (NumPy or CuPy). The names here are PyTorch's,
so ``import tinynet as torch`` runs many PyTorch programs unchanged.
"""

# first of all: it sets up OpenBLAS before NumPy loads it
from tinynet.parallel import get_num_threads, set_num_threads
from tinynet.tensor import Size, Tensor  # next: every other module builds on it
from tinynet import accelerator, backends, compiler, cuda
from tinynet.compiler import compile
from tinynet.autograd import (enable_grad, grad, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                              is_grad_enabled, no_grad, set_grad_enabled)
from tinynet.backend import manual_seed
from tinynet.devices import device, get_default_device, set_default_device
from tinynet.dtypes import (bool, bool_, cdouble, cfloat, complex64, complex128, double, dtype,
                            finfo, float, float16, float32, float64, get_default_dtype, half, iinfo,
                            int, int8, int16, int32, int64, long, promote_types, result_type,
                            set_default_dtype, short, uint8)
from tinynet.factories import (arange, as_tensor, empty, empty_like, eye, from_numpy, full,
                               full_like, linspace, logspace, meshgrid, normal, ones, ones_like,
                               rand, rand_like, randint, randint_like, randn, randn_like, randperm,
                               tensor, zeros, zeros_like)
from tinynet.generator import Generator
from tinynet.tensor_types import CPU_TYPES
from tinynet.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinynet.ops import (abs, acos, acosh, add, addcdiv, addcmul, addmm, all, allclose, amax, amin,
                         any, argmax, argmin, argsort, argwhere, asin, asinh, atan, atan2, atanh,
                         atleast_1d, atleast_2d, atleast_3d, bernoulli, bincount, bmm,
                         broadcast_tensors, broadcast_to, cartesian_prod, cat, cdist, ceil, chunk,
                         clamp, clone, column_stack, cos, cosh, count_nonzero, cross, cumprod,
                         cumsum, det, diag, diagonal, diff, div, dot, einsum, eq, equal, exp, exp2,
                         expm1, flatten, flip, fliplr, flipud, floor, floor_divide, fmod, frac,
                         gather, ge, gt, hstack, index_add, index_copy, index_fill, index_select,
                         inner, isclose, isfinite, isinf, isnan, kron, le, lerp, log, log10, log1p,
                         log2, log_softmax, logical_and, logical_not, logical_or, logical_xor,
                         logsumexp, lt, masked_fill, masked_select, matmul, max, maximum, mean,
                         median, min, minimum, mm, movedim, mul, multinomial, mv, nan_to_num,
                         nanmean,
                         nanmedian, nansum, narrow, ne, neg, nonzero, norm, outer, permute, pow,
                         prod, ravel, reciprocal, relu, remainder, repeat_interleave, reshape, roll,
                         rot90,
                         round, rsqrt, scatter, scatter_add, select, sigmoid, sign, sin, sinh,
                         softmax, sort, split, sqrt, square, squeeze, stack, std, std_mean, sub,
                         sum, t, take_along_dim, tan, tanh, tensor_split, tensordot, tile, topk,
                         trace, transpose, tril, triu, trunc, unbind,
                         unflatten, unique, unsqueeze, var, var_mean, vstack, where)
from tinynet.ops import index_put, masked_scatter, scatter_reduce, take
from tinynet.ops import (detach_, is_complex, is_inference, is_nonzero, is_same_size, is_signed,
                         resize_as_)
from tinynet.ops import (cholesky, inverse, logdet, matrix_exp, matrix_power, pinverse, qr, slogdet,
                         svd)
from tinynet.ops import (bucketize, cummax, cummin, histc, kthvalue, logcumsumexp, mode, msort,
                         searchsorted, unique_consecutive)
from tinynet.ops import (bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or,
                         bitwise_right_shift, bitwise_xor, clamp_max, clamp_min, copysign, deg2rad,
                         digamma, erf, erfc, erfinv, fix, float_power, fmax, fmin, gcd, heaviside,
                         hypot, i0, isneginf, isposinf, isreal, lcm, lgamma, logaddexp, logaddexp2,
                         logit, polygamma, positive, rad2deg, sgn, signbit, sinc, xlogy)
from tinynet.ops import (addbmm, addmv, addr, aminmax, baddbmm, corrcoef, cov, diag_embed,
                         diagflat, diagonal_scatter, dist, dsplit, ger, hsplit, index_reduce,
                         nanquantile, put, quantile, renorm, select_scatter, slice_scatter,
                         split_with_sizes, vdot, vsplit)
from tinynet.printing import get_printoptions, printoptions, set_printoptions
from tinynet import hessian, linalg, utils, viz
from tinynet import special
from tinynet import nn, optim
from tinynet.serialization import load, save

__version__ = "0.1.0"

inference_mode = no_grad  # for tinynet, inference is running without the graph
arccos, arcsin, arctan, clip, concat, concatenate = acos, asin, atan, clamp, cat, cat
arccosh, arcsinh, arctanh, arctan2 = acosh, asinh, atanh, atan2
absolute, multiply, divide, subtract, negative, true_divide = abs, mul, div, sub, neg, div
swapaxes = swapdims = transpose
moveaxis = movedim
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


globals().update(CPU_TYPES)  # FloatTensor, LongTensor…: PyTorch's legacy typed constructors


def is_tensor(obj: object) -> bool:
    """True when ``obj`` is a tinynet Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True when ``input`` has a floating-point dtype."""
    return input.is_floating_point()


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: the same data, cut from the graph."""
    return input.detach()


__all__ = [
    "abs", "absolute", "accelerator", "acos", "acosh", "add", "addcdiv", "addcmul", "addmm", "all",
    "allclose", "amax", "amin", "any", "arange", "arccos", "arcsin", "arctan", "argmax", "argmin",
    "argsort", "argwhere", "as_tensor", "asin", "asinh", "atan", "atan2", "atanh", "atleast_1d",
    "atleast_2d", "atleast_3d", "backends", "bernoulli", "bincount", "bmm", "bool", "bool_",
    "broadcast_tensors", "broadcast_to", "cartesian_prod", "cat", "cdist", "cdouble", "ceil",
    "cfloat", "chunk", "clamp", "clip", "clone", "column_stack", "compile", "compiler",
    "complex128", "complex64",
    "concat", "concatenate", "cos", "cosh", "count_nonzero", "cross", "cuda", "cumprod", "cumsum",
    "det", "detach", "device", "diag", "diagonal", "diff", "div", "divide", "dot", "double",
    "dtype", "einsum", "empty", "empty_like", "enable_grad", "eq", "equal", "exp", "exp2", "expm1",
    "eye", "finfo", "flatten", "flip", "fliplr", "flipud", "float", "float16", "float32", "float64",
    "floor", "floor_divide", "fmod", "frac", "from_numpy", "full", "full_like", "gather", "ge",
    "Generator", "get_default_device", "get_default_dtype", "get_num_threads", "get_printoptions",
    "grad", "gradcheck", "GradcheckError", "gradgradcheck", "greater", "greater_equal", "gt",
    "half", "hessian", "hstack", "iinfo", "index_add", "index_copy", "index_fill", "index_select",
    "inference_mode", "inner", "int", "int16", "int32", "int64", "int8",
    "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "is_floating_point", "is_grad_enabled",
    "is_tensor", "isclose", "isfinite", "isinf", "isnan", "kron", "le", "lerp", "less",
    "less_equal", "linalg", "linspace", "load", "log", "log10", "log1p", "log2", "log_softmax",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logspace", "logsumexp", "long",
    "lt", "manual_seed", "masked_fill", "masked_select", "matmul", "max", "maximum", "mean",
    "median", "meshgrid", "min", "minimum", "mm", "moveaxis", "movedim", "mul", "multinomial",
    "multiply", "mv", "nan_to_num", "nanmean", "nanmedian", "nansum", "narrow", "ne", "neg",
    "negative", "nn", "no_grad",
    "nonzero", "norm", "normal", "not_equal", "numel", "ones", "ones_like", "optim", "outer",
    "permute", "pow", "printoptions", "prod", "promote_types", "rand", "rand_like", "randint",
    "randint_like", "randn", "randn_like", "randperm", "ravel", "reciprocal", "relu", "remainder",
    "repeat_interleave", "reshape", "result_type", "roll", "rot90", "round", "rsqrt", "save", "scatter",
    "scatter_add", "select", "set_default_device", "set_default_dtype", "set_grad_enabled",
    "set_num_threads", "set_printoptions", "short", "sigmoid", "sign", "sin", "sinh", "Size",
    "softmax", "sort", "split", "sqrt", "square", "squeeze", "stack", "std", "std_mean", "sub",
    "subtract", "sum", "swapaxes", "swapdims", "t", "take_along_dim", "tan", "tanh", "Tensor", "tensor",
    "tensor_split", "tensordot", "tile",
    "topk", "trace", "transpose", "tril", "triu", "true_divide", "trunc", "uint8", "unbind",
    "unflatten", "unique", "unsqueeze", "utils", "var", "var_mean", "viz", "vstack", "where",
    "zeros", "zeros_like", *sorted(CPU_TYPES),
    "arccosh", "arcsinh", "arctan2", "arctanh", "bitwise_and", "bitwise_left_shift",
    "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "clamp_max", "clamp_min",
    "copysign", "deg2rad", "digamma", "erf", "erfc", "erfinv", "fix", "float_power", "fmax",
    "fmin", "gcd", "heaviside", "hypot", "i0", "isneginf", "isposinf", "isreal", "lcm", "lgamma",
    "logaddexp", "logaddexp2", "logit", "polygamma", "positive", "rad2deg", "sgn", "signbit",
    "sinc", "special", "xlogy",
    "bucketize", "cummax", "cummin", "histc", "kthvalue", "logcumsumexp", "mode", "msort",
    "searchsorted", "unique_consecutive",
    "index_put", "masked_scatter", "scatter_reduce", "take",
    "detach_", "is_complex", "is_inference", "is_nonzero", "is_same_size", "is_signed",
    "resize_as_",
    "cholesky", "inverse", "logdet", "matrix_exp", "matrix_power", "pinverse", "qr", "slogdet",
    "svd",
    "addbmm", "addmv", "addr", "aminmax", "baddbmm", "corrcoef", "cov", "diag_embed",
    "diagflat", "diagonal_scatter", "dist", "dsplit", "ger", "hsplit", "index_reduce",
    "nanquantile", "put", "quantile", "renorm", "select_scatter", "slice_scatter",
    "split_with_sizes", "vdot", "vsplit",
]


def __getattr__(name: str) -> object:
    if name == "bfloat16":  # PyTorch code names it often: say why it is missing
        raise AttributeError("tinynet has no bfloat16 dtype (NumPy has none): use tn.float16 "
                             "or tn.float32")
    raise AttributeError(f"module 'tinynet' has no attribute {name!r}")
