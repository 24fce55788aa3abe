"""P3: at a fixed parameter budget P, which depth k (with the width m that fills P) trains best?

Also home of ``train_mlp``, the sweep run the breadth-vs-depth studies share (P3 to P6): one
MLP trained on MNIST, resumable, returning plain numbers.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from experiments.budget import CLASSES, INPUTS, depth_range, mlp_widths, params, width_for_budget
from experiments.datasets import data_source, load_split, subsample, train_mlp_classifier
from experiments.harness import Context, Study, TrainingDiverged
from experiments.harness.files import read_json, write_json
from experiments.harness.sweep import RunEnv


def train_mlp(config: dict[str, Any], env: RunEnv) -> dict[str, Any]:
    """One MLP with ``config["widths"]`` trained on an image data set (a sweep run).

    Config keys: ``name`` (unique within the study), ``widths``, ``dropout``, ``optimizer``
    ("adam" or "sgd"), ``lr``, ``weight_decay``, ``momentum`` (SGD), ``batch_size``, ``epochs``,
    ``dataset``, ``train_samples``, ``test_samples`` (0 = all).

    Returns the final train loss/accuracy (measured after training in eval mode over the
    training set, so dropout is off), test loss/accuracy, the training time in seconds
    (History's ``seconds``: training only, evaluation excluded), the per-epoch history, the
    parameter count and the data source. A run whose loss becomes NaN/inf returns
    ``diverged=True`` and None for its losses. The result is kept as JSON beside the
    checkpoint, so a finished run is never repeated.
    """
    done = Path(env.out) / f"{config['name']}.json"
    if done.exists():
        return read_json(done)
    train_size = len(subsample(load_split(config["dataset"], True), config["train_samples"], env.seed))
    result = {"name": config["name"], "widths": list(config["widths"]),
              "params": params(config["widths"]),
              "source": data_source(load_split(config["dataset"], True)), "train_size": train_size,
              "steps_per_epoch": math.ceil(train_size / config["batch_size"]), "diverged": False}
    try:
        run = train_mlp_classifier(config["name"], config["widths"][1:-1], config, env,
                                   test_each_epoch=True)
    except TrainingDiverged:
        result.update(diverged=True, train_loss=None, train_acc=None, test_loss=None,
                      test_acc=None, seconds=None, history=[])
    else:
        history, final_train, final_test = run["history"], run["final_train"], run["final_test"]
        result.update(train_loss=final_train["loss"], train_acc=final_train["acc"],
                      test_loss=final_test["loss"], test_acc=final_test["acc"],
                      seconds=history.last["seconds"], history=history.rows)
    write_json(done, result)
    return read_json(done)  # the same JSON types whether the run was trained now or earlier


def plain_log_ticks(axis: Any) -> None:
    """Label a log axis at 1, 2, 3 and 5 × 10ⁿ with plain numbers (0.2, not 2×10⁻¹)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(NullLocator())


def record_runs(ctx: Context, results: list[dict[str, Any]]) -> None:
    """Keep each sweep run's per-epoch history in the results (as ``ctx.fit`` does for its runs)
    and tell the context where the workers' data came from."""
    for result in results:
        ctx.uses(SimpleNamespace(source=result["source"]))
        ctx.runs[result["name"]] = {"rows": result["history"], "diverged": result["diverged"]}


def run_config(ctx: Context, name: str, widths: list[int], **overrides: Any) -> dict[str, Any]:
    """A ``train_mlp`` config from the study's common settings (dataset, samples, optimizer…)."""
    s = ctx.settings
    config = {"name": name, "widths": widths, "dataset": s.dataset, "train_samples": s.train_samples,
              "test_samples": s.test_samples, "epochs": s.epochs, "optimizer": "adam",
              "weight_decay": 0.0, "dropout": 0.0}
    config.update({key: getattr(s, key) for key in ("batch_size", "lr") if hasattr(s, key)})
    config.update(overrides)
    return config


def run(ctx: Context) -> None:
    """Train every feasible (budget, depth) with the width solved from the budget."""
    s = ctx.settings
    configs: dict[str, dict[str, Any]] = {}
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
            configs[name] = run_config(ctx, name, widths)
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


STUDY = Study(
    name="depth_width_grid", code="P3", title="Depth against width at a fixed budget",
    part="Breadth vs depth",
    question="For several parameter budgets P, train MLPs of every feasible depth k with the width "
             "m that fills P: which depth trains and generalises best?",
    profiles={
        "full": {"budgets": [10_000, 50_000, 200_000], "depths": [0, 1, 2, 3, 4, 6, 8, 12, 16],
                 "dataset": "mnist", "epochs": 20, "batch_size": 128, "lr": 1e-3,
                 "train_samples": 0, "test_samples": 0},
        "quick": {"depths": [0, 1, 2, 3, 4, 6, 8], "epochs": 8, "train_samples": 10_000,
                  "test_samples": 5_000},
        "smoke": {"budgets": [10_000, 50_000], "depths": [0, 1, 3], "epochs": 1,
                  "train_samples": 512, "test_samples": 256},
    },
    run=run,
)
