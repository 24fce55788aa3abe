"""The training runs and helpers several studies share, so that no study imports another.

- :class:`MLPRun`, :func:`train_mlp_classifier` and :func:`train_mlp`: one ReLU MLP trained on an
  image data set, resumable, as a sweep run (P3-P6, P8, 1-3b, 1-3d).
- :func:`make_optimizer`: the studies' one way to build Adam or SGD.
- :class:`AutoEncoder` and :func:`train_autoencoder`: P10's autoencoders, whose encoders P11 reuses.
- :func:`over_seeds` and :func:`separated`: mean ± spread over seeds, and when a difference counts.
"""

from __future__ import annotations

import dataclasses
import math
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from experiments.budget import params
from experiments.harness import Context, History, TrainingDiverged, evaluate, fit
from experiments.harness.data import check_name, data_source, load_split, subsample
from experiments.harness.sweep import RunEnv
from experiments.models import mlp
from tinynet.data import DataLoader, TensorDataset, get_batch
from tinynet.optim import SGD, Adam, Optimizer

OPTIMIZERS = ("adam", "sgd")
# The settings that make two studies' runs "trained alike" (P8 against P4, P9 against P8).
TRAINING = ("dataset", "epochs", "batch_size", "lr", "train_samples", "test_samples")


def make_optimizer(name: str, parameters: Iterable[tn.Tensor], lr: float, *, momentum: float = 0.0,
                   weight_decay: float = 0.0) -> Optimizer:
    """``'adam'`` or ``'sgd'`` (plain SGD unless ``momentum``) at learning rate ``lr``."""
    if name == "adam":
        return Adam(parameters, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return SGD(parameters, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"make_optimizer: unknown optimizer {name!r}; expected one of {OPTIMIZERS}")


# ----------------------------------------------------------------------------- MLP classifiers
@dataclass(frozen=True)
class MLPRun:
    """One ReLU MLP classifier run: its widths (input and classes included), data and training.
    ``seed`` sets the initialisation and the batch order (None: the study's seed); the data
    subset always comes from the study's seed, so every seed sees the same images."""

    name: str
    widths: tuple[int, ...]
    dataset: str
    train_samples: int
    test_samples: int
    epochs: int
    batch_size: int
    lr: float
    optimizer: str = "adam"
    weight_decay: float = 0.0
    dropout: float = 0.0
    momentum: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        check_name(self.dataset)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"MLPRun {self.name}: unknown optimizer {self.optimizer!r}; "
                             f"expected one of {OPTIMIZERS}")
        if len(self.widths) < 2 or min(self.widths) < 1 or self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"MLPRun {self.name}: widths {self.widths}, epochs {self.epochs} and "
                             f"batch size {self.batch_size} must be positive (two widths at least)")


def image_widths(dataset: str, hidden: Sequence[int]) -> tuple[int, ...]:
    """``(pixels, *hidden, classes)`` for an MLP on ``dataset``'s flattened images."""
    train = load_split(dataset, True)
    return (math.prod(train[0][0].shape), *hidden, len(train.classes))


def mlp_run(ctx: Context, name: str, widths: Sequence[int], **overrides: Any) -> MLPRun:
    """An :class:`MLPRun` from the study's common settings (dataset, samples, epochs, batch size
    and learning rate where the study has them), with ``overrides``."""
    s = ctx.settings
    common = {key: getattr(s, key) for key in ("dataset", "train_samples", "test_samples", "epochs",
                                               "batch_size", "lr") if hasattr(s, key)}
    return MLPRun(name=name, widths=tuple(widths), **{**common, **overrides})


