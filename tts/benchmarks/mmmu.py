"""MMMU (``MMMU/MMMU``): 30 subject configs, splits ``validation`` (900), ``dev`` (150), ``test`` (10,500).

All subjects are concatenated in alphabetical order by default (as the official ``run_llava.py`` does with
``concatenate_datasets``); a subset by subject name: ``mmmu:validation@Math,Physics``.

Row → Problem: ``id`` (``validation_Accounting_1``) → id ``mmmu-validation_Accounting_1``; ``image_1`` ..
``image_7`` (the non-empty ones, in order) → images, referenced in the text as ``<image k>`` (kept
verbatim); ``options``, a *string* holding a Python list, is read with ``ast.literal_eval`` → ``choices``
(``[]`` for open questions; options may themselves contain ``<image k>``); ``question_type``
``multiple-choice`` → ``multi_choice`` (gold: a letter, ``answer_type`` ``text``) and ``open`` →
``free_form`` (``answer_type`` ``integer``/``float`` for plain numbers, else ``text``). ``answer`` is kept as
stored, except that a stringified list of strings (the few multi-gold items, e.g. ``"['24/7', '3.429']"``)
becomes a tuple of accepted golds; ``test`` answers are hidden (``None``). ``meta``: ``id``, ``subject``
(the config), ``discipline`` (the official six-way grouping), ``subfield``, ``topic_difficulty``,
``img_type``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from tts.benchmarks.fields import numeric_answer_type, parse_str_list
from tts.benchmarks.hub import BadRow, HubBenchmark, ParsedRow, Source

#: The official grouping of the 30 subjects into six disciplines (MMMU ``DOMAIN_CAT2SUB_CAT``).
DISCIPLINES: dict[str, tuple[str, ...]] = {
    "Art and Design": ("Art", "Art_Theory", "Design", "Music"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Health and Medicine": ("Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine",
                            "Pharmacy", "Public_Health"),
    "Humanities and Social Science": ("History", "Literature", "Sociology", "Psychology"),
    "Tech and Engineering": ("Agriculture", "Architecture_and_Engineering", "Computer_Science", "Electronics",
                             "Energy_and_Power", "Materials", "Mechanical_Engineering"),
}
SUBJECTS: tuple[str, ...] = tuple(sorted(s for subjects in DISCIPLINES.values() for s in subjects))
DISCIPLINE_OF: dict[str, str] = {s: d for d, subjects in DISCIPLINES.items() for s in subjects}
N_IMAGE_COLUMNS = 7
_IMAGE_REF = re.compile(r"<image (\d+)>")


def multi_gold(answer: str) -> str | tuple[str, ...]:
    """``"['24/7', '3.429']"`` → ``('24/7', '3.429')``; every other answer is returned unchanged."""
    text = answer.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return answer
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return tuple(value)
    return answer


class MMMU(HubBenchmark):
    name = "mmmu"
    hub_id = "MMMU/MMMU"
    splits = ("validation", "dev", "test")
    default_split = "validation"
    subsets = SUBJECTS
    default_subsets = SUBJECTS
    max_tiles = 12
    upscale_first_image = True
    image_columns = tuple(f"image_{k}" for k in range(1, N_IMAGE_COLUMNS + 1))
    columns = ("id", "question", "options", "answer", "question_type", "subfield", "topic_difficulty",
               "img_type", *image_columns)

    def sources(self, split: str, subsets: tuple[str, ...]) -> list[Source]:
        return [Source(subject, split, split) for subject in sorted(subsets)]

    def problem_id(self, row: Mapping[str, Any], source: Source, index: int) -> str:
        return f"mmmu-{row['id']}"

    def parse_row(self, row: Mapping[str, Any], source: Source) -> ParsedRow:
        options = parse_str_list(row["options"], "options")
        kind = row["question_type"]
        if kind not in ("multiple-choice", "open"):
            raise BadRow(f"unknown question_type {kind!r}")
        if kind == "multiple-choice" and not options:
            raise BadRow("multiple-choice question with no options")
        images = [(f"image_{k}", row[f"image_{k}"]) for k in range(1, N_IMAGE_COLUMNS + 1)
                  if row[f"image_{k}"] is not None]
        present = {int(label.split("_")[1]) for label, _ in images}
        question = row["question"] or ""
        text = question + " " + " ".join(options)
        for k in sorted({int(k) for k in _IMAGE_REF.findall(text)}):
            if k not in present:
                raise BadRow(f"the question refers to <image {k}> but image_{k} is empty")
        answer: str | tuple[str, ...] | None = row["answer"]
        if source.split == "test" or answer is None:
            answer = None
        else:
            answer = multi_gold(str(answer))
        if kind == "multiple-choice":
            answer_type = "text"
        else:
            answer_type = numeric_answer_type(answer if isinstance(answer, str) else None, "text")
        subject = source.config or ""
        meta = {"id": row["id"], "subject": subject, "discipline": DISCIPLINE_OF.get(subject),
                "subfield": row["subfield"], "topic_difficulty": row["topic_difficulty"],
                "img_type": row["img_type"]}
        fields = dict(question=question, choices=tuple(options), answer=answer,
                      question_type="multi_choice" if kind == "multiple-choice" else "free_form",
                      answer_type=answer_type, meta=meta)
        return ParsedRow(fields, images)
