"""P4: at one parameter budget, uniform, decreasing and increasing hidden widths, each plain,
with L2 (weight decay) and with dropout: nine networks, each trained from several seeds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy

from experiments.budget import CLASSES, INPUTS, scaled_widths
from experiments.harness import Context, Study, choice
from experiments.harness.data import ImageData
from experiments.harness.plots import axes_list, plain_log_ticks
from experiments.runs import (mlp_run, over_seeds, pm, record_runs, separated, shape_ratios,
                              train_mlp)

REGULARIZERS = ("plain", "L2", "dropout")
SHAPES = ("uniform", "decreasing", "increasing")


def run(ctx: Context) -> None:
    """Train the three shapes, each plain, with L2 and with dropout, from every seed."""
    s = ctx.settings
    seeds = [ctx.seed + j for j in range(s.seeds)]
    configs, shapes = [], {}
    for shape in s.shapes:
        hidden = scaled_widths(shape_ratios(shape, s.depth, s.width_ratio), s.budget)
        shapes[shape] = hidden
        for reg in REGULARIZERS:
            for seed in seeds:
                configs.append(mlp_run(ctx, f"{shape}-{reg}-seed{seed}", [INPUTS, *hidden, CLASSES],
                                       weight_decay=s.weight_decay if reg == "L2" else 0.0,
                                       dropout=s.dropout if reg == "dropout" else 0.0, seed=seed))
    results = ctx.sweep(train_mlp, configs)
    record_runs(ctx, results)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for config, result in zip(configs, results):
        shape, reg = config.name.split("-")[:2]
        runs.setdefault((shape, reg), []).append(result)

    with ctx.figure("test_loss", f"Test loss per epoch at a budget of {s.budget:,} parameters, mean "
                    f"over {s.seeds} seed(s) (band: ± one standard deviation): one panel per shape; "
                    f"plain, L2 (weight decay {s.weight_decay}) and dropout ({s.dropout}).",
                    ncols=len(s.shapes), width=4.5, sharey=True) as (fig, axes):
        axes = axes_list(axes)
        for ax, shape in zip(axes, s.shapes):
            for i, reg in enumerate(REGULARIZERS):
                curves = numpy.array([[row["test_loss"] for row in r["history"]] for r in runs[(shape, reg)]])
                mean, spread = curves.mean(0), curves.std(0, ddof=1) if len(curves) > 1 else 0 * curves[0]
                epochs = numpy.arange(1, curves.shape[1] + 1)
                ax.plot(epochs, mean, color=f"C{i}", label=reg)
                ax.fill_between(epochs, mean - spread, mean + spread, color=f"C{i}", alpha=0.2)
            ax.set(xlabel="epoch", title=f"{shape} ({'-'.join(map(str, shapes[shape]))})", yscale="log")
            plain_log_ticks(ax.yaxis)
            ax.legend()
        axes[0].set_ylabel("test loss (cross-entropy)")

    summary: dict[tuple[str, str], dict[str, Any]] = {}
    table = []
    for shape in s.shapes:
        for reg in REGULARIZERS:
            mine = runs[(shape, reg)]
            final = {"test": over_seeds([r["test_loss"] for r in mine]),
                     "train": over_seeds([r["train_loss"] for r in mine]),
                     "gap": over_seeds([r["test_loss"] - r["train_loss"] for r in mine]),
                     "acc": over_seeds([r["test_acc"] for r in mine])}
            summary[(shape, reg)] = final
            table.append({"shape": shape, "regularization": reg,
                          "widths": "-".join(map(str, shapes[shape])), "params": mine[0]["params"],
                          "train loss": final["train"]["mean"], "test loss": final["test"]["mean"],
                          "± test loss": final["test"]["spread"], "gap": final["gap"]["mean"],
                          "± gap": final["gap"]["spread"], "test acc": final["acc"]["mean"],
                          "seconds": float(numpy.mean([r["seconds"] for r in mine]))})
    ctx.table("final_losses", table, f"Final losses after {s.epochs} epochs (Adam, lr {s.lr}, batch "
                                     f"{s.batch_size}), mean over {s.seeds} seed(s) with the standard "
                                     "deviation (±). Train loss is measured after training in eval "
                                     "mode (dropout off); gap = test − train.")

    best_shape, best_reg = min(summary, key=lambda key: summary[key]["test"]["mean"])
    best = summary[(best_shape, best_reg)]
    ctx.record("best_dense_test_loss", best["test"]["mean"])
    ctx.record("best_dense_model", {"name": f"{best_shape}-{best_reg}",
                                    "widths": [INPUTS, *shapes[best_shape], CLASSES],
                                    "params": runs[(best_shape, best_reg)][0]["params"],
                                    "test_loss": best["test"]["mean"],
                                    "test_loss_spread": best["test"]["spread"], "seeds": s.seeds,
                                    "test_acc": best["acc"]["mean"], "epochs": s.epochs,
                                    "batch_size": s.batch_size, "lr": s.lr, "optimizer": "adam",
                                    "weight_decay": s.weight_decay if best_reg == "L2" else 0.0,
                                    "dropout": s.dropout if best_reg == "dropout" else 0.0})
    _checks(ctx, summary)
    ctx.note(f"All nine networks have {s.depth} hidden layers and at most {s.budget:,} parameters; each "
             f"shape's widths are the largest multiple of its ratios (factor {s.width_ratio} between "
             f"layers) that fits. Each is trained from {s.seeds} seed(s) (initialisation and batch "
             "order; the same data), and a difference counts as shown only when the two means differ "
             "by more than the sum of their standard deviations. 'best_dense_test_loss' (the lowest "
             f"mean final test loss of the nine, {pm(best['test'])} by {best_shape}-{best_reg}) is "
             "recorded for P8. L2 is Adam's coupled weight decay (the penalty's gradient added to the "
             "loss gradient).")


def _checks(ctx: Context, summary: dict[tuple[str, str], dict[str, Any]]) -> None:
    shapes = ctx.settings.shapes
    if set(SHAPES) <= set(shapes):
        plain = {shape: summary[(shape, "plain")]["test"] for shape in shapes}
        lowest = min(plain, key=lambda k: plain[k]["mean"])
        ctx.check("Among the plain networks, decreasing widths reach the lowest test loss (seed).",
                  lowest == "decreasing" and all(separated(plain[lowest], plain[k]) for k in plain
                                                  if k != lowest),
                  "Final plain test loss: " + ", ".join(f"{k} {pm(v)}" for k, v in plain.items())
                  + ". Shown when decreasing has the lowest mean, apart from each other shape by more "
                    "than the spread.")
        gaps = {shape: summary[(shape, "plain")]["gap"] for shape in shapes}
        largest = max(gaps, key=lambda k: gaps[k]["mean"])
        ctx.check("Increasing widths overfit most: the largest test − train gap among the plain "
                  "networks (seed).",
                  largest == "increasing" and all(separated(gaps[largest], gaps[k]) for k in gaps
                                                  if k != largest),
                  "Plain gap: " + ", ".join(f"{k} {pm(v)}" for k, v in gaps.items()) + ".")
    for reg, what in (("L2", "L2 (weight decay)"), ("dropout", "Dropout")):
        helped = {shape: summary[(shape, reg)]["test"]["mean"] < summary[(shape, "plain")]["test"]["mean"]
                  and separated(summary[(shape, reg)]["test"], summary[(shape, "plain")]["test"])
                  for shape in shapes}
        ctx.check(f"{what} lowers the final test loss of every shape (seed).", all(helped.values()),
                  ", ".join(f"{shape}: {pm(summary[(shape, reg)]['test'])} vs plain "
                            f"{pm(summary[(shape, 'plain')]['test'])}" for shape in shapes)
                  + ". Shown for a shape when the means differ by more than the spread.")


@dataclass(frozen=True)
class Settings(ImageData):
    """P4's settings (the full profile's values)."""

    budget: int = 50_000
    depth: int = 3
    width_ratio: float = 2.0
    shapes: tuple[str, ...] = choice(SHAPES, SHAPES)
    weight_decay: float = 1e-4
    dropout: float = 0.2
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    seeds: int = 3


STUDY = Study(
    name="shapes_regularization", code="P4", title="Layer shapes and regularization at one budget",
    part="Breadth vs depth",
    question="At a fixed parameter budget, do uniform, decreasing or increasing hidden widths "
             "generalise best, and how much do L2 and dropout help each?",
    settings=Settings,
    profiles={
        # three seeds at the cost of the one-seed profile before: fewer epochs and images
        "quick": {"epochs": 10, "train_samples": 3_000, "test_samples": 5_000},
        "smoke": {"epochs": 2, "train_samples": 512, "test_samples": 256, "seeds": 2},
    },
    run=run,
)
