"""1-2c: what is there where the gradient vanishes? Minimise ‖∇L‖², then read the Hessian's signs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
import scipy.stats

import tinynet as tn
import tinynet.nn.functional as F
from experiments.harness import Context, Study, choice, fit
from experiments.harness.sweep import RunEnv
from experiments.models import ACTIVATIONS, mlp
from experiments.runs import make_optimizer
from tinynet.data import FUNCTIONS, DataLoader, FunctionDataset, TensorDataset
from tinynet.hessian import grad_norm, hessian
from tinynet.nn.utils import count_parameters
from tinynet.optim import LBFGS

MINIMISERS = ("lbfgs", "adam")


def minimal_ratio(eigenvalues: numpy.ndarray, tol: float) -> dict[str, float]:
    """The share of eigenvalues that are positive, negative and (near) zero.

    An eigenvalue counts as zero when ``|λ| <= tol · max|λ|``; the minimal ratio is the share
    that is positive beyond that. It is 1 at a strict local minimum, 0 at a maximum.

    >>> minimal_ratio(numpy.array([-1.0, 0.0, 2.0, 3.0]), 1e-6)["minimal_ratio"]
    0.5
    """
    eigenvalues = numpy.asarray(eigenvalues, dtype=numpy.float64)
    if eigenvalues.ndim != 1 or eigenvalues.size == 0:
        raise ValueError(f"minimal_ratio: expected a non-empty 1-D array of eigenvalues, got "
                         f"shape {eigenvalues.shape}")
    if not tol >= 0:
        raise ValueError(f"minimal_ratio: tol must be >= 0, got {tol}")
    cutoff = tol * numpy.abs(eigenvalues).max()
    return {"minimal_ratio": float(numpy.mean(eigenvalues > cutoff)),
            "negative_share": float(numpy.mean(eigenvalues < -cutoff)),
            "zero_share": float(numpy.mean(numpy.abs(eigenvalues) <= cutoff))}


def minimise_gradient_norm(loss: Callable[[], tn.Tensor], params: list[tn.Tensor], method: str,
                           steps: int, lr: float) -> list[float]:
    """Move ``params`` to the lowest ‖∇L‖² found by ``method`` within ``steps`` iterations.

    The objective is ``grad_norm(loss, params, squared=True)``; its gradient 2·H·∇L comes from
    double backward. ``'lbfgs'`` runs ``tinynet.optim.LBFGS`` with a strong-Wolfe line search
    for up to ``steps`` iterations; ``'adam'`` takes ``steps`` Adam steps. Returns ‖∇L‖ at every evaluation.
    """
    norms: list[float] = []
    best = (numpy.inf, [p.detach().numpy().copy() for p in params])

    def objective_and_gradient() -> tuple[float, list[tn.Tensor]]:
        for p in params:
            p.grad = None
        objective = grad_norm(loss, params, squared=True)
        objective.backward()
        value = float(objective.item())
        norms.append(value ** 0.5)
        nonlocal best
        if value < best[0]:
            best = (value, [p.detach().numpy().copy() for p in params])
        return value, [p.grad for p in params]

    if method == "lbfgs":
        optimizer = LBFGS(params, max_iter=steps, max_eval=2 * steps, tolerance_grad=0.0,
                          tolerance_change=0.0, history_size=100, line_search_fn="strong_wolfe")
        optimizer.step(lambda: objective_and_gradient()[0])
    elif method == "adam":
        optimizer = make_optimizer("adam", params, lr)
        for _ in range(steps):
            objective_and_gradient()
            optimizer.step()
        objective_and_gradient()
    else:
        raise ValueError(f"zero_grad_minima: minimiser must be one of {MINIMISERS}, got {method!r}")
    with tn.no_grad():
        for p, value in zip(params, best[1]):
            p.array[...] = tn.tensor(value).to(p.device).array
    return norms


@dataclass(frozen=True)
class Repetition:
    """One repetition (a sweep item): its seed and training length, and the shared settings."""

    rep: int
    seed: int
    train_epochs: int
    function: str
    points: int
    widths: tuple[int, ...]
    activation: str
    lr: float
    checkpoint_every: int
    minimiser: str
    minimise_steps: int
    minimiser_lr: float
    zero_tol: float


def find_critical_point(config: Repetition, env: RunEnv) -> dict[str, Any]:
    """One repetition (a sweep item): train, minimise ‖∇L‖², take the Hessian's eigenvalues.

    The training phase resumes from its checkpoint; the finished repetition is kept with
    ``env.cached`` and returned again without work (the minimisation, a few seconds, is redone
    if interrupted).
    """
    return env.cached(f"rep{config.rep}", lambda: _critical_point(config, env),
                      key=dataclasses.asdict(config))


def _critical_point(config: Repetition, env: RunEnv) -> dict[str, Any]:
    data = FunctionDataset(config.function, n=config.points)
    x, y = (t.double().to(env.device) for t in data.tensors)
    tn.manual_seed(config.seed)
    model = mlp(config.widths, config.activation).double().to(env.device)
    params = list(model.parameters())

    def loss() -> tn.Tensor:
        return F.mse_loss(model(x), y)

    norm_at_init = float(grad_norm(loss, params, create_graph=False).item())
    fit(model, make_optimizer("adam", params, config.lr), F.mse_loss,
        DataLoader(TensorDataset(x, y), batch_size=len(x)), epochs=config.train_epochs,
        classification=False, device=env.device, checkpoint_every=config.checkpoint_every,
        checkpoint=Path(env.out) / f"rep{config.rep}.npz",
        progress=env.progress, desc=f"rep{config.rep}")
    trained_loss = float(loss().item())
    trained_norm = float(grad_norm(loss, params, create_graph=False).item())

    norms = minimise_gradient_norm(loss, params, config.minimiser, config.minimise_steps,
                                   config.minimiser_lr)
    final_gradient = numpy.concatenate([g.numpy().ravel() for g in tn.grad(loss(), params)])
    matrix = hessian(loss, params).numpy()
    eigenvalues, eigenvectors = numpy.linalg.eigh((matrix + matrix.T) / 2)  # exact symmetry
    shares = minimal_ratio(eigenvalues, config.zero_tol)
    in_eigenbasis = (eigenvectors.T @ final_gradient) ** 2
    flat = numpy.abs(eigenvalues) <= config.zero_tol * numpy.abs(eigenvalues).max()
    return {
        "rep": config.rep, "seed": config.seed, "train_epochs": config.train_epochs,
        "grad_norm_at_init": norm_at_init, "trained_loss": trained_loss,
        "trained_grad_norm": trained_norm, "loss": float(loss().item()),
        "grad_norm": float(numpy.linalg.norm(final_gradient)), **shares,
        # meaningless where the gradient is down to rounding noise
        "flat_gradient_share": (float(in_eigenbasis[flat].sum() / in_eigenbasis.sum())
                                if numpy.linalg.norm(final_gradient) > 1e-12 else None),
        "lowest_over_largest": float(eigenvalues[0] / numpy.abs(eigenvalues).max()),
        "evaluations": len(norms), "norm_trace": _thin(norms),
        "eigenvalues": eigenvalues.tolist(), "parameters": count_parameters(model),
    }


def _thin(norms: list[float], points: int = 150) -> list[list[float]]:
    """(evaluation, best ‖∇L‖ so far) at about ``points`` log-spaced evaluations, for the plot."""
    best = numpy.minimum.accumulate(numpy.asarray(norms))
    keep = numpy.unique(numpy.geomspace(1, len(best), points).astype(int)) - 1
    return [[int(i) + 1, float(best[i])] for i in keep]


def run(ctx: Context) -> None:
    """The repetitions as a sweep, then the figures, the table, the checks and the notes."""
    s = ctx.settings
    data = ctx.uses(FunctionDataset(s.function, n=s.points))
    configs = [Repetition(rep=i, seed=1000 * ctx.seed + i,
                          train_epochs=s.train_epochs[i % len(s.train_epochs)], function=s.function,
                          points=s.points, widths=s.widths, activation=s.activation, lr=s.lr,
                          checkpoint_every=s.checkpoint_every, minimiser=s.minimiser,
                          minimise_steps=s.minimise_steps, minimiser_lr=s.minimiser_lr,
                          zero_tol=s.zero_tol)
               for i in range(s.repeats)]
    results = ctx.sweep(find_critical_point, configs)
    for r in results:
        ctx.runs[f"rep{r['rep']}"] = r

    # the loss of a network that predicts the targets' mean whatever x is
    constant_loss = float(numpy.var(data.y.numpy().astype(numpy.float64)))
    _figures(ctx, results, constant_loss)
    _table(ctx, results)
    collapsed = [abs(r["loss"] - constant_loss) <= 1e-4 * constant_loss for r in results]
    _checks(ctx, results, collapsed)
    _notes(ctx, results, constant_loss, collapsed)


def _notes(ctx: Context, results: list[dict[str, Any]], constant_loss: float,
           collapsed: list[bool]) -> None:
    s = ctx.settings
    ctx.note(f"Setting: {s.repeats} repetitions of a {'-'.join(map(str, s.widths))} {s.activation} "
             f"network ({results[0]['parameters']} parameters, float64) fitting "
             f"{FunctionDataset.label(s.function)} on {s.points} points. Each is first trained "
             f"with full-batch Adam (lr {s.lr}) for {', '.join(map(str, s.train_epochs))} epochs "
             "(in turn, so that the critical points found lie at different losses), then moved "
             f"to the lowest ‖∇L‖² that {_minimiser_name(s.minimiser)} finds in {s.minimise_steps} "
             "iterations, the gradient of ‖∇L‖² (2·H·∇L) coming from double backward. There the "
             "full Hessian is formed (one Hessian-vector product per parameter) and "
             "eigendecomposed with numpy.linalg.eigh. An eigenvalue counts as positive when it "
             f"exceeds {s.zero_tol:g}·max|λ|, as zero when |λ| is at most that; the minimal "
             "ratio is the share of positive ones among all of them. We use tanh, not the seeds' "
             "LeakyReLU: a piecewise-linear network has a Hessian that jumps at every kink, and "
             "second-order reasoning about minima needs a smooth loss.")
    reached = numpy.median([r["grad_norm"] for r in results])
    ctx.note(f"Why L-BFGS by default, not Adam as the seeds: ‖∇L‖² is ill-conditioned (its "
             "curvature is about H², squaring the Hessian's condition number), which slows "
             f"first-order methods. In this run {_minimiser_name(s.minimiser)} "
             f"({s.minimise_steps} iterations) reached a median ‖∇L‖ of {reached:.2g}; "
             "`--minimiser adam` (or `lbfgs`) runs the other way on the same repetitions, to compare "
             "the two. Where the minimiser "
             "stalls, part of the remaining gradient can lie in the Hessian's zero directions "
             "(column 'flat share'): a 'gradient-flat' point rather than a critical one "
             "(Frye et al. 2021).")
    ctx.record("repetitions_at_constant_prediction_loss", sum(collapsed))
    if any(collapsed):
        zero_shares = {kind: [r["zero_share"] for r, c in zip(results, collapsed) if c == kind]
                       for kind in (True, False)}
        others = f"{numpy.median(zero_shares[False]):.0%}" if zero_shares[False] else "n/a"
        ctx.note(f"{sum(collapsed)} of the {len(results)} points found have a loss equal to the "
                 f"variance of the targets ({constant_loss:.4g}), the loss of predicting their mean "
                 "whatever x is: the network has collapsed to a constant function. Their Hessians "
                 f"have a median {numpy.median(zero_shares[True]):.0%} of zero eigenvalues, "
                 f"against {others} at the other points.")


def _minimiser_name(method: str) -> str:
    return "L-BFGS" if method == "lbfgs" else "Adam"


def _figures(ctx: Context, results: list[dict[str, Any]], constant_loss: float) -> None:
    s = ctx.settings
    lengths = sorted(set(s.train_epochs))
    colours = {e: f"C{i}" for i, e in enumerate(lengths)}
    with ctx.figure("minimal_ratio", "Loss against minimal ratio (share of positive Hessian "
                    "eigenvalues) at the points of smallest gradient norm found, one point per "
                    "repetition, coloured by how long the network was trained before the "
                    "gradient norm was minimised.", width=6.5, height=4.5) as (fig, ax):
        for epochs in lengths:
            chosen = [r for r in results if r["train_epochs"] == epochs]
            ax.scatter([r["minimal_ratio"] for r in chosen], [r["loss"] for r in chosen],
                       color=colours[epochs], s=22, label=f"trained {epochs} epochs")
        ax.axhline(constant_loss, color="grey", linestyle="--", linewidth=1,
                   label="loss of a constant prediction")
        ax.set(xlabel=f"minimal ratio (share of eigenvalues > {s.zero_tol:g}·max|λ|)",
               ylabel="training loss (MSE)",
               yscale="log", title="Points where ‖∇L‖ ≈ 0: loss against minimal ratio")
        ax.legend()
    with ctx.figure("progress", "Smallest gradient norm ‖∇L‖ found so far while minimising "
                    "‖∇L‖², one line per repetition (log-log); the dots mark where each started, "
                    "the end of normal training.", width=6.5, height=4.5) as (fig, ax):
        for r in results:
            trace = numpy.asarray(r["norm_trace"])
            ax.plot(trace[:, 0], trace[:, 1], color=colours[r["train_epochs"]], alpha=0.6,
                    linewidth=0.8)
            ax.scatter([1], [r["trained_grad_norm"]], color=colours[r["train_epochs"]], s=8)
        for epochs in lengths:
            ax.plot([], [], color=colours[epochs], label=f"trained {epochs} epochs")
        ax.set(xscale="log", yscale="log", xlabel=f"evaluation of ‖∇L‖² ({_minimiser_name(s.minimiser)})",
               ylabel="smallest ‖∇L‖ so far", title="Minimising the gradient norm")
        ax.legend()
    lowest = min(results, key=lambda r: r["loss"])
    highest = max(results, key=lambda r: r["loss"])
    with ctx.figure("spectrum", "Hessian eigenvalues divided by the largest |λ|, sorted, at the "
                    "lowest-loss and the highest-loss point found (symmetric log scale); the grey "
                    f"band, |λ| ≤ {s.zero_tol:g}·max|λ|, is what counts as zero.",
                    width=6.5, height=4.5) as (fig, ax):
        for r, colour in ((lowest, "C2"), (highest, "C3")):
            values = numpy.asarray(r["eigenvalues"])
            ax.plot(numpy.arange(1, len(values) + 1), values / numpy.abs(values).max(), "o-",
                    color=colour, markersize=3, label=f"rep {r['rep']}: loss {r['loss']:.3g}, "
                                                      f"minimal ratio {r['minimal_ratio']:.2f}")
        _symlog_axis(ax, s.zero_tol)
        ax.axhspan(-s.zero_tol, s.zero_tol, color="grey", alpha=0.25)
        ax.set(xlabel="eigenvalue index (ascending)", ylabel="λ / max|λ|",
               title="Hessian spectrum where ‖∇L‖ ≈ 0")
        ax.legend(loc="upper left")


def _symlog_axis(ax: Any, zero_tol: float) -> None:
    """Symmetric log axis from -1 to 1, linear inside ±zero_tol, ticks every other decade."""
    ax.set_yscale("symlog", linthresh=zero_tol, linscale=0.5)
    decades = [10.0 ** k for k in range(int(numpy.floor(numpy.log10(zero_tol))), 1, 2)]
    ax.set_yticks([-d for d in reversed(decades)] + [0.0] + decades)
    ax.set_ylim(-1.5, 1.5)
    ax.minorticks_off()


def _table(ctx: Context, results: list[dict[str, Any]]) -> None:
    columns = {"loss after training": "trained_loss", "‖∇L‖ after training": "trained_grad_norm",
               "loss at ‖∇L‖ min": "loss", "‖∇L‖ reached": "grad_norm",
               "minimal ratio": "minimal_ratio", "negative share": "negative_share",
               "zero share": "zero_share", "lowest λ / max abs λ": "lowest_over_largest",
               "flat share": "flat_gradient_share"}
    rows = []
    for epochs in sorted(set(ctx.settings.train_epochs)):
        chosen = [r for r in results if r["train_epochs"] == epochs]
        if chosen:
            rows.append({"trained epochs": epochs, "repetitions": len(chosen),
                         **{name: _median([r[key] for r in chosen]) for name, key in columns.items()}})
    ctx.table("by_training_length", rows, "Medians per training length: loss and gradient norm "
              "after normal training and at the point of smallest gradient norm; there, the shares "
              "of positive (minimal ratio), negative and zero Hessian eigenvalues, the most "
              "negative eigenvalue relative to the largest, and the share of ‖∇L‖² lying in the "
              "Hessian's zero directions (flat share; left out where ‖∇L‖ < 1e-12, rounding noise).")


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(numpy.median(known)) if known else None


def _checks(ctx: Context, results: list[dict[str, Any]], collapsed: list[bool]) -> None:
    reached = numpy.array([r["grad_norm"] for r in results])
    at_init = numpy.array([r["grad_norm_at_init"] for r in results])
    trained = numpy.array([r["trained_grad_norm"] for r in results])
    ratio = numpy.median(reached / at_init)
    ctx.record("grad_norm_reached", {"median": float(numpy.median(reached)),
                                     "min": float(reached.min()), "max": float(reached.max())})
    ctx.record("grad_norm_reached_over_after_training", float(numpy.median(reached / trained)))
    ctx.record("minimal_ratio", {"median": float(numpy.median([r["minimal_ratio"] for r in results])),
                                 "min": float(min(r["minimal_ratio"] for r in results)),
                                 "max": float(max(r["minimal_ratio"] for r in results))})
    ctx.check("Minimising ‖∇L‖² through double backward drives the gradient norm near zero "
              "(the homework's premise).", ratio <= 1e-3,
              f"‖∇L‖ reached: median {numpy.median(reached):.3g} (range {reached.min():.3g} to "
              f"{reached.max():.3g}), against {numpy.median(trained):.3g} after normal training "
              f"and {numpy.median(at_init):.3g} at initialisation; the median repetition ended "
              f"{1 / ratio:.3g}x below its initial gradient norm (shown when at least 1000x).")
    rho, p = _spearman(results)
    rest = [r for r, c in zip(results, collapsed) if not c]
    rho_rest, p_rest = _spearman(rest)
    ctx.record("spearman_minimal_ratio_vs_loss", {"rho": rho, "p": p})
    ctx.check("Points with a lower loss have a larger minimal ratio: high-loss critical points are "
              "saddles, low-loss ones closer to minima (Dauphin et al. 2014; seed 001 expected "
              "the same inverse relation).", bool(rho < 0 and p < 0.05),
              f"Spearman rank correlation between minimal ratio and loss over {len(results)} "
              f"repetitions: ρ = {rho:.2f} (p = {p:.2g}); without the {len(results) - len(rest)} "
              f"that collapsed to a constant function: ρ = {rho_rest:.2f} (p = {p_rest:.2g}). "
              "Shown when ρ < 0 with p < 0.05 over all of them.")


def _spearman(results: list[dict[str, Any]]) -> tuple[float, float]:
    """Spearman's ρ between minimal ratio and loss, and its p-value (NaN when undefined)."""
    ratios, losses = [r["minimal_ratio"] for r in results], [r["loss"] for r in results]
    if len(results) < 3 or len(set(ratios)) < 2 or len(set(losses)) < 2:
        return float("nan"), float("nan")
    rho, p = scipy.stats.spearmanr(ratios, losses)
    return float(rho), float(p)


