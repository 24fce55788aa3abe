"""Data for tinynet: datasets, the DataLoader, and the classic image data sets.

>>> from tinynet.data import DataLoader, MNIST
>>> train = MNIST(train=True)  # doctest: +SKIP
>>> for images, labels in DataLoader(train, batch_size=128, shuffle=True, seed=0):  # doctest: +SKIP
...     pass  # images: float32 (128, 1, 28, 28) in [0, 1]; labels: int64 (128,)

Where the files come from is described in docs/data.md.
"""

from tinynet.data.dataloader import DataLoader
from tinynet.data.dataset import (ConcatDataset, Dataset, RandomLabels, Subset, TensorDataset,
                                  collate, get_batch, random_split, targets_of)
from tinynet.data.datasets import (CIFAR10, MNIST, OFFLINE_SUBSET, FashionMNIST, RestrictedUnpickler,
                                   load_offline_subset, read_idx, restricted_loads)
from tinynet.data.download import (DataWarning, DownloadError, Resource, data_root, download_resource,
                                   find_verified, md5_of_file, verified_content)
from tinynet.data.functions import FUNCTIONS, FunctionDataset, TargetFunction, target_function
from tinynet.data.images import (IMG_EXTENSIONS, ImageFolder, decode_image, extract_archive,
                                 images_to_float, iter_archive_images, read_image_archive)

__all__ = [
    "CIFAR10", "ConcatDataset", "DataLoader", "DataWarning", "Dataset", "DownloadError", "FUNCTIONS",
    "FashionMNIST", "FunctionDataset", "IMG_EXTENSIONS", "ImageFolder", "MNIST", "OFFLINE_SUBSET",
    "RandomLabels", "Resource", "RestrictedUnpickler", "Subset", "TargetFunction", "TensorDataset",
    "collate", "data_root", "decode_image", "download_resource", "extract_archive", "find_verified",
    "get_batch", "images_to_float", "iter_archive_images", "load_offline_subset", "md5_of_file",
    "random_split", "read_idx", "read_image_archive", "restricted_loads", "target_function",
    "targets_of", "verified_content",
]
