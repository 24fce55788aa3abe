"""``tn.cuda.is_available()``, as ``torch.cuda.is_available()``."""

from tinynet.backend import cuda_is_available as is_available

__all__ = ["is_available"]
