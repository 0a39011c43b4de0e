"""Step-score aggregation: the single-rollout and vectorised paths agree bit for bit; the score grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.strategies import AGGREGATIONS, SCORE_UNIT_BITS, aggregate, aggregate_many, score_units

steps = st.lists(st.floats(0, 1, allow_nan=False, width=32), min_size=0, max_size=12)


@pytest.mark.parametrize("how,expected", [("mean", 0.5), ("min", 0.25), ("max", 0.75), ("last", 0.5), ("prod", 0.09375)])
def test_aggregations(how, expected):
    assert aggregate([0.75, 0.25, 0.5], how) == pytest.approx(expected)


def test_unscored_is_none_and_nan():
    assert all(aggregate([], how) is None for how in AGGREGATIONS)
    out = aggregate_many(np.array([0.3]), np.array([0, 1, 0]), "max")
    assert math.isnan(out[0]) and out[1] == 0.3 and math.isnan(out[2])


@given(st.lists(steps, min_size=1, max_size=10), st.sampled_from(sorted(AGGREGATIONS)))
def test_scalar_and_vectorised_paths_agree_exactly(rollouts, how):
    values = np.array([v for r in rollouts for v in r], dtype=np.float64)
    many = aggregate_many(values, np.array([len(r) for r in rollouts]), how)
    for r, got in zip(rollouts, many):
        single = aggregate(r, how)
        assert (single is None and math.isnan(got)) or single == got


def test_score_units_grid_and_clip():
    assert score_units(1.0) == 2**SCORE_UNIT_BITS
    assert score_units(None) == 0 and score_units(float("nan")) == 0
    assert score_units(1e9) == 64 * 2**SCORE_UNIT_BITS and score_units(-1e9) == -64 * 2**SCORE_UNIT_BITS
    assert score_units(0.5 + 2**-40) == score_units(0.5)
