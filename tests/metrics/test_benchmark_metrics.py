"""Official benchmark metrics, checked against hand-computed examples."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.metrics import METRICS, OVERALL_BENCHMARKS, benchmark_metrics, metrics_report, overall
from tts.records import Problem


def problem(pid: str, bench: str, **meta) -> Problem:
    fields = {k: meta.pop(k) for k in ("question_type", "answer_type") if k in meta}
    return Problem(id=pid, benchmark=bench, split="s", question="?", meta=meta, **fields)


# -------------------------------------------------------------------------------------------------- DynaMath
def test_dynamath_worst_case_by_hand():
    # seed 1: all 10 variants right; seed 2: 9 of 10 right; seed 3: none right.
    ps, correct = [], {}
    for seed, n_right in (("1", 10), ("2", 9), ("3", 0)):
        for v in range(1, 11):
            p = problem(f"dynamath-sample_variant{v}-{seed}", "dynamath", qid=seed, variant=v, subject="algebra")
            ps.append(p)
            correct[p.id] = v <= n_right
    m = benchmark_metrics("dynamath", ps, correct)
    assert m["average_case"] == pytest.approx(100 * 19 / 30)
    assert m["worst_case"] == pytest.approx(100 / 3) and m["score"] == m["worst_case"]
    assert (m["n_seeds"], m["n_incomplete_seeds"], m["n"], m["n_correct"]) == (3, 0, 30, 19)


def test_dynamath_partial_variants_are_reported():
    ps = [problem(f"v{v}-1", "dynamath", qid="1", variant=v) for v in (1, 2)]
    m = benchmark_metrics("dynamath", ps, {"v1-1": True, "v2-1": True})
    assert m["worst_case"] == 100.0 and m["n_incomplete_seeds"] == 1
    # the number is kept, with the reason it is not the benchmark's worst case
    assert m["warning"] == ("worst case over 1 seed questions, 1 of them with fewer than their 10 variants "
                            "(judged on the variants loaded: optimistic)")


def test_complete_metrics_carry_no_warning():
    ps, correct = wemath_case()
    assert "warning" not in benchmark_metrics("wemath", ps, correct)
    dyna = [problem(f"v{v}", "dynamath", qid="1", variant=v) for v in range(1, 11)]
    assert "warning" not in benchmark_metrics("dynamath", dyna, {p.id: True for p in dyna})
    assert "warning" not in benchmark_metrics("mathvision", [problem("a", "mathvision")], {"a": False})


def test_missing_verdicts_are_warned_about():
    m = benchmark_metrics("mathvision", [problem("a", "mathvision"), problem("b", "mathvision")], {"a": True})
    assert m["score"] == 50.0 and m["warning"] == "1 of 2 problems have no verdict (counted wrong)"


# ---------------------------------------------------------------------------------------------------- WeMath
WEMATH_GROUPS = {
    # ID: (step verdicts, composite verdict)
    "1": ((True, True), True),          # CM strict & loose
    "2": ((True, False), True),         # CM loose, RM strict
    "3": ((False, False), True),        # RM strict & loose
    "4": ((True, True), False),         # IG
    "5": ((False, True, True), False),  # IK
    "6": ((True, True, True), True),    # CM strict & loose
}


def wemath_case():
    ps, correct = [], {}
    for gid, (steps, multi) in WEMATH_GROUPS.items():
        n = len(steps)
        for key, ok in [*((f"{n}steps_{i + 1}", s) for i, s in enumerate(steps)), (f"{n}steps_multi", multi)]:
            p = problem(f"wemath-testmini-{gid}-{key}", "wemath", ID=gid, key=key)
            ps.append(p)
            correct[p.id] = ok
    return ps, correct


def test_wemath_four_dimensional_metric_by_hand():
    ps, correct = wemath_case()
    m = benchmark_metrics("wemath", ps, correct)
    assert m["counts"] == {"InsufficientKnowledge": 1, "InadequateGeneralization": 1, "CompleteMastery_loose": 3,
                           "CompleteMastery_strict": 2, "RoteMemorization_loose": 1, "RoteMemorization_strict": 2}
    assert m["n_groups"] == 6 and m["n_incomplete_groups"] == 0
    assert m["score_strict"] == pytest.approx(100 * (6 - 0.5 - 2 - 1) / 6)  # 41.67
    assert m["score_loose"] == pytest.approx(100 * (6 - 0.5 - 1 - 1) / 6)   # 58.33
    assert m["score"] == m["score_strict"]
    assert m["rates"]["RoteMemorization_strict"] == pytest.approx(50.0)      # 2 / (2 + 2)
    assert m["rates"]["RoteMemorization_loose"] == pytest.approx(25.0)       # 1 / (3 + 1)
    assert m["rates"]["InsufficientKnowledge"] == pytest.approx(100 / 6)
    assert m["step_accuracy"]["one_step"] == pytest.approx(100 * 10 / 14)
    assert m["step_accuracy"]["two_step"] == pytest.approx(75.0)
    assert m["step_accuracy"]["three_step"] == pytest.approx(50.0)


def test_wemath_incomplete_groups_are_left_out():
    ps, correct = wemath_case()
    dropped = [p for p in ps if p.id != "wemath-testmini-4-2steps_multi"]  # group 4 (the IG one) loses its composite
    m = benchmark_metrics("wemath", dropped, correct)
    assert m["n_groups"] == 5 and m["n_incomplete_groups"] == 1 and m["counts"]["InadequateGeneralization"] == 0
    assert m["score_strict"] == pytest.approx(100 * (5 - 2 - 1) / 5)
    assert m["warning"] == "4-D score over 5 problems; 1 left out for a missing composite question or sub-question"


def test_wemath_without_a_complete_problem_says_why_there_is_no_score():
    ps, correct = wemath_case()
    steps_only = [p for p in ps if not p.id.endswith("_multi")]  # e.g. --limit cut every composite question
    m = benchmark_metrics("wemath", steps_only, correct)
    assert m["score"] is None and m["n_incomplete_groups"] == 6
    assert m["warning"].startswith("4-D score unavailable: none of the 6 problems has its composite question")
    json.dumps(m)


def test_wemath_missing_verdicts_count_as_wrong():
    ps, correct = wemath_case()
    del correct["wemath-testmini-1-2steps_1"]
    m = benchmark_metrics("wemath", ps, correct)
    assert m["n_missing"] == 1 and m["counts"]["CompleteMastery_strict"] == 1


# --------------------------------------------------------------------------------------- accuracy benchmarks
def test_mmmu_is_instance_weighted_over_subjects():
    ps = ([problem(f"m{i}", "mmmu", subject="Math", discipline="Science") for i in range(3)]
          + [problem("p0", "mmmu", subject="Physics", discipline="Science"),
             problem("a0", "mmmu", subject="Art", discipline="Art and Design")])
    m = benchmark_metrics("mmmu", ps, {"m0": True, "m1": True, "m2": False, "p0": False, "a0": True})
    assert m["score"] == pytest.approx(60.0)
    assert m["by_subject"]["Math"]["acc"] == pytest.approx(200 / 3) and m["by_subject"]["Physics"]["acc"] == 0.0
    # instance-weighted: 2 of 4 Science questions, not the mean of the subject accuracies (33.3)
    assert m["by_discipline"]["Science"] == {"n": 4, "correct": 2, "acc": 50.0}


def test_mathvista_breakdowns_include_metadata_and_skills():
    def mv(pid, qt, at, skills, language):
        return problem(pid, "mathvista", question_type=qt, answer_type=at,
                       metadata={"skills": skills, "language": language, "task": "figure question answering"})
    ps = [mv("1", "multi_choice", "text", ["logical reasoning"], "english"),
          mv("2", "free_form", "integer", ["arithmetic reasoning", "statistical reasoning"], "english"),
          mv("3", "free_form", "float", ["arithmetic reasoning"], "chinese")]
    m = benchmark_metrics("mathvista", ps, {"1": True, "2": False, "3": True})
    assert m["score"] == pytest.approx(200 / 3)
    assert m["by_question_type"]["free_form"]["acc"] == 50.0
    assert m["by_answer_type"] == {"float": {"n": 1, "correct": 1, "acc": 100.0},
                                   "integer": {"n": 1, "correct": 0, "acc": 0.0},
                                   "text": {"n": 1, "correct": 1, "acc": 100.0}}
    assert m["by_skills"]["arithmetic reasoning"] == {"n": 2, "correct": 1, "acc": 50.0}
    assert m["by_language"]["chinese"]["acc"] == 100.0 and m["by_task"]["figure question answering"]["n"] == 3


def test_mathvision_mathverse_logicvista_breakdowns():
    mv = [problem("a", "mathvision", subject="counting", level=1), problem("b", "mathvision", subject="counting", level=5)]
    m = benchmark_metrics("mathvision", mv, {"a": True})
    assert (m["score"], m["n_missing"], m["by_level"]["5"]["acc"]) == (50.0, 1, 0.0)
    verse = [problem("v", "mathverse", problem_version="Vision Only", metadata={"subject": "Plane Geometry"}),
             problem("d", "mathverse", problem_version="Vision Dominant", metadata={"subject": "Functions"})]
    m = benchmark_metrics("mathverse", verse, {"v": True, "d": False})
    assert m["by_problem_version"]["Vision Only"]["acc"] == 100.0 and m["by_subject"]["Functions"]["acc"] == 0.0
    lv = [problem("x", "logicvista", skill="spatial"), problem("y", "logicvista", skill=["spatial", "numerical"])]
    m = benchmark_metrics("logicvista", lv, {"x": True, "y": False})
    assert m["by_skill"]["spatial"] == {"n": 2, "correct": 1, "acc": 50.0}


def test_empty_and_mismatched_inputs():
    for name in OVERALL_BENCHMARKS:
        m = benchmark_metrics(name, [], {})
        assert m["score"] is None and m["n"] == 0
        json.dumps(m)
    with pytest.raises(ValueError, match="got problems of"):
        benchmark_metrics("mmmu", [problem("x", "mathvista")], {})
    with pytest.raises(KeyError, match="unknown benchmark metric"):
        benchmark_metrics("nope", [], {})


# ------------------------------------------------------------------------------------------------- Overall
SEED_ROWS = [  # InternVL3 model card: the seven scores and the printed Overall
    ((62.7, 71.6, 29.3, 39.8, 25.5, 37.1, 44.1), 44.3),   # InternVL3-8B
    ((66.0, 75.2, 37.5, 46.3, 28.5, 48.1, 49.7), 50.2),   # InternVL3-8B w/ VisualPRM-Bo8
    ((43.4, 45.8, 18.8, 18.7, 5.8, 13.4, 29.8), 25.1),    # InternVL3-1B
    ((72.2, 80.5, 40.8, 54.2, 37.3, 52.4, 57.9), 56.5),   # InternVL3-78B w/ VisualPRM-Bo8
]


@pytest.mark.parametrize("scores,printed", SEED_ROWS)
def test_overall_matches_the_seeds_table(scores, printed):
    assert round(overall(dict(zip(OVERALL_BENCHMARKS, scores, strict=True))), 1) == printed


def test_overall_needs_all_seven():
    scores = dict(zip(OVERALL_BENCHMARKS, SEED_ROWS[0][0], strict=True))
    assert overall({k: v for k, v in scores.items() if k != "wemath"}) is None
    assert overall({**scores, "wemath": None}) is None
    assert overall({**scores, "demo": 100.0}) == overall(scores)


@given(st.lists(st.booleans(), min_size=1, max_size=40))
def test_accuracy_is_the_fraction_of_true_verdicts(verdicts):
    ps = [problem(str(i), "mathvision") for i in range(len(verdicts))]
    m = METRICS.get("mathvision")(ps, {str(i): v for i, v in enumerate(verdicts)})
    assert math.isclose(m["score"], 100 * sum(verdicts) / len(verdicts))


def test_metrics_report_groups_by_benchmark():
    ps = [problem("a", "mathvision"), problem("b", "logicvista"), problem("c", "demo")]
    report = metrics_report(ps, {"a": True, "b": False, "c": True})
    assert set(report["benchmarks"]) == {"mathvision", "logicvista", "demo"} and report["overall"] is None
    assert report["benchmarks"]["mathvision"]["score"] == 100.0
    json.dumps(report)
