"""tinynet: a small reverse-mode autodiff engine on NumPy (CPU) and CuPy (GPU).

>>> import tinynet as tn
>>> x = tn.tensor([[1.0, 2.0]], requires_grad=True)
>>> w = tn.randn(2, 3, requires_grad=True)
>>> (x @ w).sum().backward()
>>> w.grad.shape
(2, 3)

Where things are: ``tensor.py`` (the Tensor), ``autograd/engine.py`` (``Op``, ops' base class, and the
backward walk), ``ops/`` (every op), ``nn/`` (functional and layers), ``backend.py`` (NumPy or
CuPy).
"""

from tinynet.tensor import Tensor  # first: every other module builds on it
from tinynet import cuda
from tinynet.autograd import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from tinynet.backend import get_num_threads, manual_seed, set_num_threads
from tinynet.factories import (arange, bool_, float16, float32, float64, from_numpy, full, int8,
                               int32, int64, ones, ones_like, rand, randint, randn, randperm,
                               tensor, uint8, zeros, zeros_like)
from tinynet.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinynet.ops import (abs, argmax, argmin, cat, clamp, exp, flatten, log, log_softmax,
                         logsumexp, matmul, max, maximum, mean, min, minimum, permute, relu,
                         reshape, sigmoid, softmax, sqrt, squeeze, stack, sum, tanh, transpose,
                         unsqueeze, var, where)
from tinynet import hessian, viz
from tinynet import nn, optim
from tinynet.serialization import load, save

__version__ = "0.1.0"

__all__ = [
    "abs", "arange", "argmax", "argmin", "bool_", "cat", "clamp", "cuda", "enable_grad", "exp",
    "flatten", "float16", "float32", "float64", "from_numpy", "full", "get_num_threads", "grad",
    "gradcheck", "GradcheckError", "gradgradcheck", "hessian", "int32", "int64", "int8",
    "is_grad_enabled", "load", "log", "log_softmax", "logsumexp", "manual_seed", "matmul", "max",
    "maximum", "mean", "min", "minimum", "nn", "no_grad", "ones", "ones_like", "optim", "permute",
    "rand", "randint", "randn", "randperm", "relu", "reshape", "save", "set_grad_enabled",
    "set_num_threads", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sum", "tanh", "Tensor",
    "tensor", "transpose", "uint8", "unsqueeze", "var", "viz", "where", "zeros", "zeros_like",
]
