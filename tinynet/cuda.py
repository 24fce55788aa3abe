"""``tn.cuda``, as ``torch.cuda``: is there a GPU (through CuPy), how many, its seed, and the
legacy ``tn.cuda.FloatTensor``… constructors."""

from tinynet.accelerator import device_count
from tinynet.backend import cuda_is_available as is_available
from tinynet.backend import manual_seed_cuda as manual_seed
from tinynet.tensor_types import CUDA_TYPES

manual_seed_all = manual_seed  # one generator serves every GPU
globals().update(CUDA_TYPES)  # tn.cuda.FloatTensor…: legacy constructors of GPU tensors

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all", *sorted(CUDA_TYPES)]
