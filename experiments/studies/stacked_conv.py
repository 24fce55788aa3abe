"""P9: CNNs with two stacked conv layers against P8's one-conv winner: test accuracy against size.

The stacked CNNs are ``conv(k)-ReLU-maxpool2-conv(k)-ReLU-maxpool2 → dense → 10`` with ``f`` then
``2f`` filters and the winner's kernel size and dense units: the second pooling shrinks the maps
to 7×7, so the dense layer, which holds most of the parameters, gets smaller. The winner comes
from P8 ``cnn_search``, which this study needs (run first when missing). All models are trained
here with the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matplotlib.ticker import MaxNLocator

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, History, Study
from experiments.harness.data import ImageData, image_data
from experiments.harness.plots import thousands_axis
from experiments.models import cnn
from experiments.runs import TRAINING, make_optimizer
from tinynet.nn.utils import count_parameters


def find_winner(ctx: Context) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """P8's winner as {filters, kernel, dense}, and P8's table of CNNs tried."""
    s = ctx.settings
    p8 = ctx.upstream("cnn_search")
    winner = p8.results["records"]["winner"]
    differ = {key: (p8.results["settings"].get(key), getattr(s, key)) for key in TRAINING
              if p8.results["settings"].get(key) != getattr(s, key)}
    ctx.note(f"P8's winner is {winner['name']} ({winner['params']} parameters, test loss "
             f"{winner['test_loss']:.4f}"
             + ("" if winner["reached"] else ", the best CNN tried, though it missed P8's target")
             + f"; from {p8.folder}, profile `{p8.results['profile']}`). It is retrained here with "
               "the same settings as the stacked CNNs.")
    if differ:
        ctx.note("P8 trained with other settings than this study ("
                 + ", ".join(f"{k}: P8 {a}, here {b}" for k, (a, b) in differ.items())
                 + "): the grey points from P8 are not trained alike with the others.")
    tried = [r for r in p8.results["tables"]["search"]["rows"] if "test acc" in r]
    return {k: winner[k] for k in ("filters", "kernel", "dense")}, tried


def run(ctx: Context) -> None:
    """Train P8's winner and the stacked CNNs with the same settings; plot, check."""
    s = ctx.settings
    winner, tried = find_winner(ctx)
    train, test, _ = image_data(ctx, s.dataset, s.batch_size, s.train_samples, s.test_samples)
    shapes = [("one conv (P8's winner)", [winner["filters"]])]
    shapes += [("two stacked convs", [f, 2 * f]) for f in s.stacked_filters]
    rows, histories = [], {}
    for kind, channels in shapes:
        name = f"cnn-{'-'.join(map(str, channels))}-k{winner['kernel']}-d{winner['dense']}"
        tn.manual_seed(ctx.seed)
        model = cnn(channels, winner["dense"], kernel=winner["kernel"])
        history = ctx.fit(name, model, make_optimizer("adam", model.parameters(), s.lr), F.cross_entropy,
                          train, epochs=s.epochs, test=test)
        histories[name] = history
        last = history.last
        rows.append({"model": name, "kind": kind, "conv layers": len(channels),
                     "filters": "-".join(map(str, channels)), "kernel": winner["kernel"],
                     "dense units": winner["dense"], "params": count_parameters(model),
                     "test acc": last["test_acc"], "test loss": last["test_loss"],
                     "training s": round(last["seconds"], 2)})

    _plot(ctx, rows, histories, tried)
    ctx.table("models", rows, f"P8's one-conv winner and the stacked CNNs, each trained {s.epochs} "
                              f"epochs (Adam lr {s.lr}, batch {s.batch_size}); training time counts "
                              "training steps only.")
    one, stacked = rows[0], rows[1:]
    ctx.record("test_acc", {r["model"]: r["test acc"] for r in rows})
    ctx.record("params", {r["model"]: r["params"] for r in rows})
    comparable = [r for r in stacked if r["params"] <= 1.1 * one["params"]]
    better = [r for r in comparable if r["test acc"] > one["test acc"]]
    ctx.check("A CNN with two stacked conv layers reaches a higher test accuracy than P8's one-conv "
              "winner with a comparable or smaller parameter count (at most 10% more; seed).",
              bool(better),
              f"One conv: {one['params']} parameters, {one['test acc']:.2%}. Stacked: "
              + ", ".join(f"{r['filters']} filters {r['params']} parameters {r['test acc']:.2%}"
                          for r in stacked) + ".")


def _plot(ctx: Context, rows: list[dict[str, Any]], histories: dict[str, History],
          tried: list[dict[str, Any]]) -> None:
    caption = ("Test accuracy against parameter count (log x): P8's one-conv winner (★), the stacked "
               "CNNs (dots on the grey line) and, when P8 ran, the other one-conv CNNs P8 tried (grey ×, "
               "P8's run); test accuracy per epoch (right)")
    with ctx.figure("accuracy_vs_params", caption, ncols=2, width=6) as (fig, (ax, ax_epochs)):
        if tried:
            ax.scatter([r["params"] for r in tried], [r["test acc"] for r in tried], color="C7", s=20,
                       marker="x", label="one conv, tried by P8")
        one, stacked = rows[0], rows[1:]
        ax.plot([r["params"] for r in stacked], [r["test acc"] for r in stacked], color="C7", zorder=1,
                label="two stacked convs (filters written beside)")
        for i, r in enumerate(stacked, start=1):  # the same colours as in the per-epoch panel
            ax.scatter([r["params"]], [r["test acc"]], color=f"C{i}", zorder=3)
            ax.annotate(r["filters"], (r["params"], r["test acc"]), fontsize=8, xytext=(4, -10),
                        textcoords="offset points")
        ax.scatter([one["params"]], [one["test acc"]], marker="*", s=200, color="C0", zorder=3,
                   label=f"one conv: P8's winner ({one['filters']} filters)")
        ax.set(xscale="log", xlabel="parameters", ylabel="test accuracy", title="Test accuracy against size")
        thousands_axis(ax.xaxis)
        ax.legend(loc="lower right")
        for i, (row, history) in enumerate(zip(rows, histories.values())):
            ax_epochs.plot(history.column("epoch"), history.column("test_acc"), marker="o", markersize=3,
                           color=f"C{i}",
                           label=f"{row['kind']} {row['filters']} ({row['params']} params)")
        ax_epochs.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy per epoch")
        ax_epochs.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_epochs.legend(loc="lower right")


@dataclass(frozen=True)
class Settings(ImageData):
    """P9's settings (the full profile's values); the training ones follow P8's (and so P4's)."""

    stacked_filters: tuple[int, ...] = (2, 4, 8)
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3


STUDY = Study(
    name="stacked_conv", code="P9", title="Two stacked conv layers against one",
    question="Does a CNN with two stacked conv layers reach a higher test accuracy than P8's one-conv "
             "winner for a comparable number of parameters?",
    settings=Settings,
    profiles={
        "quick": {"epochs": 10, "train_samples": 3_000, "test_samples": 5_000},
        "smoke": {"stacked_filters": [2], "epochs": 2, "train_samples": 512, "test_samples": 256},
    },
    run=run, part="Breadth vs depth", needs=("cnn_search",),
)
