"""1-2b: the gradient norm and the loss at every iteration, on a 1-D function and on MNIST."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Study, choice
from experiments.harness.data import image_data
from experiments.harness.files import atomic_write_bytes, write_text
from experiments.harness.plots import readable_log_ticks
from experiments.models import mlp
from experiments.runs import make_optimizer
from tinynet.data import FUNCTIONS, DataLoader, FunctionDataset


class GradNormRecorder:
    """Stands in for the optimizer in ``fit``: before each step it notes the batch's loss and the
    L2 norm of the gradient over all parameters, then lets the real optimizer step.

    The harness loop has no per-iteration hook, so the recorder sits where every iteration
    passes anyway: the loss function (wrapped by :meth:`loss`) and ``optimizer.step``.
    """

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer
        self.steps: list[tuple[float, float]] = []  # (loss, gradient norm) since the last epoch
        self._loss: Any = None

    def loss(self, loss_fn: Callable) -> Callable:
        """``loss_fn`` wrapped so that the recorder sees each batch's loss."""
        def recorded(output: tn.Tensor, target: tn.Tensor) -> tn.Tensor:
            self._loss = loss_fn(output, target)
            return self._loss
        return recorded

    def zero_grad(self) -> None:
        """The wrapped optimizer's ``zero_grad``."""
        self.optimizer.zero_grad()

    def step(self) -> None:
        """Note (loss, ‖∇L‖) of the current batch, then take the wrapped optimizer's step."""
        squares = [(p.grad * p.grad).sum() for group in self.optimizer.param_groups
                   for p in group["params"] if p.grad is not None]
        total = sum(squares[1:], squares[0]) if squares else None
        norm = math.sqrt(float(total.item())) if total is not None else 0.0
        self.steps.append((float(self._loss.item()), norm))
        self.optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        """The wrapped optimizer's state, so that checkpoints hold the real optimizer."""
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the wrapped optimizer's state."""
        self.optimizer.load_state_dict(state)


class IterationLog:
    """The (epoch, loss, gradient norm) row of every iteration of one run, kept on disk so that it
    survives a resume: saved on the run's checkpoint schedule, and the rows of an epoch trained
    again after a resume replace the old ones."""

    def __init__(self, path: Path, recorder: GradNormRecorder, epochs: int, save_every: int) -> None:
        self.path, self.recorder, self.epochs, self.save_every = path, recorder, epochs, save_every
        self.rows = numpy.load(path) if path.exists() else numpy.empty((0, 3))

    def on_epoch(self, epoch: int, history: Any) -> None:
        new = numpy.array([(epoch, loss, norm) for loss, norm in self.recorder.steps]).reshape(-1, 3)
        self.rows = numpy.concatenate([self.rows[self.rows[:, 0] < epoch], new])
        self.recorder.steps.clear()
        if (epoch + 1) % self.save_every == 0 or epoch + 1 == self.epochs:
            buffer = io.BytesIO()
            numpy.save(buffer, self.rows)
            atomic_write_bytes(self.path, buffer.getvalue())


def train_recording(ctx: Context, name: str, model: Any, optimizer: Any, loss_fn: Callable,
                    loader: DataLoader, epochs: int, save_every: int,
                    classification: bool) -> numpy.ndarray:
    """Train with the harness (resumable) and return the per-iteration rows (epoch, loss, norm)."""
    recorder = GradNormRecorder(optimizer)
    log = IterationLog(ctx.checkpoints / f"{name}-iterations.npy", recorder, epochs, save_every)
    ctx.fit(name, model, recorder, recorder.loss(loss_fn), loader, epochs=epochs,
            classification=classification, checkpoint_every=save_every, on_epoch=log.on_epoch)
    if len(log.rows) == 0:
        raise RuntimeError(f"grad_norm: run {name!r} is finished but its iteration log "
                           f"{log.path} is missing; delete {ctx.checkpoints} to train again")
    return log.rows


def write_iterations_csv(path: Path, rows: numpy.ndarray) -> None:
    """One line per iteration: iteration, epoch (both from 1), loss, gradient norm."""
    lines = ["iteration,epoch,loss,grad_norm"]
    lines += [f"{i},{int(epoch) + 1},{loss!r},{norm!r}"
              for i, (epoch, loss, norm) in enumerate(rows.tolist(), start=1)]
    write_text(path, "\n".join(lines) + "\n")


