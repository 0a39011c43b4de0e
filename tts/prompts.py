"""Prompt texts (files under ``prompts/``, referenced by name) and the policy prompt of a problem.

Prompt wording decides benchmark numbers, so the texts live in plain files that reviewers can diff, not
in code. A file's text is its content with one trailing newline removed. In a source checkout the files
are read from ``<repo>/prompts``; an installed wheel carries them as ``tts/_prompts``.

The policy prompt returned by :func:`build_prompt` is plain text in which every image appears as the
literal placeholder ``<image>`` (InternVL's convention), exactly once per image and in the order of
``problem.images``; engines turn each placeholder into their model's image tokens, in order.

Prompt sets:

``internvl_cot`` (default)
    The chain-of-thought prompt InternVL uses with VisualPRM Best-of-N (VLMEvalKit ``InternVLChat``,
    ``USE_COT=1``, forced on by ``best_of_n > 1``), routed per benchmark as VLMEvalKit does:

    - MMMU (multiple choice), WeMath — VLMEvalKit ``MCQ`` datasets: ``build_multi_choice_prompt`` lays the
      options out as ``A. ...`` lines under the question, then the MCQ CoT instruction follows.
    - MathVista: the hub ``query`` (zero-shot hint + question + ``Choices:``), then the QA CoT instruction.
    - MathVision: ``Hint: ...\\nQuestion: ...`` (+ ``Choices:\\n(A) ...``), then the QA CoT instruction.
    - MathVerse: the hub ``query_wo`` with "please directly answer the question and" → "please" (VLMEvalKit
      PR #1203, InternVL only), then the QA CoT instruction.
    - DynaMath, LogicVista: the question as stored, then the QA CoT instruction.
    - MMMU open questions: question + QA CoT instruction. (VLMEvalKit sends them through its MCQ path, which
      appends "Answer the question directly." and the *letter* instruction; asking for a letter with no
      options is a reference bug, so we use the open-question instruction and document the difference.)
    - any other benchmark (``demo``): options as ``A. ...`` + MCQ instruction for multiple choice, else QA.

    Images are placed as VLMEvalKit's ``reorganize_prompt`` does: one image → ``<image>\\n`` before the text;
    several → ``Image-1: <image>\\nImage-2: <image>\\n...`` before the text, whose own ``<image k>`` /
    ``<image1>`` references are left verbatim.

``mathvista_official``
    MathVista's official zero-shot query (``evaluation/build_query.py``, as stored in the hub's ``query``
    column): ``Hint: ...`` chosen by question type, answer type and precision, ``Question: ...`` with
    `` (Unit: ...)``, and ``Choices:\\n(A) ...``; no CoT instruction.

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="x", benchmark="demo", split="test", question="What is 1+1?", images=("a.png",))
    >>> build_prompt(p).splitlines()[:2]
    ['<image>', 'What is 1+1?']
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tts.records import Problem
from tts.registry import Registry

IMAGE_PLACEHOLDER = "<image>"

_HERE = Path(__file__).resolve().parent
_CANDIDATE_DIRS = (_HERE.parent / "prompts", _HERE / "_prompts")


def prompts_dir() -> Path:
    for d in _CANDIDATE_DIRS:
        if d.is_dir():
            return d
    raise FileNotFoundError(f"no prompts directory found (looked in {', '.join(map(str, _CANDIDATE_DIRS))})")


@functools.cache
def prompt_text(name: str) -> str:
    """The text of ``prompts/<name>.txt``."""
    path = prompts_dir() / f"{name}.txt"
    if not path.is_file():
        known = sorted(p.stem for p in prompts_dir().glob("*.txt"))
        raise KeyError(f"unknown prompt {name!r}; known: {', '.join(known)}")
    text = path.read_text(encoding="utf-8")
    return text[:-1] if text.endswith("\n") else text


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PromptSet:
    """A named way to turn a problem into the policy prompt, and the prompt files it reads."""

    build: Callable[[Problem], str]
    files: tuple[str, ...]

    def fingerprint(self) -> str:
        """Hash of the files' texts: bound into a run so a resumed run never mixes prompt wordings."""
        return text_hash("\n".join(f"{name}\n{prompt_text(name)}" for name in sorted(self.files)))


