"""Shared test set-up: Hypothesis profiles and where the offline data sets live.

Profiles: ``ci`` (the default) draws few examples in a fixed order, so every run tests the same
cases and takes the same time; ``thorough`` draws many. Pick one with the environment variable
``TINYNET_HYPOTHESIS=thorough``.
"""

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

_REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TINYNET_DATA", str(_REPO.parent / "shared" / "data"))

_SLOW_DRAWS_ARE_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=_SLOW_DRAWS_ARE_FINE)
settings.register_profile("thorough", max_examples=200, deadline=None,
                          suppress_health_check=_SLOW_DRAWS_ARE_FINE)
settings.load_profile(os.environ.get("TINYNET_HYPOTHESIS", "ci"))
