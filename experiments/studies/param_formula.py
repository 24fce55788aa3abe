"""P1: the parameter count of a 784 → (k hidden layers of width m) → 10 MLP, checked against tinynet."""

from __future__ import annotations

from dataclasses import dataclass

from experiments.budget import mlp_params, mlp_widths, seed_params
from experiments.harness import Context, Study
from experiments.models import mlp
from tinynet.nn.utils import count_parameters


def run(ctx: Context) -> None:
    """Count the parameters of many (k, m) MLPs three ways: formula, tinynet, the seed."""
    s = ctx.settings
    ctx.uses("none: parameters are counted, nothing is trained")
    pairs = [(0, 1)] + [(k, m) for k in s.depths if k > 0 for m in s.widths]
    rows, mismatches, seed_short_by_m = [], [], 0
    for k, m in pairs:
        engine = count_parameters(mlp(mlp_widths(k, m)))  # built and counted by tinynet itself
        formula, seed = mlp_params(k, m), seed_params(k, m)
        if formula != engine:
            mismatches.append((k, m, formula, engine))
        seed_short_by_m += (engine - seed) == (m if k else 0)
        rows.append({"k": k, "m": m if k else "-", "formula": formula, "tinynet count": engine,
                     "equal": "yes" if formula == engine else "NO", "seed formula": seed,
                     "count - seed": engine - seed})

    with ctx.figure("params", "Left: Params(k, m) from the formula (lines) and tinynet's own count "
                    "of the built model (dots), log-log. Right: the true count minus the seed's "
                    "formula, for every k: exactly m (one hidden layer's biases), the dashed line.",
                    ncols=2, width=5.5) as (fig, (left, right)):
        depths = [k for k in s.depths if k > 0]
        for i, k in enumerate(depths):
            counted = [r for r in rows if r["k"] == k]
            ms = [r["m"] for r in counted]
            dense = range(min(s.widths), max(s.widths) + 1)
            left.plot(dense, [mlp_params(k, m) for m in dense], color=f"C{i}", label=f"k = {k}")
            left.plot(ms, [r["tinynet count"] for r in counted], "o", color=f"C{i}")
            right.plot(ms, [r["count - seed"] for r in counted], "o", color=f"C{i}", label=f"k = {k}",
                       alpha=0.8, markersize=9 - i)
        left.axhline(mlp_params(0, 1), color="black", linestyle=":", label="k = 0 (7850)")
        left.set(xscale="log", yscale="log", xlabel="hidden width m", ylabel="parameters",
                 title="Params(k, m): formula and tinynet count")
        left.legend()
        right.plot(s.widths, s.widths, color="black", linestyle="--", linewidth=3, alpha=0.3,
                   label="m")
        right.set(xscale="log", yscale="log", xlabel="hidden width m",
                  ylabel="tinynet count − seed formula", title="The seed's formula misses m biases")
        right.legend()

    ctx.table("params", [r for r in rows if r["m"] == "-" or r["m"] in s.table_widths],
              f"Params(k, m) = 784m + m + (k−1)(m² + m) + 10m + 10 (k ≥ 1), 7850 for k = 0, next "
              f"to tinynet's count of the built model and the seed's formula (widths "
              f"{s.table_widths} shown; all {len(pairs)} pairs are checked).")
    ctx.record("pairs_checked", len(pairs))
    ctx.record("formula", "Params(k, m) = 784m + m + (k-1)(m^2 + m) + 10m + 10 = (k-1)m^2 + (k+794)m + 10"
                          " for k >= 1; Params(0) = 7850")
    ctx.check("The formula with a bias in every layer equals the engine's own parameter count.",
              not mismatches,
              f"{len(pairs) - len(mismatches)} of {len(pairs)} (k, m) pairs agree (k in {s.depths}, "
              f"m in {s.widths})." + (f" Mismatches: {mismatches[:5]}" if mismatches else ""))
    ctx.check("The seed's formula 784m + 10 + (k−1)m(m+1) + 10m is short by exactly m for every k ≥ 1 "
              "(it keeps k−1 of the k hidden bias vectors) and right for k = 0.",
              seed_short_by_m == len(pairs),
              f"Short by exactly m (0 for k = 0) in {seed_short_by_m} of {len(pairs)} pairs.")
    ctx.note("Where the seed differs: it writes Params(k, m) = 784m + 10 + (k−1)m(m+1) + 10m, counting "
             "\"bias terms for each hidden layer except the last one\", i.e. (k−1)·m hidden biases. "
             "Every hidden layer has a bias vector of m numbers, so there are k·m of them and the seed "
             "is short by m: (k−1)m² + (k+793)m + 10 instead of (k−1)m² + (k+794)m + 10. For k = 1 "
             "it gives 794m + 10 instead of 795m + 10. The k = 0 count, 7850, is right.")


@dataclass(frozen=True)
class Settings:
    """P1's settings (the full profile's values)."""

    depths: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 8, 10)
    widths: tuple[int, ...] = (1, 2, 3, 5, 8, 10, 16, 32, 50, 64, 100, 128, 256, 512)
    table_widths: tuple[int, ...] = (10, 256)


STUDY = Study(
    name="param_formula", code="P1", title="Parameter count of a deep MLP",
    part="Breadth vs depth",
    question="How many parameters does a 784 → (k hidden layers of width m) → 10 MLP with biases "
             "everywhere have, and does the closed form match tinynet's own count?",
    settings=Settings,
    profiles={
        "smoke": {"depths": [0, 1, 2, 3], "widths": [1, 2, 10, 64], "table_widths": [1, 64]},
    },
    run=run,
)
