"""1-3b: number of parameters vs generalization, over MLPs 784→h→h→10 of many widths."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from scipy.stats import spearmanr

from experiments.harness import Context, Study
from experiments.harness.data import ImageData
from experiments.harness.sweep import RunEnv
from experiments.runs import MLPRun, image_widths, mlp_run, train_mlp_classifier
from tinynet.nn.utils import count_parameters


def mlp_parameters(inputs: int, width: int, classes: int = 10) -> int:
    """Parameters of ``inputs → width → width → classes`` with biases:
    ``(inputs + 1)·h + (h + 1)·h + (h + 1)·classes``.

    >>> mlp_parameters(784, 5), mlp_parameters(784, 410)
    (4015, 494470)
    """
    return (inputs + 1) * width + (width + 1) * width + (width + 1) * classes


def train_one(config: MLPRun, env: RunEnv) -> dict[str, Any]:
    """Train one width (resumable) and measure its final train and test loss and accuracy; the
    result is kept with ``env.cached``, so a resumed sweep skips the evaluation too."""
    def compute() -> dict[str, Any]:
        run = train_mlp_classifier(config, env)
        final_train, final_test = run["final_train"], run["final_test"]
        return {"width": config.widths[1], "parameters": count_parameters(run["model"]),
                "train_loss": final_train["loss"], "train_acc": final_train["acc"],
                "test_loss": final_test["loss"], "test_acc": final_test["acc"],
                "seconds": run["history"].last["seconds"], "history": run["history"].to_dict(),
                "sources": run["sources"]}

    return env.cached(config.name, compute, key=dataclasses.asdict(config))


def run(ctx: Context) -> None:
    """Train every width (a sweep), plot against the parameter count, check."""
    s = ctx.settings
    configs = [mlp_run(ctx, f"width-{w}", image_widths(s.dataset, [w, w])) for w in s.widths]
    results = sorted(ctx.sweep(train_one, configs), key=lambda r: r["parameters"])
    for r in results:
        for source in r.pop("sources"):
            ctx.uses(source)
        ctx.runs[f"width-{r['width']}"] = r.pop("history")

    params = [r["parameters"] for r in results]
    for name, metric, label in (("loss", "loss", "cross-entropy"), ("accuracy", "acc", "accuracy")):
        with ctx.figure(name, f"Final train and test {label} against the number of parameters "
                        f"(MLPs 784→h→h→10, h = {results[0]['width']}…{results[-1]['width']}, "
                        f"{s.epochs} epochs each; log x).", width=6.5) as (fig, ax):
            ax.plot(params, [r[f"train_{metric}"] for r in results], "o-", label="train")
            ax.plot(params, [r[f"test_{metric}"] for r in results], "s--", label="test")
            ax.set(xscale="log", xlabel="parameters", ylabel=label,
                   yscale="log" if metric == "loss" else "linear",
                   title=f"{label.capitalize()} vs number of parameters")
            ax.legend()
    ctx.table("models", [{"hidden width": r["width"], "parameters": r["parameters"],
                          "train loss": r["train_loss"], "test loss": r["test_loss"],
                          "gap (test - train loss)": r["test_loss"] - r["train_loss"],
                          "train acc": r["train_acc"], "test acc": r["test_acc"],
                          "seconds": r["seconds"]} for r in results],
              f"MLPs 784→h→h→10 on {s.dataset} ({s.train_samples or 'all'} training images), "
              "final numbers measured on the whole train and test sets.")

    def trend(values: list[float]) -> float:
        return float(spearmanr(params, values).statistic) if len(params) > 2 else math.nan

    train_trend = trend([r["train_loss"] for r in results])
    gaps = [r["test_loss"] - r["train_loss"] for r in results]
    gap_trend = trend(gaps)
    best = max(results, key=lambda r: r["test_acc"])
    smallest, largest = results[0], results[-1]
    ctx.record("parameters", params)
    ctx.record("test_acc", [r["test_acc"] for r in results])
    ctx.record("spearman_params_train_loss", train_trend)
    ctx.record("spearman_params_gap", gap_trend)
    spread = params[-1] / params[0]
    ctx.check("The models span two orders of magnitude of parameters [seeds: ~4k to ~500k].",
              len(results) >= 10 and spread >= 100,
              f"{len(results)} models from {params[0]:,} to {params[-1]:,} parameters "
              f"(×{spread:.0f}).")
    ctx.check("Training loss falls as the number of parameters grows (seeds 000-003).",
              train_trend < -0.5, f"Spearman correlation of final train loss with parameters "
                                  f"{train_trend:.2f}; train loss {smallest['train_loss']:.3g} "
                                  f"({smallest['parameters']:,}) → {largest['train_loss']:.3g} "
                                  f"({largest['parameters']:,}).")
    ctx.check("The generalization gap (test loss − train loss) widens with more parameters: big "
              "models fit the training set better than they generalise (seeds 000, 001, 003).",
              gap_trend > 0.5, f"Spearman correlation of the gap with parameters {gap_trend:.2f}; "
                               f"gap {gaps[0]:.3g} → {gaps[-1]:.3g}.")
    ctx.check("Test accuracy improves with size and then plateaus; the largest models do not "
              "generalise clearly worse than the best one (Neyshabur et al. 2015; Zhang et al. 2017; "
              "seeds 000, 002, 003 — seed 001 saw a drop).",
              best["test_acc"] > smallest["test_acc"] and largest["test_acc"] >= best["test_acc"] - 0.01,
              f"Test accuracy {smallest['test_acc']:.2%} at {smallest['parameters']:,} parameters, "
              f"best {best['test_acc']:.2%} at {best['parameters']:,}, "
              f"{largest['test_acc']:.2%} at {largest['parameters']:,}.")
    ctx.note("Family: MLPs 784→h→h→10 (ReLU, Adam), as in seed 003; seeds 000 and 002 used CNNs, "
             "which are slower to train here. Every model trains for the same number of epochs "
             "with the same optimiser; the final train numbers are measured on the whole training "
             "set after training.")


@dataclass(frozen=True)
class Settings(ImageData):
    """1-3b's settings (the full profile's values). Widths 5 … 410 give about 4k … 494k
    parameters, evenly spread on a log scale."""

    widths: tuple[int, ...] = (5, 8, 12, 18, 27, 40, 60, 90, 135, 200, 300, 410)
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3


STUDY = Study(
    name="params_vs_generalization", code="1-3b", title="Number of parameters vs generalization",
    question="As a network gets more parameters, how do its training and test loss and accuracy "
             "change?",
    settings=Settings,
    profiles={
        "quick": {"widths": [5, 8, 13, 20, 32, 50, 80, 128, 200, 300, 410],
                  "train_samples": 6000, "test_samples": 5000, "epochs": 15},
        "smoke": {"widths": [4, 8, 16], "train_samples": 256, "test_samples": 256, "epochs": 1},
    },
    run=run,
)
