"""Every study, in the order of ``shared/STUDIES.md``. Each module defines ``STUDY``."""

from __future__ import annotations

import importlib
import importlib.util

from experiments.harness.study import Study

ORDER = [
    # HW1 part 1: deep vs shallow
    "simulate_function", "actual_task",
    # HW1 part 2: optimization
    "optimization_path", "grad_norm", "zero_grad_minima",
    # HW1 part 3: generalization
    "random_labels", "params_vs_generalization", "interpolation", "sensitivity",
    # Breadth vs depth (seed 004)
    "param_formula", "depth_range", "depth_width_grid", "shapes_regularization", "batch_size",
    "learning_rate", "activation", "cnn_search", "stacked_conv", "autoencoder", "frozen_encoder",
]


def available() -> list[str]:
    """The studies of ORDER whose module exists (all of them once the project is complete)."""
    return [name for name in ORDER
            if importlib.util.find_spec(f"experiments.studies.{name}") is not None]


def load(name: str) -> Study:
    if name not in available():
        raise KeyError(f"unknown study {name!r}; see `python -m experiments list`")
    return importlib.import_module(f"experiments.studies.{name}").STUDY


def all_studies() -> list[Study]:
    return [load(name) for name in available()]
