"""Shared test set-up: Hypothesis profiles.

Profiles: ``ci`` (the default) draws few examples in a fixed order, so every run tests the same
cases and takes the same time; ``thorough`` draws many. Pick one with the environment variable
``TINYNET_HYPOTHESIS=thorough``.

The data sets come only from the folder the environment variable ``TINYNET_DATA`` names (as for
every tinynet user); without it, MNIST falls back to the offline subset shipped with tinynet and
the tests that need the full data skip.
"""

import os

from hypothesis import HealthCheck, settings

_SLOW_DRAWS_ARE_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=10, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=_SLOW_DRAWS_ARE_FINE)
settings.register_profile("thorough", max_examples=200, deadline=None,
                          suppress_health_check=_SLOW_DRAWS_ARE_FINE)
settings.load_profile(os.environ.get("TINYNET_HYPOTHESIS", "ci"))
