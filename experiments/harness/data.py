"""The image data sets the studies train on: loaded once per process, fingerprinted, subsampled.

A study's results depend on its data, so the harness keys checkpoints and finished results by a
:func:`fingerprint` of every data set a study uses: where it came from (the full download or the
offline subset) and a checksum of its images and labels. Pointing ``TINYNET_DATA`` at other data
therefore retrains instead of resuming.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy

from experiments.harness.settings import choice
from tinynet.data import CIFAR10, MNIST, DataLoader, FashionMNIST, Subset, data_root

if TYPE_CHECKING:
    from experiments.harness.study import Context

DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "cifar10": CIFAR10}
OFFLINE = "offline-subset"  # the source of tinynet's bundled MNIST subset


@dataclass(frozen=True)
class ImageData:
    """The settings every study that trains on an image data set has (its Settings subclass
    this): which data set, and how many of its training and test images (0: all of them)."""

    dataset: str = choice("mnist", tuple(DATASETS))
    train_samples: int = 0
    test_samples: int = 0


def check_name(name: str) -> None:
    """ValueError unless ``name`` is a data set the studies know."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")


@functools.lru_cache(maxsize=8)
def _load(name: str, train: bool, root: str, download: bool) -> Any:
    return DATASETS[name](root=root, train=train, download=download)


def load_split(name: str, train: bool, download: bool = False) -> Any:
    """A data set's train or test split, read once per process and data root (the root is part
    of the cache key, so changing ``TINYNET_DATA`` reads the other data)."""
    check_name(name)
    return _load(name, train, str(data_root()), download)


def data_source(dataset: Any) -> str:
    """Where a (possibly subsampled) data set came from: the ``source`` of the innermost one, or
    ``synthetic: <type>`` for one generated in the study (no ``source``)."""
    while not hasattr(dataset, "source") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    return str(getattr(dataset, "source", f"synthetic: {type(dataset).__name__}"))


def _digest(dataset: Any) -> str:
    sha = hashlib.sha1()
    for array in (dataset.data, dataset.targets):
        sha.update(str((array.dtype.str, array.shape)).encode())
        sha.update(numpy.ascontiguousarray(array).tobytes())
    return sha.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _fingerprint(name: str, root: str, download: bool) -> dict[str, Any]:
    splits = {"train": _load(name, True, root, download), "test": _load(name, False, root, download)}
    return {"dataset": name, "source": data_source(splits["train"]),
            **{split: {"samples": len(data), "sha1": _digest(data)} for split, data in splits.items()}}


def fingerprint(name: str, download: bool = False) -> dict[str, Any]:
    """What a study's results depend on in data set ``name``: its source, and each split's size
    and checksum (SHA-1 of images and labels). ``download=True`` fetches what is missing first."""
    check_name(name)
    return _fingerprint(name, str(data_root()), download)


def subsample(dataset: Any, samples: int, seed: int) -> Any:
    """A fixed random subset of ``samples`` items (all of them when ``samples`` is 0)."""
    if not samples or samples >= len(dataset):
        return dataset
    keep = numpy.sort(numpy.random.default_rng(seed).permutation(len(dataset))[:samples])
    return Subset(dataset, keep)


def image_data(ctx: Context, name: str, batch_size: int, train_samples: int = 0,
               test_samples: int = 0) -> tuple[DataLoader, DataLoader, tuple[int, ...]]:
    """Shuffled train loader, test loader and the shape of one image, for ``name``."""
    train = ctx.uses(load_split(name, True))
    test = ctx.uses(load_split(name, False))
    shape = tuple(train[0][0].shape)
    train = subsample(train, train_samples, ctx.seed)
    test = subsample(test, test_samples, ctx.seed + 1)
    return (DataLoader(train, batch_size=batch_size, shuffle=True, seed=ctx.seed),
            DataLoader(test, batch_size=1000), shape)
