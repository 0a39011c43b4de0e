"""Official benchmark metrics from per-problem correctness, and the seeds' "Overall".

Each benchmark has one function ``(problems, correct) -> dict`` where ``correct`` maps problem id → bool
(e.g. whether the rollout a strategy selected was graded right). The dict is JSON-friendly, holds the
headline number under ``"score"`` in percent (the number the InternVL3 / VisualPRM table reports) and the
official breakdowns:

==============  ===============================================================================
benchmark       ``score``
==============  ===============================================================================
mmmu            accuracy (instance-weighted over subjects; ``by_subject``, ``by_discipline``)
mathvista       accuracy (``by_question_type``, ``by_answer_type``, metadata fields, ``by_skills``)
mathvision      accuracy (``by_subject``, ``by_level``)
mathverse       accuracy over the loaded versions — Vision Only by default (``by_problem_version``)
dynamath        **worst-case** accuracy over seed questions (``average_case`` too)
wemath          four-dimensional **strict** score (``score_loose``, IK/IG/CM/RM, step accuracies)
logicvista      accuracy (``by_skill``)
==============  ===============================================================================

Example:
    >>> round(overall({"mmmu": 62.7, "mathvista": 71.6, "mathvision": 29.3, "mathverse": 39.8,
    ...                "dynamath": 25.5, "wemath": 37.1, "logicvista": 44.1}), 1)  # InternVL3-8B row
    44.3
    >>> overall({"mmmu": 62.7}) is None
    True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tts.benchmarks import REASONING7
from tts.records import Problem
from tts.registry import Registry

MetricFn = Callable[[Sequence[Problem], Mapping[str, bool]], dict[str, Any]]

METRICS: Registry[MetricFn] = Registry("benchmark metric")
METRICS.register("mathvista", "tts.metrics.accuracy:mathvista_metrics")
METRICS.register("mmmu", "tts.metrics.accuracy:mmmu_metrics")
METRICS.register("mathvision", "tts.metrics.accuracy:mathvision_metrics")
METRICS.register("mathverse", "tts.metrics.accuracy:mathverse_metrics")
METRICS.register("logicvista", "tts.metrics.accuracy:logicvista_metrics")
METRICS.register("dynamath", "tts.metrics.dynamath:dynamath_metrics")
METRICS.register("wemath", "tts.metrics.wemath:wemath_metrics")
METRICS.register("demo", "tts.metrics.accuracy:accuracy_metrics")

#: The benchmarks whose mean is the table's "Overall", in its column order: the reasoning7 group.
OVERALL_BENCHMARKS: tuple[str, ...] = REASONING7

#: Column titles as the model card prints them (tables and plots; other benchmarks keep their names).
COLUMN_TITLES: dict[str, str] = {"mmmu": "MMMU", "mathvista": "MathVista", "mathvision": "MathVision",
                                 "mathverse": "MathVerse", "dynamath": "DynaMath", "wemath": "WeMath",
                                 "logicvista": "LogicVista"}


def card_order(benchmarks: Sequence[str]) -> list[str]:
    """The model card's column order, then any other benchmark alphabetically.

    >>> card_order(["demo", "wemath", "mmmu"])
    ['mmmu', 'wemath', 'demo']
    """
    return [b for b in OVERALL_BENCHMARKS if b in benchmarks] + sorted(b for b in benchmarks
                                                                         if b not in OVERALL_BENCHMARKS)


def benchmark_metrics(benchmark: str, problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """The official metrics of ``benchmark`` (all ``problems`` must belong to it)."""
    others = {p.benchmark for p in problems} - {benchmark}
    if others:
        raise ValueError(f"benchmark_metrics({benchmark!r}) got problems of {sorted(others)}")
    return METRICS.get(benchmark)(problems, correct)


def overall(scores: Mapping[str, float | None]) -> float | None:
    """Mean of the seven headline scores (the seeds' table prints it to one decimal); ``None`` unless all seven
    are present (and not ``None``)."""
    values = [v for v in (scores.get(name) for name in OVERALL_BENCHMARKS) if v is not None]
    if len(values) < len(OVERALL_BENCHMARKS):
        return None
    return sum(values) / len(values)


def metrics_report(problems: Sequence[Problem], correct: Mapping[str, bool]) -> dict[str, Any]:
    """Metrics of every benchmark present in ``problems`` plus ``overall`` (``None`` unless all seven)."""
    by_bench: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        by_bench[p.benchmark].append(p)
    results = {name: benchmark_metrics(name, ps, correct) for name, ps in by_bench.items()}
    return {"benchmarks": results, "overall": overall({k: v["score"] for k, v in results.items()})}


__all__ = ["COLUMN_TITLES", "METRICS", "OVERALL_BENCHMARKS", "benchmark_metrics", "card_order", "metrics_report",
           "overall"]
