"""1-1a: deep vs shallow. Three MLPs of (almost) the same size fit 1-D functions."""

from __future__ import annotations

from dataclasses import dataclass

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Convergence, Study, choice
from experiments.harness.plots import axes_list
from experiments.models import mlp
from experiments.runs import make_optimizer
from tinynet.data import FUNCTIONS, DataLoader, FunctionDataset
from tinynet.nn.utils import count_parameters

MODELS = {  # the seeds' three models: 571, 572 and 571 parameters
    "deep": [1, 5, 10, 10, 10, 10, 10, 5, 1],
    "medium": [1, 10, 18, 15, 4, 1],
    "shallow": [1, 190, 1],
}


def run(ctx: Context) -> None:
    """Fit every function with the three models; plot, tabulate, check."""
    s = ctx.settings
    rows, fits = [], {}
    for fname in s.functions:
        data = FunctionDataset(fname, n=s.points)
        loader = DataLoader(data, batch_size=len(data))  # full batch: one step per epoch
        fits[fname] = {}
        for mname, widths in MODELS.items():
            tn.manual_seed(ctx.seed)
            model = mlp(widths, "leaky_relu")
            optimizer = make_optimizer("adam", model.parameters(), s.lr, weight_decay=s.weight_decay)
            history = ctx.fit(f"{fname}-{mname}", model, optimizer, F.mse_loss, loader,
                              epochs=s.epochs, classification=False,
                              converge=Convergence(s.window, s.tol),
                              checkpoint_every=s.checkpoint_every)
            with tn.no_grad():
                x, y = data.tensors
                prediction = model(x.to(ctx.device)).numpy().ravel()
            fits[fname][mname] = (history, x.numpy().ravel(), y.numpy().ravel(), prediction)
            rows.append({"function": fname, "model": mname, "parameters": count_parameters(model),
                         "layers": len(widths) - 1, "final loss": history.last["train_loss"],
                         "min loss": min(history.column("train_loss")),
                         "epochs": len(history.rows),
                         "converged at": history.converged_at or "not converged"})

    with ctx.figure("loss", "Training loss (MSE) per epoch, log scale", ncols=len(s.functions),
                    width=5) as (fig, axes):
        for ax, fname in zip(axes_list(axes), s.functions):
            for mname, (history, *_) in fits[fname].items():
                ax.plot(history.column("epoch"), history.column("train_loss"), label=mname)
            ax.set(yscale="log", xlabel="epoch", ylabel="training MSE", title=FunctionDataset.label(fname))
            ax.legend()
    with ctx.figure("predictions", "Predictions of the three models against the ground truth",
                    ncols=len(s.functions), width=5) as (fig, axes):
        for ax, fname in zip(axes_list(axes), s.functions):
            _, x, y, _ = next(iter(fits[fname].values()))
            ax.plot(x, y, color="black", linewidth=2.5, alpha=0.35, label="ground truth")
            for mname, (_, x, _, prediction) in fits[fname].items():
                ax.plot(x, prediction, label=mname)
            ax.set(xlabel="x", ylabel="f(x)", title=FunctionDataset.label(fname))
            ax.legend()
    ctx.table("models", rows, "Parameters, depth, final and best training loss, and epochs "
                              "to the convergence stop, per function and model.")

    for fname in s.functions:
        final = {m: fits[fname][m][0].last["train_loss"] for m in MODELS}
        ctx.record(f"final_loss/{fname}", final)
        for deeper in ("deep", "medium"):
            ctx.check(f"On {fname}, the {deeper} model ({len(MODELS[deeper]) - 1} layers) reaches a "
                      f"lower training loss than the shallow one (1 hidden layer) with the same number "
                      "of parameters (seeds; Eldan & Shamir 2016).",
                      final[deeper] < final["shallow"],
                      f"Final MSE {deeper} {final[deeper]:.3g} against shallow {final['shallow']:.3g} "
                      f"({final[deeper] / final['shallow']:.3g}x) after up to {s.epochs} epochs "
                      f"(the other model: {'medium' if deeper == 'deep' else 'deep'} "
                      f"{final['medium' if deeper == 'deep' else 'deep']:.3g}).")


@dataclass(frozen=True)
class Settings:
    """1-1a's settings (the full profile's values)."""

    functions: tuple[str, ...] = choice(("sinc", "sign_sin"), tuple(FUNCTIONS))
    points: int = 1000
    epochs: int = 20000
    lr: float = 1e-3
    weight_decay: float = 0.0
    window: int = 500
    tol: float = 1e-3
    checkpoint_every: int = 500


STUDY = Study(
    name="simulate_function", code="1-1a", title="Deep vs shallow on 1-D functions",
    question="With the same number of parameters, does a deep MLP fit a 1-D function better "
             "than a shallow one?",
    settings=Settings,
    profiles={
        "quick": {"epochs": 4000, "points": 500, "window": 300},
        "smoke": {"epochs": 30, "points": 64, "window": 5, "checkpoint_every": 10},
    },
    run=run,
)
