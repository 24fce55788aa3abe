"""1-1b: CNNs and dense networks of several sizes on MNIST (or CIFAR-10)."""

from __future__ import annotations

from dataclasses import dataclass

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Study
from experiments.harness.data import ImageData, image_data, subsample
from experiments.harness.plots import legend_below
from experiments.models import cnn, mlp
from experiments.runs import make_optimizer
from tinynet.data import DataLoader
from tinynet.nn.utils import count_parameters


def models(image: int, channels: int, pixels: int) -> dict[str, object]:
    """Three CNNs and three dense networks, from about 25k to about 200k parameters."""
    return {
        "cnn-small": lambda: cnn([8, 16], 28, image=image, in_channels=channels),
        "cnn-medium": lambda: cnn([16, 32], 64, image=image, in_channels=channels),
        "cnn-large": lambda: cnn([32, 64], 128, image=image, in_channels=channels),
        "dnn-small": lambda: mlp([pixels, 32, 10], "relu", flatten=True),
        "dnn-medium": lambda: mlp([pixels, 128, 64, 10], "relu", flatten=True),
        "dnn-large": lambda: mlp([pixels, 256, 128, 64, 10], "relu", flatten=True),
    }


def run(ctx: Context) -> None:
    """Train the three CNNs and three DNNs; plot their curves, tabulate, check."""
    s = ctx.settings
    train, test, shape = image_data(ctx, s.dataset, s.batch_size, s.train_samples, s.test_samples)
    channels, image = shape[0], shape[1]
    # the points between epochs are measured on a fixed part of the test set, to stay cheap
    probe = DataLoader(subsample(test.dataset, s.curve_test_samples, ctx.seed + 2), batch_size=1000)
    histories, rows = {}, []
    for name, build in models(image, channels, channels * image * image).items():
        tn.manual_seed(ctx.seed)
        model = build()
        history = ctx.fit(name, model, make_optimizer("adam", model.parameters(), s.lr), F.cross_entropy,
                          train, epochs=s.epochs, test=test, points_per_epoch=s.curve_points,
                          point_loader=probe)
        histories[name] = history
        last = history.last
        rows.append({"model": name, "parameters": count_parameters(model),
                     "train loss": last["train_loss"], "train acc": last["train_acc"],
                     "test loss": last["test_loss"], "test acc": last["test_acc"],
                     "seconds": last["seconds"]})

    for metric, label in (("loss", "cross-entropy loss"), ("acc", "accuracy")):
        with ctx.figure(metric, f"Train (solid, running mean since the previous point) and test "
                        f"(dashed, on {s.curve_test_samples} fixed test images) {label}, "
                        f"{s.curve_points} points per epoch, all models; the table gives the final "
                        "numbers on the whole test set", width=7, height=5) as (fig, ax):
            for i, (name, history) in enumerate(histories.items()):
                colour = f"C{i}"
                points = history.points or history.rows
                ax.plot([p["epoch"] for p in points], [p[f"train_{metric}"] for p in points],
                        color=colour, label=f"{name} train")
                ax.plot([p["epoch"] for p in points], [p.get(f"test_{metric}") for p in points],
                        color=colour, linestyle="--", label=f"{name} test")
            ax.set(xlabel="epoch", ylabel=label, yscale="log" if metric == "loss" else "linear")
            legend_below(ax, ncol=4)
    ctx.table("models", rows, f"Final train/test loss and accuracy on {s.dataset}.")

    best_cnn = max(r["test acc"] for r in rows if r["model"].startswith("cnn"))
    best_dnn = max(r["test acc"] for r in rows if r["model"].startswith("dnn"))
    small_cnn = next(r for r in rows if r["model"] == "cnn-small")
    ctx.record("test_accuracy", {r["model"]: r["test acc"] for r in rows})
    if s.dataset == "mnist":
        ctx.check("A CNN of about 25k parameters reaches 97.6-99% test accuracy on MNIST (seeds).",
                  small_cnn["test acc"] >= 0.976,
                  f"cnn-small ({small_cnn['parameters']} parameters) reached "
                  f"{small_cnn['test acc']:.2%} after {s.epochs} epochs.")
    ctx.check("The best CNN beats the best dense network on test accuracy (seeds).",
              best_cnn > best_dnn, f"Best CNN {best_cnn:.2%}, best DNN {best_dnn:.2%}.")


@dataclass(frozen=True)
class Settings(ImageData):
    """1-1b's settings (the full profile's values)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    curve_points: int = 4
    curve_test_samples: int = 1000


STUDY = Study(
    name="actual_task", code="1-1b", title="CNNs and DNNs on an image task",
    question="How do CNNs and dense networks of different sizes train and generalise on MNIST "
             "(or CIFAR-10)?",
    settings=Settings,
    profiles={
        "quick": {"epochs": 2},
        "smoke": {"epochs": 1, "train_samples": 512, "test_samples": 256, "curve_points": 2,
                  "curve_test_samples": 128},
    },
    run=run,
)
