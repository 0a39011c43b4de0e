"""Prompt texts (files under ``prompts/``, referenced by name) and the policy prompt of a problem.

Prompt wording decides benchmark numbers, so the texts live in plain files that reviewers can diff, not
in code. A file's text is its content with one trailing newline removed. In a source checkout the files
are read from ``<repo>/prompts``; an installed wheel carries them as ``tts/_prompts``.

The policy prompt returned by :func:`build_prompt` is plain text in which every image appears as the
literal placeholder ``<image>`` (InternVL's convention), exactly once per image and in the order of
``problem.images``; engines turn each placeholder into their model's image tokens, in order.

Prompt sets (each names the upstream code it reproduces; ``tts report`` prints it):

``internvl_cot`` (default; the reproduction set)
    The chain-of-thought prompt InternVL uses with VisualPRM Best-of-N, as VLMEvalKit built it at InternVL3's
    release — ``open-compass/VLMEvalKit@3b6bca0f`` (2025-04-29), ``vlmeval/vlm/internvl/internvl_chat.py``
    ``InternVLChat.build_prompt`` with ``USE_COT=1`` (forced on by ``best_of_n > 1``) and ``utils.py``:

    - MMMU, WeMath — ``MCQ`` datasets: ``build_multi_choice_prompt`` (question, ``A. ...`` option lines, then
      ``Answer with the option's letter from the given choices directly.`` or, when the text contains Chinese,
      ``请直接回答选项字母。``; with no options — MMMU's open questions — ``Answer the question directly.`` /
      ``请直接回答问题。``), then ``build_mcq_cot_prompt``: the English letter phrase removed, the text stripped,
      ``\n`` + the MCQ CoT instruction. So open questions end ``Answer the question directly.\n`` + the MCQ
      instruction and a Chinese question keeps ``请直接回答选项字母。``, exactly as that code does.
    - MathVista: the hub ``query`` (zero-shot hint + question + ``Choices:``), then the QA CoT instruction.
    - MathVision: ``Hint: ...\nQuestion: ...`` (+ ``Choices:\n(A) ...``), then the QA CoT instruction.
    - MathVerse: the hub ``query_wo`` as it is (Vision Only: ``... please directly answer the question and
      provide the correct option letter, e.g., A, B, C, D.``), then the QA CoT instruction.
    - DynaMath, LogicVista: the question as stored, then the QA CoT instruction.
    - any other benchmark (``demo``): multiple choice as an MCQ dataset, anything else as a CoT VQA dataset.

    Images are placed as VLMEvalKit's ``reorganize_prompt`` does: one image → ``<image>\n`` before the text;
    several → ``Image-1: <image>\nImage-2: <image>\n...`` before the text, whose own ``<image k>`` /
    ``<image1>`` references are left verbatim.

``internvl_cot_2509``
    VLMEvalKit from 2025-09-01 on (PR #1203 with 0c17d44c; read at e8e78f05): the same routing, but MathVerse's
    ``please directly answer the question and`` becomes ``please`` (InternVL only). The same release moved the
    Best-of-N sampling temperature from 0.7 to 0.6: a recipe setting (``recipes/*_vlmevalkit-2509.yaml``).

``internvl_cot_open_qa``
    ``internvl_cot`` with one deliberate departure chosen before the reproduction was pinned: MMMU open
    questions get the open-question (``FINAL_ANSWER``) CoT instruction instead of "Answer the question
    directly." + the multiple-choice one (which asks for a letter where there are no options).

``mathvista_official``
    MathVista's official zero-shot query (``evaluation/build_query.py``, as stored in the hub's ``query``
    column): ``Hint: ...`` chosen by question type, answer type and precision, ``Question: ...`` with
    `` (Unit: ...)``, and ``Choices:\n(A) ...``; no CoT instruction.

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="x", benchmark="demo", split="test", question="What is 1+1?", images=("a.png",))
    >>> build_prompt(p).splitlines()[:2]
    ['<image>', 'What is 1+1?']
"""

