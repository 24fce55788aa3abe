"""``tn.utils.hooks``, for PyTorch's import path of ``RemovableHandle`` (what every
``register_*hook`` returns)."""

from tinynet.autograd.hooks import RemovableHandle

__all__ = ["RemovableHandle"]
