"""Neural-network building blocks, as ``torch.nn``.

* layers (``Module`` subclasses): ``Linear``, ``Conv1d/2d/3d``, ``ConvTranspose1d/2d/3d``,
  the max, average, adaptive and power-average pools in 1-D, 2-D and 3-D, ``BatchNorm1d/2d/3d``,
  ``InstanceNorm1d/2d/3d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``, ``Embedding``,
  ``EmbeddingBag``, the dropouts, ``Flatten``, ``Unflatten``, ``Upsample``, ``PixelShuffle``,
  ``Fold``/``Unfold``, the padding layers, the recurrent ``RNN``, ``LSTM``, ``GRU`` and their
  cells, ``MultiheadAttention``, ``Transformer`` and its parts, activations, losses, and the
  containers ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList`` and
  ``ParameterDict``;
* ``tinynet.nn.functional`` (``F``): the same computations as plain functions;
* ``tinynet.nn.init``: initialisers; ``tinynet.nn.utils``: counting, flattening and clipping.

>>> import tinynet.nn as nn
>>> model = nn.Sequential(nn.Linear(1, 190), nn.LeakyReLU(), nn.Linear(190, 1))
>>> nn.utils.count_parameters(model)
571
"""

from tinynet.nn import functional as functional, init as init, utils as utils  # re-exported
from tinynet.nn.modules import *  # noqa: F403 (every layer, as torch.nn has them)
from tinynet.nn.modules import __all__ as _layers

__all__ = sorted(_layers + ["functional", "init", "utils"], key=str.lower)
