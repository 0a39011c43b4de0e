from hypothesis import given
from hypothesis import strategies as st

from tts.critics.fitting import fit_steps, pack_by_budget


def _build(steps):  # a toy scoring sequence: a 3-token header, then each step's characters and a separator
    return [0, 0, 0] + [1 for s in steps for _ in s + "|"]


def _fit(steps, max_length):
    return fit_steps(steps, _build, max_length, encode_text=list, decode="".join)


def test_fits_untouched():
    fit = _fit(["ab", "cd"], 9)
    assert fit.steps == ("ab", "cd") and fit.flags == () and len(fit.ids) == 9


def test_no_limit_means_untouched():
    assert _fit(["ab"] * 100, None).flags == ()


def test_drops_as_few_leading_steps_as_needed():
    fit = _fit(["aaaa", "bb", "cc", "dd"], 3 + 6)
    assert fit.steps == ("cc", "dd") and fit.dropped == 2 and fit.flags == ("truncated", "dropped_steps:2")
    assert len(fit.ids) <= 9


def test_cuts_the_last_step_from_the_left_when_alone_it_is_too_long():
    fit = _fit(["a", "0123456789"], 3 + 5)
    assert fit.steps == ("6789",) and fit.clipped and fit.flags == ("truncated", "dropped_steps:1", "clipped_step")


def test_nothing_fits_when_the_header_alone_is_too_long():
    assert _fit(["abc"], 3) is None


@given(st.lists(st.text(alphabet="xyz", min_size=0, max_size=8), min_size=1, max_size=10), st.integers(1, 60))
def test_fitted_sequences_respect_the_limit_and_keep_the_end(steps, max_length):
    fit = _fit(steps, max_length)
    if fit is None:
        return
    assert len(fit.ids) <= max_length and fit.ids == _build(fit.steps)
    n = len(fit.steps)
    if not fit.clipped:
        assert list(fit.steps) == steps[len(steps) - n:] and fit.dropped == len(steps) - n
    else:
        assert n == 1 and steps[-1].endswith(fit.steps[0])


@given(st.lists(st.integers(1, 50), max_size=30), st.integers(1, 200))
def test_packing_covers_every_sequence_once_within_budget(lengths, budget):
    batches = pack_by_budget(lengths, budget)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= budget
