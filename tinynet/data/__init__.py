"""Data for tinynet: datasets, the DataLoader, and the classic image data sets.

>>> from tinynet.data import DataLoader, MNIST
>>> train = MNIST(train=True)  # doctest: +SKIP
>>> for images, labels in DataLoader(train, batch_size=128, shuffle=True, seed=0):  # doctest: +SKIP
...     pass  # images: float32 (128, 1, 28, 28) in [0, 1]; labels: int64 (128,)

Where the files come from is described in docs/data.md.
"""

from tinynet.data.dataloader import DataLoader, get_worker_info
from tinynet.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, RandomLabels,
                                  Subset, TensorDataset, batches_itself, collate, default_collate,
                                  default_convert, get_batch, random_split, targets_of)
from tinynet.data.datasets import (CIFAR10, MNIST, OFFLINE_SUBSET, FashionMNIST, RestrictedUnpickler,
                                   load_offline_subset, read_idx, restricted_loads)
from tinynet.data.download import (DataWarning, DownloadError, Resource, data_root, download_resource,
                                   find_verified, md5_of_file, verified_content)
from tinynet.data.functions import FUNCTIONS, FunctionDataset, TargetFunction, target_function
from tinynet.data.images import (IMG_EXTENSIONS, ImageFolder, decode_image, extract_archive,
                                 images_to_float, iter_archive_images, read_image_archive)
from tinynet.data.sampler import (BatchSampler, RandomSampler, Sampler, SeededShuffle, SequentialSampler,
                                  SubsetRandomSampler, WeightedRandomSampler)

__all__ = [
    "BatchSampler", "CIFAR10", "ChainDataset", "ConcatDataset", "DataLoader", "DataWarning", "Dataset",
    "DownloadError", "FUNCTIONS", "FashionMNIST", "FunctionDataset", "IMG_EXTENSIONS", "ImageFolder",
    "IterableDataset", "MNIST", "OFFLINE_SUBSET", "RandomLabels", "RandomSampler", "Resource",
    "RestrictedUnpickler", "Sampler", "SeededShuffle", "SequentialSampler", "Subset",
    "SubsetRandomSampler", "TargetFunction", "TensorDataset", "WeightedRandomSampler", "batches_itself",
    "collate", "data_root", "decode_image", "default_collate", "default_convert", "download_resource",
    "extract_archive", "find_verified", "get_batch", "get_worker_info", "images_to_float",
    "iter_archive_images", "load_offline_subset", "md5_of_file", "random_split", "read_idx",
    "read_image_archive", "restricted_loads", "target_function", "targets_of", "verified_content",
]
