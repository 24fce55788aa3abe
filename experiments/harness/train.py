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
    """The loss or the weights became NaN or infinite; no checkpoint of that state is written."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from: corrupt, from another run, or not finite."""


RECOVER = ("Delete that file, or rerun the study with --restart to discard its checkpoints and "
           "train from the start.")


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
    ``test_acc`` when measured), ``seconds`` (cumulative wall-clock training time) and
    ``cpu_seconds`` (the same in CPU time of this process, robust to other load on the machine).
    ``points`` holds the finer curve of ``fit(points_per_epoch=k)``: k rows per epoch at
    fractional ``epoch`` values."""

    rows: list[dict[str, float]] = field(default_factory=list)
    converged_at: int | None = None
    finished: bool = False
    points: list[dict[str, float]] = field(default_factory=list)

    def column(self, name: str) -> list[float]:
        return [row.get(name, math.nan) for row in self.rows]

    @property
    def last(self) -> dict[str, float]:
        return self.rows[-1] if self.rows else {}

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "converged_at": self.converged_at, "finished": self.finished,
                "points": self.points}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        return cls(list(d["rows"]), d.get("converged_at"), bool(d.get("finished")),
                   list(d.get("points", [])))


def _batches(loader: Any, epoch: int):
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    return loader


class _Tally:
    """The batches' losses and hit counts, kept where they were computed and read in one transfer
    (on a GPU each read waits for the device: one per logging interval, never one per step)."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.hits: list[Any] = []
        self.sizes: list[int] = []

    def add(self, loss: Any, out: Any, y: Any, classification: bool) -> None:
        self.values.append(loss.detach())
        if classification:
            self.hits.append((out.argmax(1) == y).sum())
        self.sizes.append(len(y))

    def read(self) -> tuple[list[float], list[int], list[int]]:
        """(loss per batch, hits per batch, batch sizes), and empties the tally."""
        if not self.values:
            return [], [], []
        with tn.no_grad():  # float64 holds every loss and count exactly: one transfer for both
            parts = [tn.stack(self.values).double()] + ([tn.stack(self.hits).double()] if self.hits else [])
            host = tn.cat(parts).numpy()
        count = len(self.values)
        values, hits = [float(v) for v in host[:count]], [int(h) for h in host[count:]]
        sizes, self.values, self.hits, self.sizes = self.sizes, [], [], []
        return values, hits or [0] * count, sizes


def evaluate(model: Any, loss_fn: Callable, loader: Any, device: str = "cpu",
             classification: bool = True) -> dict[str, float]:
    """Mean loss (and accuracy) of ``model`` over ``loader``, in eval mode without a graph."""
    was_training = model.training
    model.eval()
    tally = _Tally()
    with tn.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            out = model(x)
            tally.add(loss_fn(out, y), out, y, classification)
    model.train(was_training)
    values, hits, sizes = tally.read()
    count = sum(sizes)
    metrics = {"loss": sum(v * n for v, n in zip(values, sizes)) / max(count, 1)}
    if classification:
        metrics["acc"] = sum(hits) / max(count, 1)
    return metrics


def _finite(model: Any) -> bool:
    return all(bool(numpy.isfinite(p.detach().numpy()).all()) for p in model.parameters())


def _save(path: Path, model: Any, optimizer: Any, history: History, epoch: int) -> None:
    meta = {"epoch": epoch, "history": history.to_dict(),
            "rng": backend.generator("cpu").bit_generator.state}
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "meta": numpy.frombuffer(json.dumps(meta).encode(), dtype=numpy.uint8)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tn.save(state, path)  # tn.save writes a temporary file and renames it: never half a file


def _load(path: Path, model: Any, optimizer: Any, epochs: int) -> tuple[int, History]:
    """Restore model, optimizer and random state from ``path``; CheckpointError (naming the file
    and how to recover) when it is corrupt, belongs to another run, or holds non-finite weights."""
    try:
        state = tn.load(path)
        meta_bytes = state["meta"]
        meta_bytes = meta_bytes.numpy() if hasattr(meta_bytes, "numpy") else meta_bytes
        meta = json.loads(bytes(numpy.asarray(meta_bytes, dtype=numpy.uint8)).decode())
        epoch, history = int(meta["epoch"]), History.from_dict(meta["history"])
        rng = meta["rng"]
    except (ValueError, KeyError, TypeError, OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"checkpoint {path} is unreadable or corrupt ({type(err).__name__}: "
                              f"{err}). {RECOVER}") from err
    if not 0 <= epoch <= epochs or len(history.rows) != epoch:
        raise CheckpointError(f"checkpoint {path} records epoch {epoch} ({len(history.rows)} history "
                              f"rows), but this run trains {epochs} epochs: it belongs to another run. "
                              f"{RECOVER}")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as err:
        raise CheckpointError(f"checkpoint {path} does not fit this model or optimizer ({err}). "
                              f"{RECOVER}") from err
    if not _finite(model):
        raise CheckpointError(f"checkpoint {path} holds NaN or infinite weights: it is not a state "
                              f"to resume from. {RECOVER}")
    backend.generator("cpu").bit_generator.state = rng
    return epoch, history