def train_mlp_classifier(run: MLPRun, env: RunEnv, *, test_each_epoch: bool = False) -> dict[str, Any]:
    """Train ``run`` (resumable: checkpointed under ``env.out``), then measure it on the whole
    train and test sets with the final weights (not running means; dropout off).

    Returns the model, its History, the two splits, the number of steps, the final metrics and
    the splits' data sources. A NaN loss raises ``TrainingDiverged``.
    """
    full_train = load_split(run.dataset, True)
    train = subsample(full_train, run.train_samples, env.seed)
    test = subsample(load_split(run.dataset, False), run.test_samples, env.seed + 1)
    seed = env.seed if run.seed is None else run.seed
    tn.manual_seed(seed)
    model = mlp(run.widths, "relu", dropout=run.dropout, flatten=True).to(env.device)
    optimizer = make_optimizer(run.optimizer, model.parameters(), run.lr, momentum=run.momentum,
                               weight_decay=run.weight_decay)
    loader = DataLoader(train, batch_size=run.batch_size, shuffle=True, seed=seed)
    history = fit(model, optimizer, F.cross_entropy, loader, epochs=run.epochs,
                  test_loader=DataLoader(test, batch_size=1000) if test_each_epoch else None,
                  device=env.device, checkpoint=Path(env.out) / f"{run.name}.npz",
                  progress=env.progress, desc=run.name)
    return {"model": model, "history": history, "train": train, "test": test,
            "steps": len(loader) * len(history.rows),
            "final_train": evaluate(model, F.cross_entropy, DataLoader(train, batch_size=1000),
                                    env.device),
            "final_test": evaluate(model, F.cross_entropy, DataLoader(test, batch_size=1000),
                                   env.device),
            "sources": [data_source(train), data_source(test)]}


def train_mlp(run: MLPRun, env: RunEnv) -> dict[str, Any]:
    """One :class:`MLPRun` as a sweep run, returning plain numbers (kept with ``env.cached``, so a
    finished run is never repeated).

    Returns the final train loss/accuracy (measured after training in eval mode over the
    training set), test loss/accuracy, the training time (``seconds`` wall clock and
    ``cpu_seconds``, training only), the per-epoch history, the parameter count and the data
    source. A run whose loss becomes NaN/inf returns ``diverged=True`` and None for its numbers.
    """
    def compute() -> dict[str, Any]:
        train_size = len(subsample(load_split(run.dataset, True), run.train_samples, env.seed))
        result = {"name": run.name, "widths": list(run.widths), "params": params(run.widths),
                  "seed": env.seed if run.seed is None else run.seed,
                  "source": data_source(load_split(run.dataset, True)), "train_size": train_size,
                  "steps_per_epoch": math.ceil(train_size / run.batch_size), "diverged": False}
        try:
            trained = train_mlp_classifier(run, env, test_each_epoch=True)
        except TrainingDiverged:
            return {**result, "diverged": True, "train_loss": None, "train_acc": None,
                    "test_loss": None, "test_acc": None, "seconds": None, "cpu_seconds": None,
                    "history": []}
        history = trained["history"]
        return {**result, "train_loss": trained["final_train"]["loss"],
                "train_acc": trained["final_train"]["acc"], "test_loss": trained["final_test"]["loss"],
                "test_acc": trained["final_test"]["acc"], "seconds": history.last["seconds"],
                "cpu_seconds": history.last["cpu_seconds"], "history": history.rows}

    return env.cached(run.name, compute, key=dataclasses.asdict(run))


def record_runs(ctx: Context, results: list[dict[str, Any]]) -> None:
    """Keep each sweep run's per-epoch history in the results (as ``ctx.fit`` does for its runs)
    and tell the context where the workers' data came from."""
    for result in results:
        ctx.uses(result["source"])
        ctx.runs[result["name"]] = {"rows": result["history"], "diverged": result["diverged"]}


def timing_record(ctx: Context) -> dict[str, object]:
    """How the training times of a study were taken, to read next to them."""
    return {"measure": "History 'seconds' (wall clock) and 'cpu_seconds' (CPU time of the process): "
                       "training only (forward, backward, step, batch loading), evaluation excluded",
            "device": ctx.device, "processor": platform.processor() or platform.machine(),
            "jobs": ctx.jobs, "threads_per_run": 1}


def seconds_to_reach(history: list[dict], target: float, column: str = "seconds") -> float | None:
    """Training seconds until the end of the first epoch whose test loss is at most ``target``
    (None if no epoch reached it): the time-to-quality the seed's timing claims are about."""
    return next((row[column] for row in history if row.get("test_loss", math.inf) <= target), None)


