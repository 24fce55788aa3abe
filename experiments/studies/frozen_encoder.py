"""P11: a frozen autoencoder encoder with a linear softmax head, against a linear softmax on the raw
pixels and against fine-tuning the whole stack.

The encoders come from P10 ``autoencoder``, which this study needs (run first when missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matplotlib.ticker import MaxNLocator

import tinynet as tn
import tinynet.nn as nn
import tinynet.nn.functional as F
from experiments.harness import Context, History, Study
from experiments.harness.data import ImageData
from experiments.runs import encoder, flat_images, make_optimizer
from tinynet.data import DataLoader, TensorDataset
from tinynet.nn.utils import count_parameters

STYLE = {  # colour and marker of each method, the same in both panels
    "linear softmax on raw pixels": ("C0", "o"), "frozen encoder + linear head": ("C1", "o"),
    "fine-tune encoder + head": ("C2", "*"), "same network from scratch": ("C3", "X"),
}


def trainable_parameters(model: nn.Module) -> int:
    """The number of parameters an optimizer would update: those that require grad."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def find_encoders(ctx: Context) -> tuple[dict[int, Any], dict[str, Any]]:
    """P10's trained encoders as {latent size: state dict} and the architecture they need."""
    p10 = ctx.upstream("autoencoder")
    listed = p10.results["records"]["encoders"]
    missing = [path for path in listed.values() if not (p10.folder / path).is_file()]
    if missing:
        raise RuntimeError(f"frozen_encoder: P10's results in {p10.folder} list encoder files that are "
                           f"missing ({', '.join(missing)}); rerun autoencoder with --force")
    encoders = {int(d): tn.load(p10.folder / path) for d, path in listed.items()}
    settings = p10.results["settings"]
    ctx.note(f"The encoders are P10's ({p10.folder}, profile `{p10.results['profile']}`: "
             f"{settings['epochs']} epoch(s) on {settings['train_samples'] or 'all'} training images, "
             f"hidden layers {settings['hidden']}).")
    return encoders, p10.results["records"]["architecture"]


def classifier(architecture: dict[str, Any], latent: int, state: dict | None, freeze: bool) -> nn.Sequential:
    """Encoder (loaded from ``state`` when given, frozen when ``freeze``) then a linear head."""
    code = encoder(architecture["pixels"], architecture["hidden"], latent)
    if state is not None:
        code.load_state_dict(state)
    code.requires_grad_(not freeze)
    return nn.Sequential(code, nn.Linear(latent, 10))


def run(ctx: Context) -> None:
    """Train the linear heads, the fine-tuned stack and the baselines; plot, check."""
    s = ctx.settings
    encoders, architecture = find_encoders(ctx)
    train_images, train_labels = flat_images(ctx, s.dataset, True, s.train_samples)
    test_images, test_labels = flat_images(ctx, s.dataset, False, s.test_samples)
    train = DataLoader(TensorDataset(tn.tensor(train_images), tn.tensor(train_labels)),
                       batch_size=s.batch_size, shuffle=True, seed=ctx.seed)
    test = DataLoader(TensorDataset(tn.tensor(test_images), tn.tensor(test_labels)), batch_size=1000)
    latent = s.latent if s.latent in encoders else min(encoders, key=lambda d: abs(d - s.latent))
    if latent != s.latent:
        ctx.note(f"P10 has no encoder of latent size {s.latent}; the closest, d={latent}, is used.")

    def train_one(name: str, model: nn.Module, method: str, d: int | None) -> dict[str, Any]:
        optimizer = make_optimizer("adam", [p for p in model.parameters() if p.requires_grad], s.lr)
        history = ctx.fit(name, model, optimizer, F.cross_entropy, train, epochs=s.epochs, test=test)
        histories[name] = history
        return _row(method, d, model, history)

    histories: dict[str, History] = {}
    tn.manual_seed(ctx.seed)
    baseline = nn.Linear(architecture["pixels"], 10)
    rows = [train_one("pixels-linear", baseline, "linear softmax on raw pixels", None)]
    for d in sorted(encoders):
        tn.manual_seed(ctx.seed)
        rows.append(train_one(f"frozen-d{d}", classifier(architecture, d, encoders[d], freeze=True),
                              "frozen encoder + linear head", d))
    tn.manual_seed(ctx.seed)
    rows.append(train_one(f"finetune-d{latent}", classifier(architecture, latent, encoders[latent], False),
                          "fine-tune encoder + head", latent))
    tn.manual_seed(ctx.seed)
    rows.append(train_one(f"scratch-d{latent}", classifier(architecture, latent, None, False),
                          "same network from scratch", latent))

    _plot(ctx, rows, histories, latent)
    ctx.table("methods", rows, f"Test accuracy after {s.epochs} epoch(s) of training the trainable "
                               "parameters only (frozen encoders: the head alone); training time "
                               "counts training steps only.")
    by_method = {(r["method"], r["d"]): r for r in rows}
    pixels = rows[0]
    frozen = by_method[("frozen encoder + linear head", latent)]
    tuned = by_method[("fine-tune encoder + head", latent)]
    ctx.record("test_acc", {f"{r['method']}" + (f" (d={r['d']})" if r["d"] else ""): r["test acc"]
                            for r in rows})
    ctx.note("An autoencoder is trained to reconstruct, not to separate classes, so nothing makes its "
             "code linearly separable; and MNIST's raw pixels are already about 92% linearly "
             "separable (LeCun et al. 1998), a high bar for a linear head on a code of d ≪ 784 "
             "numbers. Fine-tuning lets the classification loss reshape the encoder; the network "
             "trained from scratch shows how much of that is the pretraining and how much the "
             "architecture.")
    _checks(ctx, pixels, frozen, tuned, latent)


