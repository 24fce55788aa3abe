"""1-1b: CNNs and dense networks of several sizes on MNIST (or CIFAR-10)."""

from __future__ import annotations

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Study
from experiments.models import cnn, mlp
from experiments.datasets import image_data
from tinynet.nn.utils import count_parameters
from tinynet.optim import Adam


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
    s = ctx.settings
    train, test, shape = image_data(ctx, s.dataset, s.batch_size, s.train_samples, s.test_samples)
    channels, image = shape[0], shape[1]
    histories, rows = {}, []
    for name, build in models(image, channels, channels * image * image).items():
        tn.manual_seed(ctx.seed)
        model = build()
        history = ctx.fit(name, model, Adam(model.parameters(), lr=s.lr), F.cross_entropy, train,
                          epochs=s.epochs, test=test)
        histories[name] = history
        last = history.last
        rows.append({"model": name, "parameters": count_parameters(model),
                     "train loss": last["train_loss"], "train acc": last["train_acc"],
                     "test loss": last["test_loss"], "test acc": last["test_acc"],
                     "seconds": last["seconds"]})

    for metric, label in (("loss", "cross-entropy loss"), ("acc", "accuracy")):
        with ctx.figure(metric, f"Train (solid) and test (dashed) {label} per epoch, all models",
                        width=7) as (fig, ax):
            for i, (name, history) in enumerate(histories.items()):
                colour = f"C{i}"
                ax.plot(history.column("epoch"), history.column(f"train_{metric}"), color=colour,
                        label=f"{name} train")
                ax.plot(history.column("epoch"), history.column(f"test_{metric}"), color=colour,
                        linestyle="--", label=f"{name} test")
            ax.set(xlabel="epoch", ylabel=label, yscale="log" if metric == "loss" else "linear")
            ax.legend(ncol=2)
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


STUDY = Study(
    name="actual_task", code="1-1b", title="CNNs and DNNs on an image task",
    question="How do CNNs and dense networks of different sizes train and generalise on MNIST "
             "(or CIFAR-10)?",
    profiles={
        "full": {"dataset": "mnist", "epochs": 10, "batch_size": 64, "lr": 1e-3,
                 "train_samples": 0, "test_samples": 0},
        "quick": {"epochs": 2},
        "smoke": {"epochs": 1, "train_samples": 512, "test_samples": 256},
    },
    run=run,
)
