"""MATH-Vision (``MathLLMs/MathVision``): splits ``test`` (3,040) and ``testmini`` (304).

Row → Problem: ``id`` → id ``mathvision-<split>-<id>``; ``decoded_image`` → the one image (the question
refers to it as ``<image1>``, kept verbatim); ``options`` (empty, or five strings — sometimes just
``A``..``E`` when the options are drawn in the image) → ``choices``; multiple choice iff options are
present; ``answer`` as stored (a letter for multiple choice); ``answer_type`` is ``text`` for multiple
choice, else ``integer``/``float`` for plain numbers and ``expression`` otherwise. ``meta``: ``id``,
``subject``, ``level`` (int 1-5), ``image_path``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tts.benchmarks.fields import numeric_answer_type, str_list
from tts.benchmarks.hub import BadRow, HubBenchmark, ParsedRow, Source


class MathVision(HubBenchmark):
    name = "mathvision"
    hub_id = "MathLLMs/MathVision"
    splits = ("test", "testmini")
    default_split = "test"
    image_columns = ("decoded_image",)
    columns = ("id", "question", "options", "image", "decoded_image", "answer", "level", "subject")

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        return f"mathvision-{source.split}-{row['id']}"

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        options = str_list(row["options"], "options")
        answer = row["answer"]
        if answer is None:
            raise BadRow("missing answer")
        mc = bool(options)
        try:
            level = int(row["level"]) if row["level"] is not None else None
        except (TypeError, ValueError) as exc:
            raise BadRow(f"malformed level {row['level']!r}") from exc
        meta = {"id": str(row["id"]), "subject": row["subject"], "level": level, "image_path": row["image"]}
        fields = dict(question=row["question"] or "", choices=tuple(options), answer=str(answer),
                      question_type="multi_choice" if mc else "free_form",
                      answer_type="text" if mc else numeric_answer_type(answer, "expression"), meta=meta)
        return ParsedRow(fields, [("decoded_image", row["decoded_image"])])
