"""Optimizers and learning-rate schedulers, as ``torch.optim``.

>>> import tinynet.optim as optim
>>> optimizer = optim.Adam(model.parameters(), lr=1e-3)
>>> scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=100)
>>> for x, y in batches:
...     optimizer.zero_grad()
...     loss_fn(model(x), y).backward()
...     optimizer.step()
"""

from tinynet.optim import lr_scheduler
from tinynet.optim.adadelta import Adadelta
from tinynet.optim.adagrad import Adagrad
from tinynet.optim.adam import Adam, AdamW
from tinynet.optim.adamax import Adamax
from tinynet.optim.asgd import ASGD
from tinynet.optim.lbfgs import LBFGS
from tinynet.optim.nadam import NAdam
from tinynet.optim.optimizer import Optimizer
from tinynet.optim.radam import RAdam
from tinynet.optim.rmsprop import RMSprop
from tinynet.optim.rprop import Rprop
from tinynet.optim.sgd import SGD

__all__ = ["ASGD", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam",
           "Optimizer", "RAdam", "RMSprop", "Rprop", "lr_scheduler"]
