"""P7: the same MLP with ReLU, ELU, sigmoid, tanh and LeakyReLU: loss curves and training time.

Runs one after the other in one process on ``ctx.device`` (``--device cuda`` runs the same code
on CuPy), so the training times are measured the same way and can be compared: History's
``seconds`` is the time spent in training steps, without the test evaluation.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from matplotlib.ticker import MaxNLocator

import tinynet as tn
import tinynet.nn.functional as F
from experiments.datasets import image_data
from experiments.harness import Context, History, Study
from experiments.models import ACTIVATIONS, mlp
from tinynet.nn.utils import count_parameters
from tinynet.optim import SGD, Adam, Optimizer
from tinynet.tensor import Tensor

LABELS = {"relu": "ReLU", "elu": "ELU", "sigmoid": "sigmoid", "tanh": "tanh", "leaky_relu": "LeakyReLU"}


def make_optimizer(name: str, parameters: Iterable[Tensor], lr: float) -> Optimizer:
    """``'adam'`` or ``'sgd'`` (plain SGD, as in Glorot & Bengio 2010) at learning rate ``lr``."""
    if name == "adam":
        return Adam(parameters, lr=lr)
    if name == "sgd":
        return SGD(parameters, lr=lr)
    raise ValueError(f"activation: unknown optimizer {name!r}; expected 'adam' or 'sgd'")


def epoch_seconds(history: History) -> list[float]:
    """The training time of each epoch (History keeps the running total)."""
    totals = [0.0, *history.column("seconds")]
    return [b - a for a, b in zip(totals, totals[1:])]


def run(ctx: Context) -> None:
    s = ctx.settings
    unknown = [a for a in s.activations if a not in ACTIVATIONS]
    if unknown:
        raise ValueError(f"activation: unknown activation(s) {unknown}; choose from {sorted(ACTIVATIONS)}")
    train, test, shape = image_data(ctx, s.dataset, s.batch_size, s.train_samples, s.test_samples)
    pixels = shape[0] * shape[1] * shape[2]
    histories, rows = {}, []
    for activation in s.activations:
        tn.manual_seed(ctx.seed)  # the same initial weights' random stream for every activation
        model = mlp([pixels, *s.hidden, 10], activation, flatten=True)
        optimizer = make_optimizer(s.optimizer, model.parameters(), s.lr)
        history = ctx.fit(activation, model, optimizer, F.cross_entropy, train, epochs=s.epochs,
                          test=test)
        histories[activation] = history
        last, per_epoch = history.last, epoch_seconds(history)
        rows.append({"activation": LABELS[activation], "parameters": count_parameters(model),
                     "train loss": last["train_loss"], "test loss": last["test_loss"],
                     "test acc": last["test_acc"], "training s": round(last["seconds"], 2),
                     "median s per epoch": round(statistics.median(per_epoch), 3),
                     "fastest epoch s": round(min(per_epoch), 3), "device": ctx.device})
    _plot(ctx, histories, rows)
    ctx.table("activations", rows, f"Final losses, test accuracy and training time per activation "
                                   f"after {s.epochs} epoch(s) on {ctx.device}: total training time "
                                   "(training steps only, no evaluation), and the median and fastest "
                                   "epoch.")
    final = {r["activation"]: r for r in rows}
    ctx.record("final_train_loss", {a: r["train loss"] for a, r in final.items()})
    ctx.record("final_test_loss", {a: r["test loss"] for a, r in final.items()})
    ctx.record("training_seconds", {a: r["training s"] for a, r in final.items()})
    ctx.record("device", ctx.device)
    ctx.note("The runs train one after the other in one process with one BLAS thread, the same "
             "initial random stream, data order and settings; only the activation changes. Training "
             "time counts the training steps only (no evaluation). On a machine shared with other "
             "jobs a run's total time carries noise from what else runs; the median epoch time is "
             "the steadier measure of an activation's cost, and the one the check uses. "
             f"This run used `{ctx.device}`; `--device cuda` runs the same code on the GPU with CuPy "
             "(the seed's bonus; the seed expects shorter times and the same ranking of the losses).")
    _checks(ctx, final)


def _plot(ctx: Context, histories: dict[str, History], rows: list[dict[str, Any]]) -> None:
    s = ctx.settings
    with ctx.figure("loss", f"Train (solid) and test (dashed) cross-entropy per epoch for each "
                            f"activation (left; {s.optimizer}, lr {s.lr}) and train loss against "
                            f"training time on {ctx.device} (right)",
                    ncols=2, width=6) as (fig, (ax, ax_time)):
        for i, (activation, history) in enumerate(histories.items()):
            colour = f"C{i}"
            ax.plot(history.column("epoch"), history.column("train_loss"), color=colour, marker="o",
                    markersize=3, label=LABELS[activation])
            ax.plot(history.column("epoch"), history.column("test_loss"), color=colour, marker="o",
                    markersize=3, linestyle="--")
            ax_time.plot(history.column("seconds"), history.column("train_loss"), color=colour,
                         marker="o", markersize=3, label=LABELS[activation])
        ax.set(xlabel="epoch", ylabel="cross-entropy loss (solid: train, dashed: test)", yscale="log",
               title="Loss per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
        ax_time.set(xlabel=f"training time on {ctx.device} (s, without evaluation)",
                    ylabel="train cross-entropy loss", yscale="log", title="Train loss against time")
        ax_time.legend()
    with ctx.figure("time", f"Median training time per epoch on {ctx.device} (bars; whiskers: fastest "
                            "and slowest epoch), with the final test loss above each bar",
                    width=6) as (fig, ax):
        medians, lows, highs = [], [], []
        for history in histories.values():
            per_epoch = epoch_seconds(history)
            medians.append(statistics.median(per_epoch))
            lows.append(medians[-1] - min(per_epoch))
            highs.append(max(per_epoch) - medians[-1])
        bars = ax.bar([r["activation"] for r in rows], medians, yerr=[lows, highs], capsize=4,
                      color=[f"C{i}" for i in range(len(rows))])
        for bar, row, high in zip(bars, rows, highs):
            ax.annotate(f"test loss {row['test loss']:.3f}", (bar.get_x() + bar.get_width() / 2,
                        bar.get_height() + high), ha="center", va="bottom", fontsize=8)
        ax.set(ylabel="training time per epoch (s)", title=f"Training time on {ctx.device}")
        ax.margins(y=0.15)


def _checks(ctx: Context, final: dict[str, dict[str, Any]]) -> None:
    s = ctx.settings
    fast = [a for a in ("ReLU", "ELU") if a in final]
    for slow in ("sigmoid", "tanh"):
        if fast and slow in final:
            worst_fast = max(final[a]["train loss"] for a in fast)
            ctx.check(f"ReLU and ELU reach a lower training loss than {slow} (seed; vanishing "
                      "gradients of saturating units, Glorot & Bengio 2010).",
                      worst_fast < final[slow]["train loss"],
                      "Final train loss " + ", ".join(f"{a} {final[a]['train loss']:.4f}" for a in fast)
                      + f", {slow} {final[slow]['train loss']:.4f} after {s.epochs} epoch(s).")
    times = {a: r["median s per epoch"] for a, r in final.items()}
    spread = max(times.values()) / min(times.values()) if min(times.values()) > 0 else float("inf")
    ctx.check("The activation changes the training time little (seed): the slowest activation's "
              "median epoch takes under 1.5x the fastest's.", spread < 1.5,
              "Median epoch " + ", ".join(f"{a} {t:.2f} s" for a, t in times.items())
              + f" ({spread:.2f}x) on {ctx.device}.")


STUDY = Study(
    name="activation", code="P7", title="Activation functions: loss and training time",
    question="How do ReLU, ELU, sigmoid, tanh and LeakyReLU change the loss curves and the training "
             "time of the same MLP on MNIST (on CPU, or on GPU with --device cuda)?",
    profiles={
        "full": {"dataset": "mnist", "activations": ["relu", "elu", "sigmoid", "tanh", "leaky_relu"],
                 "hidden": [128, 128, 128], "optimizer": "adam", "lr": 1e-3, "epochs": 10,
                 "batch_size": 64, "train_samples": 0, "test_samples": 0},
        "quick": {"epochs": 6, "train_samples": 20000, "test_samples": 5000},
        "smoke": {"epochs": 1, "train_samples": 512, "test_samples": 256, "hidden": [32, 32]},
    },
    run=run, part="Breadth vs depth",
)
