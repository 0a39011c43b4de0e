"""MathVista (``AI4Math/MathVista``): splits ``testmini`` (1,000, with answers) and ``test`` (5,141, hidden).

Row → Problem: ``pid`` → id ``mathvista-<split>-<pid>``; ``decoded_image`` → the one image; ``choices``
(``None`` for free-form) → ``choices``; ``answer`` kept as stored (the option *text* for multiple choice;
``None`` on ``test``, whose answers are hidden); ``question_type`` (``multi_choice|free_form``) and
``answer_type`` (``text|integer|float|list``) as stored; ``precision`` (float64 on the hub) → ``int``;
``unit`` as stored. ``meta`` keeps ``pid``, ``query`` (the hub's zero-shot prompt with its hint, which the
InternVL CoT prompt builds on), ``image_path`` and ``metadata`` (category, context, grade, img_height,
img_width, language, skills, source, split, task) for the official breakdowns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tts.benchmarks.fields import opt_str, precision_int, str_list
from tts.benchmarks.hub import BadRow, HubBenchmark, ParsedRow, Source

QUESTION_TYPES = ("multi_choice", "free_form")
ANSWER_TYPES = ("text", "integer", "float", "list")


class MathVista(HubBenchmark):
    name = "mathvista"
    hub_id = "AI4Math/MathVista"
    splits = ("testmini", "test")
    default_split = "testmini"
    image_columns = ("decoded_image",)
    columns = ("pid", "question", "image", "decoded_image", "choices", "unit", "precision", "answer",
               "question_type", "answer_type", "metadata", "query")

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        return f"mathvista-{source.split}-{row['pid']}"

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        question_type, answer_type = row["question_type"], row["answer_type"]
        if question_type not in QUESTION_TYPES:
            raise BadRow(f"unknown question_type {question_type!r}")
        if answer_type not in ANSWER_TYPES:
            raise BadRow(f"unknown answer_type {answer_type!r}")
        choices = str_list(row["choices"], "choices")
        if question_type == "multi_choice" and not choices:
            raise BadRow("multi_choice question without choices")
        answer = row["answer"]
        if source.split == "test" and not answer:
            answer = None  # test answers are not released
        metadata = dict(row["metadata"] or {})
        meta = {"pid": str(row["pid"]), "query": row["query"], "image_path": row["image"], "metadata": metadata}
        fields = dict(question=row["question"] or "", choices=tuple(choices), answer=answer,
                      question_type=question_type, answer_type=answer_type,
                      precision=precision_int(row["precision"]), unit=opt_str(row["unit"]), meta=meta)
        return ParsedRow(fields, [("decoded_image", row["decoded_image"])])
