"""``tn.cuda``, as ``torch.cuda``: is there a GPU (through CuPy), and how many."""

from tinynet.accelerator import device_count
from tinynet.backend import cuda_is_available as is_available

__all__ = ["device_count", "is_available"]
