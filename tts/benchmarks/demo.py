"""The bundled demo problems: six MathVista-style questions over images drawn on the fly.

They exercise every answer type (integer, float with precision, text multiple choice, list, expression)
without any download, and are what ``tts demo`` runs on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from tts.benchmarks.base import Benchmark, LoadedProblems
from tts.images import ImageStore
from tts.records import Problem


def _canvas(w: int = 224, h: int = 168):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (w, h), "white")
    return img, ImageDraw.Draw(img)


def _circles():
    img, d = _canvas()
    for i, x in enumerate((20, 70, 120, 170)):
        d.ellipse((x, 30, x + 36, 66), fill="red" if i != 2 else "blue")
        d.ellipse((x, 100, x + 36, 136), fill="red" if i % 2 else "green")
    return img  # 5 red circles


def _triangle():
    img, d = _canvas()
    d.polygon([(112, 20), (30, 150), (194, 150)], outline="black", fill="yellow")
    return img


def _bars():
    img, d = _canvas()
    d.rectangle((40, 168 - 2 * 50, 90, 160), fill="steelblue")
    d.rectangle((130, 168 - int(3.5 * 40), 180, 160), fill="orange")
    d.text((55, 60), "2.5", fill="black")
    d.text((145, 20), "3.5", fill="black")
    return img


def _fraction():
    img, d = _canvas()
    for i in range(4):
        d.rectangle((20 + i * 46, 50, 60 + i * 46, 110), outline="black", fill="gray" if i < 2 else "white")
    return img  # 2 of 4 shaded


def _rectangle():
    img, d = _canvas()
    d.rectangle((40, 40, 184, 130), outline="black", width=3)
    d.text((105, 25), "4 cm", fill="black")
    d.text((190, 80), "3 cm", fill="black")
    return img


def _line():
    img, d = _canvas()
    d.line((20, 148, 204, 20), fill="black", width=2)
    d.text((30, 150), "(1, 2)", fill="black")
    d.text((170, 10), "(3, 6)", fill="black")
    return img


_PROBLEMS: list[tuple[dict[str, Any], Callable]] = [
    ({"question": "How many red circles are in the image?", "answer": "5", "answer_type": "integer"}, _circles),
    ({"question": "Which shape is drawn in the image?", "choices": ["circle", "square", "triangle", "hexagon"],
      "answer": "triangle", "question_type": "multi_choice", "answer_type": "text"}, _triangle),
    ({"question": "What is the sum of the two bar values?", "answer": "6.0", "answer_type": "float", "precision": 1},
     _bars),
    ({"question": "What fraction of the rectangle is shaded? Give it as a fraction.", "answer": "\\frac{1}{2}",
      "answer_type": "expression"}, _fraction),
    ({"question": "What is the area of the rectangle?", "answer": "12", "answer_type": "integer", "unit": "cm^2"},
     _rectangle),
    ({"question": "The line passes through the two labelled points. What are its slope and y-intercept, as a list [slope, intercept]?",
      "answer": "[2, 0]", "answer_type": "list"}, _line),
]


class DemoBenchmark(Benchmark):
    name = "demo"
    splits = ("test",)
    default_split = "test"

    def load(self, split: str, *, store: ImageStore, data_dir: Path | None = None, limit: int | None = None,
             ids: Collection[str] | None = None, strict: bool = False) -> LoadedProblems:
        problems = []
        for i, (fields, draw) in enumerate(_PROBLEMS, start=1):
            pid = f"demo-{i}"
            if ids is not None and pid not in ids:
                continue
            problems.append(Problem(id=pid, benchmark="demo", split=split, images=(store.put(draw()),),
                                    meta={"source": "bundled"}, **fields))
            if limit is not None and len(problems) >= limit:
                break
        return LoadedProblems(problems)
