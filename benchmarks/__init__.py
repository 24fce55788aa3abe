"""tinynet's benchmark suite: ``python -m benchmarks [--quick] [--case NAME] [--history CASE]``.

It times tinynet's kernels and training steps against hand-written NumPy and PyTorch (when
importable), alternating them in one process, prints a table, and saves a JSON record under
``benchmarks/results/``. See ``benchmarks/README.md``.
"""

import os
import sys

# Alternating libraries in one process is only fair when an idle thread pool yields its cores at
# once. By default OpenBLAS's workers spin for ~0.1 s after each call and PyTorch's OpenMP workers
# spin too, so whichever library ran last steals the 2 cores from the next: measured here, torch's
# conv-b fwd+bwd took 36 ms right after NumPy against 9 ms alone. These two settings make idle
# workers sleep; they must be set before NumPy or torch is first imported, and an explicit
# setting in the environment wins. The record notes whether they took effect.
SPIN_SETTINGS = {"OPENBLAS_THREAD_TIMEOUT": "4", "OMP_WAIT_POLICY": "PASSIVE"}
SPIN_SETTINGS_APPLIED = not ({"numpy", "torch"} & set(sys.modules))
for _name, _value in SPIN_SETTINGS.items():
    os.environ.setdefault(_name, _value)