def shape_ratios(shape: str, depth: int, ratio: float) -> list[float]:
    """Relative hidden widths: equal, shrinking or growing by ``ratio`` from layer to layer."""
    if shape == "uniform":
        return [1.0] * depth
    if shape == "decreasing":
        return [ratio ** (depth - 1 - i) for i in range(depth)]
    if shape == "increasing":
        return [ratio ** i for i in range(depth)]
    raise ValueError(f"unknown shape {shape!r}; expected uniform, decreasing or increasing")


# ----------------------------------------------------------------------------- seeds
def over_seeds(values: Sequence[float]) -> dict[str, float]:
    """Mean and spread (sample standard deviation; 0 for one value) of one number over seeds."""
    values = [float(v) for v in values]
    return {"mean": statistics.fmean(values), "spread": statistics.stdev(values) if len(values) > 1
            else 0.0, "n": len(values)}


def separated(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two :func:`over_seeds` summaries differ by more than their spread: |mean a − mean
    b| > spread a + spread b, with at least two seeds each. One seed shows nothing."""
    return (min(a["n"], b["n"]) >= 2
            and abs(a["mean"] - b["mean"]) > a["spread"] + b["spread"])


def pm(summary: dict[str, float], digits: str = ".4f", unit: str = "seeds") -> str:
    """``mean ± spread (n seeds)`` as text."""
    return f"{summary['mean']:{digits}} ± {summary['spread']:{digits}} ({summary['n']} {unit})"


# ----------------------------------------------------------------------------- autoencoders
class AutoEncoder(nn.Module):
    """``decoder(encoder(x))`` for flat images ``x`` of ``pixels`` values in [0, 1].

    >>> model = AutoEncoder(pixels=784, hidden=[128], latent=8)
    >>> model.encoder(tn.zeros(5, 784)).shape     # the code
    (5, 8)
    """

    def __init__(self, pixels: int, hidden: Sequence[int], latent: int) -> None:
        super().__init__()
        self.encoder = encoder(pixels, hidden, latent)
        self.decoder = nn.Sequential(mlp([latent, *reversed(hidden), pixels], "relu"), nn.Sigmoid())

    def forward(self, x: tn.Tensor) -> tn.Tensor:
        return self.decoder(self.encoder(x))


def encoder(pixels: int, hidden: Sequence[int], latent: int) -> nn.Sequential:
    """The encoder alone: ``pixels → hidden… → latent`` with ReLU between, a linear code."""
    return mlp([pixels, *hidden, latent], "relu")


def flat_images(ctx: Context, dataset: str, train: bool, samples: int) -> tuple[Any, Any]:
    """A fixed subset (all when ``samples`` is 0) of ``dataset`` as flat float32 images
    (N, pixels) in [0, 1] and int64 labels (N,), both NumPy arrays; the source is recorded."""
    data = subsample(ctx.uses(load_split(dataset, train)), samples, ctx.seed + (0 if train else 1))
    images, labels = get_batch(data, numpy.arange(len(data)))
    return numpy.asarray(images, dtype=numpy.float32).reshape(len(data), -1), numpy.asarray(labels)


def train_autoencoder(ctx: Context, latent: int, hidden: Sequence[int], train_images: Any,
                      test_images: Any, *, epochs: int, batch_size: int,
                      lr: float) -> tuple[AutoEncoder, History]:
    """Train one autoencoder of latent size ``latent`` (resumable, run name ``d<latent>``)."""
    train = tn.tensor(train_images)
    test = tn.tensor(test_images)
    # the target is the input itself: the same tensor twice, no copy
    train_loader = DataLoader(TensorDataset(train, train), batch_size=batch_size, shuffle=True,
                              seed=ctx.seed)
    test_loader = DataLoader(TensorDataset(test, test), batch_size=1000)
    tn.manual_seed(ctx.seed)
    model = AutoEncoder(train_images.shape[1], hidden, latent)
    history = ctx.fit(f"d{latent}", model, make_optimizer("adam", model.parameters(), lr), F.mse_loss,
                      train_loader, epochs=epochs, test=test_loader, classification=False)
    return model, history


def encoder_file(latent: int) -> str:
    """Where (relative to P10's folder) the encoder of latent size ``latent`` is saved."""
    return f"encoders/encoder-d{latent}.npz"
