"""1-3c: flatness vs generalization, part 1. The loss along the line through two trained models,
θ(α) = (1-α)·θA + α·θB (Goodfellow et al. 2015; Keskar et al. 2017)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Study, evaluate
from experiments.harness.data import ImageData, load_split, subsample
from experiments.harness.plots import legend_below
from experiments.models import mlp
from experiments.runs import make_optimizer
from tinynet.data import DataLoader
from tinynet.hessian import interpolate


def noise_scale(run: dict[str, Any]) -> float:
    """lr / batch size: the scale of the gradient noise of a run (Jastrzębski et al. 2017).
    The smaller it is, the sharper the minimum a run tends to settle in."""
    return run["lr"] / run["batch_size"]


def nearest(alphas: list[float], target: float) -> int:
    """Index of the grid point closest to ``target``."""
    return int(numpy.argmin([abs(a - target) for a in alphas]))


def run_label(run: dict[str, Any]) -> str:
    """'batch B, lr L': how the figures name an end of a line."""
    return f"batch {run['batch_size']}, lr {run['lr']:g}"


def run(ctx: Context) -> None:
    """Train the ends of each line, measure the loss along it, plot, check."""
    s = ctx.settings
    train = subsample(ctx.uses(load_split(s.dataset, True)), s.train_samples, ctx.seed)
    test = subsample(ctx.uses(load_split(s.dataset, False)), s.test_samples, ctx.seed + 1)
    # The loss along the line is measured on a fixed part of the training set: every α costs a
    # pass over it, and the line needs many α.
    train_probe = DataLoader(subsample(train, s.train_eval_samples, ctx.seed + 2), batch_size=1000)
    test_loader = DataLoader(test, batch_size=1000)
    image_size = math.prod(train[0][0].shape)

    def build(init_seed: int) -> Any:
        tn.manual_seed(init_seed)
        return mlp([image_size, *s.widths, 10], "relu", flatten=True)

    small, large = s.batch_sizes
    low, high = s.lrs
    pairs = {  # (A, B) for each line; a run shared by two pairs is trained once
        "batch_size": ({"batch_size": small, "lr": s.lr}, {"batch_size": large, "lr": s.lr}),
        "learning_rate": ({"batch_size": s.lr_pair_batch_size, "lr": low},
                          {"batch_size": s.lr_pair_batch_size, "lr": high}),
    }
    trained: dict[str, dict[str, Any]] = {}
    for pair in pairs.values():
        for end, config in zip("AB", pair):
            name = f"batch{config['batch_size']}-lr{config['lr']:g}"
            if name in trained:
                continue
            model = build(ctx.seed if s.same_init or end == "A" else ctx.seed + 1)
            loader = DataLoader(train, batch_size=config["batch_size"], shuffle=True, seed=ctx.seed)
            history = ctx.fit(name, model, make_optimizer("adam", model.parameters(), config["lr"]),
                              F.cross_entropy, loader, epochs=s.epochs, test=test_loader)
            trained[name] = {"state": model.state_dict(),  # the model is not trained further
                             "history": history}

    alphas = [float(a) for a in numpy.linspace(s.alpha_min, s.alpha_max, s.alpha_steps)]
    probe = build(ctx.seed).to(ctx.device)
    curves = {}
    for pair_name, (a, b) in pairs.items():
        name_a = f"batch{a['batch_size']}-lr{a['lr']:g}"
        name_b = f"batch{b['batch_size']}-lr{b['lr']:g}"

        def measure(name_a: str = name_a, name_b: str = name_b) -> list[dict[str, float]]:
            curve = []
            for alpha in alphas:
                probe.load_state_dict(interpolate(trained[name_a]["state"], trained[name_b]["state"],
                                                  alpha))
                on_train = evaluate(probe, F.cross_entropy, train_probe, ctx.device)
                on_test = evaluate(probe, F.cross_entropy, test_loader, ctx.device)
                curve.append({"alpha": alpha, "train_loss": on_train["loss"], "train_acc": on_train["acc"],
                              "test_loss": on_test["loss"], "test_acc": on_test["acc"]})
            return curve

        curves[pair_name] = ctx.cached(f"line-{pair_name}", measure, key=[name_a, name_b, alphas])
        _figure(ctx, pair_name, a, b, curves[pair_name])
        _checks(ctx, pair_name, a, b, curves[pair_name], alphas, s.extrapolation)

    ctx.table("models", [{"run": name, "train loss (running)": t["history"].last["train_loss"],
                          "train acc (running)": t["history"].last["train_acc"],
                          "test loss": t["history"].last["test_loss"],
                          "test acc": t["history"].last["test_acc"], "epochs": len(t["history"].rows),
                          "seconds": t["history"].last["seconds"]} for name, t in trained.items()],
              f"The trained end points ({'→'.join(map(str, [image_size, *s.widths, 10]))} MLPs, "
              f"Adam, {s.epochs} epochs on {len(train)} images).")
    ctx.table("lines", [{"pair": pair, **point}
                        for pair, curve in curves.items() for point in curve
                        if any(abs(point["alpha"] - x) < 1e-9 for x in (-1, -0.5, 0, 0.5, 1, 1.5, 2))],
              "The lines at a few α (all points are in results.json under records).")
    ctx.record("lines", curves)
    ctx.note(f"Both ends of each line start from the same initialisation "
             f"(`same_init={s.same_init}`) and see the same data order, so the line joins two "
             "solutions reached from one starting point, as in Keskar et al. (2017); with "
             "different initialisations (`--same-init false`) a loss barrier usually appears "
             "between them (what seed 001 saw). Every run trains for the same number of epochs, "
             "so a large batch also means fewer steps. The seeds disagree on the middle of the "
             "line: seed 002 found the best models near α = 0.5, seed 001 found them worse than "
             "either end; the figures show what happens here.")


def _figure(ctx: Context, pair_name: str, a: dict[str, Any], b: dict[str, Any],
            curve: list[dict[str, float]]) -> None:
    alphas = [p["alpha"] for p in curve]
    title = f"A: {run_label(a)}   B: {run_label(b)}"
    with ctx.figure(f"line_{pair_name}", f"Train and test loss (blue, log scale, left) and accuracy "
                    f"(red, right) along θ = (1-α)·θA + α·θB; A = {run_label(a)} at α = 0, "
                    f"B = {run_label(b)} at α = 1.", width=7.5, height=4.5) as (fig, ax):
        ax.plot(alphas, [p["train_loss"] for p in curve], color="C0", label="train loss")
        ax.plot(alphas, [p["test_loss"] for p in curve], color="C0", linestyle="--", label="test loss")
        ax.set(xlabel="α", yscale="log")
        ax.set_title(title, pad=16)  # room for the A and B marks above the plot
        ax.set_ylabel("cross-entropy (log scale)", color="C0")
        twin = ax.twinx()
        twin.plot(alphas, [p["train_acc"] for p in curve], color="C3", label="train accuracy")
        twin.plot(alphas, [p["test_acc"] for p in curve], color="C3", linestyle="--",
                  label="test accuracy")
        twin.set_ylabel("accuracy", color="C3")
        twin.set_ylim(0, 1.02)
        twin.grid(False)
        for x, text in ((0, "A"), (1, "B")):
            ax.axvline(x, color="black", linewidth=0.8, linestyle=":")
            ax.annotate(text, (x, 1), xycoords=("data", "axes fraction"), ha="center", va="bottom")
        legend_below(ax, ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0],
                     ncol=4)


def _checks(ctx: Context, pair_name: str, a: dict[str, Any], b: dict[str, Any],
            curve: list[dict[str, float]], alphas: list[float], step: float) -> None:
    loss = [p["train_loss"] for p in curve]
    i0, i1 = nearest(alphas, 0.0), nearest(alphas, 1.0)
    before, after = nearest(alphas, -step), nearest(alphas, 1.0 + step)
    rise_a, rise_b = loss[before] - loss[i0], loss[after] - loss[i1]
    sharper, flatter = ("B", "A") if noise_scale(b) < noise_scale(a) else ("A", "B")
    rise = {"A": rise_a, "B": rise_b}
    ctx.record(f"{pair_name}/train_loss_rise", {"A": rise_a, "B": rise_b, "step": step})
    ctx.check(f"[{pair_name}] The end trained with less gradient noise (smaller lr / batch size: "
              f"{sharper}) sits in a sharper minimum: the training loss rises faster when stepping "
              f"beyond it than beyond {flatter} (Keskar et al. 2017; Jastrzębski et al. 2017).",
              rise[sharper] > max(rise[flatter], 0.0),
              f"Stepping {step:g} along the line: beyond A ({run_label(a)}, α {alphas[before]:.2f}) "
              f"the train loss rises by {rise_a:.3g} ({loss[i0]:.3g} → {loss[before]:.3g}); beyond B "
              f"({run_label(b)}, α {alphas[after]:.2f}) by {rise_b:.3g} "
              f"({loss[i1]:.3g} → {loss[after]:.3g}).")
    acc = [p["test_acc"] for p in curve]
    sides = {"A": (i0, [i for i, x in enumerate(alphas) if x < 0.5]),
             "B": (i1, [i for i, x in enumerate(alphas) if x > 0.5])}
    lowest = {end: min(side, key=lambda i: loss[i]) for end, (_, side) in sides.items()}
    minimum = {end: loss[i] <= loss[lowest[end]] for end, (i, _) in sides.items()}
    ctx.record(f"{pair_name}/lowest_train_loss_alpha", {end: alphas[i] for end, i in lowest.items()})
    ctx.check(f"[{pair_name}] Each trained model is a minimum along the line: no α of the grid on its "
              "side of the midpoint (α < 0.5 for A, α > 0.5 for B) has a lower training loss "
              "(seeds 002, 003).", all(minimum.values()),
              "; ".join(f"{end} (α = {alphas[i]:g}): train loss {loss[i]:.3g}, lowest on its side "
                        f"{loss[lowest[end]]:.3g} at α = {alphas[lowest[end]]:.2f}"
                        + ("" if minimum[end] else f" ({len([j for j in sides[end][1] if loss[j] < loss[i]])}"
                                                   f" of {len(sides[end][1])} grid points lower)")
                        for end, (i, _) in sides.items())
              + f". Test accuracy {acc[0]:.1%} at α = {alphas[0]:g}, {acc[i0]:.1%} (A), {acc[i1]:.1%} "
                f"(B), {acc[-1]:.1%} at α = {alphas[-1]:g}.")
    inside = [i for i, x in enumerate(alphas) if 0 < x < 1]
    if inside:
        peak = max(inside, key=lambda i: loss[i])
        best = max(inside, key=lambda i: acc[i])
        barrier = loss[peak] - max(loss[i0], loss[i1])
        ctx.record(f"{pair_name}/barrier", barrier)
        ctx.note(f"[{pair_name}] Between A and B the training loss peaks at {loss[peak]:.3g} "
                 f"(α = {alphas[peak]:.2f}) against {loss[i0]:.3g} at A and {loss[i1]:.3g} at B: "
                 + (f"a barrier of {barrier:.3g}." if barrier > 0 else "no barrier.")
                 + f" The best test accuracy inside the segment is {acc[best]:.1%} at "
                   f"α = {alphas[best]:.2f} (A {acc[i0]:.1%}, B {acc[i1]:.1%}).")


@dataclass(frozen=True)
class Settings(ImageData):
    """1-3c's settings (the full profile's values)."""

    train_eval_samples: int = 10000
    widths: tuple[int, ...] = (512,)
    epochs: int = 20
    lr: float = 1e-3
    batch_sizes: tuple[int, ...] = (64, 1024)
    lrs: tuple[float, ...] = (1e-3, 1e-2)
    lr_pair_batch_size: int = 64
    same_init: bool = True
    alpha_min: float = -1.0
    alpha_max: float = 2.0
    alpha_steps: int = 61
    extrapolation: float = 0.5

    def __post_init__(self) -> None:
        if len(self.batch_sizes) != 2 or len(self.lrs) != 2:
            raise ValueError("interpolation: batch_sizes and lrs each take two values, the ends A and B")


STUDY = Study(
    name="interpolation", code="1-3c", title="Interpolating between two trained models",
    question="Along the straight line between a small-batch and a large-batch solution (and "
             "between a small- and a large-learning-rate one), how do loss and accuracy change?",
    settings=Settings,
    profiles={
        "quick": {"train_samples": 20000, "test_samples": 5000, "train_eval_samples": 5000,
                  "widths": [256], "epochs": 6, "alpha_steps": 31},
        "smoke": {"train_samples": 512, "test_samples": 256, "train_eval_samples": 256,
                  "widths": [32], "epochs": 1, "batch_sizes": [64, 256], "alpha_steps": 7},
    },
    run=run,
)
