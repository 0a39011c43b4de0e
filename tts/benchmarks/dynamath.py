"""DynaMath (``DynaMath/DynaMath_Sample``): 501 seed questions × 10 generated variants (5,010 rows).

Each variant is a hub split ``sample_variant1`` .. ``sample_variant10``; the default split ``all`` loads
the ten in order (a single variant: ``dynamath:sample_variant3``). The worst-case metric needs all ten
variants of a seed question.

Row → Problem: ``id`` (the seed question, shared by its ten variants) → id
``dynamath-<variant split>-<id>``; ``decoded_image`` → the one image; ``question`` as stored (multiple
choice questions carry their options in the text); ``ground_truth`` → ``answer`` as stored; the hub's
``answer_type`` maps ``multiple choice`` → ``multi_choice``/``text``, ``float`` → ``float``, ``int`` →
``integer``, anything else (``text``, ...) → ``text`` (the raw value stays in ``meta``). ``meta``: ``qid``
(seed id), ``variant`` (1-10), ``subject``, ``knowledge_level``, ``answer_type`` (raw), ``image_path``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tts.benchmarks.hub import BadRow, HubBenchmark, ParsedRow, Source

N_VARIANTS = 10
VARIANT_SPLITS = tuple(f"sample_variant{k}" for k in range(1, N_VARIANTS + 1))
_ANSWER_TYPES = {"multiple choice": "text", "float": "float", "int": "integer", "integer": "integer"}


class DynaMath(HubBenchmark):
    name = "dynamath"
    hub_id = "DynaMath/DynaMath_Sample"
    splits = ("all", *VARIANT_SPLITS)
    default_split = "all"
    image_columns = ("decoded_image",)
    columns = ("id", "question", "image", "decoded_image", "ground_truth", "answer_type", "subject",
               "knowledge_level")

    def sources(self, split: str, subsets: tuple[str, ...]) -> list[Source]:
        chosen = VARIANT_SPLITS if split == "all" else (split,)
        return [Source(None, s, s) for s in chosen]

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        return f"dynamath-{source.split}-{row['id']}"

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        raw_type = str(row["answer_type"] or "").strip()
        if row["ground_truth"] is None:
            raise BadRow("missing ground_truth")
        mc = raw_type.lower() == "multiple choice"
        meta = {"qid": str(row["id"]), "variant": int(source.split.removeprefix("sample_variant")),
                "subject": row["subject"], "knowledge_level": row["knowledge_level"], "answer_type": raw_type,
                "image_path": row["image"]}
        fields = dict(question=row["question"] or "", answer=str(row["ground_truth"]),
                      question_type="multi_choice" if mc else "free_form",
                      answer_type=_ANSWER_TYPES.get(raw_type.lower(), "text"), meta=meta)
        return ParsedRow(fields, [("decoded_image", row["decoded_image"])])
