import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.critics import AGGREGATIONS, aggregate, aggregate_many

STEPS = [0.9, 0.2, 0.6]


@pytest.mark.parametrize("how,expected", [
    ("mean", (0.9 + 0.2 + 0.6) / 3),
    ("min", 0.2),
    ("max", 0.9),
    ("last", 0.6),
    ("prod", 0.9 * 0.2 * 0.6),
])
def test_each_aggregation(how, expected):
    assert aggregate(STEPS, how) == pytest.approx(expected, rel=1e-12)
    assert aggregate([0.7], how) == pytest.approx(0.7)


@pytest.mark.parametrize("how", AGGREGATIONS)
def test_unscored_rollouts_aggregate_to_nothing(how):
    assert aggregate([], how) is None
    got = aggregate_many([[], [0.5], []], how)
    assert math.isnan(got[0]) and got[1] == 0.5 and math.isnan(got[2])


def test_unknown_aggregation_is_refused():
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate([0.5], "median")


REFERENCE = {"mean": lambda s: sum(s) / len(s), "min": min, "max": max, "last": lambda s: s[-1], "prod": math.prod}


@given(st.lists(st.lists(st.floats(0, 1), max_size=6), max_size=12), st.sampled_from(AGGREGATIONS))
def test_vectorised_equals_one_by_one(rows, how):
    got = aggregate_many(rows, how)
    for row, g in zip(rows, got):
        if not row:
            assert math.isnan(g)
        else:
            assert g == pytest.approx(REFERENCE[how](row), rel=1e-9, abs=1e-12)
