"""P8: search a grid of small CNNs for the smallest one whose test loss reaches P4's best dense model.

The grid (filters × kernel size × dense units) of one-conv CNNs ``conv(k)-ReLU-maxpool2 → dense →
10`` is searched in increasing parameter count, each candidate trained from ``seeds`` seeds with
P4's training setup (optimizer, batch size, learning rate, epochs, data), until one reaches the
target: P4's best dense test loss (its mean over seeds). A candidate reaches it when its mean test
loss plus its spread over seeds is at most the target, so a margin within seed noise does not
count; a candidate whose first seed misses the target is not trained from the others. The study
needs P4 ``shapes_regularization`` (run first when missing). The dense reference is P4's own runs
of its best network when P4 trained with the same settings (else it is retrained here); the
loss-against-time curves are the first seed's, timed the same way (training steps only).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, History, Study
from experiments.harness.data import ImageData, image_data
from experiments.harness.plots import thousands_axis
from experiments.models import cnn
from experiments.runs import TRAINING, make_optimizer, mlp_run, over_seeds, pm, record_runs, train_mlp


def cnn_shape_params(filters: int, kernel: int, dense: int, image: int = 28, classes: int = 10) -> int:
    """Parameters of ``cnn([filters], dense, kernel)`` on one-channel ``image``² inputs: the conv
    layer's weights and biases, then the dense layer on the pooled maps, then the output layer.

    >>> cnn_shape_params(4, 3, 16)    # 4·(9+1) + (4·14·14 + 1)·16 + (16 + 1)·10
    12770
    """
    pooled = filters * (image // 2) ** 2
    return filters * (kernel * kernel + 1) + (pooled + 1) * dense + (dense + 1) * classes


def candidates(filters: list[int], kernels: list[int], dense: list[int]) -> list[dict[str, int]]:
    """Every (filters, kernel, dense) of the grid, smallest parameter count first."""
    grid = [{"filters": f, "kernel": k, "dense": d, "params": cnn_shape_params(f, k, d)}
            for f, k, d in product(filters, kernels, dense)]
    return sorted(grid, key=lambda c: (c["params"], c["kernel"], c["filters"]))


def candidate_name(candidate: dict[str, int]) -> str:
    """The run name of a CNN of the grid."""
    return f"cnn-f{candidate['filters']}-k{candidate['kernel']}-d{candidate['dense']}"


def dense_reference(ctx: Context) -> tuple[dict[str, Any], float, bool]:
    """P4's best dense network (its record), the target test loss (P4's mean over seeds), and
    whether P4 trained it alike with this study (then its runs serve as the reference here)."""
    s = ctx.settings
    p4 = ctx.upstream("shapes_regularization")
    records, settings = p4.results["records"], p4.results["settings"]
    best = records["best_dense_model"]
    differ = {key: (settings.get(key), getattr(s, key)) for key in (*TRAINING, "seeds")
              if settings.get(key) != getattr(s, key)}
    ctx.note(f"Target: P4's best dense test loss {records['best_dense_test_loss']:.4f} "
             f"({best['name']}, widths {best['widths']}, {best['params']} parameters, mean over "
             f"{best.get('seeds', 1)} seed(s); from {p4.folder}, profile `{p4.results['profile']}`).")
    if differ:
        ctx.note("P4 trained with other settings than this study ("
                 + ", ".join(f"{k}: P4 {a}, here {b}" for k, (a, b) in differ.items())
                 + "), so the dense reference of the figure is retrained here with this study's "
                   "settings, and P4's target and these CNNs are not trained alike. Run both with "
                   "the same settings for a like-for-like search.")
    return best, float(records["best_dense_test_loss"]), not differ


def _reference(ctx: Context, best: dict[str, Any], alike: bool) -> dict[str, Any]:
    """The dense reference: P4's own runs of it when trained alike, else retrained from the seeds."""
    s = ctx.settings
    seeds = [ctx.seed + j for j in range(s.seeds)]
    if alike:
        p4 = ctx.upstream("shapes_regularization").results
        return {"widths": best["widths"], "params": best["params"],
                "test": {"mean": best["test_loss"], "spread": best["test_loss_spread"], "n": s.seeds},
                "acc": {"mean": best["test_acc"]}, "seconds": p4["runs"][f"{best['name']}-seed{seeds[0]}"]
                ["rows"][-1]["seconds"], "history": p4["runs"][f"{best['name']}-seed{seeds[0]}"]["rows"]}
    references = ctx.sweep(train_mlp, [mlp_run(ctx, f"dense-reference-seed{seed}", best["widths"],
                                               weight_decay=best["weight_decay"],
                                               dropout=best["dropout"], seed=seed) for seed in seeds])
    record_runs(ctx, references)
    return {"widths": best["widths"], "params": references[0]["params"],
            "test": over_seeds([r["test_loss"] for r in references]),
            "acc": over_seeds([r["test_acc"] for r in references]),
            "seconds": references[0]["seconds"], "history": references[0]["history"]}


