"""``tn.utils``, for PyTorch's import paths: ``from tinynet.utils.data import DataLoader`` works as
``from torch.utils.data import DataLoader`` does."""

from tinynet.utils import data, hooks

__all__ = ["data", "hooks"]
