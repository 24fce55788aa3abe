"""Automatic differentiation: the graph walk and grad modes (``engine``), PyTorch's ctx-style
``Function`` (``function``) and the higher-order helpers of ``torch.autograd.functional``
(``functional``).

``engine.py`` is the core: what an op is (``Op``), ``no_grad`` and the one backward walk behind
``Tensor.backward`` and ``tn.grad``.
"""

import importlib
from typing import Any

from tinynet.autograd.engine import (AccumulateGrad, Op, backward, enable_grad, grad, graph_nodes,
                                     is_grad_enabled, no_grad, set_grad_enabled)
from tinynet.autograd.anomaly import (detect_anomaly, is_anomaly_check_nan_enabled,
                                      is_anomaly_enabled, set_detect_anomaly)
from tinynet.autograd.function import Function, FunctionCtx, once_differentiable
from tinynet.autograd.variable import Variable
from tinynet.autograd import functional  # noqa: E402  (uses the names above)

__all__ = ["AccumulateGrad", "Function", "FunctionCtx", "Op", "Variable", "backward",
           "detect_anomaly", "enable_grad", "functional", "grad", "graph_nodes",
           "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "is_grad_enabled", "no_grad",
           "once_differentiable", "set_detect_anomaly", "set_grad_enabled"]


def __getattr__(name: str) -> Any:
    """``tn.autograd.gradcheck`` and ``gradgradcheck``, where PyTorch keeps them. They live in
    ``tinynet/gradcheck.py``, above the ops they check, so they are looked up on first use."""
    if name in ("gradcheck", "gradgradcheck", "GradcheckError"):
        return getattr(importlib.import_module("tinynet.gradcheck"), name)
    raise AttributeError(f"module 'tinynet.autograd' has no attribute '{name}'")
