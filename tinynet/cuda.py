"""``tn.cuda``, as ``torch.cuda``: is there a GPU (through CuPy), how many, and its seed."""

from tinynet.accelerator import device_count
from tinynet.backend import cuda_is_available as is_available
from tinynet.backend import manual_seed_cuda as manual_seed

manual_seed_all = manual_seed  # one generator serves every GPU

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all"]
