"""P6: final loss and training time against the learning rate (log grid), Adam and SGD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.budget import mlp_widths, width_for_budget
from experiments.harness import Context, Study
from experiments.harness.data import ImageData
from experiments.harness.plots import legend_below, plain_log_ticks
from experiments.runs import (OPTIMIZERS, mlp_run, over_seeds, pm, record_runs, seconds_to_reach,
                              separated, timing_record, train_mlp)

LABELS = {"adam": "Adam", "sgd": "SGD"}


def cpu_per_step(result: dict[str, Any]) -> float:
    """CPU milliseconds per training step of a finished run."""
    return 1000 * result["cpu_seconds"] / (result["steps_per_epoch"] * len(result["history"]))


def run(ctx: Context) -> None:
    """Train the same MLP with Adam and with SGD at every learning rate of the grid, every seed."""
    s = ctx.settings
    widths = mlp_widths(s.depth, width_for_budget(s.depth, s.budget))
    seeds = [ctx.seed + j for j in range(s.seeds)]
    configs = [mlp_run(ctx, f"{opt}-lr{lr:g}-seed{seed}", widths, optimizer=opt, lr=lr,
                       momentum=s.sgd_momentum, seed=seed)
               for opt in OPTIMIZERS for lr in s.lrs for seed in seeds]
    results = ctx.sweep(train_mlp, configs)
    record_runs(ctx, results)
    grid: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for config, result in zip(configs, results):
        grid.setdefault((config.optimizer, config.lr), []).append(result)
    points = {key: _summarise(runs, s.target_loss) for key, runs in grid.items()}
    rows = [{"optimizer": LABELS[opt], "lr": lr, "diverged": f"{p['diverged']}/{s.seeds}",
             "train loss": p["train"]["mean"] if p["train"] else None,
             "test loss": p["test"]["mean"] if p["test"] else None,
             "± test loss": p["test"]["spread"] if p["test"] else None,
             "test acc": p["acc"]["mean"] if p["acc"] else None,
             "CPU ms per step": p["cpu_step"]["mean"] if p["cpu_step"] else None,
             "± CPU ms": p["cpu_step"]["spread"] if p["cpu_step"] else None,
             "wall s": p["wall"]["mean"] if p["wall"] else None,
             f"CPU s to test loss ≤ {s.target_loss:g}": p["reach"]["mean"] if p["reach"] else None}
            for (opt, lr), p in points.items()]
    _plot(ctx, points)
    n_params = results[0]["params"]
    ctx.table("learning_rates", rows, f"MLP {'-'.join(map(str, widths))} ({n_params:,} parameters), "
                                      f"{s.epochs} epochs, batch {s.batch_size}, {s.seeds} seed(s) per "
                                      "point (mean, ± standard deviation); train loss measured after "
                                      "training; times count training only; CPU time is the process's, "
                                      "robust to other load on the machine. 'diverged' counts the "
                                      "seeds whose loss became NaN (a point with any is left out of "
                                      "the comparisons); the last column is the CPU time until the "
                                      "first epoch whose test loss reached the target (empty: a seed "
                                      "never reached it).")
    ctx.record("timing", timing_record(ctx))
    best = {}  # optimizer -> best lr by mean test loss, diverged points left out
    for opt in OPTIMIZERS:
        finite = [lr for lr in s.lrs if points[(opt, lr)]["diverged"] == 0]
        best[opt] = min(finite, key=lambda lr: points[(opt, lr)]["test"]["mean"]) if finite else None
    ctx.record("best_lr", {LABELS[o]: {"lr": lr, "test_loss": points[(o, lr)]["test"]}
                           for o, lr in best.items() if lr is not None})
    _checks(ctx, points, best)
    ctx.note(f"The seeds give no grid; we use {s.lrs} for both optimizers, {s.epochs} epochs each, "
             f"{s.seeds} seed(s) per point (initialisation and batch order; the same data), plain SGD "
             f"with momentum {s.sgd_momentum} as the seed's 'SGD'. A run whose loss becomes NaN or "
             "infinite stops and is marked diverged. A difference counts as shown only when the two "
             "means differ by more than the sum of their standard deviations. Times are CPU time of "
             f"each run's process (training only, no evaluation) on {ctx.device}, one BLAS thread per "
             f"run, jobs={ctx.jobs}: unlike wall-clock time it does not grow when other work shares "
             "the machine.")


def _summarise(runs: list[dict[str, Any]], target: float) -> dict[str, Any]:
    finite = [r for r in runs if not r["diverged"]]
    reach = [seconds_to_reach(r["history"], target, "cpu_seconds") for r in finite]

    def summary(values: list[float]) -> dict[str, float] | None:
        return over_seeds(values) if values and len(finite) == len(runs) else None

    return {"diverged": len(runs) - len(finite),
            "train": summary([r["train_loss"] for r in finite]),
            "test": summary([r["test_loss"] for r in finite]),
            "acc": summary([r["test_acc"] for r in finite]),
            "cpu_step": summary([cpu_per_step(r) for r in finite]),
            "wall": summary([r["seconds"] for r in finite]),
            "reach": summary(reach) if None not in reach else None}


def _plot(ctx: Context, points: dict[tuple[str, float], dict[str, Any]]) -> None:
    s = ctx.settings
    with ctx.figure("loss_and_time", f"Left: final train (solid) and test (dashed) loss against the "
                    f"learning rate after {s.epochs} epochs, Adam and SGD (momentum {s.sgd_momentum}) on "
                    f"the same axes, mean over {s.seeds} seed(s) (bars: ± one standard deviation); × "
                    "marks a learning rate where a seed diverged. Right: CPU time per training step.",
                    ncols=2, width=5.5) as (fig, (left, right)):
        finite = [p["test"]["mean"] for p in points.values() if p["test"]]
        top = max(finite) if finite else 1.0
        for i, opt in enumerate(OPTIMIZERS):
            ok = [(lr, points[(opt, lr)]) for lr in s.lrs if points[(opt, lr)]["test"]]
            lrs = [lr for lr, _ in ok]
            left.errorbar(lrs, [p["train"]["mean"] for _, p in ok], [p["train"]["spread"] for _, p in ok],
                          fmt="o-", color=f"C{i}", capsize=3, label=f"{LABELS[opt]} train")
            left.errorbar(lrs, [p["test"]["mean"] for _, p in ok], [p["test"]["spread"] for _, p in ok],
                          fmt="s--", color=f"C{i}", capsize=3, label=f"{LABELS[opt]} test")
            diverged = [lr for lr in s.lrs if points[(opt, lr)]["diverged"]]
            if diverged:
                left.plot(diverged, [top * 1.5] * len(diverged), "x", color=f"C{i}", markersize=12,
                          markeredgewidth=2.5, label=f"{LABELS[opt]} diverged")
            right.errorbar(lrs, [p["cpu_step"]["mean"] for _, p in ok],
                           [p["cpu_step"]["spread"] for _, p in ok], fmt="o-", color=f"C{i}", capsize=3,
                           label=LABELS[opt])
        left.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final loss (cross-entropy)",
                 title="Loss against learning rate")
        right.set(xscale="log", xlabel="learning rate", ylabel="CPU ms per training step",
                  title="Time per step against learning rate", ylim=(0, None))
        plain_log_ticks(left.yaxis)
        legend_below(left, ncol=3)
        right.legend()


def _checks(ctx: Context, points: dict[tuple[str, float], dict[str, Any]],
            best: dict[str, float | None]) -> None:
    s = ctx.settings
    if None in best.values():
        ctx.check("Each optimizer has a best learning rate inside the grid (seed).", False,
                  "Every learning rate of an optimizer diverged for some seed: no best one.")
        return

    def beats(lr: float, other: float, opt: str) -> bool:  # lr clearly better than other
        a, b = points[(opt, lr)], points[(opt, other)]
        return bool(b["diverged"]) or (a["test"]["mean"] < b["test"]["mean"]
                                       and separated(a["test"], b["test"]))

    interior = {o: s.lrs[0] < best[o] < s.lrs[-1] and beats(best[o], s.lrs[0], o)
                and beats(best[o], s.lrs[-1], o) for o in OPTIMIZERS}
    ctx.check("Each optimizer has a best learning rate inside the grid: too small learns too slowly, too "
              "large is unstable (seed).", all(interior.values()),
              ", ".join(f"{LABELS[o]}: best lr {best[o]:g} (test loss {pm(points[(o, best[o])]['test'])})"
                        for o in OPTIMIZERS) + f"; grid {min(s.lrs):g} to {max(s.lrs):g}. Shown when the "
              "best is inside the grid and clearly (beyond the spread) better than both ends.")
    ctx.check("Adam's best learning rate is smaller than SGD's (adaptive steps are already "
              "normalised: ~1e-3 against ~1e-1 for plain SGD).", best["adam"] < best["sgd"],
              f"Adam {best['adam']:g}, SGD {best['sgd']:g}.")
    adam, sgd = points[("adam", best["adam"])], points[("sgd", best["sgd"])]
    ctx.check("Adam reaches a lower loss than SGD, each at its best learning rate (seed).",
              adam["test"]["mean"] < sgd["test"]["mean"] and separated(adam["test"], sgd["test"]),
              f"Best test loss Adam {pm(adam['test'])}, SGD {pm(sgd['test'])}.")
    per_step = {o: [points[(o, lr)]["cpu_step"] for lr in s.lrs if points[(o, lr)]["cpu_step"]]
                for o in OPTIMIZERS}
    spread = {o: max(p["mean"] for p in v) / min(p["mean"] for p in v) for o, v in per_step.items()}
    ctx.check("At a fixed number of epochs the time per step does not depend on the learning rate "
              "(the seed's claim that time grows with the learning rate holds only when training to a "
              "target loss): slowest/fastest mean CPU time per step within 1.5x for each optimizer.",
              all(v <= 1.5 for v in spread.values()),
              ", ".join(f"{LABELS[o]}: {spread[o]:.2f}x" for o in OPTIMIZERS) + " (CPU time of the "
              "process, so other load on the machine barely enters).")
    pooled = {o: over_seeds([p["mean"] for p in per_step[o]]) for o in OPTIMIZERS}
    ctx.check("Per step, Adam costs more time than SGD: it updates two moment estimates per "
              "parameter (the seed's 'Adam needs less training time' can only hold for time to a "
              "target loss: next check).",
              pooled["adam"]["mean"] > pooled["sgd"]["mean"] and separated(pooled["adam"], pooled["sgd"]),
              f"Mean CPU ms per step over the learning rates: Adam "
              f"{pm(pooled['adam'], '.3f', 'learning rates')}, SGD "
              f"{pm(pooled['sgd'], '.3f', 'learning rates')}.")
    reach = {o: points[(o, best[o])]["reach"] for o in OPTIMIZERS}
    faster = reach["adam"] is not None and (reach["sgd"] is None or (
        reach["adam"]["mean"] < reach["sgd"]["mean"] and separated(reach["adam"], reach["sgd"])))
    ctx.check(f"At its best learning rate, Adam reaches a test loss of {s.target_loss:g} in less "
              "training time than SGD (the seed).", faster,
              ", ".join(f"{LABELS[o]} (lr {best[o]:g}): "
                        + ("not reached by every seed" if reach[o] is None else f"{pm(reach[o], '.2f')} "
                           "CPU s") for o in OPTIMIZERS) + " (measured at the end of each epoch).")


@dataclass(frozen=True)
class Settings(ImageData):
    """P6's settings (the full profile's values)."""

    lrs: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
    sgd_momentum: float = 0.0
    target_loss: float = 0.3
    budget: int = 50_000
    depth: int = 2
    epochs: int = 10
    batch_size: int = 128
    seeds: int = 3


STUDY = Study(
    name="learning_rate", code="P6", title="Learning rate: Adam and SGD",
    part="Breadth vs depth",
    question="How do the final loss and the training time depend on the learning rate, for Adam "
             "and for SGD?",
    settings=Settings,
    profiles={
        # three seeds at the cost of the one-seed profile before: fewer epochs and images
        "quick": {"epochs": 3, "train_samples": 10_000, "test_samples": 5_000},
        "smoke": {"lrs": [1e-3, 1e-1], "epochs": 1, "train_samples": 512, "test_samples": 256,
                  "seeds": 2},
    },
    run=run,
)
