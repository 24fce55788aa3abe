"""P3: at a fixed parameter budget P, which depth k (with the width m that fills P) trains best?"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.budget import CLASSES, INPUTS, depth_range, mlp_widths, width_for_budget
from experiments.harness import Context, Study
from experiments.harness.data import ImageData
from experiments.harness.plots import plain_log_ticks
from experiments.runs import MLPRun, mlp_run, record_runs, train_mlp


def run(ctx: Context) -> None:
    """Train every feasible (budget, depth) with the width solved from the budget."""
    s = ctx.settings
    configs: dict[str, MLPRun] = {}
    points: list[tuple[int, int, str]] = []  # (budget, depth, run name)
    for budget in s.budgets:
        feasible = depth_range(budget)
        for k in s.depths:
            if not feasible.smallest <= k <= feasible.largest:
                ctx.note(f"Depth {k} does not fit in {budget} parameters; skipped.")
                continue
            if k == 0:  # the linear model is the same for every budget: trained once
                name, widths = "linear-k0", [INPUTS, CLASSES]
            else:
                name, widths = f"P{budget}-k{k}", mlp_widths(k, width_for_budget(k, budget))
            configs[name] = mlp_run(ctx, name, widths)
            points.append((budget, k, name))
    results = dict(zip(configs, ctx.sweep(train_mlp, list(configs.values()))))
    record_runs(ctx, list(results.values()))

    rows, best = [], {}
    for budget in s.budgets:
        mine = [(k, results[name]) for b, k, name in points if b == budget]
        k_best, r_best = min(mine, key=lambda kr: kr[1]["test_loss"])
        best[budget] = {"k": k_best, "m": r_best["widths"][1] if k_best else None,
                        "params": r_best["params"], "test_loss": r_best["test_loss"]}
        for k, r in mine:
            rows.append({"budget P": budget, "depth k": k, "width m": r["widths"][1] if k else "-",
                         "params": r["params"], "train loss": r["train_loss"],
                         "test loss": r["test_loss"], "test acc": r["test_acc"],
                         "seconds": r["seconds"], "best k": "★" if k == k_best else ""})

    with ctx.figure("loss_vs_depth", "Final train loss (left) and test loss (right) against depth "
                    "k, one line per budget P, width m solved from P; ★ marks the depth with the "
                    "lowest test loss. k = 0 is the linear softmax model (7850 parameters).",
                    ncols=2, width=5.5) as (fig, axes):
        for i, budget in enumerate(s.budgets):
            mine = [(k, results[name]) for b, k, name in points if b == budget]
            ks = [k for k, _ in mine]
            for ax, metric in zip(axes, ("train_loss", "test_loss")):
                ax.plot(ks, [r[metric] for _, r in mine], "o-", color=f"C{i}", label=f"P = {budget:,}")
                ax.plot(best[budget]["k"], results[_name(points, budget, best[budget]["k"])][metric],
                        "*", color=f"C{i}", markersize=16, markeredgecolor="black")
        for ax, metric in zip(axes, ("train", "test")):
            ax.set(xlabel="depth k (hidden layers)", ylabel=f"final {metric} loss (cross-entropy)",
                   yscale="log", title=f"{metric.capitalize()} loss at a fixed parameter budget")
            ax.set_xticks(sorted({k for _, k, _ in points}))
            plain_log_ticks(ax.yaxis)
            ax.legend(title="budget")
    ctx.table("grid", rows, f"Every (P, k) trained for {s.epochs} epochs (Adam, lr {s.lr}, batch "
                            f"{s.batch_size}); m is the largest width with Params(k, m) ≤ P. Train loss "
                            "is measured after training in eval mode; seconds is training time only.")
    ctx.record("best_depth", {str(b): v for b, v in best.items()})

    deepest = max(k for _, k, _ in points)
    interior = {b: v["k"] < deepest for b, v in best.items()}
    ctx.check("At a fixed budget the deepest network is not the best: test loss is lowest at a "
              "moderate depth (seed: gains up to a point, then worse; plain deep narrow MLPs are hard "
              "to train).", all(interior.values()),
              "Best k per budget: " + ", ".join(f"P={b:,}: k={v['k']} (test loss {v['test_loss']:.3f})"
                                                 for b, v in best.items()) + f"; deepest tried k={deepest}.")
    losses = [best[b]["test_loss"] for b in sorted(best)]
    ctx.check("A larger budget reaches a lower best test loss (more capacity helps on MNIST).",
              all(a > b for a, b in zip(losses, losses[1:])),
              "Best test loss by increasing P: " + ", ".join(f"{v:.3f}" for v in losses) + ".")
    deeper_fits = {}
    for budget in s.budgets:
        mine = {k: results[name] for b, k, name in points if b == budget and k >= 1}
        if len(mine) >= 2:
            deeper_fits[budget] = (mine[max(mine)]["train_loss"], mine[min(mine)]["train_loss"])
    ctx.check("Train loss falls as k grows (the seed's claim), comparing the deepest and the "
              "shallowest k ≥ 1 at each budget.",
              bool(deeper_fits) and all(d < s_ for d, s_ in deeper_fits.values()),
              "Train loss deepest vs shallowest: " + ", ".join(
                  f"P={b:,}: {d:.3f} vs {s_:.3f}" for b, (d, s_) in deeper_fits.items())
              + f" after {s.epochs} epochs: at a fixed number of epochs, deep narrow plain MLPs "
                "optimise more slowly.")
    ctx.note(f"Width m is the largest integer with Params(k, m) ≤ P, so every network uses its budget "
             f"to within one width step (see the params column). The seed gives no training settings; "
             f"we use Adam (lr {s.lr}), batch {s.batch_size}, {s.epochs} epochs, ReLU, one seed "
             f"({ctx.seed}). Each run uses one BLAS thread; runs went through ctx.sweep with "
             f"jobs={ctx.jobs}.")


def _name(points: list[tuple[int, int, str]], budget: int, k: int) -> str:
    return next(name for b, kk, name in points if b == budget and kk == k)


@dataclass(frozen=True)
class Settings(ImageData):
    """P3's settings (the full profile's values)."""

    budgets: tuple[int, ...] = (10_000, 50_000, 200_000)
    depths: tuple[int, ...] = (0, 1, 2, 3, 4, 6, 8, 12, 16)
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3


STUDY = Study(
    name="depth_width_grid", code="P3", title="Depth against width at a fixed budget",
    part="Breadth vs depth",
    question="For several parameter budgets P, train MLPs of every feasible depth k with the width "
             "m that fills P: which depth trains and generalises best?",
    settings=Settings,
    profiles={
        "quick": {"depths": [0, 1, 2, 3, 4, 6, 8], "epochs": 8, "train_samples": 10_000,
                  "test_samples": 5_000},
        "smoke": {"budgets": [10_000, 50_000], "depths": [0, 1, 3], "epochs": 1,
                  "train_samples": 512, "test_samples": 256},
    },
    run=run,
)