PROMPT_SETS: Registry[PromptSet] = Registry("prompt set")


def letters(n: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(n)]


def with_image_placeholders(problem: Problem, text: str) -> str:
    """Put one ``<image>`` line per image in front of ``text`` unless the text already places them."""
    missing = len(problem.images) - text.count(IMAGE_PLACEHOLDER)
    if missing <= 0:
        return text
    return f"{IMAGE_PLACEHOLDER}\n" * missing + text


def place_images(n_images: int, text: str) -> str:
    """VLMEvalKit ``reorganize_prompt`` for InternVL (images after the text in the message).

    >>> place_images(2, "Compare <image 1> and <image 2>.")
    'Image-1: <image>\\nImage-2: <image>\\nCompare <image 1> and <image 2>.'

    A text that already places exactly one ``<image>`` per image (our own convention, e.g. user-made
    problems) is kept as it is.
    """
    if n_images == 0 or text.count(IMAGE_PLACEHOLDER) == n_images:
        return text
    if n_images == 1:
        return f"{IMAGE_PLACEHOLDER}\n{text}"
    return "".join(f"Image-{i}: {IMAGE_PLACEHOLDER}\n" for i in range(1, n_images + 1)) + text


# ---------------------------------------------------------------------------------------------- internvl_cot
def mcq_cot(question: str, choices: tuple[str, ...]) -> str:
    """VLMEvalKit ``build_multi_choice_prompt`` + ``build_mcq_cot_prompt`` (no hint column)."""
    options = "".join(f"\n{letter}. {choice}" for letter, choice in zip(letters(len(choices)), choices, strict=True))
    return f"{(question + options).strip()}\n{prompt_text('internvl_cot_mcq')}"


def qa_cot(text: str) -> str:
    """VLMEvalKit ``build_qa_cot_prompt``."""
    return f"{text}\n{prompt_text('internvl_cot_qa')}"


def mathverse_query(problem: Problem) -> str:
    """``query_wo`` with InternVL's phrase replacement (falls back to the question)."""
    source, target = prompt_text("internvl_cot_mathverse_rewrite").split("\n")
    query = problem.meta.get("query_wo") or problem.question
    return query.replace(source, target)


def mathvision_query(problem: Problem) -> str:
    """VLMEvalKit's MathVision question: ``Hint: ...\\nQuestion: ...`` plus ``Choices:`` for options."""
    if problem.choices:
        options = "\n".join(f"({letter}) {c}" for letter, c in zip(letters(len(problem.choices)), problem.choices, strict=True))
        return f"{prompt_text('mathvision_hint_mcq')}\nQuestion: {problem.question}\nChoices:\n{options}"
    return f"{prompt_text('mathvision_hint_qa')}\nQuestion: {problem.question}"


def internvl_cot_text(problem: Problem) -> str:
    """The CoT prompt text before images are placed (see the module docstring for the routing)."""
    bench = problem.benchmark
    if bench in ("mmmu", "wemath") and problem.question_type == "multi_choice":
        return mcq_cot(problem.question, problem.choices)
    if bench == "mathvista":
        return qa_cot(problem.meta.get("query") or mathvista_query(problem))
    if bench == "mathvision":
        return qa_cot(mathvision_query(problem))
    if bench == "mathverse":
        return qa_cot(mathverse_query(problem))
    if bench in ("mmmu", "dynamath", "logicvista", "wemath"):
        return qa_cot(problem.question)
    if problem.question_type == "multi_choice" and problem.choices:
        return mcq_cot(problem.question, problem.choices)
    if problem.question_type == "multi_choice":
        return f"{problem.question}\n{prompt_text('internvl_cot_mcq')}"
    return qa_cot(problem.question)


