"""P6: final loss and training time against the learning rate (log grid), Adam and SGD."""

from __future__ import annotations

import math
from typing import Any

from experiments.budget import mlp_widths, width_for_budget
from experiments.harness import Context, Study
from experiments.studies.batch_size import seconds_to_reach, timing_record
from experiments.studies.depth_width_grid import plain_log_ticks, record_runs, run_config, train_mlp

OPTIMIZERS = ("adam", "sgd")
LABELS = {"adam": "Adam", "sgd": "SGD"}


def _value(x: Any) -> float:
    return math.nan if x is None else x  # a diverged run has no loss


def run(ctx: Context) -> None:
    """Train the same MLP with Adam and with SGD at every learning rate of the grid."""
    s = ctx.settings
    widths = mlp_widths(s.depth, width_for_budget(s.depth, s.budget))
    configs = [run_config(ctx, f"{opt}-lr{lr:g}", widths, optimizer=opt, lr=lr, momentum=s.sgd_momentum)
               for opt in OPTIMIZERS for lr in s.lrs]
    results = {(c["optimizer"], c["lr"]): r for c, r in zip(configs, ctx.sweep(train_mlp, configs))}
    record_runs(ctx, list(results.values()))
    rows = [{"optimizer": LABELS[opt], "lr": lr,
             "train loss": "diverged" if r["diverged"] else r["train_loss"],
             "test loss": "diverged" if r["diverged"] else r["test_loss"],
             "test acc": r["test_acc"], "seconds": r["seconds"],
             f"seconds to test loss ≤ {s.target_loss:g}": seconds_to_reach(r["history"], s.target_loss)}
            for (opt, lr), r in results.items()]

    with ctx.figure("loss_and_time", f"Left: final train (solid) and test (dashed) loss against the "
                    f"learning rate after {s.epochs} epochs, Adam and SGD (momentum {s.sgd_momentum}) on "
                    f"the same axes; × marks a run that diverged. Right: training time (evaluation "
                    f"excluded) on {ctx.device}.", ncols=2, width=5.5) as (fig, (left, right)):
        top = max(_value(r["test_loss"]) for r in results.values() if not r["diverged"])
        for i, opt in enumerate(OPTIMIZERS):
            mine = [(lr, results[(opt, lr)]) for lr in s.lrs]
            lrs = [lr for lr, _ in mine]
            left.plot(lrs, [_value(r["train_loss"]) for _, r in mine], "o-", color=f"C{i}",
                      label=f"{LABELS[opt]} train")
            left.plot(lrs, [_value(r["test_loss"]) for _, r in mine], "s--", color=f"C{i}",
                      label=f"{LABELS[opt]} test")
            diverged = [lr for lr, r in mine if r["diverged"]]
            left.plot(diverged, [top * 1.5] * len(diverged), "x", color=f"C{i}", markersize=12,
                      markeredgewidth=2.5, label=f"{LABELS[opt]} diverged" if diverged else None)
            right.plot(lrs, [_value(r["seconds"]) for _, r in mine], "o-", color=f"C{i}",
                       label=LABELS[opt])
        left.set(xscale="log", yscale="log", xlabel="learning rate", ylabel="final loss (cross-entropy)",
                 title="Loss against learning rate")
        right.set(xscale="log", xlabel="learning rate", ylabel=f"training time for {s.epochs} epochs (s)",
                  title="Training time against learning rate", ylim=(0, None))
        plain_log_ticks(left.yaxis)
        left.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.2))
        right.legend()
    n_params = next(iter(results.values()))["params"]
    ctx.table("learning_rates", rows, f"MLP {'-'.join(map(str, widths))} ({n_params:,} parameters), "
                                      f"{s.epochs} epochs, batch {s.batch_size}; train loss measured "
                                      "after training; seconds = training time only; the last column "
                                      "is the training time until the first epoch whose test loss "
                                      "reached the target (empty: never reached).")
    ctx.record("timing", timing_record(ctx))

    best = {}  # optimizer -> (best lr, its final test loss), diverged runs left out
    for opt in OPTIMIZERS:
        finite = [(lr, results[(opt, lr)]["test_loss"]) for lr in s.lrs if not results[(opt, lr)]["diverged"]]
        best[opt] = min(finite, key=lambda pair: pair[1]) if finite else (math.nan, math.nan)
    ctx.record("best_lr", {LABELS[opt]: {"lr": lr, "test_loss": loss} for opt, (lr, loss) in best.items()})
    _checks(ctx, results, best)
    ctx.note(f"The seeds give no grid; we use {s.lrs} for both optimizers, {s.epochs} epochs each, plain "
             f"SGD with momentum {s.sgd_momentum} as the seed's 'SGD'. A run whose loss becomes NaN or "
             "infinite stops and is marked diverged. Times are the History's 'seconds' (training only, "
             f"the same measure for every run) on {ctx.device}, one BLAS thread per run, jobs={ctx.jobs}.")


