"""Prompt texts (files under ``prompts/``, referenced by name) and the policy prompt of a problem.

Prompt wording decides benchmark numbers, so the texts live in plain files that reviewers can diff, not
in code. A file's text is its content with one trailing newline removed. In a source checkout the files
are read from ``<repo>/prompts``; an installed wheel carries them as ``tts/_prompts``.

The policy prompt returned by :func:`build_prompt` is plain text in which every image appears as the
literal placeholder ``<image>`` (InternVL's convention); engines turn each placeholder into their model's
image tokens, in order.

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


def internvl_cot(problem: Problem) -> str:
    """InternVL's chain-of-thought prompt used with VisualPRM Best-of-N (VLMEvalKit ``USE_COT=1``)."""
    if problem.question_type == "multi_choice" and problem.choices:
        options = "\n".join(f"{letter}. {choice}" for letter, choice in zip(letters(len(problem.choices)), problem.choices))
        body = f"{problem.question}\n{options}\n{prompt_text('internvl_cot_mcq')}"
    elif problem.question_type == "multi_choice":
        body = f"{problem.question}\n{prompt_text('internvl_cot_mcq')}"
    else:
        body = f"{problem.question}\n{prompt_text('internvl_cot_qa')}"
    return with_image_placeholders(problem, body)


PROMPT_SETS.register("internvl_cot", PromptSet(internvl_cot, ("internvl_cot_mcq", "internvl_cot_qa")))


def build_prompt(problem: Problem, prompt_set: str = "internvl_cot") -> str:
    """The policy prompt for ``problem`` under the named prompt set."""
    return PROMPT_SETS.get(prompt_set).build(problem)
