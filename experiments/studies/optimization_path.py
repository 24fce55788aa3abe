"""1-2a: the path of the weights during training, eight runs from different seeds, in 2-D by PCA."""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
from sklearn.decomposition import PCA

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Study, evaluate, fit
from experiments.harness.data import ImageData, load_split, subsample
from experiments.harness.files import atomic_write_bytes
from experiments.harness.sweep import RunEnv
from experiments.models import mlp
from experiments.runs import make_optimizer
from tinynet.data import DataLoader
from tinynet.nn.utils import parameters_to_vector


def snapshot_path(folder: Path, epoch: int) -> Path:
    """Where the weights after ``epoch`` epochs (0: the initialisation) of one run are kept."""
    return folder / f"epoch{epoch:04d}.npz"


def save_snapshot(folder: Path, epoch: int, model: Any, metrics: dict[str, float]) -> None:
    """All weights of ``model`` as one float32 vector, with the metrics at that epoch (atomic)."""
    with tn.no_grad():
        weights = parameters_to_vector(model.parameters()).numpy().astype(numpy.float32)
    buffer = io.BytesIO()
    numpy.savez(buffer, weights=weights, metrics=json.dumps({"epoch": epoch, **metrics}))
    atomic_write_bytes(snapshot_path(folder, epoch), buffer.getvalue())


def load_snapshots(folder: Path, epochs: list[int]) -> tuple[numpy.ndarray, list[dict[str, float]]]:
    """The weight vectors (one row per epoch) and metrics saved for ``epochs``."""
    weights, metrics = [], []
    for epoch in epochs:
        path = snapshot_path(folder, epoch)
        if not path.exists():
            raise RuntimeError(f"optimization_path: weight snapshot {path} is missing although its "
                               f"run is finished; delete {folder.parent} to train again")
        with numpy.load(path) as stored:
            weights.append(stored["weights"])
            metrics.append(json.loads(str(stored["metrics"])))
    return numpy.stack(weights), metrics


def first_layer_size(model: Any) -> int:
    """How many of the flattened parameters belong to the first layer (its weight and bias)."""
    layer = next(m for m in model.modules() if list(m.parameters(recurse=False)))
    return sum(p.numel() for p in layer.parameters(recurse=False))


def load_data(dataset: str, train_samples: int, test_samples: int, seed: int) -> tuple[Any, Any]:
    """The same training and test subsets for every run (drawn with the study's seed)."""
    train = subsample(load_split(dataset, True), train_samples, seed)
    test = subsample(load_split(dataset, False), test_samples, seed + 1)
    return train, test


@dataclass(frozen=True)
class PathRun:
    """One of the runs (a sweep item): its index and seed, and the training shared by all."""

    run: int
    seed: int
    dataset: str
    widths: tuple[int, ...]
    lr: float
    batch_size: int
    epochs: int
    every: int
    train_samples: int
    test_samples: int


def train_one(config: PathRun, env: RunEnv) -> dict[str, Any]:
    """One training run (a sweep item): weights snapshot at epoch 0 and every ``every`` epochs.

    Snapshots go to files next to the run's checkpoint, so a resumed run keeps the ones it
    wrote before the interruption and a finished run is not trained again.
    """
    train, test = load_data(config.dataset, config.train_samples, config.test_samples, env.seed)
    train_loader = DataLoader(train, batch_size=config.batch_size, shuffle=True, seed=config.seed)
    test_loader = DataLoader(test, batch_size=1000)
    tn.manual_seed(config.seed)
    model = mlp(config.widths, "relu", flatten=True).to(env.device)
    optimizer = make_optimizer("adam", model.parameters(), config.lr)
    name, every = f"run{config.run}", config.every
    folder = Path(env.out) / f"{name}-weights"
    if not snapshot_path(folder, 0).exists():  # the model is still at its initialisation here
        start = {f"train_{k}": v for k, v in
                 evaluate(model, F.cross_entropy, train_loader, env.device).items()}
        start.update({f"test_{k}": v for k, v in
                      evaluate(model, F.cross_entropy, test_loader, env.device).items()})
        save_snapshot(folder, 0, model, start)

    def snapshot(epoch: int, history: Any) -> None:
        if (epoch + 1) % every == 0:
            save_snapshot(folder, epoch + 1, model, history.last)

    history = fit(model, optimizer, F.cross_entropy, train_loader, epochs=config.epochs,
                  test_loader=test_loader, eval_every=every, device=env.device,
                  checkpoint=Path(env.out) / f"{name}.npz", desc=name,
                  progress=env.progress,
                  on_epoch=snapshot)
    return {"history": history.to_dict(), "folder": str(folder),
            "first_layer": first_layer_size(model), "source": getattr(train, "source", None)}