def fit(model: Any, optimizer: Any, loss_fn: Callable, train_loader: Any, *, epochs: int,
        test_loader: Any = None, classification: bool = True, device: str = "cpu",
        checkpoint: Path | None = None, checkpoint_every: int = 1,
        converge: Convergence | None = None, eval_every: int = 1, progress: bool = True,
        desc: str = "train", on_epoch: Callable[[int, History], None] | None = None,
        points_per_epoch: int = 1, point_loader: Any = None) -> History:
    """Train ``model`` for up to ``epochs`` epochs and return its History.

    ``train_loader`` yields (input, target) batches; train loss/accuracy are the running
    means over the epoch. ``test_loader`` is evaluated every ``eval_every`` epochs. The batches'
    losses are read from the device once per logging interval (each point, the epoch's end), and
    a NaN or infinite loss among them, or weights that became NaN/inf by the time a checkpoint is
    due, raise ``TrainingDiverged``; the checkpoint on disk is then the last one with finite
    weights.
    ``on_epoch(epoch, history)`` runs after each epoch (used to record weights, or to kill a
    run in tests). With ``points_per_epoch=k > 1`` the History's ``points`` also get k rows per
    epoch (running train metrics since the previous point, and ``point_loader``'s metrics, a
    small test set, when given), so that short runs still draw curves.

    A checkpoint that cannot be resumed (corrupt, from another run, NaN weights) raises
    ``CheckpointError``, which names the file and says how to recover.
    """
    history, start = History(), 0
    if checkpoint is not None and Path(checkpoint).exists():
        start, history = _load(Path(checkpoint), model, optimizer, epochs)
        if history.finished:
            return history
    model.train()
    elapsed = history.last.get("seconds", 0.0)
    cpu = history.last.get("cpu_seconds", 0.0)
    bar = tqdm(range(start, epochs), desc=desc, disable=not progress, leave=True,
               initial=start, total=epochs, dynamic_ncols=True)
    for epoch in bar:
        if device != "cpu":  # CuPy's generator state isn't saved: each epoch reseeds it, so that
            backend.reseed_cuda_for_epoch(epoch)  # a resumed run draws the same dropout masks
        t0, c0 = time.perf_counter(), time.process_time()
        total, correct, count = 0.0, 0, 0
        batches = len(train_loader) if points_per_epoch > 1 else 0
        marks = {round(batches * (i + 1) / points_per_epoch) for i in range(points_per_epoch - 1)}
        tally, window = _Tally(), [0.0, 0, 0]  # loss sum, correct, count since the previous point
        for step, (x, y) in enumerate(_batches(train_loader, epoch), start=1):
            x, y = x.to(device), y.to(device)
            out = model(x)
            loss = loss_fn(out, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            tally.add(loss, out, y, classification)
            if step in marks:
                window = _read(tally, window, desc, epoch, checkpoint)
                _point(history, epoch + step / batches, window, model, loss_fn, point_loader, device,
                       classification)
                total, correct, count = (a + b for a, b in zip((total, correct, count), window))
                window = [0.0, 0, 0]
        window = _read(tally, window, desc, epoch, checkpoint)
        total, correct, count = (a + b for a, b in zip((total, correct, count), window))
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
        row = {"epoch": epoch + 1, "train_loss": total / count, "seconds": elapsed,
               "cpu_seconds": cpu}
        if classification:
            row["train_acc"] = correct / count
        if test_loader is not None and ((epoch + 1) % eval_every == 0 or epoch + 1 == epochs):
            test = evaluate(model, loss_fn, test_loader, device, classification)
            row.update({f"test_{k}": v for k, v in test.items()})
        history.rows.append(row)
        if points_per_epoch > 1:
            _point(history, epoch + 1, window, model, loss_fn, point_loader, device, classification)
        bar.set_postfix(loss=f"{row['train_loss']:.4g}")
        if on_epoch is not None:
            on_epoch(epoch, history)
        done = epoch + 1 == epochs
        if converge is not None and converge.reached(history.column("train_loss")):
            history.converged_at, done = epoch + 1, True
        history.finished = done
        if checkpoint is not None and (done or (epoch + 1) % checkpoint_every == 0):
            if not _finite(model):
                raise TrainingDiverged(
                    f"{desc}: the weights became NaN or infinite in epoch {epoch + 1}; stopped "
                    f"without saving them. The checkpoint on disk ({checkpoint}), if any, is from "
                    "an earlier epoch and finite. Try a smaller learning rate.")
            _save(Path(checkpoint), model, optimizer, history, epoch + 1)
        if done:
            break
    bar.close()
    history.finished = True
    return history


def _read(tally: _Tally, window: list, desc: str, epoch: int, checkpoint: Path | None) -> list:
    """``window`` plus the tally's batches (one read from the device); TrainingDiverged when a
    loss among them is NaN or infinite."""
    values, hits, sizes = tally.read()
    for value in values:
        if not math.isfinite(value):
            raise TrainingDiverged(
                f"{desc}: loss became {value} in epoch {epoch + 1}; stopped. The checkpoint on "
                f"disk ({checkpoint or 'none'}) holds the last finite weights. Try a smaller "
                "learning rate.")
    return [window[0] + sum(v * n for v, n in zip(values, sizes)), window[1] + sum(hits),
            window[2] + sum(sizes)]


def _point(history: History, epoch: float, window: list, model: Any, loss_fn: Callable,
           loader: Any, device: str, classification: bool) -> None:
    """One row of History.points: the train metrics over ``window`` and ``loader``'s metrics."""
    if not window[2]:
        return
    point = {"epoch": round(epoch, 4), "train_loss": window[0] / window[2]}
    if classification:
        point["train_acc"] = window[1] / window[2]
    if loader is not None:
        point.update({f"test_{k}": v for k, v in
                      evaluate(model, loss_fn, loader, device, classification).items()})
    history.points.append(point)
