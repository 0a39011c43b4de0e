"""LogicVista (``lscpku/LogicVista``, the copy lmms-eval uses): split ``test`` (448 questions).

The options are drawn in the image or written in the question ("Select from A-E"); some golds select
several letters (``"A, C"``) and a few labels are numbers.

Row → Problem: id ``logicvista-test-<id>`` from an ``id`` column when the copy has one, else the row's
position (stable: rows are read in stored order); ``image`` → the one image; ``question`` and ``answer``
as stored; ``multi_choice`` with ``answer_type`` ``text``. ``meta`` keeps whichever of ``id``,
``imagename``, ``skill``, ``broad_capability``, ``specific_capability`` the copy provides (``skill`` drives
the per-skill breakdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tts.benchmarks.hub import BadRow, HubBenchmark, ParsedRow, Source

OPTIONAL_COLUMNS = ("id", "imagename", "skill", "broad_capability", "specific_capability")


class LogicVista(HubBenchmark):
    name = "logicvista"
    hub_id = "lscpku/LogicVista"
    splits = ("test",)
    default_split = "test"
    image_columns = ("image",)
    columns = ("question", "image", "answer")

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        key = row.get("id")
        return f"logicvista-{source.split}-{key if key not in (None, '') else index}"

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        if row["answer"] is None:
            raise BadRow("missing answer")
        meta = {k: row[k] for k in OPTIONAL_COLUMNS if k in row and row[k] is not None}
        fields = dict(question=row["question"] or "", answer=str(row["answer"]), question_type="multi_choice",
                      answer_type="text", meta=meta)
        return ParsedRow(fields, [("image", row["image"])])
