"""The one training loop every study uses: epochs, metrics, progress, checkpoints, resume.

``fit`` trains a model and returns its per-epoch history. With a ``checkpoint`` path it saves
model, optimizer, history and the random generator's state atomically every
``checkpoint_every`` epochs; called again with the same path it resumes from there and ends
with the same numbers as a run that was never interrupted. A finished run is recognised and
returned without training again.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy
from tqdm.auto import tqdm

import tinynet as tn
from tinynet import backend


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class Convergence:
    """Stop when the mean loss of the last ``window`` epochs improved on the window before by
    less than ``tol`` (relative)."""

    window: int = 200
    tol: float = 1e-3

    def reached(self, losses: list[float]) -> bool:
        if len(losses) < 2 * self.window:
            return False
        before = sum(losses[-2 * self.window:-self.window]) / self.window
        now = sum(losses[-self.window:]) / self.window
        return before - now <= self.tol * abs(before)


@dataclass
class History:
    """One row per epoch: ``epoch``, ``train_loss`` (and ``train_acc``, ``test_loss``,
    ``test_acc`` when measured), ``seconds`` (cumulative training time)."""

    rows: list[dict[str, float]] = field(default_factory=list)
    converged_at: int | None = None
    finished: bool = False

    def column(self, name: str) -> list[float]:
        return [row.get(name, math.nan) for row in self.rows]

    @property
    def last(self) -> dict[str, float]:
        return self.rows[-1] if self.rows else {}

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "converged_at": self.converged_at, "finished": self.finished}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        return cls(list(d["rows"]), d.get("converged_at"), bool(d.get("finished")))


def _batches(loader: Any, epoch: int):
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    return loader


def evaluate(model: Any, loss_fn: Callable, loader: Any, device: str = "cpu",
             classification: bool = True) -> dict[str, float]:
    """Mean loss (and accuracy) of ``model`` over ``loader``, in eval mode without a graph."""
    was_training = model.training
    model.eval()
    total, correct, count = 0.0, 0, 0
    with tn.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            total += loss_fn(out, y).item() * len(x)
            if classification:
                correct += int((out.argmax(1) == y).sum().item())
            count += len(x)
    model.train(was_training)
    metrics = {"loss": total / max(count, 1)}
    if classification:
        metrics["acc"] = correct / max(count, 1)
    return metrics


def _save(path: Path, model: Any, optimizer: Any, history: History, epoch: int) -> None:
    meta = {"epoch": epoch, "history": history.to_dict(),
            "rng": backend.generator("cpu").bit_generator.state}
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "meta": numpy.frombuffer(json.dumps(meta).encode(), dtype=numpy.uint8)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tn.save(state, path)  # tn.save writes a temporary file and renames it: never half a file


def _load(path: Path, model: Any, optimizer: Any) -> tuple[int, History]:
    state = tn.load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    meta_bytes = state["meta"]
    meta_bytes = meta_bytes.numpy() if hasattr(meta_bytes, "numpy") else meta_bytes
    meta = json.loads(bytes(numpy.asarray(meta_bytes, dtype=numpy.uint8)).decode())
    backend.generator("cpu").bit_generator.state = meta["rng"]
    return meta["epoch"], History.from_dict(meta["history"])


def fit(model: Any, optimizer: Any, loss_fn: Callable, train_loader: Any, *, epochs: int,
        test_loader: Any = None, classification: bool = True, device: str = "cpu",
        checkpoint: Path | None = None, checkpoint_every: int = 1,
        converge: Convergence | None = None, eval_every: int = 1, progress: bool = True,
        desc: str = "train", on_epoch: Callable[[int, History], None] | None = None) -> History:
    """Train ``model`` for up to ``epochs`` epochs and return its History.

    ``train_loader`` yields (input, target) batches; train loss/accuracy are the running
    means over the epoch. ``test_loader`` is evaluated every ``eval_every`` epochs. A NaN or
    infinite loss raises ``TrainingDiverged`` and leaves the last good checkpoint in place.
    ``on_epoch(epoch, history)`` runs after each epoch (used to record weights, or to kill a
    run in tests).
    """
    history, start = History(), 0
    if checkpoint is not None and Path(checkpoint).exists():
        start, history = _load(Path(checkpoint), model, optimizer)
        if history.finished:
            return history
    model.train()
    elapsed = history.last.get("seconds", 0.0)
    bar = tqdm(range(start, epochs), desc=desc, disable=not progress, leave=False,
               initial=start, total=epochs)
    for epoch in bar:
        t0 = time.perf_counter()
        total, correct, count = 0.0, 0, 0
        for x, y in _batches(train_loader, epoch):
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss = loss_fn(out, y)
            value = loss.item()
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"{desc}: loss became {value} at epoch {epoch + 1}; stopped. The last good "
                    f"checkpoint ({checkpoint or 'none'}) is kept. Try a smaller learning rate.")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += value * len(x)
            if classification:
                correct += int((out.data.argmax(1) == y.data).sum())
            count += len(x)
        elapsed += time.perf_counter() - t0
        row = {"epoch": epoch + 1, "train_loss": total / count, "seconds": elapsed}
        if classification:
            row["train_acc"] = correct / count
        if test_loader is not None and ((epoch + 1) % eval_every == 0 or epoch + 1 == epochs):
            test = evaluate(model, loss_fn, test_loader, device, classification)
            row.update({f"test_{k}": v for k, v in test.items()})
        history.rows.append(row)
        bar.set_postfix(loss=f"{row['train_loss']:.4g}")
        if on_epoch is not None:
            on_epoch(epoch, history)
        done = epoch + 1 == epochs
        if converge is not None and converge.reached(history.column("train_loss")):
            history.converged_at, done = epoch + 1, True
        history.finished = done
        if checkpoint is not None and (done or (epoch + 1) % checkpoint_every == 0):
            _save(Path(checkpoint), model, optimizer, history, epoch + 1)
        if done:
            break
    bar.close()
    history.finished = True
    return history
