"""The generalization studies (1-3a to 1-3d): their helpers, and profiles that meet the issue.

The smoke runs themselves are in tests/test_experiments.py; these tests train nothing.
"""

from __future__ import annotations

import numpy
from hypothesis import given
from hypothesis import strategies as st

from experiments.harness import History
from experiments.models import mlp
from experiments.studies import interpolation, params_vs_generalization, random_labels, sensitivity
from tinynet.nn.utils import count_parameters


@given(inputs=st.integers(1, 800), width=st.integers(1, 300))
def test_parameter_formula_matches_the_engine_count(inputs, width):
    model = mlp([inputs, width, width, 10])
    assert params_vs_generalization.mlp_parameters(inputs, width) == count_parameters(model)


def test_params_profiles_span_two_orders_of_magnitude_with_ten_models():
    for profile in ("quick", "full"):
        widths = params_vs_generalization.STUDY.make_settings(profile).widths
        counts = [params_vs_generalization.mlp_parameters(784, w) for w in widths]
        assert len(counts) >= 10 and counts == sorted(counts)
        assert counts[0] <= 5_000 and counts[-1] >= 400_000, counts


def test_sensitivity_profiles_have_five_batch_sizes_from_10_to_1024():
    for profile in ("quick", "full"):
        batches = sensitivity.STUDY.make_settings(profile).batch_sizes
        assert len(batches) >= 5 and min(batches) == 10 and max(batches) == 1024


def test_interpolation_profiles_cover_minus_one_to_two_in_31_steps_or_more():
    for profile in ("quick", "full"):
        s = interpolation.STUDY.make_settings(profile)
        assert (s.alpha_min, s.alpha_max) == (-1.0, 2.0) and s.alpha_steps >= 31
        assert s.batch_sizes == (64, 1024) and s.lrs == (1e-3, 1e-2)
        grid = numpy.linspace(s.alpha_min, s.alpha_max, s.alpha_steps)
        for wanted in (0.0, 1.0, -s.extrapolation, 1 + s.extrapolation):
            assert abs(grid[interpolation.nearest(list(grid), wanted)] - wanted) < 1e-9


def test_noise_scale_marks_the_large_batch_and_the_small_lr_end_as_sharper():
    small_batch, large_batch = {"batch_size": 64, "lr": 1e-3}, {"batch_size": 1024, "lr": 1e-3}
    large_lr = {"batch_size": 64, "lr": 1e-2}
    assert interpolation.noise_scale(large_batch) < interpolation.noise_scale(small_batch)
    assert interpolation.noise_scale(small_batch) < interpolation.noise_scale(large_lr)


def test_first_epoch_reaching_a_level():
    history = History([{"epoch": 1, "train_acc": 0.1}, {"epoch": 2, "train_acc": 0.6},
                       {"epoch": 3, "train_acc": 0.95}])
    assert random_labels.first_epoch_reaching(history, "train_acc", 0.5) == 2
    assert random_labels.first_epoch_reaching(history, "train_acc", 0.95) == 3
    assert random_labels.first_epoch_reaching(history, "train_acc", 0.99) is None


def test_trend_is_the_rank_correlation():
    assert sensitivity.trend([10, 100, 1000], [1.0, 2.0, 5.0]) == 1.0
    assert sensitivity.trend([10, 100, 1000], [3.0, 2.0, 1.0]) == -1.0
    assert numpy.isnan(sensitivity.trend([10, 100], [1.0, 2.0]))
