"""The shared machinery of every study: training loop, sweeps, figures, results, report."""

from experiments.harness.study import Context, Study
from experiments.harness.train import Convergence, History, TrainingDiverged, evaluate, fit

__all__ = ["Context", "Convergence", "History", "Study", "TrainingDiverged", "evaluate", "fit"]