@dataclass(frozen=True)
class Settings:
    """1-2c's settings (the full profile's values)."""

    function: str = choice("sinc", tuple(FUNCTIONS))
    points: int = 200
    widths: tuple[int, ...] = (1, 5, 5, 1)
    activation: str = choice("tanh", tuple(ACTIVATIONS))
    lr: float = 1e-3
    train_epochs: tuple[int, ...] = (100, 300, 1000, 3000)
    checkpoint_every: int = 500
    minimiser: str = choice("lbfgs", MINIMISERS)
    minimise_steps: int = 2000
    minimiser_lr: float = 1e-3
    zero_tol: float = 1e-6
    repeats: int = 100


STUDY = Study(
    name="zero_grad_minima", code="1-2c", title="What is there where the gradient is zero?",
    question="Train a small network, then minimise the squared gradient norm until the gradient "
             "(nearly) vanishes: is the point reached a minimum? The minimal ratio, the share of "
             "positive Hessian eigenvalues, says how minimum-like it is, and how that goes with "
             "the loss.",
    settings=Settings,
    profiles={
        "quick": {"repeats": 16},
        "smoke": {"points": 50, "train_epochs": [20, 60], "minimise_steps": 40,
                  "checkpoint_every": 20, "repeats": 2},
    },
    run=run,
)
