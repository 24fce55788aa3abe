"""``LBFGS``: limited-memory BFGS with an optional strong-Wolfe line search, as ``torch.optim.LBFGS``.

A port of PyTorch's algorithm (itself from minFunc and Lua torch's ``optim``), step for step, so
that the iterates agree with PyTorch's to rounding. All the parameters are treated as one flat
vector: the gradient is gathered into a new flat array, and updates are written back slice by
slice. Scalars (step lengths, curvatures) are Python floats; vectors are raw arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tinynet.autograd import no_grad
from tinynet.autograd.engine import bump_version
from tinynet.optim.optimizer import Optimizer, ParamsT, _state_value_for
from tinynet.tensor import Tensor

_LINE_SEARCHES = (None, "strong_wolfe")
_HISTORY_KEYS = ("old_dirs", "old_stps")  # state entries that are lists of vectors


class LBFGS(Optimizer):
    """L-BFGS: a quasi-Newton method that builds a curvature model from the last
    ``history_size`` steps and gradients. Each ``step(closure)`` runs up to ``max_iter``
    iterations and ``max_eval`` loss evaluations (default ``max_iter * 1.25``), and stops early
    when the largest gradient entry is at most ``tolerance_grad`` or the loss or the step
    changes by less than ``tolerance_change``. Without a line search each iteration moves by
    ``lr`` along the L-BFGS direction (the first by at most ``lr / sum|g|``); with
    ``line_search_fn="strong_wolfe"`` the step length satisfies the strong Wolfe conditions.

    It re-evaluates the loss many times per step, so ``step`` needs a ``closure`` that clears
    the gradients, computes the loss, calls ``backward`` and returns the loss. Only one
    parameter group is allowed, all parameters on one device. The state (all of it global) is
    kept under the first parameter, as in PyTorch.

    >>> w = tn.tensor([-1.5, 2.0], dtype=tn.float64, requires_grad=True)
    >>> opt = optim.LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
    ...     loss.backward()
    ...     return loss
    >>> for _ in range(10):
    ...     opt.step(closure)
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        devices = {p.device for p in self._params}
        if len(devices) > 1:
            raise ValueError(f"LBFGS: all parameters must be on one device, got {sorted(devices)}")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Only for the first (and only) group: LBFGS has no per-parameter options."""
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): pass "
                             "one iterable of tensors, or a single group")
        super().add_param_group(param_group)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "tolerance_grad", "tolerance_change"):
            if not group[key] >= 0:
                raise ValueError(f"LBFGS: invalid {key} {group[key]!r}, expected a number >= 0")
        for key in ("max_iter", "max_eval", "history_size"):
            if not (isinstance(group[key], int) and group[key] >= 1):
                raise ValueError(f"LBFGS: invalid {key} {group[key]!r}, expected an integer >= 1")
        if group["line_search_fn"] not in _LINE_SEARCHES:
            raise ValueError(f"LBFGS: invalid line_search_fn {group['line_search_fn']!r}, expected "
                             "None or 'strong_wolfe'")

    @property
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    # ----------------------------------------------------------------- the flat vector
    def _gather_flat_grad(self) -> Any:
        """Every gradient in one new flat array (zeros for a parameter without one)."""
        params = self._params
        xp = params[0].xp
        return xp.concatenate([xp.zeros(p.numel(), dtype=p.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in params])

    def _add_to_params(self, step_size: float, update: Any) -> None:
        """p += step_size · (p's slice of the flat ``update``), for every parameter."""
        offset = 0
        for p in self._params:
            size = p.numel()
            p.array += step_size * update[offset:offset + size].reshape(p.shape)
            bump_version(p)
            offset += size

    def _clone_params(self) -> list[Any]:
        return [p.array.copy() for p in self._params]

    def _set_params(self, arrays: list[Any]) -> None:
        for p, array in zip(self._params, arrays):
            p.array[...] = array
            bump_version(p)

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[Any], t: float,
                              d: Any) -> tuple[float, Any]:
        """Loss and flat gradient at x + t·d; the parameters are left at x."""
        self._add_to_params(t, d)
        loss = float(self._evaluate(closure))
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ----------------------------------------------------------------- the step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss ``closure`` gave first."""
        if not callable(closure):
            raise TypeError("LBFGS.step needs a closure: a function that calls zero_grad, "
                            "computes the loss, calls loss.backward() and returns the loss, "
                            f"as in opt.step(closure); got {type(closure).__name__}")
        with no_grad():
            return self._step(closure)

    def _step(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        xp = self._params[0].xp

        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss
        opt_cond = False

        d = _array_or_none(state.get("d"))
        t = state.get("t")
        old_dirs = [y.array for y in state.get("old_dirs", [])]
        old_stps = [s.array for s in state.get("old_stps", [])]
        ro = list(state.get("ro", []))
        h_diag = state.get("H_diag", 1.0)
        prev_flat_grad = _array_or_none(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # descent direction: -g at first, then the two-loop recursion on the history
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(xp.dot(y, s))
                if ys > 1e-10:  # skip updates that would break positive definiteness
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(xp.dot(y, y))
                d = _two_loop_direction(flat_grad, old_dirs, old_stps, ro, h_diag)

            prev_flat_grad = flat_grad  # never written in place, so no copy is needed
            prev_loss = loss

            t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:  # not a descent direction any more
                break

            ls_func_evals = 0
            if line_search_fn == "strong_wolfe":
                x_init = self._clone_params()

                def directional_evaluate(x: list[Any], step: float, direction: Any) -> tuple[float, Any]:
                    return self._directional_evaluate(closure, x, step, direction)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    directional_evaluate, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_to_params(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_to_params(t, d)
                if n_iter != max_iter:  # the last iteration's loss would go unused
                    loss = float(self._evaluate(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = Tensor(d)
        state["t"] = t
        state["old_dirs"] = [Tensor(y) for y in old_dirs]
        state["old_stps"] = [Tensor(s) for s in old_stps]
        state["ro"] = ro
        state["H_diag"] = h_diag
        state["prev_flat_grad"] = Tensor(prev_flat_grad)
        state["prev_loss"] = prev_loss
        return orig_loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As ``Optimizer.load_state_dict``; the history vectors are also moved to the
        parameters' device and dtype."""
        super().load_state_dict(state_dict)
        for p, state in self.state.items():
            for key in _HISTORY_KEYS:
                if key in state:
                    state[key] = [_state_value_for(v, p) for v in state[key]]