def _checks(ctx: Context, results: dict[tuple[str, float], dict[str, Any]],
            best: dict[str, tuple[float, float]]) -> None:
    s = ctx.settings

    def times(opt: str) -> list[float]:
        return [r["seconds"] for (o, _), r in results.items() if o == opt and not r["diverged"]]

    interior = {opt: s.lrs[0] < best[opt][0] < s.lrs[-1] for opt in OPTIMIZERS}
    ctx.check("Each optimizer has a best learning rate inside the grid: too small learns too slowly, too "
              "large is unstable (seed).", all(interior.values()),
              ", ".join(f"{LABELS[o]}: best lr {best[o][0]:g} (test loss {best[o][1]:.4f})"
                        for o in OPTIMIZERS) + f"; grid {min(s.lrs):g} to {max(s.lrs):g}.")
    ctx.check("Adam's best learning rate is smaller than SGD's (adaptive steps are already "
              "normalised: ~1e-3 against ~1e-1 for plain SGD).", best["adam"][0] < best["sgd"][0],
              f"Adam {best['adam'][0]:g}, SGD {best['sgd'][0]:g}.")
    ctx.check("Adam reaches a lower loss than SGD, each at its best learning rate (seed).",
              best["adam"][1] < best["sgd"][1],
              f"Best test loss Adam {best['adam'][1]:.4f}, SGD {best['sgd'][1]:.4f}.")
    spread = {opt: max(times(opt)) / min(times(opt)) if times(opt) else math.nan for opt in OPTIMIZERS}
    ctx.check("At a fixed number of epochs the training time does not depend on the learning rate "
              "(the seed's claim that it grows with the learning rate holds only when training to a "
              "target loss): slowest/fastest run within 1.5x for each optimizer.",
              all(v <= 1.5 for v in spread.values()),
              ", ".join(f"{LABELS[o]}: {spread[o]:.2f}x" for o in OPTIMIZERS)
              + " (timings on a shared machine are noisy).")
    mean = {opt: sum(times(opt)) / len(times(opt)) if times(opt) else math.nan for opt in OPTIMIZERS}
    ctx.check("Per epoch, Adam costs more time than SGD: it updates two moment estimates per "
              "parameter (the seed's 'Adam needs less training time' can only hold for time to a "
              "target loss: next check).", mean["adam"] > mean["sgd"],
              f"Mean training time for {s.epochs} epochs: Adam {mean['adam']:.2f} s, "
              f"SGD {mean['sgd']:.2f} s.")
    reach = {opt: None if math.isnan(best[opt][0])
             else seconds_to_reach(results[(opt, best[opt][0])]["history"], s.target_loss)
             for opt in OPTIMIZERS}
    adam_faster = reach["adam"] is not None and (reach["sgd"] is None or reach["adam"] < reach["sgd"])
    ctx.check(f"At its best learning rate, Adam reaches a test loss of {s.target_loss:g} in less "
              "training time than SGD (the seed).", adam_faster,
              ", ".join(f"{LABELS[o]} (lr {best[o][0]:g}): "
                        + ("not reached" if reach[o] is None else f"{reach[o]:.2f} s") for o in OPTIMIZERS)
              + " (measured at the end of each epoch).")


STUDY = Study(
    name="learning_rate", code="P6", title="Learning rate: Adam and SGD",
    part="Breadth vs depth",
    question="How do the final loss and the training time depend on the learning rate, for Adam "
             "and for SGD?",
    profiles={
        "full": {"lrs": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0], "sgd_momentum": 0.0,
                 "target_loss": 0.3,
                 "budget": 50_000, "depth": 2, "dataset": "mnist", "epochs": 10, "batch_size": 128,
                 "train_samples": 0, "test_samples": 0},
        "quick": {"epochs": 5, "train_samples": 20_000, "test_samples": 5_000},
        "smoke": {"lrs": [1e-3, 1e-1], "epochs": 1, "train_samples": 512, "test_samples": 256},
    },
    run=run,
)
