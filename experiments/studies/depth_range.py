"""P2: for a parameter budget P, the smallest and largest depth k that fit, and their widths."""

from __future__ import annotations

from dataclasses import dataclass

from experiments.budget import depth_range, largest_depth_with_width, mlp_params, width_for_budget
from experiments.harness import Context, Study


def _brute_force_range(budget: int) -> tuple[int, int]:
    """The depth range by trying every k with the narrowest width (Params grows with m)."""
    feasible = [k for k in range(0, budget) if mlp_params(k, 1) <= budget]
    return min(feasible), max(feasible)


def run(ctx: Context) -> None:
    """Tabulate the feasible depths and their widths for each budget."""
    s = ctx.settings
    ctx.uses("none: parameters are counted, nothing is trained")
    rows, agree = [], []
    for budget in s.budgets:
        smallest, largest = depth_range(budget)
        agree.append((smallest, largest) == _brute_force_range(budget))
        row = {"budget P": budget, "smallest k": smallest}
        if smallest == 0:
            row.update({"m at smallest": "-", "Params at smallest": mlp_params(0, 1)})
        else:
            m = width_for_budget(smallest, budget)
            row.update({"m at smallest": m, "Params at smallest": mlp_params(smallest, m)})
        m = width_for_budget(largest, budget)
        row.update({"largest k": largest, "m at largest": m, "Params at largest": mlp_params(largest, m)})
        useful = largest_depth_with_width(budget, s.min_width)
        m = width_for_budget(useful, budget) if useful is not None else None
        row.update({f"largest k with m ≥ {s.min_width}": "none fits" if useful is None else useful,
                    "its m": m, "its Params": mlp_params(useful, m) if useful is not None else None})
        rows.append(row)
    ctx.table("depth_range", rows,
              "For each budget P: the smallest and largest depth k for which some integer width m ≥ 1 "
              "gives Params(k, m) ≤ P, with the width that gets closest to P from below (the largest "
              f"that fits) and its count. The last three columns keep every layer at least "
              f"{s.min_width} wide (no bottleneck narrower than the 10 classes).")
    widths_rows = [{"budget P": b, "k": k, "m": width_for_budget(k, b),
                    "Params": mlp_params(k, width_for_budget(k, b)),
                    "unused": b - mlp_params(k, width_for_budget(k, b))}
                   for b in s.budgets for k in s.table_depths if depth_range(b).largest >= k >= 1]
    ctx.table("widths", widths_rows, "The width that fills each budget at a few depths.")

    with ctx.figure("width_vs_depth", "Width m that fills the budget against depth k (log-log), "
                    "one line per budget P, from k = 1 to the largest feasible depth, where m = 1. "
                    f"Dotted: m = {s.min_width}.", width=7) as (fig, ax):
        for i, budget in enumerate(s.budgets):
            largest = depth_range(budget).largest
            ks = sorted({round(largest ** (j / 200)) for j in range(201)} | {1, largest})
            ax.plot(ks, [width_for_budget(k, budget) for k in ks], color=f"C{i}", drawstyle="steps-post",
                    label=f"P = {budget:,}")
            ax.plot(largest, 1, "o", color=f"C{i}")
        ax.axhline(s.min_width, color="black", linestyle=":", alpha=0.6)
        ax.set(xscale="log", yscale="log", xlabel="depth k (hidden layers)",
               ylabel="width m (largest that fits)", title="Depth against width at a fixed budget")
        ax.legend(title="budget")

    ctx.record("depth_range", {str(r["budget P"]): [r["smallest k"], r["largest k"]] for r in rows})
    ctx.check("The closed form for the depth range (k_max = ⌊(P − 803)/2⌋, reached with width 1; "
              "k_min = 0 once P ≥ 7850) matches a brute-force search over k.", all(agree),
              f"{sum(agree)} of {len(agree)} budgets agree: " + ", ".join(
                  f"P={r['budget P']:,}: k ∈ [{r['smallest k']}, {r['largest k']}]" for r in rows) + ".")
    ctx.note("The largest depth is degenerate: Params grows with m, so the deepest network that fits "
             "is a chain of width-1 layers, thousands deep, which cannot carry ten classes through its "
             "one-unit bottleneck. The columns with m ≥ "
             f"{s.min_width} give the deepest network that is still usable. Budgets below 7850 cannot "
             "hold the linear model (k = 0) but can hold a narrow hidden layer: Params(1, m) = 795m + 10. "
             "The seed only says to solve Params(k, m) = P for k and round; we define 'fits' as "
             "Params ≤ P and take the width that gets closest from below.")


@dataclass(frozen=True)
class Settings:
    """P2's settings (the full profile's values)."""

    budgets: tuple[int, ...] = (1_000, 5_000, 10_000, 50_000, 200_000, 1_000_000)
    min_width: int = 10
    table_depths: tuple[int, ...] = (1, 2, 4, 8, 16)


STUDY = Study(
    name="depth_range", code="P2", title="Feasible depths for a parameter budget",
    part="Breadth vs depth",
    question="For a parameter budget P, what are the smallest and largest depths k at which some "
             "integer width m gives a network with at most P parameters, and which width gets closest?",
    settings=Settings,
    profiles={"smoke": {"budgets": [1_000, 10_000], "table_depths": [1, 2]}},
    run=run,
)