def _array_or_none(value: Tensor | None) -> Any:
    return None if value is None else value.array


def _two_loop_direction(flat_grad: Any, old_dirs: list[Any], old_stps: list[Any], ro: list[float],
                        h_diag: float) -> Any:
    """-H·g, with H the L-BFGS inverse-Hessian model (Nocedal & Wright, Algorithm 7.4)."""
    alphas = [0.0] * len(old_dirs)
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):
        alphas[i] = float(old_stps[i].dot(q)) * ro[i]
        q -= alphas[i] * old_dirs[i]
    r = q * h_diag
    for i in range(len(old_dirs)):
        beta = float(old_dirs[i].dot(r)) * ro[i]
        r += (alphas[i] - beta) * old_stps[i]
    return r


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple[float, float] | None = None) -> float:
    """The minimizer, clamped to ``bounds``, of the cubic through (x1, f1) and (x2, f2) with
    slopes g1 and g2; the middle of the bounds when the cubic has no minimum."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: Callable[[list[Any], float, Any], tuple[float, Any]], x: list[Any],
                  t: float, d: Any, f: float, g: Any, gtd: float, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple[float, Any, float, int]:
    """A step length t along d satisfying the strong Wolfe conditions (sufficient decrease c1,
    curvature c2), found by bracketing then zooming with cubic interpolation (Nocedal & Wright,
    Algorithms 3.5 and 3.6). Returns (loss, flat gradient, t, number of evaluations)."""
    d_norm = float(abs(d).max())
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))

    # bracketing: an interval that contains a point satisfying the conditions
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[Any] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                          bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter >= max_ls:  # out of evaluations
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insufficient_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial point too near an end of the bracket twice in a row (or at or past an end)
        # is moved a tenth of the bracket inside it, so the bracket keeps shrinking
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # no sufficient decrease, or not below the low end: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old low end becomes the high end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals
