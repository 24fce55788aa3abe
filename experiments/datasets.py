"""The image data the studies train on, as loaders, with the source recorded in the results."""

from __future__ import annotations

import functools
from typing import Any

import numpy

from experiments.harness import Context
from tinynet.data import CIFAR10, MNIST, DataLoader, FashionMNIST, Subset

DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "cifar10": CIFAR10}


@functools.lru_cache(maxsize=2)
def load_split(name: str, train: bool) -> Any:
    """A data set's train or test split, read once per process (a sweep asks for it per run)."""
    return DATASETS[name](train=train)


def data_source(dataset: Any) -> str:
    """Where a (possibly subsampled) data set came from: the ``source`` of the innermost one."""
    while not hasattr(dataset, "source") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    return str(getattr(dataset, "source", type(dataset).__name__))


def subsample(dataset: Any, samples: int, seed: int) -> Any:
    """A fixed random subset of ``samples`` items (all of them when ``samples`` is 0)."""
    if not samples or samples >= len(dataset):
        return dataset
    keep = numpy.sort(numpy.random.default_rng(seed).permutation(len(dataset))[:samples])
    return Subset(dataset, keep)


def image_data(ctx: Context, name: str, batch_size: int, train_samples: int = 0,
               test_samples: int = 0) -> tuple[DataLoader, DataLoader, tuple[int, ...]]:
    """Shuffled train loader, test loader and the shape of one image, for ``name``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
    train = ctx.uses(DATASETS[name](train=True))
    test = ctx.uses(DATASETS[name](train=False))
    shape = tuple(train[0][0].shape)
    train = subsample(train, train_samples, ctx.seed)
    test = subsample(test, test_samples, ctx.seed + 1)
    return (DataLoader(train, batch_size=batch_size, shuffle=True, seed=ctx.seed),
            DataLoader(test, batch_size=1000), shape)