def _row(method: str, d: int | None, model: nn.Module, history: History) -> dict[str, Any]:
    last = history.last
    return {"method": method, "d": d, "trainable parameters": trainable_parameters(model),
            "all parameters": count_parameters(model), "test loss": last["test_loss"],
            "test acc": last["test_acc"], "train acc": last["train_acc"],
            "training s": round(last["seconds"], 2)}


def _plot(ctx: Context, rows: list[dict[str, Any]], histories: dict[str, History], latent: int) -> None:
    frozen = [r for r in rows if r["method"] == "frozen encoder + linear head"]
    others = [r for r in rows if r["method"] != "frozen encoder + linear head"]
    with ctx.figure("accuracy", "Test accuracy: linear heads on frozen encoders of every latent size "
                                "d against the linear softmax on raw pixels, fine-tuning the whole "
                                "stack and the same network from scratch (left); test accuracy per "
                                f"epoch at d={latent} (right)", ncols=2, width=6) as (fig, (ax, ax_epochs)):
        ds = [r["d"] for r in frozen]
        ax.plot(ds, [r["test acc"] for r in frozen], marker="o", color="C1",
                label="frozen encoder + linear head")
        for row in others:
            colour, marker = STYLE[row["method"]]
            if row["d"] is None:
                ax.axhline(row["test acc"], color=colour, linestyle="--",
                           label=f"{row['method']} ({row['trainable parameters']} params)")
            else:
                # side by side around d, so that close accuracies don't hide each other
                shift = 1.1 if row["method"] == "same network from scratch" else 1 / 1.1
                ax.plot([row["d"] * shift], [row["test acc"]], marker=marker, markersize=11,
                        linestyle="none", color=colour, label=f"{row['method']} (d={row['d']})")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ds, [str(d) for d in ds])
        ax.set(xlabel="latent size d of the encoder", ylabel="test accuracy",
               title="Test accuracy against latent size")
        ax.legend(loc="lower right")
        for row, history in zip(rows, histories.values()):
            if row["d"] in (None, latent):
                colour, marker = STYLE[row["method"]]
                ax_epochs.plot(history.column("epoch"), history.column("test_acc"), marker=marker,
                               markersize=4, color=colour, label=row["method"])
        ax_epochs.set(xlabel="epoch", ylabel="test accuracy", title=f"Test accuracy per epoch (d={latent})")
        ax_epochs.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_epochs.legend()


def _checks(ctx: Context, pixels: dict[str, Any], frozen: dict[str, Any], tuned: dict[str, Any],
            latent: int) -> None:
    expected = 784 * 10 + 10
    ctx.check(f"The baseline linear softmax on raw MNIST pixels has {expected} parameters (784·10 "
              "weights + 10 biases; seed).", pixels["all parameters"] == expected,
              f"The engine counts {pixels['all parameters']}.")
    ctx.check("Fine-tuning the whole stack beats training only a linear head on the frozen encoder "
              "(linear probe ≤ fine-tuning).", tuned["test acc"] > frozen["test acc"],
              f"At d={latent}: fine-tuned {tuned['test acc']:.2%}, frozen {frozen['test acc']:.2%}.")
    ctx.check("The frozen encoder with a linear head is competitive with (within 2 points of) or "
              "better than the linear softmax on raw pixels, with fewer trainable parameters (seed).",
              frozen["test acc"] >= pixels["test acc"] - 0.02
              and frozen["trainable parameters"] < pixels["trainable parameters"],
              f"At d={latent}: frozen {frozen['test acc']:.2%} with {frozen['trainable parameters']} "
              f"trainable parameters, raw pixels {pixels['test acc']:.2%} with "
              f"{pixels['trainable parameters']}.")
    ctx.check("Training only the head is faster than fine-tuning the whole stack (seed).",
              frozen["training s"] < tuned["training s"],
              f"At d={latent}: {frozen['training s']:.2f} s frozen, {tuned['training s']:.2f} s "
              f"fine-tuned ({ctx.device}, training steps only).")


@dataclass(frozen=True)
class Settings(ImageData):
    """P11's settings (the full profile's values)."""

    latent: int = 32
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3


STUDY = Study(
    name="frozen_encoder", code="P11", title="Frozen encoder with a linear head",
    question="How well does a linear softmax head on a frozen autoencoder's code classify MNIST, "
             "against a linear softmax on raw pixels (7850 parameters) and against fine-tuning the "
             "whole stack?",
    settings=Settings,
    profiles={
        "quick": {"epochs": 10, "train_samples": 15000, "test_samples": 5000},
        "smoke": {"latent": 8, "epochs": 1, "train_samples": 512, "test_samples": 256},
    },
    run=run, part="Breadth vs depth", needs=("autoencoder",),
)