from __future__ import annotations

import functools
import hashlib
import re
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
    """A named way to turn a problem into the policy prompt, the prompt files it reads, and what it reproduces.

    ``reference`` names the upstream code the set follows; ``routing`` versions the behaviour that lives in code
    (which benchmark gets which text), so changing it changes the fingerprint even when no file changes;
    ``departures`` lists, in words, where the set deliberately differs from its reference (empty: faithful).
    """

    build: Callable[[Problem], str]
    files: tuple[str, ...]
    reference: str = ""
    routing: str = ""
    departures: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """Hash of the routing and the files' texts: bound into a run so a resumed run never mixes prompts."""
        texts = "\n".join(f"{name}\n{prompt_text(name)}" for name in sorted(self.files))
        return text_hash(f"{self.routing}\n{texts}" if self.routing else texts)

    def describe(self) -> dict[str, object]:
        """What a report prints about the set."""
        return {"reference": self.reference, "departures": list(self.departures), "faithful": not self.departures}


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
VLMEVALKIT_MCQ_BENCHMARKS = ("mmmu", "wemath")
"""Benchmarks VLMEvalKit types ``MCQ`` (``MMMUDataset``, ``WeMath``): every question takes the MCQ path."""
_CHINESE = re.compile("[\u4e00-\u9fff]")  # VLMEvalKit ``cn_string``


def cn_string(text: str) -> bool:
    """VLMEvalKit's test for Chinese text (a CJK unified ideograph anywhere).

    >>> cn_string("请直接回答"), cn_string("Answer")
    (True, False)
    """
    return bool(_CHINESE.search(text))


def multi_choice_prompt(question: str, choices: tuple[str, ...]) -> str:
    """VLMEvalKit ``build_multi_choice_prompt`` (no hint column): the question, ``A. ...`` option lines and a
    direct-answer phrase, Chinese when the text is."""
    prompt = question + "".join(f"\n{letter}. {choice}" for letter, choice in zip(letters(len(choices)), choices, strict=True))
    kind = "letter" if choices else "direct"
    suffix = f"vlmevalkit_mcq_{kind}_zh" if cn_string(prompt) else f"vlmevalkit_mcq_{kind}"
    return f"{prompt}\n{prompt_text(suffix)}"


def mcq_cot(question: str, choices: tuple[str, ...]) -> str:
    """VLMEvalKit ``build_multi_choice_prompt`` + ``build_mcq_cot_prompt``: the English letter phrase removed
    (every occurrence; the Chinese one and "Answer the question directly." stay), stripped, the MCQ instruction."""
    prompt = multi_choice_prompt(question, choices).replace(prompt_text("vlmevalkit_mcq_letter"), "").strip()
    return f"{prompt}\n{prompt_text('internvl_cot_mcq')}"


def qa_cot(text: str) -> str:
    """VLMEvalKit ``build_qa_cot_prompt``."""
    return f"{text}\n{prompt_text('internvl_cot_qa')}"


def mathverse_query(problem: Problem, rewrite: bool = False) -> str:
    """``query_wo`` (falls back to the question); ``rewrite``: PR #1203's phrase replacement."""
    query = problem.meta.get("query_wo") or problem.question
    if rewrite:
        source, target = prompt_text("internvl_cot_mathverse_rewrite").split("\n")
        query = query.replace(source, target)
    return query


def mathvision_query(problem: Problem) -> str:
    """VLMEvalKit's MathVision question: ``Hint: ...\\nQuestion: ...`` plus ``Choices:`` for options."""
    if problem.choices:
        options = "\n".join(f"({letter}) {c}" for letter, c in zip(letters(len(problem.choices)), problem.choices, strict=True))
        return f"{prompt_text('mathvision_hint_mcq')}\nQuestion: {problem.question}\nChoices:\n{options}"
    return f"{prompt_text('mathvision_hint_qa')}\nQuestion: {problem.question}"


