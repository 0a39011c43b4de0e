"""VisualProcessBench's F1: hand-computed confusion counts, and the threshold sweep's invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts.critic_eval.metrics import (
    Confusion,
    best_threshold,
    candidate_thresholds,
    confusion,
    f1_from_counts,
    sweep,
    threshold_grid,
)

# (labels, scores, threshold, expected counts (cc, ci, ic, ii), F1 correct, F1 incorrect), computed by hand:
# F1 = 2TP / (2TP + FP + FN) with the class as the positive one.
CASES = [
    # all right: cc=2, ii=2 -> both F1 = 1
    ([1, 1, -1, -1], [0.9, 0.8, 0.1, 0.2], 0.5, (2, 0, 0, 2), 1.0, 1.0),
    # everything predicted correct: cc=3, ic=1; F1+ = 6/(6+1) ; F1- = 0/(0+0+1) = 0
    ([1, 1, 1, -1], [0.9, 0.8, 0.7, 0.6], 0.5, (3, 0, 1, 0), 6 / 7, 0.0),
    # neutral steps (0) and unscored steps (None) do not count
    ([1, 0, -1, 1, -1, 0], [0.9, 0.1, 0.7, None, 0.2, 0.99], 0.5, (1, 0, 1, 1), 2 / 3, 2 / 3),
    # strictly above: a score equal to the threshold is predicted incorrect
    ([1, -1], [0.5, 0.5], 0.5, (0, 1, 0, 1), 0.0, 2 / 3),
    # cc=2, ci=1, ic=2, ii=3: F1+ = 4/(4+2+1) = 4/7; F1- = 6/(6+1+2) = 2/3
    ([1, 1, 1, -1, -1, -1, -1, -1], [0.9, 0.6, 0.3, 0.8, 0.7, 0.4, 0.2, 0.1], 0.5, (2, 1, 2, 3), 4 / 7, 2 / 3),
    # no incorrect steps and none predicted: F1- has neither steps nor predictions -> 0 (sklearn's default)
    ([1, 1], [0.9, 0.8], 0.5, (2, 0, 0, 0), 1.0, 0.0),
    # another threshold on the same steps: at 0.75 cc=1, ci=2, ic=1, ii=4: F1+ = 2/5, F1- = 8/11
    ([1, 1, 1, -1, -1, -1, -1, -1], [0.9, 0.6, 0.3, 0.8, 0.7, 0.4, 0.2, 0.1], 0.75, (1, 2, 1, 4), 2 / 5, 8 / 11),
]


@pytest.mark.parametrize("labels,scores,threshold,counts,f1_pos,f1_neg", CASES)
def test_confusion_and_f1_match_hand_counts(labels, scores, threshold, counts, f1_pos, f1_neg):
    c = confusion(labels, scores, threshold)
    assert c.counts() == counts
    assert c.f1_correct == pytest.approx(f1_pos)
    assert c.f1_incorrect == pytest.approx(f1_neg)
    assert c.macro_f1 == pytest.approx((f1_pos + f1_neg) / 2)
    s = sweep(labels, scores, [threshold])  # the vectorised path gives the same numbers
    assert s.f1_correct[0] == pytest.approx(f1_pos) and s.f1_incorrect[0] == pytest.approx(f1_neg)


def test_f1_from_counts_zero_division_and_values():
    assert f1_from_counts(0, 0, 0) == 0.0
    assert f1_from_counts(3, 1, 2) == pytest.approx(6 / 9)


def test_confusions_add_up_to_the_pooled_one():
    a = confusion([1, -1, 1], [0.9, 0.9, 0.1], 0.5)
    b = confusion([-1, -1], [0.1, 0.8], 0.5)
    assert (a + b) == confusion([1, -1, 1, -1, -1], [0.9, 0.9, 0.1, 0.1, 0.8], 0.5)
    assert (a + b).steps == 5


def test_pooled_macro_f1_is_not_the_mean_of_sources():
    """Pooling (the paper's overall) can exceed both sources' macro-F1, as Table 3's overall does."""
    src1 = ([1] * 8 + [-1] * 2, [0.9] * 7 + [0.1] + [0.9, 0.1])
    src2 = ([1] * 2 + [-1] * 8, [0.9, 0.1] + [0.1] * 7 + [0.9])
    m1 = confusion(*src1, 0.5).macro_f1
    m2 = confusion(*src2, 0.5).macro_f1
    pooled = confusion(src1[0] + src2[0], src1[1] + src2[1], 0.5).macro_f1
    assert pooled > max(m1, m2)


def test_candidate_thresholds_cover_every_labelling():
    t = candidate_thresholds([0.3, None, 0.1, 0.3, 0.7])
    assert t[0] < 0.1 and list(t[1:]) == [0.1, 0.3, 0.7]
    assert len(candidate_thresholds([None])) == 0


def test_best_threshold_on_a_known_set():
    # Perfectly separable at any t in [0.4, 0.6): best macro-F1 is 1 at the lowest such candidate, 0.4.
    labels, scores = [1, 1, -1, -1, 0], [0.6, 0.8, 0.4, 0.1, 0.5]
    t, f1 = best_threshold(labels, scores)
    assert f1 == 1.0 and t == 0.4
    assert confusion(labels, scores, t).macro_f1 == 1.0


def test_grid_spans_zero_one_and_the_scores():
    g = threshold_grid([0.2, 1.5, None], 11)
    assert g[0] == 0.0 and g[-1] == 1.5 and len(g) == 11


step = st.tuples(st.sampled_from([1, -1, 0]), st.one_of(st.none(), st.floats(0, 1), st.sampled_from([0.25, 0.5])))


@settings(max_examples=200, deadline=None)
@given(st.lists(step, min_size=1, max_size=40), st.lists(st.floats(-0.5, 1.5), min_size=1, max_size=8))
def test_best_threshold_beats_every_threshold(steps, thresholds):
    labels = [y for y, _ in steps]
    scores = [s for _, s in steps]
    best_t, best_f1 = best_threshold(labels, scores)
    if best_t != best_t:  # nothing evaluable
        assert all(y == 0 or s is None for y, s in steps)
        return
    assert confusion(labels, scores, best_t).macro_f1 == pytest.approx(best_f1)
    for t in thresholds:
        assert best_f1 >= confusion(labels, scores, t).macro_f1 - 1e-12
    # and the vectorised sweep equals the direct count at every listed threshold
    s = sweep(labels, scores, sorted(thresholds))
    direct = [confusion(labels, scores, t).macro_f1 for t in sorted(thresholds)]
    assert np.allclose(s.macro_f1, direct)


def test_confusion_dict_round_trip():
    c = Confusion(1, 2, 3, 4)
    assert Confusion(**c.as_dict()) == c
