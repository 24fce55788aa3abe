"""1-3d: flatness vs generalization, part 2. Models trained with batch sizes from 10 to 1024:
loss, accuracy, input sensitivity ‖∂L/∂x‖_F and sharpness (top Hessian eigenvalue)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter
from scipy.stats import spearmanr

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Study
from experiments.harness.data import ImageData, subsample
from experiments.harness.sweep import RunEnv
from experiments.runs import MLPRun, image_widths, mlp_run, train_mlp_classifier
from tinynet.hessian import hessian_eigenvalues, input_sensitivity


def fixed_batch(dataset: Any, samples: int, seed: int, device: str) -> tuple[tn.Tensor, tn.Tensor]:
    """The same ``samples`` items of ``dataset`` for every model, as one batch of tensors."""
    x, y = subsample(dataset, samples, seed).get_batch(numpy.arange(min(samples, len(dataset))))
    return tn.tensor(x).to(device), tn.tensor(y).to(device)


def train_one(config: tuple[MLPRun, int], env: RunEnv) -> dict[str, Any]:
    """Train one batch size (resumable), then measure loss, accuracy, sensitivity and sharpness
    on ``probe_samples`` fixed images; kept with ``env.cached``, so a resumed sweep skips the
    Hessian too."""
    run, probe_samples = config
    return env.cached(run.name, lambda: _measure(run, probe_samples, env),
                      key=[dataclasses.asdict(run), probe_samples])


def _measure(config: MLPRun, probe_samples: int, env: RunEnv) -> dict[str, Any]:
    run = train_mlp_classifier(config, env)
    model, history, train, test = run["model"], run["history"], run["train"], run["test"]
    final_train, final_test = run["final_train"], run["final_test"]
    # Sensitivity and sharpness are measured on fixed batches, the same for every model, so the
    # numbers compare across batch sizes.
    x_test, y_test = fixed_batch(test, probe_samples, env.seed + 3, env.device)
    x_train, y_train = fixed_batch(train, probe_samples, env.seed + 4, env.device)
    params = list(model.parameters())
    sharpness = hessian_eigenvalues(lambda: F.cross_entropy(model(x_train), y_train), params, k=1,
                                    seed=env.seed)[0]
    return {"batch_size": config.batch_size, "train_loss": final_train["loss"],
            "train_acc": final_train["acc"], "test_loss": final_test["loss"],
            "test_acc": final_test["acc"],
            "sensitivity": input_sensitivity(model, F.cross_entropy, x_test, y_test),
            "sensitivity_train": input_sensitivity(model, F.cross_entropy, x_train, y_train),
            "sharpness": float(sharpness), "steps": run["steps"],
            "seconds": history.last["seconds"], "history": history.to_dict(),
            "sources": run["sources"]}


def trend(x: list[float], y: list[float]) -> float:
    """Spearman rank correlation: +1 when y rises with x at every step, -1 when it falls."""
    return float(spearmanr(x, y).statistic) if len(x) > 2 else math.nan


def run(ctx: Context) -> None:
    """Train every batch size (a sweep), measure sensitivity and sharpness, check."""
    s = ctx.settings
    widths = image_widths(s.dataset, s.widths)
    configs = [(mlp_run(ctx, f"batch-{b}", widths, batch_size=b), s.probe_samples)
               for b in s.batch_sizes]
    results = sorted(ctx.sweep(train_one, configs), key=lambda r: r["batch_size"])
    for r in results:
        for source in r.pop("sources"):
            ctx.uses(source)
        ctx.runs[f"batch-{r['batch_size']}"] = r.pop("history")

    batches = [r["batch_size"] for r in results]
    column = {key: [r[key] for r in results] for key in results[0]}
    for name, metric, label in (("loss_sensitivity", "loss", "cross-entropy"),
                                ("accuracy_sensitivity", "acc", "accuracy")):
        with ctx.figure(name, f"Final train and test {label} (blue, left) and sensitivity "
                        "‖∂L/∂x‖_F on a fixed batch of test images (red, right) against the training batch "
                        "size (log x).", width=7, height=4.3) as (fig, ax):
            ax.plot(batches, column[f"train_{metric}"], "o-", color="C0", label=f"train {label}")
            ax.plot(batches, column[f"test_{metric}"], "s--", color="C0", label=f"test {label}")
            ax.set(xscale="log", xlabel="training batch size",
                   title=f"{label.capitalize()} and sensitivity vs batch size")
            ax.set_ylabel(label, color="C0")
            twin = ax.twinx()
            twin.plot(batches, column["sensitivity"], "^-", color="C3", label="sensitivity")
            twin.set_ylabel(r"sensitivity $\|\partial L/\partial x\|_F$", color="C3")
            twin.grid(False)
            handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
            ax.legend(handles, [h.get_label() for h in handles], loc="upper center", ncol=3,
                      bbox_to_anchor=(0.5, -0.14))  # below: the twin axes' lines are not seen by "best"
    with ctx.figure("sharpness", "Sharpness: the largest eigenvalue of the Hessian of the training "
                    f"loss on a fixed batch of {s.probe_samples} training images (Lanczos on "
                    "Hessian-vector products), against the training batch size (log-log).",
                    width=6.5) as (fig, ax):
        ax.plot(batches, column["sharpness"], "o-", color="C2")
        ax.set(xscale="log", yscale="log", xlabel="training batch size",
               ylabel=r"top Hessian eigenvalue $\lambda_{max}$", title="Sharpness vs batch size")
        # plain numbers at 1, 2, 5, 10…, not 2×10⁰, on the log axis
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ctx.table("models", [{"batch size": r["batch_size"], "steps": r["steps"],
                          "train loss": r["train_loss"], "test loss": r["test_loss"],
                          "train acc": r["train_acc"], "test acc": r["test_acc"],
                          "sensitivity (test batch)": r["sensitivity"],
                          "sensitivity (train batch)": r["sensitivity_train"],
                          "sharpness λ_max": r["sharpness"], "seconds": r["seconds"]}
                         for r in results],
              f"MLPs with hidden widths {s.widths}, Adam lr {s.lr:g}, {s.epochs} epochs "
              f"on {s.train_samples or 'all'} {s.dataset} images; sensitivity and sharpness on fixed "
              f"batches of {s.probe_samples} images.")

    sharp_trend = trend(batches, column["sharpness"])
    sens_trend = trend(batches, column["sensitivity"])
    acc_trend = trend(batches, column["test_acc"])
    ratio = column["sharpness"][-1] / column["sharpness"][0]
    direction = "rises" if sharp_trend > 0 else "falls"
    ctx.record("sharpness", dict(zip(map(str, batches), column["sharpness"])))
    ctx.record("spearman_batch_sharpness", sharp_trend)
    ctx.record("spearman_batch_sensitivity", sens_trend)
    ctx.record("sharpness_trend", f"{direction} with batch size: λ_max {column['sharpness'][0]:.3g} at "
                                  f"batch {batches[0]} → {column['sharpness'][-1]:.3g} at batch "
                                  f"{batches[-1]} (×{ratio:.2g}, Spearman {sharp_trend:+.2f})")
    ctx.note(f"**Headline:** sharpness {ctx.records['sharpness_trend']}. Sensitivity "
             f"{column['sensitivity'][0]:.3g} → {column['sensitivity'][-1]:.3g} (Spearman "
             f"{sens_trend:+.2f}); test accuracy {column['test_acc'][0]:.2%} → "
             f"{column['test_acc'][-1]:.2%}.")
    ctx.check("Larger batches find sharper minima: λ_max grows with the batch size "
              "(Keskar et al. 2017).", sharp_trend > 0.5,
              f"Spearman correlation of λ_max with batch size {sharp_trend:+.2f}; λ_max "
              + ", ".join(f"{v:.3g}" for v in column["sharpness"]) + f" for batch sizes {batches}.")
    ctx.check("Sensitivity ‖∂L/∂x‖_F falls as the batch size grows (seeds 000, 001, 003).",
              sens_trend < -0.5,
              f"Spearman correlation {sens_trend:+.2f}; sensitivity "
              + ", ".join(f"{v:.3g}" for v in column["sensitivity"]) + ".")
    ctx.check("Larger batches generalise worse: test accuracy falls with the batch size "
              "(Keskar et al. 2017; seeds 000, 003).", acc_trend < -0.5,
              f"Spearman correlation {acc_trend:+.2f}; test accuracy "
              + ", ".join(f"{v:.2%}" for v in column["test_acc"]) + ".")
    train_sens_trend = trend(batches, column["sensitivity_train"])
    ctx.record("spearman_batch_sensitivity_train", train_sens_trend)
    ctx.note("Every model trains for the same number of epochs with the same learning rate, as the "
             "seeds did, so a larger batch also means fewer steps (see the table): part of what "
             "the large batches lose is plain under-training, not only sharpness (Hoffer et al. "
             "2017). Sensitivity is the Frobenius norm of the gradient of the mean cross-entropy "
             "with respect to a fixed batch of test images (seeds' definition); measured on a fixed "
             "batch of training images instead its trend is "
             f"{train_sens_trend:+.2f} (Spearman). Sensitivity and sharpness are different "
             "measures of flatness (one in input space, one in weight space) and need not agree: "
             "the seeds read falling sensitivity as 'less responsive' large-batch models, while "
             "Keskar et al. read rising sharpness as worse generalisation.")

@dataclass(frozen=True)
class Settings(ImageData):
    """1-3d's settings (the full profile's values)."""

    batch_sizes: tuple[int, ...] = (10, 20, 50, 100, 200, 500, 1024)
    widths: tuple[int, ...] = (256,)
    epochs: int = 10
    lr: float = 1e-3
    probe_samples: int = 2000


STUDY = Study(
    name="sensitivity", code="1-3d", title="Sensitivity and sharpness vs batch size",
    question="How do loss, accuracy, input sensitivity and sharpness change with the training "
             "batch size?",
    settings=Settings,
    profiles={
        "quick": {"train_samples": 10000, "test_samples": 5000, "widths": [128, 128], "epochs": 8,
                  "probe_samples": 1000},
        "smoke": {"batch_sizes": [16, 64, 256], "train_samples": 512, "test_samples": 256,
                  "widths": [16], "epochs": 1, "probe_samples": 128},
    },
    run=run,
)
