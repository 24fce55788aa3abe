"""Automatic differentiation: the graph walk and grad modes (``engine``).

``engine.py`` is the core: what an op is (``Op``), ``no_grad`` and the one backward walk behind
``Tensor.backward`` and ``tn.grad``.
"""

from tinynet.autograd.engine import (Op, backward, enable_grad, grad, graph_nodes, is_grad_enabled,
                                     no_grad, set_grad_enabled)

__all__ = ["Op", "backward", "enable_grad", "grad", "graph_nodes", "is_grad_enabled", "no_grad",
           "set_grad_enabled"]
