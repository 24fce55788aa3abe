"""P5: final train/test loss and training time against batch size (same model, epochs and lr)."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.ticker import NullLocator

from experiments.budget import mlp_widths, width_for_budget
from experiments.harness import Context, Study
from experiments.harness.data import ImageData
from experiments.harness.plots import plain_log_ticks
from experiments.runs import mlp_run, record_runs, seconds_to_reach, timing_record, train_mlp


def run(ctx: Context) -> None:
    """Train the same MLP once per batch size and compare final losses and times."""
    s = ctx.settings
    widths = mlp_widths(s.depth, width_for_budget(s.depth, s.budget))
    configs = [mlp_run(ctx, f"batch-{b}", widths, batch_size=b) for b in s.batch_sizes]
    results = ctx.sweep(train_mlp, configs)
    record_runs(ctx, results)
    rows = [{"batch size": b, "steps per epoch": r["steps_per_epoch"], "train loss": r["train_loss"],
             "test loss": r["test_loss"], "test acc": r["test_acc"], "seconds": r["seconds"],
             "seconds per epoch": r["seconds"] / s.epochs,
             f"seconds to test loss ≤ {s.target_loss:g}": seconds_to_reach(r["history"], s.target_loss)}
            for b, r in zip(s.batch_sizes, results)]

    with ctx.figure("loss_and_time", f"Left: final train and test loss against batch size, {s.epochs} "
                    f"epochs of Adam (lr {s.lr}) for each. Right: training time (evaluation excluded) "
                    f"on {ctx.device}. Log-log axes.", ncols=2, width=5.5) as (fig, (left, right)):
        left.plot(s.batch_sizes, [r["train loss"] for r in rows], "o-", label="train")
        left.plot(s.batch_sizes, [r["test loss"] for r in rows], "s--", label="test")
        left.set(xscale="log", yscale="log", xlabel="batch size", ylabel="final loss (cross-entropy)",
                 title="Loss against batch size")
        left.legend()
        right.plot(s.batch_sizes, [r["seconds"] for r in rows], "o-", color="C2")
        right.set(xscale="log", yscale="log", xlabel="batch size",
                  ylabel=f"training time for {s.epochs} epochs (s)", title="Training time against batch size")
        for ax in (left, right):
            ax.set_xticks(s.batch_sizes, [str(b) for b in s.batch_sizes])
            ax.xaxis.set_minor_locator(NullLocator())
            plain_log_ticks(ax.yaxis)
    ctx.table("batch_sizes", rows, f"MLP {'-'.join(map(str, widths))} ({results[0]['params']:,} "
                                   f"parameters), {s.epochs} epochs, Adam lr {s.lr}; train loss measured "
                                   "after training; seconds = training time only; the last column is the "
                                   "training time until the first epoch whose test loss reached the "
                                   "target (empty: never reached).")
    ctx.record("timing", timing_record(ctx))
    ctx.record("final_test_loss", {str(r["batch size"]): r["test loss"] for r in rows})
    ctx.record("seconds", {str(r["batch size"]): r["seconds"] for r in rows})

    smallest, largest = rows[0], rows[-1]
    ctx.check("At a fixed number of epochs, larger batches train faster: fewer, better-vectorised "
              "steps (the seed claims the opposite, that time grows with batch size).",
              largest["seconds"] < smallest["seconds"],
              f"Batch {smallest['batch size']}: {smallest['seconds']:.2f} s; batch {largest['batch size']}: "
              f"{largest['seconds']:.2f} s for {s.epochs} epochs.")
    best = min(rows, key=lambda r: r["test loss"])
    ctx.check("With the same epochs and learning rate, the largest batch ends with a higher test "
              "loss than the best smaller batch (fewer updates; Keskar et al. 2017 also report a "
              "generalisation gap for large batches).",
              best["batch size"] != largest["batch size"] and largest["test loss"] > best["test loss"],
              f"Best test loss {best['test loss']:.4f} at batch {best['batch size']}; batch "
              f"{largest['batch size']}: {largest['test loss']:.4f}.")
    ctx.check("The loss first falls, then rises with batch size: the best test loss is at an "
              "intermediate batch (seed).",
              best["batch size"] not in (smallest["batch size"], largest["batch size"]),
              f"Best test loss at batch {best['batch size']} of {s.batch_sizes}; with a fixed number of "
              "epochs the smallest batch makes the most updates.")
    ctx.note(f"The seeds give no batch sizes; we sweep {s.batch_sizes} with the learning rate held "
             f"at {s.lr}, so a larger batch also means fewer updates in the {s.epochs} epochs. Times come "
             f"from the History's 'seconds' column (training only, the same measure for every run), on "
             f"{ctx.device} with one BLAS thread per run and jobs={ctx.jobs}; on a machine shared with "
             "other work they are noisy to tens of percent. Where the seed says training time grows "
             "with batch size, we follow the measurement: per epoch it falls.")


@dataclass(frozen=True)
class Settings(ImageData):
    """P5's settings (the full profile's values)."""

    batch_sizes: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)
    budget: int = 50_000
    depth: int = 2
    target_loss: float = 0.3
    epochs: int = 10
    lr: float = 1e-3


STUDY = Study(
    name="batch_size", code="P5", title="Batch size: loss and training time",
    part="Breadth vs depth",
    question="How do the final train/test loss and the training time depend on the batch size?",
    settings=Settings,
    profiles={
        "quick": {"epochs": 5, "train_samples": 20_000, "test_samples": 5_000},
        "smoke": {"batch_sizes": [32, 256], "epochs": 1, "train_samples": 512, "test_samples": 256},
    },
    run=run,
)