def internvl_cot(problem: Problem) -> str:
    """InternVL's chain-of-thought prompt used with VisualPRM Best-of-N (VLMEvalKit ``USE_COT=1``)."""
    return place_images(len(problem.images), internvl_cot_text(problem))


# ---------------------------------------------------------------------------------------- mathvista_official
MATHVISTA_HINT_FILES = ("mathvista_hint_multi_choice", "mathvista_hint_integer", "mathvista_hint_float_1",
                        "mathvista_hint_float_2", "mathvista_hint_list")


def mathvista_hint(problem: Problem) -> str:
    """The official zero-shot hint for the problem's question type, answer type and precision.

    Floats with a precision other than 1 or 2 (absent from testmini) and other answer types have no official
    hint; they get MathVision-style "provide the final answer at the end".
    """
    if problem.question_type == "multi_choice":
        return prompt_text("mathvista_hint_multi_choice")
    if problem.answer_type == "integer":
        return prompt_text("mathvista_hint_integer")
    if problem.answer_type == "float" and problem.precision in (1, 2):
        return prompt_text(f"mathvista_hint_float_{problem.precision}")
    if problem.answer_type == "list":
        return prompt_text("mathvista_hint_list")
    return prompt_text("mathvision_hint_qa")


def mathvista_query(problem: Problem) -> str:
    """``Hint: ...\\nQuestion: ... (Unit: u)\\nChoices:\\n(A) ...`` — the hub's ``query`` column format."""
    question = f"Question: {problem.question}" + (f" (Unit: {problem.unit})" if problem.unit else "")
    parts = [mathvista_hint(problem), question]
    if problem.choices:
        parts.append("\n".join(["Choices:", *(f"({letter}) {c}" for letter, c in
                                              zip(letters(len(problem.choices)), problem.choices, strict=True))]))
    return "\n".join(parts)


def mathvista_official(problem: Problem) -> str:
    return place_images(len(problem.images), mathvista_query(problem))


PROMPT_SETS.register("internvl_cot", PromptSet(internvl_cot, (
    "internvl_cot_mcq", "internvl_cot_qa", "internvl_cot_mathverse_rewrite", "mathvision_hint_mcq",
    "mathvision_hint_qa", *MATHVISTA_HINT_FILES)))
PROMPT_SETS.register("mathvista_official", PromptSet(mathvista_official, (*MATHVISTA_HINT_FILES, "mathvision_hint_qa")))


def build_prompt(problem: Problem, prompt_set: str = "internvl_cot") -> str:
    """The policy prompt for ``problem`` under the named prompt set."""
    return PROMPT_SETS.get(prompt_set).build(problem)


def content_parts(prompt: str, n_images: int) -> list[dict[str, object]]:
    """Chat-template content parts of a prompt with ``<image>`` placeholders, in order.

    Why: chat templates of InternVL's -hf checkpoints render an image item as ``<IMG_CONTEXT>\\n``, so the
    newline that follows a placeholder in our prompt text is dropped here; the rendered text is then the
    same as the engines' (TRL datasets and the processor's template agree with what was sampled).

    >>> content_parts("<image>\\nHow many?", 1)
    [{'type': 'image'}, {'type': 'text', 'text': 'How many?'}]
    """
    pieces = prompt.split(IMAGE_PLACEHOLDER)
    if len(pieces) - 1 != n_images:
        raise ValueError(f"prompt has {len(pieces) - 1} <image> placeholders for {n_images} images")
    parts: list[dict[str, object]] = []
    for i, piece in enumerate(pieces):
        if i > 0:
            parts.append({"type": "image"})
            piece = piece[1:] if piece.startswith("\n") else piece
        if piece:
            parts.append({"type": "text", "text": piece})
    return parts