def run(ctx: Context) -> None:
    """Train the runs (a sweep), project their weight snapshots by PCA, plot, check."""
    s = ctx.settings
    for dataset in load_data(s.dataset, 0, 0, ctx.seed):
        ctx.uses(dataset)
    configs = [PathRun(run=i, seed=1000 * ctx.seed + i, dataset=s.dataset, widths=s.widths, lr=s.lr,
                       batch_size=s.batch_size, epochs=s.epochs, every=s.every,
                       train_samples=s.train_samples, test_samples=s.test_samples)
               for i in range(s.runs)]
    results = ctx.sweep(train_one, configs)
    epochs = list(range(0, s.epochs + 1, s.every))
    paths, metrics = [], []
    for config, result in zip(configs, results):
        ctx.runs[f"run{config.run}"] = result["history"]
        weights, run_metrics = load_snapshots(Path(result["folder"]), epochs)
        paths.append(weights)
        metrics.append(run_metrics)
    first_layer = results[0]["first_layer"]

    parts = {"layer1": ("layer 1", lambda w: w[:, :first_layer]),
             "whole": ("the whole model", lambda w: w)}
    variance, radius = {}, {}
    for key, (label, select) in parts.items():
        selected = [select(w) for w in paths]
        pca = PCA(n_components=2, svd_solver="full").fit(numpy.concatenate(selected))
        variance[key] = pca.explained_variance_ratio_
        projected = [pca.transform(w) for w in selected]
        radius[key] = [float(numpy.mean([numpy.linalg.norm(p[i]) for p in projected]))
                       for i in (0, -1)]
        with ctx.figure(key, f"Weights of {label} ({selected[0].shape[1]} numbers) at epochs "
                        f"{epochs[0]}, {epochs[1]}, …, {epochs[-1]} of {s.runs} runs from different "
                        "seeds, projected on the first two principal components of all runs "
                        "together. Hollow marker: initialisation; each point is labelled with the "
                        "test accuracy there.", width=7.5, height=6) as (fig, ax):
            _path_plot(ax, projected, metrics, label, variance[key])

    _checks(ctx, paths, metrics)
    travelled = [float(_steps(w).sum()) for w in paths]
    for key in parts:
        ctx.record(f"pca_explained_variance/{key}", [round(float(v), 4) for v in variance[key]])
    ctx.table("runs", [{"run": i, "seed": c.seed, "final train loss": m[-1]["train_loss"],
                        "final test acc": m[-1]["test_acc"],
                        "distance travelled": length,
                        "init → final distance": float(numpy.linalg.norm(w[-1] - w[0]))}
                       for i, (c, m, w, length) in enumerate(zip(configs, metrics, paths, travelled))],
              "Per run: final loss and accuracy, the length of its weight path (sum of the "
              "distances between consecutive snapshots) and how far it ended from its start, in "
              "the full weight space.")
    _notes(ctx, first_layer / paths[0].shape[1], radius["whole"], sum(variance["whole"]),
           travelled)


def _notes(ctx: Context, layer1_share: float, radius: list[float], variance: float,
           travelled: list[float]) -> None:
    s = ctx.settings
    ctx.note(f"Reading the pictures: in the PCA plane of the whole model the runs start on average "
             f"{radius[0]:.3g} from the centre and end {radius[1]:.3g} from it, each in its own "
             "direction. In the full weight space the initialisations are not close at all (see "
             "the first check: the distance between two runs at initialisation); they differ in "
             "random directions that no two principal components can hold, whereas the moves made "
             "by training are large and structured, so the two components (together "
             f"{variance:.0%} of the variance) show the training moves and the paths seem to leave "
             "a common centre. A path that looks short runs mostly outside this plane: in the full "
             f"space every run travelled between {min(travelled):.3g} and {max(travelled):.3g} "
             "(table).")
    ctx.note(f"Data: {s.dataset.upper() if s.dataset == 'mnist' else s.dataset} with a "
             f"{'-'.join(map(str, s.widths))} ReLU network and Adam (lr {s.lr}). The seeds used "
             "both MNIST (001, 002) and a 1-D function (000, 003); we use MNIST so that each "
             "point can carry a test accuracy, and Adam as three of the four seeds did (002 used "
             "SGD). Every run sees the same data subset; the run's seed sets its initialisation "
             f"and its batch order. Layer 1 holds {layer1_share:.0%} of the weights, so the two "
             "pictures are alike.")