def run(ctx: Context) -> None:
    """Search the CNN grid, smallest first, against P4's best dense test loss."""
    s = ctx.settings
    best, target, alike = dense_reference(ctx)
    reference = _reference(ctx, best, alike)
    seeds = [ctx.seed + j for j in range(s.seeds)]

    train, test, _ = image_data(ctx, s.dataset, s.batch_size, s.train_samples, s.test_samples)
    rows, histories, winner = [], {}, None
    for candidate in candidates(s.filters, s.kernels, s.dense):
        row = {"filters": candidate["filters"], "kernel": candidate["kernel"],
               "dense units": candidate["dense"], "params": candidate["params"]}
        if winner is not None:
            rows.append({**row, "status": "not trained: a smaller CNN reached the target"})
            continue
        name = candidate_name(candidate)
        runs = []
        for seed in seeds:  # the first seed screens: one that misses the target is not repeated
            tn.manual_seed(seed)
            model = cnn([candidate["filters"]], candidate["dense"], kernel=candidate["kernel"])
            runs.append(ctx.fit(name if seed == ctx.seed else f"{name}-seed{seed}", model,
                                make_optimizer("adam", model.parameters(), s.lr), F.cross_entropy, train,
                                epochs=s.epochs, test=test, eval_every=1 if seed == ctx.seed else s.epochs))
            if runs[0].last["test_loss"] > target:
                break
        histories[name] = runs[0]
        loss = over_seeds([h.last["test_loss"] for h in runs])
        acc = over_seeds([h.last["test_acc"] for h in runs])
        seconds = over_seeds([h.last["seconds"] for h in runs])
        reached = len(runs) == len(seeds) and loss["mean"] + loss["spread"] <= target
        status = ("reached the target" if reached else "trained: above the target" if len(runs) > 1
                  else "first seed above the target: not repeated")
        rows.append({**row, "status": status, "seeds": len(runs),
                     "test loss": loss["mean"], "± test loss": loss["spread"], "test acc": acc["mean"],
                     "train loss": runs[0].last["train_loss"], "training s": round(seconds["mean"], 2)})
        if reached:
            winner = {**candidate, "name": name, "test_loss": loss["mean"],
                      "test_loss_spread": loss["spread"], "test_acc": acc["mean"],
                      "seconds": seconds["mean"], "reached": True}
    trained = [r for r in rows if "test loss" in r]
    if winner is None:  # nothing reached the target: report the best CNN tried, and say so
        top = min(trained, key=lambda r: r["test loss"])
        candidate = {"filters": top["filters"], "kernel": top["kernel"], "dense": top["dense units"],
                     "params": top["params"]}
        winner = {**candidate, "name": candidate_name(candidate), "test_loss": top["test loss"],
                  "test_loss_spread": top["± test loss"], "test_acc": top["test acc"],
                  "seconds": top["training s"], "reached": False}

    _plot(ctx, reference, winner, histories[winner["name"]], trained, target)
    ctx.table("search", rows, f"Every CNN of the grid, smallest first, trained in that order until one "
                              f"reached the target test loss {target:.4f}: its mean plus its spread "
                              f"(standard deviation) over {s.seeds} seed(s) at most the target. A CNN "
                              "whose first seed already misses the target is not trained from the "
                              f"other seeds. {s.epochs} epochs, Adam lr {s.lr}, batch {s.batch_size}; "
                              "training time counts training steps only.")
    ctx.table("winner_vs_dense", [
        {"model": f"CNN {winner['name']}" + ("" if winner["reached"] else " (best tried; missed the target)"),
         "params": winner["params"], "test loss": winner["test_loss"],
         "± test loss": winner["test_loss_spread"], "test acc": winner["test_acc"],
         "training s": round(winner["seconds"], 2)},
        {"model": f"dense {'-'.join(map(str, reference['widths']))}", "params": reference["params"],
         "test loss": reference["test"]["mean"], "± test loss": reference["test"]["spread"],
         "test acc": reference["acc"]["mean"], "training s (first seed)": round(reference["seconds"], 2)}],
        f"The winner and the dense reference ({'P4' if alike else 'retrained here'}), trained with the "
        f"same settings, {s.seeds} seed(s); the CNN's training time is the mean over its seeds.")
    ctx.record("target_test_loss", target)
    ctx.record("winner", winner)
    ctx.record("dense_reference", {"widths": reference["widths"], "params": reference["params"],
                                   "test_loss": reference["test"], "test_acc": reference["acc"],
                                   "from": "P4's runs" if alike else "retrained here"})
    ctx.record("tried", len(trained))
    ctx.check("A CNN with fewer parameters than the dense network reaches its test loss (seed: weight "
              "sharing makes convolutions far more parameter-efficient on images).",
              winner["reached"] and winner["params"] < reference["params"],
              f"{winner['name']} ({winner['params']} parameters, "
              f"{winner['params'] / reference['params']:.0%} of the dense {reference['params']}) "
              + ("reached" if winner["reached"] else "did not reach")
              + f" the target {target:.4f} with test loss {winner['test_loss']:.4f} ± "
              f"{winner['test_loss_spread']:.4f} over {s.seeds} seed(s) (reached: mean + spread at most "
              f"the target); it was candidate {len(trained)} of {len(rows)} in increasing size. The "
              f"dense reference: {pm(reference['test'])}.")