@dataclass(frozen=True)
class CotRouting:
    """The knobs in which the ``internvl_cot*`` sets differ."""

    mathverse_rewrite: bool = False  # VLMEvalKit PR #1203 (2025-09-01)
    mmmu_open_qa: bool = False  # MMMU open questions take the QA instruction (a departure from VLMEvalKit)


def internvl_cot_text(problem: Problem, routing: CotRouting = CotRouting()) -> str:
    """The CoT prompt text before images are placed (see the module docstring for the routing)."""
    bench = problem.benchmark
    if bench in VLMEVALKIT_MCQ_BENCHMARKS:
        if routing.mmmu_open_qa and bench == "mmmu" and not problem.choices:
            return qa_cot(problem.question)
        return mcq_cot(problem.question, problem.choices)
    if bench == "mathvista":
        return qa_cot(problem.meta.get("query") or mathvista_query(problem))
    if bench == "mathvision":
        return qa_cot(mathvision_query(problem))
    if bench == "mathverse":
        return qa_cot(mathverse_query(problem, routing.mathverse_rewrite))
    if bench in ("dynamath", "logicvista"):
        return qa_cot(problem.question)
    if problem.question_type == "multi_choice":
        return mcq_cot(problem.question, problem.choices)
    return qa_cot(problem.question)


def internvl_cot_builder(routing: CotRouting) -> Callable[[Problem], str]:
    def build(problem: Problem) -> str:
        return place_images(len(problem.images), internvl_cot_text(problem, routing))

    return build


def internvl_cot(problem: Problem) -> str:
    """InternVL's chain-of-thought prompt used with VisualPRM Best-of-N (VLMEvalKit@3b6bca0f, ``USE_COT=1``)."""
    return internvl_cot_builder(CotRouting())(problem)


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


VLMEVALKIT_RELEASE = "open-compass/VLMEvalKit@3b6bca0f (2025-04-29, InternVL3's release)"
_COT_FILES = ("internvl_cot_mcq", "internvl_cot_qa", "vlmevalkit_mcq_letter", "vlmevalkit_mcq_letter_zh",
              "vlmevalkit_mcq_direct", "vlmevalkit_mcq_direct_zh", "mathvision_hint_mcq", "mathvision_hint_qa",
              *MATHVISTA_HINT_FILES)
PROMPT_SETS.register("internvl_cot", PromptSet(
    internvl_cot, _COT_FILES, reference=VLMEVALKIT_RELEASE, routing="vlmevalkit-3b6bca0f"))
PROMPT_SETS.register("internvl_cot_2509", PromptSet(
    internvl_cot_builder(CotRouting(mathverse_rewrite=True)), (*_COT_FILES, "internvl_cot_mathverse_rewrite"),
    reference="open-compass/VLMEvalKit since 2025-09-01 (PR #1203, 0c17d44c; read at e8e78f05)",
    routing="vlmevalkit-2509"))
PROMPT_SETS.register("internvl_cot_open_qa", PromptSet(
    internvl_cot_builder(CotRouting(mmmu_open_qa=True)), _COT_FILES, reference=VLMEVALKIT_RELEASE,
    routing="vlmevalkit-3b6bca0f+mmmu-open-qa",
    departures=("MMMU open questions get the open-question CoT instruction (VLMEvalKit: 'Answer the question "
                "directly.' + the multiple-choice instruction)",)))
PROMPT_SETS.register("mathvista_official", PromptSet(
    mathvista_official, (*MATHVISTA_HINT_FILES, "mathvision_hint_qa"),
    reference="lupantech/MathVista evaluation/build_query.py (zero-shot query, the hub's query column)",
    departures=("MathVista's own zero-shot prompt, not the InternVL CoT prompt of the model card's evaluation",)))


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