def _path_plot(ax: Any, projected: list[numpy.ndarray], metrics: list[list[dict[str, float]]],
               label: str, variance: numpy.ndarray) -> None:
    for i, (points, run_metrics) in enumerate(zip(projected, metrics)):
        colour = f"C{i % 10}"
        ax.plot(points[:, 0], points[:, 1], color=colour, linewidth=0.8, alpha=0.6)
        ax.scatter(points[1:, 0], points[1:, 1], color=colour, s=18, label=f"run {i}")
        ax.scatter(points[:1, 0], points[:1, 1], facecolors="none", edgecolors=colour, s=40)
        for (x, y), m in zip(points, run_metrics):
            ax.annotate(f"{m['test_acc']:.0%}", (x, y), textcoords="offset points", xytext=(3, 3),
                        fontsize=6, color=colour)
    ax.set(xlabel=f"PC1 ({variance[0]:.0%} of the variance)",
           ylabel=f"PC2 ({variance[1]:.0%} of the variance)", title=f"Weights of {label}")
    ax.legend(fontsize=7, ncol=2, loc="best")


def _steps(weights: numpy.ndarray) -> numpy.ndarray:
    return numpy.linalg.norm(numpy.diff(weights.astype(numpy.float64), axis=0), axis=1)


def _mean_pairwise_distance(points: list[numpy.ndarray]) -> float:
    return float(numpy.mean([numpy.linalg.norm(a.astype(numpy.float64) - b)
                             for a, b in itertools.combinations(points, 2)]))


def _checks(ctx: Context, paths: list[numpy.ndarray], metrics: list[list[dict[str, float]]]) -> None:
    start = _mean_pairwise_distance([w[0] for w in paths])
    end = _mean_pairwise_distance([w[-1] for w in paths])
    accuracy = [m[-1]["test_acc"] for m in metrics]
    spread = max(accuracy) - min(accuracy)
    ctx.check("Runs from different seeds end at different points of weight space, yet at about "
              "the same accuracy: many equally good minima, not one (seeds 001 and 002).",
              end >= start and spread <= 0.02,
              f"Mean distance between two runs' weights: {start:.4g} at initialisation, "
              f"{end:.4g} at the end; final test accuracy {min(accuracy):.2%} to "
              f"{max(accuracy):.2%} (spread {spread:.2%}). Shown when the runs did not get closer "
              "and the spread is at most 2 points.")
    steps = [_steps(w) for w in paths]
    shrinking = sum(s[-1] < s[0] for s in steps)
    first = numpy.mean([s[0] for s in steps])
    last = numpy.mean([s[-1] for s in steps])
    ctx.check("The weights move less and less between snapshots as training converges (seed 001: "
              "the points get closer together).",
              len(steps[0]) >= 2 and shrinking >= 0.75 * len(steps),
              f"Distance moved in the first {ctx.settings.every} epochs against the last: "
              f"{first:.4g} against {last:.4g} on average; smaller at the end in {shrinking} of "
              f"{len(steps)} runs (shown when in at least 3/4 of them).")
    ctx.record("final_test_accuracy", accuracy)
    ctx.record("mean_pairwise_distance", {"start": start, "end": end})


@dataclass(frozen=True)
class Settings(ImageData):
    """1-2a's settings (the full profile's values)."""

    widths: tuple[int, ...] = (784, 128, 64, 10)
    lr: float = 1e-3
    batch_size: int = 64
    runs: int = 8
    epochs: int = 30
    every: int = 3


STUDY = Study(
    name="optimization_path", code="1-2a", title="Visualising the optimization path",
    question="Where do the weights go during training? Eight runs of the same network from "
             "different seeds, their layer-1 and whole-model weights every few epochs, in the 2-D "
             "PCA plane of all runs together.",
    settings=Settings,
    profiles={
        "quick": {"epochs": 15, "train_samples": 10000, "test_samples": 2000},
        "smoke": {"runs": 3, "epochs": 2, "every": 1, "train_samples": 256, "test_samples": 128},
    },
    run=run,
)
