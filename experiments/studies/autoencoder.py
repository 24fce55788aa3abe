"""P10: MNIST autoencoders with latent size d: reconstruction loss against d, and reconstructions.

Each autoencoder is an MLP ``784 → hidden… → d`` (the encoder, a linear code) and
``d → …hidden → 784`` with a sigmoid (the decoder), trained with the mean squared error per
pixel. The trained encoders are saved (``encoders/encoder-d<d>.npz`` in the study's folder,
listed in ``results.json`` under ``records["encoders"]``) for P11 ``frozen_encoder``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy

import tinynet as tn
from experiments.harness import Context, Study
from experiments.harness.data import ImageData
from experiments.runs import encoder_file, flat_images, train_autoencoder
from tinynet.nn.utils import count_parameters


def run(ctx: Context) -> None:
    """Train one autoencoder per latent size, save the encoders for P11, plot, check."""
    s = ctx.settings
    train_images, _ = flat_images(ctx, s.dataset, True, s.train_samples)
    test_images, test_labels = flat_images(ctx, s.dataset, False, s.test_samples)
    models, rows = {}, []
    for latent in s.latents:
        model, history = train_autoencoder(ctx, latent, s.hidden, train_images, test_images,
                                           epochs=s.epochs, batch_size=s.batch_size, lr=s.lr)
        path = ctx.out / encoder_file(latent)
        path.parent.mkdir(parents=True, exist_ok=True)
        tn.save(model.encoder.state_dict(), path)
        models[latent] = (model, history)
        rows.append({"d": latent, "parameters": count_parameters(model),
                     "encoder parameters": count_parameters(model.encoder),
                     "train MSE": history.last["train_loss"], "test MSE": history.last["test_loss"],
                     "training s": round(history.last["seconds"], 2)})

    _plot_losses(ctx, models, rows)
    _plot_reconstructions(ctx, models, test_images, test_labels, image_side=int(round(
        (train_images.shape[1]) ** 0.5)))
    ctx.table("latent_sizes", rows, f"Reconstruction error (mean squared error per pixel) after "
                                    f"{s.epochs} epoch(s), per latent size d; hidden layers {s.hidden}.")
    ctx.record("test_mse", {str(r["d"]): r["test MSE"] for r in rows})
    ctx.record("encoders", {str(latent): encoder_file(latent) for latent in s.latents})
    ctx.record("architecture", {"pixels": int(train_images.shape[1]), "hidden": list(s.hidden)})
    _checks(ctx, rows)


def _plot_losses(ctx: Context, models: dict[int, Any], rows: list[dict[str, Any]]) -> None:
    latents = [r["d"] for r in rows]
    with ctx.figure("loss_vs_latent", "Reconstruction MSE per pixel against the latent size d "
                                      "(log x), and the test MSE per epoch for each d",
                    ncols=2, width=6) as (fig, (ax, ax_epochs)):
        ax.plot(latents, [r["train MSE"] for r in rows], marker="o", label="train")
        ax.plot(latents, [r["test MSE"] for r in rows], marker="s", linestyle="--", label="test")
        ax.set_xscale("log", base=2)
        ax.set_xticks(latents, [str(d) for d in latents])
        ax.set(xlabel="latent size d", ylabel="reconstruction MSE per pixel", yscale="log",
               title="Reconstruction loss against d")
        ax.legend()
        for i, (latent, (_, history)) in enumerate(models.items()):
            ax_epochs.plot(history.column("epoch"), history.column("test_loss"), marker="o",
                           markersize=3, color=f"C{i}", label=f"d={latent}")
        ax_epochs.set(xlabel="epoch", ylabel="test reconstruction MSE", yscale="log",
                      title="Test loss per epoch")
        ax_epochs.legend(ncol=2)


def _plot_reconstructions(ctx: Context, models: dict[int, Any], test_images: Any, test_labels: Any,
                          image_side: int) -> None:
    latents = list(models)
    shown = latents[::2] if latents[-1] in latents[::2] else [*latents[::2], latents[-1]]
    # one test image of each class, in class order, as far as the test subset has them
    picks = [int(numpy.flatnonzero(test_labels == c)[0]) for c in range(10) if (test_labels == c).any()]
    originals = test_images[picks]
    images = [("original", originals)]
    with tn.no_grad():
        for latent in shown:
            model = models[latent][0]
            model.eval()
            images.append((f"d = {latent}", model(tn.tensor(originals).to(ctx.device)).numpy()))
    with ctx.figure("reconstructions", "Test digits (top row) and their reconstructions by the "
                                       "autoencoders of latent size d (one row per d)",
                    nrows=len(images), ncols=len(picks), width=1.0, height=1.05) as (fig, axes):
        axes = numpy.asarray(axes).reshape(len(images), len(picks))
        for row, (label, batch) in zip(axes, images):
            for j, ax in enumerate(row):
                ax.imshow(batch[j].reshape(image_side, -1), cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.grid(False)
                for spine in ax.spines.values():
                    spine.set_visible(False)
            row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)


def _checks(ctx: Context, rows: list[dict[str, Any]]) -> None:
    test = {r["d"]: r["test MSE"] for r in rows}
    latents = sorted(test)
    rises = [(a, b) for a, b in zip(latents, latents[1:]) if test[b] >= test[a]]
    ctx.check("The reconstruction loss falls as the latent size d grows (seed).", not rises,
              "Test MSE " + ", ".join(f"d={d}: {test[d]:.4f}" for d in latents)
              + (f"; it does not fall from d={rises[0][0]} to d={rises[0][1]}." if rises else "."))
    if len(latents) >= 3:
        small, large = latents[0], latents[-1]
        middle = min(latents[1:-1], key=lambda d: abs(d - 16))
        early, late = test[small] - test[middle], test[middle] - test[large]
        ctx.check(f"Diminishing returns: going from d={small} to d={middle} gains more than going "
                  f"from d={middle} to d={large}, since MNIST's intrinsic dimension is of order 10 "
                  "(Facco et al. 2017; Pope et al. 2021), far below its 784 pixels.",
                  0 < early and late < early,
                  f"Test MSE falls by {early:.4f} from d={small} to d={middle} and by {late:.4f} "
                  f"from d={middle} to d={large}.")


@dataclass(frozen=True)
class Settings(ImageData):
    """P10's settings (the full profile's values)."""

    latents: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128)
    hidden: tuple[int, ...] = (256,)
    epochs: int = 20
    batch_size: int = 128
    lr: float = 1e-3


STUDY = Study(
    name="autoencoder", code="P10", title="Autoencoders: reconstruction loss against latent size",
    question="How does the reconstruction loss of an MNIST autoencoder fall as its latent size d "
             "grows from 2 to 128, and what does that say about MNIST's intrinsic dimension?",
    settings=Settings,
    profiles={
        "quick": {"epochs": 6, "train_samples": 15000, "test_samples": 5000},
        "smoke": {"latents": [2, 8, 32], "hidden": [32], "epochs": 1, "train_samples": 512,
                  "test_samples": 256},
    },
    run=run, part="Breadth vs depth",
)
