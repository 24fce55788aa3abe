"""P8: search a grid of small CNNs for the smallest one whose test loss reaches P4's best dense model.

The grid (filters × kernel size × dense units) of one-conv CNNs ``conv(k)-ReLU-maxpool2 → dense →
10`` is searched in increasing parameter count, each candidate trained with P4's training setup
(optimizer, batch size, learning rate, epochs, data), until one reaches the target test loss:
that one is the smallest in the grid that does. The target is P4's ``best_dense_test_loss``
from ``<out root>/shapes_regularization/results.json`` when P4 has finished there; otherwise
P4's uniform dense network is trained here and its test loss is the target. The dense reference
is always retrained here, one run after the other with the CNNs, so that the loss-against-time
curves of the two are timed the same way.
"""

from __future__ import annotations

from itertools import product
from typing import Any

from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

import tinynet as tn
import tinynet.nn.functional as F
from experiments.budget import CLASSES, INPUTS, scaled_widths
from experiments.datasets import image_data
from experiments.harness import Context, History, Study
from experiments.harness.files import read_json
from experiments.models import cnn
from experiments.studies import shapes_regularization as p4
from experiments.studies.depth_width_grid import record_runs, run_config, train_mlp
from tinynet.optim import Adam

TRAINING = ("dataset", "epochs", "batch_size", "lr", "train_samples", "test_samples")


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


def thousands_axis(axis: Any) -> None:
    """Label a logarithmic parameter-count axis 1k, 2k, 5k, 10k… instead of crowded powers of ten."""
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:g}k"))
    axis.set_minor_formatter(NullFormatter())


def candidate_name(candidate: dict[str, int]) -> str:
    return f"cnn-f{candidate['filters']}-k{candidate['kernel']}-d{candidate['dense']}"


def dense_reference(ctx: Context) -> tuple[dict[str, Any], float | None]:
    """The dense network to match, as a ``train_mlp`` config, and P4's target test loss (None
    when P4 has not finished under the same ``--out``: then the reference's own loss is the
    target)."""
    s = ctx.settings
    results_file = ctx.out.parent / p4.STUDY.name / "results.json"
    results = read_json(results_file) if results_file.exists() else {}
    records = results.get("records", {})
    if results.get("status") == "finished" and "best_dense_test_loss" in records:
        best = records["best_dense_model"]
        differ = {key: (results["settings"].get(key), getattr(s, key)) for key in TRAINING
                  if results["settings"].get(key) != getattr(s, key)}
        ctx.note(f"Target: P4's best dense test loss {records['best_dense_test_loss']:.4f} "
                 f"({best['name']}, widths {best['widths']}, {best['params']} parameters; from "
                 f"{results_file}, profile `{results['profile']}`). The dense reference in the "
                 "figure is that network retrained here with this study's settings.")
        if differ:
            ctx.note("Warning: P4 trained with other settings than this study ("
                     + ", ".join(f"{k}: P4 {a}, here {b}" for k, (a, b) in differ.items())
                     + "), so P4's target and these CNNs are not trained alike. Run both in the same "
                       "profile for a like-for-like search.")
        config = run_config(ctx, "dense-reference", best["widths"], weight_decay=best["weight_decay"],
                            dropout=best["dropout"])
        return config, float(records["best_dense_test_loss"])
    p4_settings = p4.STUDY.settings(ctx.profile)
    hidden = scaled_widths(p4.shape_ratios("uniform", p4_settings["depth"], p4_settings["width_ratio"]),
                           p4_settings["budget"])
    ctx.note(f"P4 `shapes_regularization` has not finished in {results_file.parent}, so this study "
             f"trained P4's plain uniform network ({INPUTS}-{'-'.join(map(str, hidden))}-{CLASSES}, "
             f"budget {p4_settings['budget']:,}) itself with the same settings, and its test loss is "
             "the target. Run P4 first in the same --out to search against P4's best of nine.")
    return run_config(ctx, "dense-reference", [INPUTS, *hidden, CLASSES]), None


