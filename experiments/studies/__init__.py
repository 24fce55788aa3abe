"""Every study, in the order of ``shared/STUDIES.md``. Each module defines ``STUDY``."""

from __future__ import annotations

import importlib

from experiments.harness.study import Study

ORDER = [
    "simulate_function", "actual_task",
]


def load(name: str) -> Study:
    if name not in ORDER:
        raise KeyError(f"unknown study {name!r}; see `python -m experiments list`")
    return importlib.import_module(f"experiments.studies.{name}").STUDY


def all_studies() -> list[Study]:
    return [load(name) for name in ORDER]
