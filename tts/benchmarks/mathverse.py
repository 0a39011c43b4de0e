"""MathVerse (``AI4Math/MathVerse``): config ``testmini`` = 788 problems × 5 versions (3,940 rows).

The VisualPRM protocol evaluates the **Vision Only** version, the default here; pick others (or ``all``)
as a subset: ``mathverse@vision_dominant`` or ``mathverse@all``. Versions: Text Dominant, Text Lite,
Vision Intensive, Vision Dominant, Vision Only.

Row → Problem: ``sample_index`` → id ``mathverse-testmini-<sample_index>``; ``image`` → the one image;
``question`` as stored (empty or short for the vision-heavy versions, whose text lives in the image);
``question_type`` ``multi-choice`` → ``multi_choice`` (gold: a letter; ``choices`` parsed from an inlined
``Choices:`` block when the question has one) and ``free-form`` → ``free_form`` (``answer_type``
``integer``/``float`` for plain numbers, else ``expression``); ``answer`` as stored. ``meta``:
``sample_index``, ``problem_index``, ``problem_version``, ``metadata`` (split, source, subject, subfield),
``query_wo`` (the direct-answer query the InternVL CoT prompt builds on), ``query_cot`` and
``question_for_eval`` (the official judge's ``[Question]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tts.benchmarks.fields import choices_block, numeric_answer_type
from tts.benchmarks.hub import BadRow, HubBenchmark, ParsedRow, Source

VERSIONS = ("Text Dominant", "Text Lite", "Vision Intensive", "Vision Dominant", "Vision Only")


class MathVerse(HubBenchmark):
    name = "mathverse"
    hub_id = "AI4Math/MathVerse"
    splits = ("testmini",)
    default_split = "testmini"
    subsets = VERSIONS
    default_subsets = ("Vision Only",)
    image_columns = ("image",)
    columns = ("sample_index", "problem_index", "problem_version", "question", "image", "answer",
               "question_type", "metadata", "query_wo", "query_cot", "question_for_eval")

    def sources(self, split: str, subsets: tuple[str, ...]) -> list[Source]:
        return [Source("testmini", split, split)]

    def keep(self, row: Mapping[str, Any], subsets: tuple[str, ...]) -> bool:
        return row["problem_version"] in subsets

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        return f"mathverse-{source.split}-{row['sample_index']}"

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        kind = row["question_type"]
        if kind not in ("multi-choice", "free-form"):
            raise BadRow(f"unknown question_type {kind!r}")
        answer = row["answer"]
        if answer is None:
            raise BadRow("missing answer")
        question = row["question"] or ""
        mc = kind == "multi-choice"
        meta = {"sample_index": str(row["sample_index"]), "problem_index": str(row["problem_index"]),
                "problem_version": row["problem_version"], "metadata": dict(row["metadata"] or {}),
                "query_wo": row["query_wo"], "query_cot": row["query_cot"],
                "question_for_eval": row["question_for_eval"]}
        fields = dict(question=question, choices=tuple(choices_block(question)) if mc else (),
                      answer=str(answer), question_type="multi_choice" if mc else "free_form",
                      answer_type="text" if mc else numeric_answer_type(answer, "expression"), meta=meta)
        return ParsedRow(fields, [("image", row["image"])])