def running_mean(values: numpy.ndarray, window: int) -> numpy.ndarray:
    """Mean over the last ``window`` values (fewer at the start), same length as ``values``."""
    sums = numpy.cumsum(numpy.insert(values, 0, 0.0))
    ends = numpy.arange(1, len(values) + 1)
    starts = numpy.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def summarise(task: str, rows: numpy.ndarray) -> dict[str, Any]:
    """Start and end levels of loss and gradient norm: medians over the first 1% and the last 10%
    of the iterations (medians, because mini-batch values scatter)."""
    loss, norm = rows[:, 1], rows[:, 2]
    start, end = max(len(rows) // 100, 1), max(len(rows) // 10, 1)
    peak = int(numpy.argmax(norm))
    return {
        "task": task, "iterations": len(rows),
        "loss first 1%": float(numpy.median(loss[:start])),
        "loss last 10%": float(numpy.median(loss[-end:])),
        "grad norm first 1%": float(numpy.median(norm[:start])),
        "grad norm last 10%": float(numpy.median(norm[-end:])),
        "grad norm max": float(norm[peak]), "max at iteration": peak + 1,
        "grad norm last 10% max/min": float(norm[-end:].max() / max(norm[-end:].min(), 1e-300)),
    }


def run(ctx: Context) -> None:
    """Train on the function and on MNIST, logging every iteration; plot, tabulate, check."""
    s = ctx.settings
    logs: dict[str, numpy.ndarray] = {}

    data = ctx.uses(FunctionDataset(s.function, n=s.points))
    tn.manual_seed(ctx.seed)
    model = mlp(s.function_widths, "leaky_relu")
    logs["function"] = train_recording(
        ctx, "function", model, make_optimizer("adam", model.parameters(), s.function_lr), F.mse_loss,
        DataLoader(data, batch_size=len(data)), s.function_iterations, s.checkpoint_every,
        classification=False)

    train, _, _ = image_data(ctx, "mnist", s.batch_size, s.train_samples)
    tn.manual_seed(ctx.seed)
    model = mlp(s.mnist_widths, "relu", flatten=True)
    logs["mnist"] = train_recording(
        ctx, "mnist", model, make_optimizer("sgd", model.parameters(), s.mnist_lr), F.cross_entropy, train,
        s.mnist_epochs, 1, classification=True)

    titles = {"function": f"{FunctionDataset.label(s.function)}: full-batch Adam, MSE",
              "mnist": f"MNIST: SGD, batch {s.batch_size}, cross-entropy"}
    with ctx.figure("grad_norm", "Training loss (blue, left axis) and gradient norm ‖∇L‖ over all "
                    "parameters (red, right axis) at every iteration; faint: every iteration, "
                    "solid: running mean over 1% of the run. An axis is logarithmic where its "
                    "values span more than a decade.",
                    ncols=2, width=6.2, height=4.2) as (fig, axes):
        for ax, (task, rows) in zip(axes, logs.items()):
            _twin_plot(ax, rows, titles[task])
    with ctx.figure("norm_vs_loss", "Gradient norm against loss at every iteration, coloured by "
                    "iteration (log-log); the dashed line has slope 1/2, ‖∇L‖ ∝ √L, as near a "
                    "quadratic minimum.", ncols=2, width=5.2, height=4.2) as (fig, axes):
        for ax, (task, rows) in zip(axes, logs.items()):
            _scatter(fig, ax, rows, titles[task])

    table = [summarise(task, rows) for task, rows in logs.items()]
    ctx.table("levels", table, "Loss and gradient norm at the start and end of training "
              "(medians over the first 1% and the last 10% of the iterations), the largest "
              "gradient norm and where it happened, and the spread (max/min) of the norm over the "
              "last 10%.")
    for task, rows in logs.items():
        write_iterations_csv(ctx.out / f"iterations_{task}.csv", rows)
        row = next(r for r in table if r["task"] == task)
        ctx.record(f"grad_norm/{task}", {"first 1%": row["grad norm first 1%"],
                                         "last 10%": row["grad norm last 10%"],
                                         "max": row["grad norm max"]})
        ctx.record(f"loss/{task}", {"first 1%": row["loss first 1%"],
                                    "last 10%": row["loss last 10%"]})
    _checks(ctx, table)
    ctx.note("The seeds disagree on what the gradient norm does: 000 and 001 see it fall with the "
             "loss towards zero, 002 sees it fluctuate and then decrease, 003 sees it rise while "
             "the loss falls. We follow the literature: gradient-based training need not approach "
             "a critical point, and the gradient norm can stay level or grow while the loss keeps "
             "falling (Goodfellow, Bengio & Courville 2016, Deep Learning §8.2.1, Fig. 8.1). The "
             "checks above say which picture these runs show. Every iteration's numbers are in "
             "iterations_function.csv and iterations_mnist.csv.")


def _twin_plot(ax: Any, rows: numpy.ndarray, title: str) -> None:
    iteration = numpy.arange(1, len(rows) + 1)
    window = max(len(rows) // 100, 1)
    loss_ax, norm_ax = ax, ax.twinx()
    for axis, values, colour, label in ((loss_ax, rows[:, 1], "C0", "loss"),
                                        (norm_ax, rows[:, 2], "C3", "gradient norm ‖∇L‖")):
        axis.plot(iteration, values, color=colour, alpha=0.25, linewidth=0.6)
        axis.plot(iteration, running_mean(values, window), color=colour)
        # a log axis only where the values span a decade or more: its ticks are unreadable else
        axis.set_yscale("log" if values.max() >= 10 * values.min() > 0 else "linear")
        axis.set_ylabel(label, color=colour)
        axis.tick_params(axis="y", colors=colour)
        readable_log_ticks(axis.yaxis)
    norm_ax.spines["right"].set_visible(True)
    norm_ax.grid(False)
    loss_ax.set(xlabel="iteration", title=title)


def _scatter(fig: Any, ax: Any, rows: numpy.ndarray, title: str) -> None:
    loss, norm = rows[:, 1], rows[:, 2]
    points = ax.scatter(loss, norm, c=numpy.arange(1, len(rows) + 1), s=3, cmap="viridis")
    fig.colorbar(points, ax=ax, label="iteration")
    middle = numpy.median(loss), numpy.median(norm)
    span = numpy.geomspace(loss.min(), loss.max(), 10)
    ax.plot(span, middle[1] * numpy.sqrt(span / middle[0]), "k--", linewidth=1, label="∝ √loss")
    ax.set(xscale="log", yscale="log", xlabel="loss", ylabel="gradient norm ‖∇L‖", title=title)
    readable_log_ticks(ax.xaxis)
    readable_log_ticks(ax.yaxis)
    ax.legend(loc="lower right")


def _checks(ctx: Context, table: list[dict[str, Any]]) -> None:
    for row in table:
        loss_drop = row["loss first 1%"] / row["loss last 10%"]
        norm_drop = row["grad norm first 1%"] / row["grad norm last 10%"]
        ctx.check(f"{row['task']}: while the loss falls, the gradient norm does not fall towards "
                  "zero with it (Goodfellow et al. 2016 §8.2.1; seed 003; seeds 000-002 expected "
                  "it to fall).",
                  loss_drop > 2 and norm_drop < math.sqrt(loss_drop),
                  f"Over {row['iterations']} iterations the loss fell {loss_drop:.3g}x "
                  f"({row['loss first 1%']:.3g} → {row['loss last 10%']:.3g}, medians of the first "
                  f"1% and the last 10%) while the gradient norm "
                  f"{'fell' if norm_drop > 1 else 'rose'} {max(norm_drop, 1 / norm_drop):.3g}x "
                  f"({row['grad norm first 1%']:.3g} → "
                  f"{row['grad norm last 10%']:.3g}), peaking at {row['grad norm max']:.3g} at "
                  f"iteration {row['max at iteration']}. Shown when the loss fell more than 2x and "
                  "the norm fell by less than √(loss drop) = "
                  f"{math.sqrt(max(loss_drop, 0)):.3g}x, the least a run settling into a minimum "
                  "would show (‖∇L‖ ∝ √L near a quadratic minimum).")


@dataclass(frozen=True)
class Settings:
    """1-2b's settings (the full profile's values)."""

    function: str = choice("sign_cos_over_x", tuple(FUNCTIONS))
    points: int = 1000
    function_widths: tuple[int, ...] = (1, 10, 18, 15, 4, 1)
    function_lr: float = 1e-3
    function_iterations: int = 20000
    checkpoint_every: int = 500
    mnist_widths: tuple[int, ...] = (784, 128, 64, 10)
    mnist_lr: float = 0.01
    batch_size: int = 64
    mnist_epochs: int = 5
    train_samples: int = 0


STUDY = Study(
    name="grad_norm", code="1-2b", title="Gradient norm during training",
    question="How does the gradient norm (L2 over all parameters) behave, iteration by iteration, "
             "while the loss falls? Does training head for a point where the gradient vanishes?",
    settings=Settings,
    profiles={
        "quick": {"function_iterations": 6000, "mnist_epochs": 2},
        "smoke": {"points": 200, "function_iterations": 60, "checkpoint_every": 20,
                  "mnist_epochs": 1, "train_samples": 512},
    },
    run=run,
    datasets=lambda settings: ["mnist"],
)
