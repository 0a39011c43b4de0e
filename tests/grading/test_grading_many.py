"""grade_many (in-process and worker pool), MMMU's seeded fallback stream, and cluster_answers."""

from __future__ import annotations

import random

import pytest
from grading_helpers import make_problem

from tts.grading import cluster_answers, grade, grade_many, pool, sandbox
from tts.records import Grade

MIXED = [
    ("Answer: \\boxed{B}", make_problem("mathvista", "8cm", question_type="multi_choice", answer_type="text",
                                        choices=("6cm", "8cm"))),
    ("Answer: \\boxed{2.9}", make_problem("mathvista", "2", answer_type="integer")),
    ("Answer: \\boxed{\\frac{16}{7}}", make_problem("mathvision", "16/7")),
    ("Answer: \\boxed{x^2-1}", make_problem("generic", "(x-1)(x+1)")),
    ("no idea", make_problem("dynamath", "2.5", answer_type="float")),
    ("Answer: \\boxed{A, C}", make_problem("logicvista", "C, A", question_type="multi_choice", answer_type="text")),
]


def _items(n: int) -> list:
    return [(MIXED[i % len(MIXED)][0], MIXED[i % len(MIXED)][1], i) for i in range(n)]


@pytest.mark.parametrize("rules", ["strict", "official"])
def test_in_process_matches_grade(rules: str) -> None:
    items = _items(12)
    out = grade_many(items, rules=rules)
    assert out == [grade(r, p, rules, sample_idx=i) for r, p, i in items]
    assert [g.sample_idx for g in out] == list(range(12))


@pytest.mark.slow
def test_worker_pool_gives_the_same_grades_in_order(monkeypatch) -> None:
    monkeypatch.setattr(pool, "POOL_THRESHOLD", 10)
    monkeypatch.setattr(pool, "CHUNK", 7)
    items = _items(60)
    pooled = grade_many(items, workers=2)
    assert pooled == [grade(r, p, sample_idx=i) for r, p, i in items]
    official = grade_many(items, rules="official", workers=2, progress=True)
    assert official == [grade(r, p, "official", sample_idx=i) for r, p, i in items]


@pytest.mark.slow
def test_a_slow_item_times_out_in_the_pool_and_the_rest_go_on(monkeypatch) -> None:
    monkeypatch.setattr(pool, "POOL_THRESHOLD", 2)
    monkeypatch.setattr(sandbox, "DEFAULT_TIMEOUT", 1.0)
    monkeypatch.setenv("TTS_GRADING_TIMEOUT", "1")
    slow = make_problem("generic", "(x+y+z+1)^{60}")
    items = [("\\boxed{5}", make_problem("generic", "5"), 0), ("\\boxed{(x+y+z+2)^{60}}", slow, 1),
             ("\\boxed{6}", make_problem("generic", "5"), 2)]
    out = grade_many(items, workers=2)
    assert [g.correct for g in out] == [True, False, False]
    assert out[1].reason.startswith("timeout") and out[2].reason.startswith("mismatch")


class _FlakyWorker:
    """Stands in for a Worker whose process hangs on one item (the parent then kills it)."""

    def __init__(self, hang_on: str) -> None:
        self.hang_on = hang_on
        self.requests = 0

    def request(self, message, replies, timeout):
        self.requests += 1
        for item in message["items"]:
            if item["response"] == self.hang_on:
                raise sandbox.WorkerTimeout("killed")
            g = Grade(item["problem"]["id"], item["sample_idx"], item["response"], True, "match (same; whole)")
            yield {"grade": g.to_json()}


def test_a_killed_worker_costs_one_item_only() -> None:
    p = make_problem("generic", "1")
    chunk = [(k, (f"r{k}", p, k)) for k in range(5)]
    results: list = [None] * 5
    worker = _FlakyWorker(hang_on="r2")
    pool.grade_chunk(worker, chunk, "strict", 1.0, results, lambda k: None)
    assert [g.reason for g in results] == ["match (same; whole)"] * 2 + ["timeout"] + ["match (same; whole)"] * 2
    assert worker.requests == 2  # the rest of the chunk was resubmitted once


def test_mmmu_official_random_fallback_is_one_seeded_stream_in_input_order() -> None:
    p = make_problem("mmmu", "B", question_type="multi_choice", answer_type="text", choices=("1", "2", "3", "4"))
    items = [("Answer: \\boxed{?}", p, i) for i in range(8)]
    out = grade_many(items, rules="official")
    rng = random.Random(42)
    assert [g.extracted for g in out] == [rng.choice("ABCD") for _ in items]
    assert all("random guess" in g.reason for g in out)
    # strict mode never guesses
    assert all(g.reason == "no answer" or g.correct is False for g in grade_many(items))


def test_scoring_is_checked() -> None:
    with pytest.raises(ValueError):
        grade_many(_items(2), rules="lenient")
    with pytest.raises(ValueError):
        grade("x", MIXED[0][1], "lenient")


@pytest.mark.parametrize(
    "answers,problem,expected",
    [
        (["1/2", "0.5", None, "3", "\\frac{1}{2}", "3.0", "50\\%"], make_problem("generic", "1/2"),
         [0, 0, None, 1, 0, 1, 0]),
        (["B", "(B) 8cm", "8 cm", "A", "6cm", ""], make_problem(
            "mathvista", "8cm", question_type="multi_choice", answer_type="text", choices=("6cm", "8cm")),
         [0, 0, 0, 1, 1, None]),
        (["2.718", "2.7183", "2.72", "2.7185"], make_problem("dynamath", "2.718", answer_type="float"),
         [0, 0, 1, 0]),
        (["x^2-1", "(x-1)(x+1)", "x^2+1", "(x+1)(x-1)"], make_problem("generic", "x^2-1"), [0, 0, 1, 0]),
        (["A, C", "C, A", "A", "a and c"], make_problem("logicvista", "A, C", question_type="multi_choice",
                                                         answer_type="text"), [0, 0, 1, 0]),
        ([], make_problem("generic", "1"), []),
        # issue 18: units, number words, multi-select spellings and radicals cluster as the grader judges
        (["8 cm", "80 mm", "8 mm", "0.08 m", "8"], make_problem("mathverse", "8 cm"), [0, 0, 1, 0, 0]),
        (["seven", "7", "Seven", "eight"], make_problem("dynamath", "7", answer_type="integer"), [0, 0, 0, 1]),
        (["AC", "A, C", "(A) and (C)", "CA", "A"], make_problem("logicvista", "A, C", question_type="multi_choice",
                                                               answer_type="text"), [0, 0, 0, 0, 1]),
        (["2√5", "\\sqrt{20}", "2\\sqrt{5}", "\\sqrt{5}"], make_problem("mathvision", "2\\sqrt{5}"), [0, 0, 0, 1]),
    ],
)
def test_cluster_answers(answers, problem, expected) -> None:
    assert cluster_answers(answers, problem) == expected


def test_cluster_many_rollouts_uses_keys_first(monkeypatch) -> None:
    from tts.grading import cluster as cluster_module

    calls = []
    real = cluster_module._same

    def counting(a, b, rule):
        calls.append((a, b))
        return real(a, b, rule)

    monkeypatch.setattr(cluster_module, "_same", counting)
    answers = ["12", "12.0", "13", "12", "13", "1,2"] * 20
    ids = cluster_answers(answers, make_problem("generic", "12"))
    assert ids[:6] == [0, 0, 1, 0, 1, 2] and ids[6:12] == ids[:6]
    assert len(calls) <= 4  # only new keys are compared, once per existing cluster
