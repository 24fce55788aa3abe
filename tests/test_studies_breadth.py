"""The parameter budget helpers of the breadth-vs-depth studies (experiments.budget, P1 to P4)."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments import budget
from experiments.budget import (depth_range, largest_depth_with_width, mlp_params, mlp_widths, params,
                                scaled_widths, seed_params, width_for_budget)
from experiments.models import mlp
from experiments.runs import shape_ratios
from tinynet.nn.utils import count_parameters


def engine_count(k: int, m: int, inputs: int = 784, classes: int = 10) -> int:
    return count_parameters(mlp(mlp_widths(k, m, inputs, classes)))


def test_no_hidden_layer_is_the_linear_softmax_model():
    assert mlp_params(0, 1) == engine_count(0, 1) == 7850


@pytest.mark.parametrize("k,m", [(1, 1), (1, 64), (2, 10), (3, 55), (5, 7), (8, 33)])
def test_formula_matches_the_engine_count(k, m):
    assert mlp_params(k, m) == engine_count(k, m)
    assert mlp_params(k, m) == (k - 1) * m * m + (k + 794) * m + 10


@given(k=st.integers(0, 5), m=st.integers(1, 40), inputs=st.integers(1, 30), classes=st.integers(1, 12))
def test_formula_matches_the_engine_count_for_any_shape(k, m, inputs, classes):
    assert mlp_params(k, m, inputs, classes) == engine_count(k, m, inputs, classes)
    assert params(mlp_widths(k, m, inputs, classes)) == mlp_params(k, m, inputs, classes)


@given(k=st.integers(1, 10), m=st.integers(1, 500))
def test_seed_formula_is_short_by_one_hidden_bias_vector(k, m):
    assert mlp_params(k, m) - seed_params(k, m) == m
    assert seed_params(0, m) == 7850


@given(k=st.integers(1, 12), budget=st.integers(805, 2_000_000))
def test_width_for_budget_is_the_widest_that_fits(k, budget):
    if mlp_params(k, 1) > budget:
        with pytest.raises(ValueError, match="width_for_budget"):
            width_for_budget(k, budget)
        return
    m = width_for_budget(k, budget)
    assert mlp_params(k, m) <= budget < mlp_params(k, m + 1)


def test_width_for_budget_known_values():
    assert width_for_budget(1, 795 * 62 + 10) == 62  # exactly on the budget
    assert width_for_budget(1, 795 * 62 + 9) == 61
    assert width_for_budget(2, 50_000) == 58


@pytest.mark.parametrize("call", [lambda: width_for_budget(0, 10_000), lambda: width_for_budget(3, 100),
                                  lambda: mlp_params(-1, 3), lambda: mlp_params(2, 0),
                                  lambda: depth_range(804), lambda: params([784])])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


@given(budget=st.integers(805, 20_000))
def test_depth_range_matches_brute_force(budget):
    feasible = [k for k in range(0, budget) if mlp_params(k, 1) <= budget]
    assert depth_range(budget) == (min(feasible), max(feasible))


def test_depth_range_known_values():
    assert depth_range(805) == (1, 1)
    assert depth_range(7849).smallest == 1 and depth_range(7850).smallest == 0
    assert depth_range(10_000) == (0, 4598)


@given(budget=st.integers(805, 300_000), min_width=st.integers(1, 40))
def test_largest_depth_with_width(budget, min_width):
    k = largest_depth_with_width(budget, min_width)
    if k is None:
        assert mlp_params(1, min_width) > budget
    else:
        assert mlp_params(k, min_width) <= budget < mlp_params(k + 1, min_width)
        assert width_for_budget(k, budget) >= min_width


@given(budget=st.integers(2_000, 300_000), depth=st.integers(1, 4),
       shape=st.sampled_from(["uniform", "decreasing", "increasing"]))
def test_scaled_widths_fit_the_budget_and_keep_the_shape(budget, depth, shape):
    ratios = shape_ratios(shape, depth, 2.0)
    widths = scaled_widths(ratios, budget)
    assert params([784, *widths, 10]) <= budget
    used = params([784, *widths, 10])
    assert scaled_widths(ratios, used) == widths  # the largest scale: the exact count still fits
    if used > params([784, *[1] * depth, 10]):
        assert sum(scaled_widths(ratios, used - 1)) < sum(widths)
    if shape == "uniform":
        assert widths == [width_for_budget(depth, budget)] * depth
    elif widths[0] > 2 and widths[-1] > 2:
        assert widths == sorted(widths, reverse=shape == "decreasing")


def test_budget_docstring_examples():
    assert doctest.testmod(budget).failed == 0
