"""P4: at one parameter budget, uniform, decreasing and increasing hidden widths, each plain,
with L2 (weight decay) and with dropout: nine runs."""

from __future__ import annotations

from typing import Any

from experiments.budget import CLASSES, INPUTS, scaled_widths
from experiments.harness import Context, Study
from experiments.studies.depth_width_grid import plain_log_ticks, record_runs, run_config, train_mlp

REGULARIZERS = ("plain", "L2", "dropout")


def shape_ratios(shape: str, depth: int, ratio: float) -> list[float]:
    """Relative hidden widths: equal, shrinking or growing by ``ratio`` from layer to layer."""
    if shape == "uniform":
        return [1.0] * depth
    if shape == "decreasing":
        return [ratio ** (depth - 1 - i) for i in range(depth)]
    if shape == "increasing":
        return [ratio ** i for i in range(depth)]
    raise ValueError(f"unknown shape {shape!r}; expected uniform, decreasing or increasing")


def run(ctx: Context) -> None:
    """Train the three shapes, each plain, with L2 and with dropout."""
    s = ctx.settings
    configs, shapes = [], {}
    for shape in s.shapes:
        hidden = scaled_widths(shape_ratios(shape, s.depth, s.width_ratio), s.budget)
        shapes[shape] = hidden
        for reg in REGULARIZERS:
            configs.append(run_config(ctx, f"{shape}-{reg}", [INPUTS, *hidden, CLASSES],
                                      weight_decay=s.weight_decay if reg == "L2" else 0.0,
                                      dropout=s.dropout if reg == "dropout" else 0.0))
    results = {c["name"]: r for c, r in zip(configs, ctx.sweep(train_mlp, configs))}
    record_runs(ctx, list(results.values()))

    with ctx.figure("test_loss", f"Test loss per epoch for the nine runs at a budget of {s.budget:,} "
                    f"parameters: one panel per shape; plain, L2 (weight decay {s.weight_decay}) and "
                    f"dropout ({s.dropout}).", ncols=len(s.shapes), width=4.5, sharey=True) as (fig, axes):
        for ax, shape in zip(axes if len(s.shapes) > 1 else [axes], s.shapes):
            for i, reg in enumerate(REGULARIZERS):
                rows = results[f"{shape}-{reg}"]["history"]
                ax.plot([r["epoch"] for r in rows], [r["test_loss"] for r in rows], color=f"C{i}",
                        label=reg)
            widths = "-".join(map(str, shapes[shape]))
            ax.set(xlabel="epoch", title=f"{shape} ({widths})", yscale="log")
            plain_log_ticks(ax.yaxis)
            ax.legend()
        (axes[0] if len(s.shapes) > 1 else axes).set_ylabel("test loss (cross-entropy)")

    table = []
    for shape in s.shapes:
        for reg in REGULARIZERS:
            r = results[f"{shape}-{reg}"]
            tests = [row["test_loss"] for row in r["history"]]
            table.append({"shape": shape, "regularization": reg,
                          "widths": "-".join(map(str, shapes[shape])), "params": r["params"],
                          "train loss": r["train_loss"], "test loss": r["test_loss"],
                          "gap": r["test_loss"] - r["train_loss"], "best test loss": min(tests),
                          "at epoch": 1 + tests.index(min(tests)), "test acc": r["test_acc"],
                          "seconds": r["seconds"]})
    ctx.table("final_losses", table, f"Final losses after {s.epochs} epochs (Adam, lr {s.lr}, batch "
                                     f"{s.batch_size}). Train loss is measured after training in eval "
                                     "mode (dropout off); gap = test − train; 'best test loss' is the "
                                     "lowest over the epochs.")

    best = min(table, key=lambda row: row["test loss"])
    ctx.record("best_dense_test_loss", best["test loss"])
    ctx.record("best_dense_model", {"name": f"{best['shape']}-{best['regularization']}",
                                    "widths": [INPUTS, *shapes[best["shape"]], CLASSES],
                                    "params": best["params"], "test_loss": best["test loss"],
                                    "test_acc": best["test acc"], "seconds": best["seconds"],
                                    "epochs": s.epochs, "batch_size": s.batch_size, "lr": s.lr,
                                    "optimizer": "adam", "weight_decay": s.weight_decay
                                    if best["regularization"] == "L2" else 0.0,
                                    "dropout": s.dropout if best["regularization"] == "dropout" else 0.0})
    final = {(row["shape"], row["regularization"]): row for row in table}
    _checks(ctx, s, final)
    ctx.note(f"All nine networks have {s.depth} hidden layers and at most {s.budget:,} parameters; each "
             f"shape's widths are the largest multiple of its ratios (factor {s.width_ratio} between "
             "layers) that fits. 'best_dense_test_loss' (the lowest final test loss of the nine, "
             f"{best['test loss']:.4f} by {best['shape']}-{best['regularization']}) is recorded for P8. "
             "L2 is Adam's coupled weight decay (the penalty's gradient added to the loss gradient).")


def _checks(ctx: Context, s: Any, final: dict[tuple[str, str], dict[str, Any]]) -> None:
    if {"uniform", "decreasing", "increasing"} <= set(s.shapes):
        plain = {shape: final[(shape, "plain")]["test loss"] for shape in s.shapes}
        ctx.check("Among the plain networks, decreasing widths reach the lowest test loss (seed).",
                  min(plain, key=plain.get) == "decreasing",
                  "Final plain test loss: " + ", ".join(f"{k} {v:.4f}" for k, v in plain.items()) + ".")
        gaps = {shape: final[(shape, "plain")]["gap"] for shape in s.shapes}
        ctx.check("Increasing widths overfit most: the largest test − train gap among the plain "
                  "networks (seed).", max(gaps, key=gaps.get) == "increasing",
                  "Plain gap: " + ", ".join(f"{k} {v:.4f}" for k, v in gaps.items()) + ".")
    for reg, what in (("L2", "L2 (weight decay)"), ("dropout", "Dropout")):
        helped = {shape: final[(shape, reg)]["test loss"] < final[(shape, "plain")]["test loss"]
                  for shape in s.shapes}
        ctx.check(f"{what} lowers the final test loss of every shape (seed).", all(helped.values()),
                  ", ".join(f"{shape}: {final[(shape, reg)]['test loss']:.4f} vs plain "
                            f"{final[(shape, 'plain')]['test loss']:.4f}" for shape in s.shapes) + ".")


STUDY = Study(
    name="shapes_regularization", code="P4", title="Layer shapes and regularization at one budget",
    part="Breadth vs depth",
    question="At a fixed parameter budget, do uniform, decreasing or increasing hidden widths "
             "generalise best, and how much do L2 and dropout help each?",
    profiles={
        "full": {"budget": 50_000, "depth": 3, "width_ratio": 2.0,
                 "shapes": ["uniform", "decreasing", "increasing"], "weight_decay": 1e-4,
                 "dropout": 0.2, "dataset": "mnist", "epochs": 30, "batch_size": 128, "lr": 1e-3,
                 "train_samples": 0, "test_samples": 0},
        "quick": {"epochs": 20, "train_samples": 5_000, "test_samples": 5_000},
        "smoke": {"epochs": 2, "train_samples": 512, "test_samples": 256},
    },
    run=run,
)