def _plot(ctx: Context, reference: dict[str, Any], winner: dict[str, Any], history: History,
          trained: list[dict[str, Any]], target: float) -> None:
    dense_rows = reference["history"]  # the first seed's
    dense_label = f"dense {reference['params']:,} params"
    cnn_label = f"CNN {winner['name']} {winner['params']:,} params"
    with ctx.figure("loss_vs_time", "Train (solid) and test (dashed) loss against training time for "
                                    "the winning CNN and the dense reference (left); test loss against "
                                    "parameter count for every CNN tried, with the target (right)",
                    ncols=2, width=6) as (fig, (ax, ax_params)):
        for label, seconds, train_loss, test_loss, colour in (
                (dense_label, [r["seconds"] for r in dense_rows], [r["train_loss"] for r in dense_rows],
                 [r["test_loss"] for r in dense_rows], "C0"),
                (cnn_label, history.column("seconds"), history.column("train_loss"),
                 history.column("test_loss"), "C1")):
            ax.plot(seconds, train_loss, color=colour, marker="o", markersize=3, label=f"{label}: train")
            ax.plot(seconds, test_loss, color=colour, marker="o", markersize=3, linestyle="--",
                    label=f"{label}: test")
        ax.axhline(target, color="grey", linestyle=":", label=f"target {target:.3f}")
        ax.set(xlabel=f"training time (s, {ctx.device}, without evaluation)", ylabel="cross-entropy loss",
               yscale="log", title="Loss against training time")
        ax.legend()
        filters = sorted({r["filters"] for r in trained})
        kernels = sorted({r["kernel"] for r in trained})
        for r in trained:  # colour: filters; marker: kernel size
            ax_params.scatter(r["params"], r["test loss"], color=f"C{1 + filters.index(r['filters'])}",
                              marker="os^D"[kernels.index(r["kernel"]) % 4], s=30, zorder=3)
        for i, f in enumerate(filters):
            ax_params.scatter([], [], color=f"C{1 + i}", marker="o", label=f"{f} filter(s)")
        for i, k in enumerate(kernels):
            ax_params.scatter([], [], color="grey", marker="os^D"[i % 4], label=f"kernel {k}×{k}")
        ax_params.scatter([winner["params"]], [winner["test_loss"]], marker="*", s=250, facecolor="none",
                          edgecolor="black", zorder=4, label=f"winner ({winner['filters']} filters, kernel "
                                                              f"{winner['kernel']}, {winner['dense']} dense)")
        ax_params.scatter([reference["params"]], [reference["test"]["mean"]], marker="s", color="C0",
                          label="dense reference")
        ax_params.axhline(target, color="grey", linestyle=":", label="target (P4's best dense)")
        ax_params.set(xscale="log", yscale="log", xlabel="parameters", ylabel="final test loss",
                      title="Every CNN tried")
        thousands_axis(ax_params.xaxis)
        ax_params.legend(fontsize=7)


@dataclass(frozen=True)
class Settings(ImageData):
    """P8's settings (the full profile's values); the training ones follow P4's, profile by profile."""

    filters: tuple[int, ...] = (1, 2, 4, 8)
    kernels: tuple[int, ...] = (3, 5)
    dense: tuple[int, ...] = (4, 8, 16, 32)
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    seeds: int = 3


STUDY = Study(
    name="cnn_search", code="P8", title="Smallest CNN that matches the best dense network",
    question="What is the smallest CNN (filters, kernel size, dense units) whose test loss reaches "
             "that of P4's best dense network, and how do their losses evolve with training time?",
    settings=Settings,
    profiles={
        "quick": {"filters": [2, 4, 8], "dense": [8, 16, 32], "epochs": 10, "train_samples": 3_000,
                  "test_samples": 5_000},
        "smoke": {"filters": [1, 2], "kernels": [3], "dense": [4, 8], "epochs": 2,
                  "train_samples": 512, "test_samples": 256, "seeds": 2},
    },
    run=run, part="Breadth vs depth", needs=("shapes_regularization",),
)
