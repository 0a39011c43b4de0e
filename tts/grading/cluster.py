"""Group the extracted answers of one problem's rollouts by the grader's equivalence (for voting).

Fast path: a canonical key per answer (option letters, exact number, squashed string) puts most answers in
their cluster without any comparison. An answer with a new key is compared with one representative per
existing cluster (the grader's :func:`judge`, the representative playing the gold), so ``1/2``, ``0.5`` and
``\\frac{1}{2}`` share a cluster while SymPy runs at most once per (new key, cluster).

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="1", benchmark="demo", split="s", question="q", answer="1/2")
    >>> cluster_answers(["1/2", "0.5", None, "3", "\\\\frac{1}{2}", "3.0"], p)
    [0, 0, None, 1, 0, 1]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from tts.grading import sandbox, symbolic
from tts.grading.choice import concatenated_letters, letters_for_text, parse_letters
from tts.grading.equivalence import judge
from tts.grading.numeric import parse_number, round_half_up
from tts.grading.rules import Rule, rule_for
from tts.grading.text import clean, squash
from tts.records import Problem


def canonical_key(answer: str, rule: Rule) -> Hashable:
    """A key such that equal keys mean equivalent answers (different keys may still be equivalent)."""
    if rule.multi_choice:
        letters = (parse_letters(answer, rule.n_options) or letters_for_text(answer, rule.options)
                   or concatenated_letters(answer, rule.n_options))
        if letters is not None:
            return ("letters", letters)
    n = parse_number(answer)
    if n is not None:  # the unit is part of the key: "8 cm" and "8 mm" are different answers
        if rule.precision is not None:
            return ("number", round_half_up(n.value, rule.precision), n.percent, n.unit)
        return ("number", n.value, n.percent, n.unit)
    return ("text", squash(answer))


def cluster_answers(answers: Sequence[str | None], problem: Problem) -> list[int | None]:
    """Cluster ids (0, 1, ... in order of first appearance) for the answers; None stays None."""
    rule = rule_for(problem)
    ids: list[int | None] = []
    by_key: dict[Hashable, int] = {}
    representatives: list[str] = []
    for answer in answers:
        if answer is None or not isinstance(answer, str) or not clean(answer):
            ids.append(None)
            continue
        try:
            key = canonical_key(answer, rule)
        except Exception:  # noqa: BLE001 - an odd answer gets its own cluster rather than an error
            key = ("raw", answer)
        cid = by_key.get(key)
        if cid is None:
            cid = next((i for i, rep in enumerate(representatives) if _same(answer, rep, rule)), None)
            if cid is None:
                cid = len(representatives)
                representatives.append(answer)
            by_key[key] = cid
        ids.append(cid)
    return ids


def _same(answer: str, representative: str, rule: Rule) -> bool:
    try:
        with symbolic.budget(sandbox.DEFAULT_TIMEOUT):
            return judge(answer, representative, rule).correct
    except Exception:  # noqa: BLE001
        return False
