"""1-3a: can a network fit random labels? (Zhang et al. 2017, "Understanding deep learning
requires rethinking generalization")."""

from __future__ import annotations

import math
from dataclasses import dataclass

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, History, Study, choice, evaluate
from experiments.harness.data import ImageData, load_split, subsample
from experiments.models import mlp
from experiments.runs import make_optimizer
from tinynet.data import DataLoader, RandomLabels
from tinynet.nn.utils import count_parameters

CHANCE = 0.1  # ten classes


def first_epoch_reaching(history: History, column: str, level: float) -> int | None:
    """The first epoch whose ``column`` is at least ``level`` (None when it never gets there)."""
    return next((int(row["epoch"]) for row in history.rows if row.get(column, -math.inf) >= level),
                None)


def _epochs_text(epoch: int | None) -> str:
    return "never" if epoch is None else f"epoch {epoch}"


def run(ctx: Context) -> None:
    """Train on permuted labels (and the true ones), plot, tabulate, check."""
    s = ctx.settings
    train = subsample(ctx.uses(load_split(s.dataset, True)), s.train_samples, ctx.seed)
    test = subsample(ctx.uses(load_split(s.dataset, False)), s.test_samples, ctx.seed + 1)
    test_loader = DataLoader(test, batch_size=1000)
    image_size = math.prod(train[0][0].shape)
    labels = {"random": RandomLabels(train, seed=ctx.seed, mode=s.label_mode)}
    if s.control:
        labels["true"] = train

    histories, finals, rows = {}, {}, []
    for name, data in labels.items():
        tn.manual_seed(ctx.seed)
        model = mlp([image_size, *s.widths, 10], "relu", flatten=True)
        loader = DataLoader(data, batch_size=s.batch_size, shuffle=True, seed=ctx.seed)
        epochs = s.epochs if name == "random" else s.control_epochs
        history = ctx.fit(f"{name}-labels", model, make_optimizer("adam", model.parameters(), s.lr),
                          F.cross_entropy, loader, epochs=epochs, test=test_loader,
                          checkpoint_every=s.checkpoint_every)
        # The history's train accuracy is a running mean while the weights still move; the
        # headline is the final model measured on its whole (relabelled) training set.
        final = evaluate(model, F.cross_entropy, DataLoader(data, batch_size=1000), ctx.device)
        histories[name], finals[name] = history, final
        rows.append({"labels": name, "parameters": count_parameters(model),
                     "epochs": len(history.rows), "final train loss": final["loss"],
                     "final train acc": final["acc"], "final test loss": history.last["test_loss"],
                     "final test acc": history.last["test_acc"],
                     "first epoch ≥50% train acc":
                         first_epoch_reaching(history, "train_acc", 0.5) or "never",
                     "first epoch ≥90% train acc":
                         first_epoch_reaching(history, "train_acc", 0.9) or "never",
                     "seconds": history.last["seconds"]})

    control = "; the same network trained on the true labels in grey" if s.control else ""
    with ctx.figure("curves", "Train (solid) and test (dashed) cross-entropy (left, log scale) "
                    f"and accuracy (right) per epoch. Random labels in red{control}.",
                    ncols=2, width=6) as (fig, axes):
        for name, history in histories.items():
            colour = "C3" if name == "random" else "0.55"
            epochs = history.column("epoch")
            for ax, metric in zip(axes, ("loss", "acc")):
                ax.plot(epochs, history.column(f"train_{metric}"), color=colour,
                        label=f"{name} labels: train")
                ax.plot(epochs, history.column(f"test_{metric}"), color=colour, linestyle="--",
                        label=f"{name} labels: test")
        for ax, level, text in ((axes[0], math.log(10), "ln 10: uniform guess"),
                                (axes[1], CHANCE, "chance: 10%")):
            ax.axhline(level, color="black", linewidth=0.8, linestyle=":")
            ax.annotate(text, (1, level), xycoords=("axes fraction", "data"), ha="right",
                        va="bottom", fontsize=8)
        axes[0].set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="Loss")
        axes[1].set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02), title="Accuracy")
        axes[1].legend(loc="center right")
    ctx.table("runs", rows, f"{s.dataset}, {len(train)} training images, test on {len(test)}; "
                            "final train numbers measured on the whole training set after training.")

    history, final = histories["random"], finals["random"]
    best_epoch = max(history.rows, key=lambda row: row["train_acc"])["epoch"]
    ctx.record("random_train_acc", final["acc"])
    ctx.record("random_train_acc_epochs", len(history.rows))
    ctx.record("random_test_acc", history.last["test_acc"])
    ctx.record("random_epoch_train_acc_50", first_epoch_reaching(history, "train_acc", 0.5))
    ctx.record("random_epoch_train_acc_90", first_epoch_reaching(history, "train_acc", 0.9))
    ctx.note(f"**Headline:** on {len(train)} {s.dataset} images with permuted labels, a "
             f"{rows[0]['parameters']:,}-parameter MLP ({'→'.join(map(str, s.widths))} hidden) "
             f"reached **{final['acc']:.1%} training accuracy after {len(history.rows)} epochs** "
             f"(running accuracy first ≥50% at "
             f"{_epochs_text(first_epoch_reaching(history, 'train_acc', 0.5))}, ≥90% at "
             f"{_epochs_text(first_epoch_reaching(history, 'train_acc', 0.9))}, best at epoch "
             f"{best_epoch}), while test accuracy ended at {history.last['test_acc']:.1%}.")
    ctx.note("The seeds disagree: seed 002 saw training accuracy stay at 10-11% (no memorisation), "
             "seeds 000 and 003 saw the training loss keep falling. We follow Zhang et al. (2017), "
             "who show that networks with more parameters than samples memorise random labels "
             "given enough epochs; a small training subset in --quick makes that happen in minutes.")

    ctx.check("Training accuracy on random labels climbs far above chance (10%): the network "
              "memorises noise (Zhang et al. 2017; seeds 000, 003).", final["acc"] >= 0.5,
              f"Final training accuracy {final['acc']:.1%} (loss {final['loss']:.3g}) after "
              f"{len(history.rows)} epochs on {len(train)} images.")
    test_accs = [a for a in history.column("test_acc") if not math.isnan(a)]
    mean_acc = sum(test_accs) / len(test_accs)
    ctx.check("Test accuracy stays near chance (10%): nothing learnt from random labels transfers.",
              abs(mean_acc - CHANCE) <= 0.03 and abs(test_accs[-1] - CHANCE) <= 0.03,
              f"Test accuracy averaged {mean_acc:.1%} over the epochs (range "
              f"{min(test_accs):.1%}-{max(test_accs):.1%}) and ended at {test_accs[-1]:.1%}; "
              "the criterion is within 3 points of chance. (It can stray a little further for "
              "a few epochs: a network that maps each digit to one arbitrary class scores the "
              "share of the test set that happens to carry that class.)")
    train_losses, test_losses = history.column("train_loss"), history.column("test_loss")
    ctx.check("Training loss falls while test loss rises (Zhang et al. 2017; seeds 000, 003).",
              train_losses[-1] < train_losses[0] and test_losses[-1] > max(test_losses[0], math.log(10)),
              f"Train loss {train_losses[0]:.3g} → {train_losses[-1]:.3g}; test loss "
              f"{test_losses[0]:.3g} → {test_losses[-1]:.3g} (ln 10 = {math.log(10):.3g} is a "
              "uniform guess).")
    if s.control:
        level = 0.9
        random_epoch = first_epoch_reaching(history, "train_acc", level)
        true_epoch = first_epoch_reaching(histories["true"], "train_acc", level)
        ctx.check("Random labels take longer to fit than true labels (Zhang et al. 2017: slower "
                  "by a small constant factor).",
                  true_epoch is not None and (random_epoch is None or true_epoch < random_epoch),
                  f"Running training accuracy first ≥{level:.0%}: true labels at "
                  f"{_epochs_text(true_epoch)}, random labels at {_epochs_text(random_epoch)} "
                  f"(of {len(history.rows)}); "
                  f"true-label test accuracy {histories['true'].last['test_acc']:.1%}.")


@dataclass(frozen=True)
class Settings(ImageData):
    """1-3a's settings (the full profile's values)."""

    widths: tuple[int, ...] = (1024, 1024)
    label_mode: str = choice("permute", ("permute", "uniform"))
    epochs: int = 300
    batch_size: int = 128
    lr: float = 1e-3
    control: bool = True
    control_epochs: int = 30
    checkpoint_every: int = 5


STUDY = Study(
    name="random_labels", code="1-3a", title="Fitting random labels",
    question="Can a network fit MNIST when its training labels are randomly permuted, and what "
             "happens to its test loss and accuracy meanwhile?",
    settings=Settings,
    profiles={
        "quick": {"train_samples": 4000, "test_samples": 2000, "widths": [512, 512],
                  "epochs": 30, "batch_size": 64, "control_epochs": 8, "checkpoint_every": 1},
        "smoke": {"train_samples": 256, "test_samples": 256, "widths": [64], "epochs": 3,
                  "batch_size": 64, "control_epochs": 2, "checkpoint_every": 1},
    },
    run=run,
)
