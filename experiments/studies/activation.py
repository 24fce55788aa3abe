"""P7: the same MLP with ReLU, ELU, sigmoid, tanh and LeakyReLU: loss curves and training time.

Runs one after the other in one process on ``ctx.device`` (``--device cuda`` runs the same code
on CuPy), so the training times are measured the same way and can be compared: History's
``seconds`` is the time spent in training steps, without the test evaluation.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from matplotlib.ticker import MaxNLocator

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, History, Study, choice
from experiments.harness.data import ImageData, image_data
from experiments.models import ACTIVATIONS, mlp
from experiments.runs import OPTIMIZERS, make_optimizer, over_seeds, pm, separated
from tinynet.nn.utils import count_parameters

LABELS = {"relu": "ReLU", "elu": "ELU", "sigmoid": "sigmoid", "tanh": "tanh", "leaky_relu": "LeakyReLU"}


def epoch_seconds(history: History, column: str = "seconds") -> list[float]:
    """The training time of each epoch (History keeps the running total of ``column``)."""
    totals = [0.0, *history.column(column)]
    return [b - a for a, b in zip(totals, totals[1:])]


def run(ctx: Context) -> None:
    """Train the MLP with every activation from every seed; plot, tabulate, check."""
    s = ctx.settings
    train, test, shape = image_data(ctx, s.dataset, s.batch_size, s.train_samples, s.test_samples)
    pixels = shape[0] * shape[1] * shape[2]
    histories: dict[str, list[History]] = {}
    parameters = {}
    for activation in s.activations:
        for j in range(s.seeds):
            tn.manual_seed(ctx.seed + j)  # seed j: the same initial random stream for every activation
            model = mlp([pixels, *s.hidden, 10], activation, flatten=True)
            optimizer = make_optimizer(s.optimizer, model.parameters(), s.lr)
            name = activation if j == 0 else f"{activation}-seed{ctx.seed + j}"
            histories.setdefault(activation, []).append(
                ctx.fit(name, model, optimizer, F.cross_entropy, train, epochs=s.epochs, test=test))
            parameters[activation] = count_parameters(model)
    final = {}
    rows = []
    for activation, runs in histories.items():
        summary = {"train": over_seeds([h.last["train_loss"] for h in runs]),
                   "test": over_seeds([h.last["test_loss"] for h in runs]),
                   "acc": over_seeds([h.last["test_acc"] for h in runs]),
                   # the median epoch of each seed, in CPU time: robust to load and to one slow epoch
                   "epoch_cpu": over_seeds([statistics.median(epoch_seconds(h, "cpu_seconds"))
                                            for h in runs])}
        final[LABELS[activation]] = summary
        rows.append({"activation": LABELS[activation], "parameters": parameters[activation],
                     "train loss": summary["train"]["mean"], "± train loss": summary["train"]["spread"],
                     "test loss": summary["test"]["mean"], "test acc": summary["acc"]["mean"],
                     "median CPU s per epoch": summary["epoch_cpu"]["mean"],
                     "± CPU s": summary["epoch_cpu"]["spread"],
                     "wall s (seed 1)": round(runs[0].last["seconds"], 2), "device": ctx.device})
    _plot(ctx, histories, final)
    ctx.table("activations", rows, f"Final losses, test accuracy and training time per activation "
                                   f"after {s.epochs} epoch(s) on {ctx.device}, mean over {s.seeds} "
                                   "seed(s) with the standard deviation (±); training time counts the "
                                   "training steps only (no evaluation): the median epoch in CPU time "
                                   "of the process, and the whole first seed's run in wall-clock time.")
    ctx.record("final_train_loss", {a: r["train"] for a, r in final.items()})
    ctx.record("final_test_loss", {a: r["test"] for a, r in final.items()})
    ctx.record("median_cpu_seconds_per_epoch", {a: r["epoch_cpu"] for a, r in final.items()})
    ctx.record("device", ctx.device)
    ctx.note(f"The runs train one after the other in one process with one BLAS thread, the same "
             f"initial random stream per seed ({s.seeds} seed(s)), data order and settings; only the "
             "activation changes. A difference counts as shown only when the two means differ by "
             "more than the sum of their standard deviations. Training time counts the training "
             "steps only (no evaluation), in CPU time of the process, which other jobs on a shared "
             f"machine barely change. This run used `{ctx.device}`; `--device cuda` runs the same "
             "code on the GPU with CuPy (the seed's bonus; the seed expects shorter times and the same "
             "ranking of the losses; on a GPU the CPU time measures the host's side only).")
    _checks(ctx, final)


def _plot(ctx: Context, histories: dict[str, list[History]], final: dict[str, Any]) -> None:
    s = ctx.settings
    with ctx.figure("loss", f"Train (solid) and test (dashed) cross-entropy per epoch for each "
                            f"activation, seed {ctx.seed} (left; {s.optimizer}, lr {s.lr}), and train "
                            f"loss against CPU training time (right)",
                    ncols=2, width=6) as (fig, (ax, ax_time)):
        for i, (activation, runs) in enumerate(histories.items()):
            history, colour = runs[0], f"C{i}"
            ax.plot(history.column("epoch"), history.column("train_loss"), color=colour, marker="o",
                    markersize=3, label=LABELS[activation])
            ax.plot(history.column("epoch"), history.column("test_loss"), color=colour, marker="o",
                    markersize=3, linestyle="--")
            ax_time.plot(history.column("cpu_seconds"), history.column("train_loss"), color=colour,
                         marker="o", markersize=3, label=LABELS[activation])
        ax.set(xlabel="epoch", ylabel="cross-entropy loss (solid: train, dashed: test)", yscale="log",
               title="Loss per epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
        ax_time.set(xlabel=f"CPU training time on {ctx.device} (s, without evaluation)",
                    ylabel="train cross-entropy loss", yscale="log", title="Train loss against time")
        ax_time.legend()
    with ctx.figure("time", f"Median CPU time per training epoch on {ctx.device}, mean over {s.seeds} "
                            "seed(s) (bars; whiskers: ± one standard deviation), with the mean final "
                            "test loss above each bar", width=6) as (fig, ax):
        names = list(final)
        means = [final[a]["epoch_cpu"]["mean"] for a in names]
        spreads = [final[a]["epoch_cpu"]["spread"] for a in names]
        bars = ax.bar(names, means, yerr=spreads, capsize=4, color=[f"C{i}" for i in range(len(names))])
        for bar, name, spread in zip(bars, names, spreads):
            ax.annotate(f"test loss {final[name]['test']['mean']:.3f}",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height() + spread), ha="center",
                        va="bottom", fontsize=8)
        ax.set(ylabel="CPU seconds per epoch", title=f"Training time on {ctx.device}")
        ax.margins(y=0.15)


def _checks(ctx: Context, final: dict[str, dict[str, Any]]) -> None:
    s = ctx.settings
    fast = [a for a in ("ReLU", "ELU") if a in final]
    for slow in ("sigmoid", "tanh"):
        if fast and slow in final:
            lower = all(final[a]["train"]["mean"] < final[slow]["train"]["mean"]
                        and separated(final[a]["train"], final[slow]["train"]) for a in fast)
            ctx.check(f"ReLU and ELU reach a lower training loss than {slow} (seed; vanishing "
                      "gradients of saturating units, Glorot & Bengio 2010).", lower,
                      "Final train loss " + ", ".join(f"{a} {pm(final[a]['train'])}" for a in fast)
                      + f", {slow} {pm(final[slow]['train'])} after {s.epochs} epoch(s). Shown when "
                        "each is lower by more than the spread.")
    times = {a: r["epoch_cpu"] for a, r in final.items()}
    fastest = min(times, key=lambda a: times[a]["mean"])
    slowest = max(times, key=lambda a: times[a]["mean"])
    ratio = times[slowest]["mean"] / times[fastest]["mean"] if times[fastest]["mean"] > 0 else float("inf")
    ctx.check("The activation changes the training time little (seed): the slowest activation's "
              "median epoch takes under 1.5x the fastest's, in CPU time.", ratio < 1.5,
              "Median epoch (CPU) " + ", ".join(f"{a} {pm(t, '.3f')} s" for a, t in times.items())
              + f": {slowest} / {fastest} = {ratio:.2f}x on {ctx.device}.")


@dataclass(frozen=True)
class Settings(ImageData):
    """P7's settings (the full profile's values)."""

    activations: tuple[str, ...] = choice(("relu", "elu", "sigmoid", "tanh", "leaky_relu"),
                                          tuple(ACTIVATIONS))
    hidden: tuple[int, ...] = (128, 128, 128)
    optimizer: str = choice("adam", OPTIMIZERS)
    lr: float = 1e-3
    epochs: int = 10
    batch_size: int = 64
    seeds: int = 3


STUDY = Study(
    name="activation", code="P7", title="Activation functions: loss and training time",
    question="How do ReLU, ELU, sigmoid, tanh and LeakyReLU change the loss curves and the training "
             "time of the same MLP on MNIST (on CPU, or on GPU with --device cuda)?",
    settings=Settings,
    profiles={
        # three seeds at the cost of the one-seed profile before: fewer epochs
        "quick": {"epochs": 2, "train_samples": 20000, "test_samples": 5000},
        "smoke": {"epochs": 1, "train_samples": 512, "test_samples": 256, "hidden": [32, 32],
                  "seeds": 2},
    },
    run=run, part="Breadth vs depth",
)
