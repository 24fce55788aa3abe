"""The shared machinery of every study: training loop, sweeps, figures, results, report."""

from experiments.harness.settings import SettingError, choice
from experiments.harness.study import Context, Study
from experiments.harness.train import (CheckpointError, Convergence, History, TrainingDiverged,
                                       evaluate, fit)

__all__ = ["CheckpointError", "Context", "Convergence", "History", "SettingError", "Study",
           "TrainingDiverged", "choice", "evaluate", "fit"]
