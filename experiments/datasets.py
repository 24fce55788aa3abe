"""The image data the studies train on, as loaders, with the source recorded in the results."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, evaluate, fit
from experiments.harness.sweep import RunEnv
from experiments.models import mlp
from tinynet.data import CIFAR10, MNIST, DataLoader, FashionMNIST, Subset
from tinynet.optim import SGD, Adam

DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST, "cifar10": CIFAR10}


@functools.lru_cache(maxsize=4)
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


def train_mlp_classifier(name: str, hidden: list[int], config: dict[str, Any], env: RunEnv, *,
                         test_each_epoch: bool = False) -> dict[str, Any]:
    """Train a ReLU MLP ``pixels → hidden… → classes`` (resumable: a sweep run), then measure it
    on the whole train and test sets with the final weights (not running means; dropout off).

    ``config`` names ``dataset``, ``train_samples``, ``test_samples`` (0: all), ``batch_size``,
    ``lr`` and ``epochs``, and optionally ``dropout``, ``optimizer`` ("adam" or "sgd"),
    ``weight_decay`` and ``momentum``. ``test_each_epoch`` adds test metrics to every row of the
    History. Returns the model, its History, the two splits, the number of steps, the final
    metrics and the splits' data sources. A NaN loss raises ``TrainingDiverged``.
    """
    train = subsample(load_split(config["dataset"], True), config["train_samples"], env.seed)
    test = subsample(load_split(config["dataset"], False), config["test_samples"], env.seed + 1)
    tn.manual_seed(env.seed)
    classes = len(load_split(config["dataset"], True).classes)
    widths = [math.prod(train[0][0].shape), *hidden, classes]
    model = mlp(widths, "relu", dropout=config.get("dropout", 0.0), flatten=True).to(env.device)
    decay = config.get("weight_decay", 0.0)
    if config.get("optimizer", "adam") == "adam":
        optimizer = Adam(model.parameters(), lr=config["lr"], weight_decay=decay)
    else:
        optimizer = SGD(model.parameters(), lr=config["lr"], momentum=config.get("momentum", 0.0),
                        weight_decay=decay)
    loader = DataLoader(train, batch_size=config["batch_size"], shuffle=True, seed=env.seed)
    history = fit(model, optimizer, F.cross_entropy, loader, epochs=config["epochs"],
                  test_loader=DataLoader(test, batch_size=1000) if test_each_epoch else None,
                  device=env.device, checkpoint=Path(env.out) / f"{name}.npz",
                  progress=env.progress, desc=name)
    return {"model": model, "history": history, "train": train, "test": test,
            "steps": len(loader) * len(history.rows),
            "final_train": evaluate(model, F.cross_entropy, DataLoader(train, batch_size=1000),
                                    env.device),
            "final_test": evaluate(model, F.cross_entropy, DataLoader(test, batch_size=1000),
                                   env.device),
            "sources": [data_source(train), data_source(test)]}
