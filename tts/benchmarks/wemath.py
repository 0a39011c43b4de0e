"""We-Math (``We-Math/We-Math``): split ``testmini`` (1,740 rows = 525 problems and their sub-problems).

Every problem comes as a composite question (``key`` ``2steps_multi`` / ``3steps_multi``) plus its one-step
sub-questions (``2steps_1``, ``2steps_2`` / ``3steps_1`` .. ``3steps_3``), all sharing the same ``ID``; the
four-dimensional metric compares them.

Row → Problem: ``ID`` and ``key`` → id ``wemath-testmini-<ID>-<key>``; ``image_path`` (an Image feature
on the hub) → the one image; ``option`` (one string, ``"A. 300, 400;B. 400, 300;..."``) → ``choices``;
always ``multi_choice`` with a letter gold (``answer`` as stored, ``answer_type`` ``text``). ``meta``:
``ID``, ``key``, ``question_number``, ``knowledge_concept``, ``knowledge_concept_description``,
``wemath_split`` (the hub's own ``split`` column).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tts.benchmarks.fields import letter_options
from tts.benchmarks.hub import BadRow, HubBenchmark, ParsedRow, Source


class WeMath(HubBenchmark):
    name = "wemath"
    hub_id = "We-Math/We-Math"
    splits = ("testmini",)
    default_split = "testmini"
    image_columns = ("image_path",)
    columns = ("ID", "split", "knowledge concept", "question", "option", "answer", "image_path", "key",
               "question number", "knowledge concept description")

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        return f"wemath-{source.split}-{row['ID']}-{row['key']}"

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        options = letter_options(row["option"], "option")
        if not row["answer"]:
            raise BadRow("missing answer")
        meta = {"ID": str(row["ID"]), "key": row["key"], "question_number": row["question number"],
                "knowledge_concept": row["knowledge concept"],
                "knowledge_concept_description": row["knowledge concept description"],
                "wemath_split": row["split"]}
        fields = dict(question=row["question"] or "", choices=tuple(options), answer=str(row["answer"]),
                      question_type="multi_choice", answer_type="text", meta=meta)
        return ParsedRow(fields, [("image_path", row["image_path"])])
