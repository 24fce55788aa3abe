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
from tinynet.optim.lbfgs import LBFGS
from tinynet.optim.optimizer import Optimizer
from tinynet.optim.rmsprop import RMSprop
from tinynet.optim.sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "LBFGS", "Optimizer", "RMSprop",
           "lr_scheduler"]