def run(ctx: Context) -> None:
    s = ctx.settings
    config, target = dense_reference(ctx)
    reference = train_mlp(config, ctx.env)
    record_runs(ctx, [reference])
    if target is None:
        target = reference["test_loss"]

    train, test, _ = image_data(ctx, s.dataset, s.batch_size, s.train_samples, s.test_samples)
    rows, histories, winner = [], {}, None
    for candidate in candidates(s.filters, s.kernels, s.dense):
        row = {"filters": candidate["filters"], "kernel": candidate["kernel"],
               "dense units": candidate["dense"], "params": candidate["params"]}
        if winner is not None:
            rows.append({**row, "status": "not trained: a smaller CNN reached the target"})
            continue
        name = candidate_name(candidate)
        tn.manual_seed(ctx.seed)
        model = cnn([candidate["filters"]], candidate["dense"], kernel=candidate["kernel"])
        history = ctx.fit(name, model, Adam(model.parameters(), lr=s.lr), F.cross_entropy, train,
                          epochs=s.epochs, test=test)
        histories[name] = history
        last = history.last
        reached = last["test_loss"] <= target
        rows.append({**row, "status": "reached the target" if reached else "trained: above the target",
                     "test loss": last["test_loss"], "test acc": last["test_acc"],
                     "train loss": last["train_loss"], "training s": round(last["seconds"], 2)})
        if reached:
            winner = {**candidate, "name": name, "test_loss": last["test_loss"],
                      "test_acc": last["test_acc"], "seconds": last["seconds"], "reached": True}
    trained = [r for r in rows if "test loss" in r]
    if winner is None:  # nothing reached the target: report the best CNN tried, and say so
        best = min(trained, key=lambda r: r["test loss"])
        candidate = {"filters": best["filters"], "kernel": best["kernel"], "dense": best["dense units"],
                     "params": best["params"]}
        name = candidate_name(candidate)
        winner = {**candidate, "name": name, "test_loss": best["test loss"], "test_acc": best["test acc"],
                  "seconds": best["training s"], "reached": False}

    _plot(ctx, reference, winner, histories[winner["name"]], trained, target)
    ctx.table("search", rows, f"Every CNN of the grid, smallest first, trained in that order until one "
                              f"reached the target test loss {target:.4f}; {s.epochs} epochs, Adam lr "
                              f"{s.lr}, batch {s.batch_size}. Training time counts training steps only.")
    ctx.table("winner_vs_dense", [
        {"model": f"CNN {winner['name']}" + ("" if winner["reached"] else " (best tried; missed the target)"),
         "params": winner["params"], "test loss": winner["test_loss"],
         "test acc": winner["test_acc"], "training s": round(winner["seconds"], 2)},
        {"model": f"dense {'-'.join(map(str, reference['widths']))}", "params": reference["params"],
         "test loss": reference["test_loss"], "test acc": reference["test_acc"],
         "training s": round(reference["seconds"], 2)}],
        "The winner and the dense reference, trained here with the same settings.")
    ctx.record("target_test_loss", target)
    ctx.record("winner", winner)
    ctx.record("dense_reference", {k: reference[k] for k in ("widths", "params", "test_loss", "test_acc",
                                                              "seconds")})
    ctx.record("tried", len(trained))
    ctx.check("A CNN with fewer parameters than the dense network reaches its test loss (seed: weight "
              "sharing makes convolutions far more parameter-efficient on images).",
              winner["reached"] and winner["params"] < reference["params"],
              f"{winner['name']} ({winner['params']} parameters, "
              f"{winner['params'] / reference['params']:.0%} of the dense {reference['params']}) "
              + ("reached" if winner["reached"] else "did not reach")
              + f" the target {target:.4f} with test loss {winner['test_loss']:.4f}; it was candidate "
              f"{len(trained)} of {len(rows)} in increasing size.")


def _plot(ctx: Context, reference: dict[str, Any], winner: dict[str, Any], history: History,
          trained: list[dict[str, Any]], target: float) -> None:
    dense_rows = reference["history"]
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
        ax_params.scatter([reference["params"]], [reference["test_loss"]], marker="s", color="C0",
                          label="dense reference")
        ax_params.axhline(target, color="grey", linestyle=":", label="target (P4's best dense)")
        ax_params.set(xscale="log", yscale="log", xlabel="parameters", ylabel="final test loss",
                      title="Every CNN tried")
        thousands_axis(ax_params.xaxis)
        ax_params.legend(fontsize=7)


STUDY = Study(
    name="cnn_search", code="P8", title="Smallest CNN that matches the best dense network",
    question="What is the smallest CNN (filters, kernel size, dense units) whose test loss reaches "
             "that of P4's best dense network, and how do their losses evolve with training time?",
    profiles={  # the training settings follow P4 shapes_regularization's, profile by profile
        "full": {"filters": [1, 2, 4, 8], "kernels": [3, 5], "dense": [4, 8, 16, 32],
                 "dataset": "mnist", "epochs": 30, "batch_size": 128, "lr": 1e-3,
                 "train_samples": 0, "test_samples": 0},
        "quick": {"filters": [2, 4, 8], "dense": [8, 16, 32], "epochs": 20, "train_samples": 5_000,
                  "test_samples": 5_000},
        "smoke": {"filters": [1, 2], "kernels": [3], "dense": [4, 8], "epochs": 2,
                  "train_samples": 512, "test_samples": 256},
    },
    run=run, part="Breadth vs depth",
)
