"""Critic records feed the offline aggregations: each aggregation on hand-made and real step scores."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.strategies.scores import AGGREGATIONS, aggregate, aggregate_many

STEPS = [0.9, 0.2, 0.6]
REFERENCE = {"mean": lambda s: sum(s) / len(s), "min": min, "max": max, "last": lambda s: s[-1], "prod": math.prod}


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
    assert aggregate([], how) is None  # unscored


@given(st.lists(st.lists(st.floats(0, 1), max_size=6), max_size=12), st.sampled_from(sorted(AGGREGATIONS)))
def test_vectorised_equals_one_by_one(rows, how):
    values = np.array([x for r in rows for x in r], dtype=np.float64)
    got = aggregate_many(values, np.array([len(r) for r in rows], dtype=np.int64), how)
    for row, g in zip(rows, got):
        if not row:
            assert math.isnan(g)
        else:
            assert g == pytest.approx(REFERENCE[how](row), rel=1e-9, abs=1e-12)


def test_aggregations_of_real_critic_records(tiny):
    from PIL import Image

    from tts.critics import ScoringRequest, load_critic

    critic = load_critic("visualprm", str(tiny.critic))
    recs = critic.score([ScoringRequest("p", "<image>\nQ?", (Image.new("RGB", (56, 56)),),
                                        ((0, "a\n\nb\n\nc"), (1, ""), (2, "d")))])[0]
    for how in AGGREGATIONS:
        got = [aggregate(r.scores, how) for r in recs]
        assert got[1] is None and got[2] == pytest.approx(recs[2].scores[0])
        assert got[0] == pytest.approx(REFERENCE[how](recs[0].scores))
