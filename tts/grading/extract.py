"""The final answer of a free-text response, by strength of evidence; never a guess.

Order: the last balanced ``\\boxed{...}`` (the InternVL CoT prompt ends with ``Answer: \\boxed{...}``), an
``<answer>`` tag or a JSON ``"short answer"`` (other tools' formats), an "Answer:" / "the answer is" /
"final answer is" / "答案是" line (unless a later last sentence commits to another option: the last committed
answer counts), a short response that is the answer itself, then what the last sentence commits to
(:mod:`tts.grading.prose`): for multiple choice an option letter or letters, an option named by its text, a
yes/no, or a number to match against the options' values; for lists the last list; for numbers the last
number of the last sentence, in digits or words, with its unit; for expressions the math the last sentence
states, else math-verify's extraction; for text the answer the last sentence states ("X is Y"). Nothing
found is ``Extraction(None, "none")``, which grades as wrong with reason "no answer". Two readings follow:
a value the response's own list of options names ("A: 2, B: 3, C: 4 ... the answer is 4" → C), and an
intercept given as its point ("(0, -2)" for a y-intercept).

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="1", benchmark="demo", split="test", question="q", answer="5", answer_type="integer")
    >>> extract_answer("So there are 5 circles.\\nAnswer: \\\\boxed{5}", p)
    Extraction(answer='5', method='boxed')
    >>> extract_answer("I count the red ones: 2 + 3 = 5", p)
    Extraction(answer='5', method='last_number')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts.grading import symbolic
from tts.grading.choice import (
    is_letter_list,
    letter_of_value,
    named_option,
    option_count,
    options_from_question,
    parse_letters,
)
from tts.grading.commitments import (
    committed_letter,
    committed_letters,
    letter_subject,
    names_letter_without_choosing,
    statement_verdicts,
)
from tts.grading.numeric import parse_number
from tts.grading.prose import (
    assignments,
    chain_answer,
    committed_text,
    final_math,
    final_number,
    final_text,
    intercept_value,
    is_yes_no_question,
    last_sentence,
    prose_list,
    spelled_number,
    yes_no,
)
from tts.grading.statements import TAG, answer_line, json_short_answer
from tts.grading.text import clean, find_boxes, fix_unicode, last_boxed, text_key
from tts.records import Problem

MAX_RESPONSE_CHARS = 20000


@dataclass(frozen=True)
class Extraction:
    """An extracted answer (None when there is none) and the evidence it came from."""

    answer: str | None
    method: str


NO_ANSWER = Extraction(None, "none")

_LETTER_CUES = (
    re.compile(r"(?i)\b(?:option|choice)\s*[:\s]\s*\(?(?P<l>(?-i:[A-J]))\)?(?![\w'])"),
    re.compile(r"(?i)\b(?:option|choice)\s*\((?P<l>(?-i:[A-J]))\)"),
    re.compile(r"(?:^|\s)\((?P<l>[A-J])\)(?=[\s.,:;!]|$)"),
    re.compile(r"(?m)^\W{0,4}(?P<l>[A-J])\s*[.:)](?=\s|$)"),
    re.compile(
        r"(?i)\b(?:answer|option|choice)\s+(?:is|would\s+be|should\s+be)\s*:?\s*\**\(?(?P<l>(?-i:[A-J]))\)?\**(?![\w'])"
    ),
)
# "Option B says 8, but I count 9": an option named before a contrast is set aside, not chosen.
_CONTRAST = re.compile(r"(?i)^[^.!?]*?\b(?:but|however|although|though|whereas|yet)\b")
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:\s*%)?")
_LIST = re.compile(r"\[[^\[\]\n]{1,300}\]")
_RHS = re.compile(r"=|≈|\\approx")
_WORD = re.compile(r"[A-Za-z]{2,}")


def _is_multi_choice(problem: Problem) -> bool:
    return problem.question_type == "multi_choice"


def problem_options(problem: Problem) -> tuple[str, ...]:
    """The option texts of a problem: its ``choices`` unless they are bare letters, else those in its question."""
    if problem.choices and not is_letter_list(problem.choices):
        return tuple(problem.choices)
    if problem.question_type == "multi_choice":
        return options_from_question(problem.question)
    return ()


def _nonempty_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _letter(text: str, n_options: int) -> str | None:
    lines = _nonempty_lines(text)
    if not lines:
        return None
    several = (committed_letters(text, n_options) or letter_subject(text, n_options)
               or statement_verdicts(text, n_options))
    if several is not None:
        return ", ".join(sorted(several))
    committed = committed_letter(text, n_options)
    if committed is not None:
        return committed
    if names_letter_without_choosing(text):
        return None  # the response ends naming an option it does not choose
    last = lines[-1].strip("*_ #>").strip()
    letters = parse_letters(last, n_options)
    if letters is not None:
        return ", ".join(sorted(letters))
    valid = set("ABCDEFGHIJ"[: max(1, min(n_options, 10))])
    tail = "\n".join(lines[-2:])
    found: list[tuple[int, str]] = []
    for pattern in _LETTER_CUES:
        found.extend((m.start("l"), m.group("l").upper()) for m in pattern.finditer(tail)
                     if not _CONTRAST.search(tail[m.end() : m.end() + 200].split("\n")[0]))
    distinct = {letter for _, letter in found if letter in valid}
    if len(distinct) == 1:
        return distinct.pop()
    # No cue, no letter line: a capital letter inside a sentence ("Point D is the midpoint") names a point
    # or a label as often as an option, so it is not taken as the answer (never guess).
    return None


def _option_text(text: str, options: tuple[str, ...], question: str) -> str | None:
    """The one option the end of the response names by its text (whole, or by its own distinctive words)."""
    lines = _nonempty_lines(text)
    if not lines or not options:
        return None
    return (named_option(lines[-1], options, question=question)
            or named_option(last_sentence(text), options, partial=True, question=question))


def _short_whole(text: str, problem: Problem, options: tuple[str, ...]) -> str | None:
    """A short one-line response that is itself an answer of the problem's kind ("B", "14", "6 cm")."""
    s = text.strip()
    if "\n" in s or len(s) > 60 or len(s.split()) > 6 or not clean(s):
        return None
    if _is_multi_choice(problem):
        n = option_count(problem.choices, options)
        if parse_letters(s, n) or (options and any(text_key(o) == text_key(s) for o in options)):
            return s
        return s if parse_number(s) is not None else None
    if problem.answer_type in ("integer", "float"):
        if "=" in s or "≈" in s:  # "f(2) = 3.0", "tan θ = √3 ≈ 1.7321": the value at the end
            s = _RHS.split(s)[-1].strip()
        return s if parse_number(s) is not None or len(_WORD.findall(s)) <= 1 else None
    if problem.answer_type == "list":
        return s if any(c.isdigit() for c in s) else None
    if problem.answer_type == "expression":
        if _sentence_like(s) or not _looks_like_math(s):
            return None
        if _RHS.search(s) and not any(d in s for d in ("$", "\\(", "\\[", "\\boxed")):
            return chain_answer(fix_unicode(s).rstrip(".").strip())
        return s
    return s


_MATH_MARKS = set("0123456789\\^+-*/=()[]{}<>_|$π√∞")
_SYMBOL = re.compile(r"^[A-Za-z]{1,2}$")


def _looks_like_math(s: str) -> bool:
    """Whether a short line could be a mathematical answer: a digit, an operator or LaTeX, or a lone symbol
    ("x", "pi"); "unknown" or "I think" is not one."""
    s = s.strip().rstrip(".")
    return any(c in _MATH_MARKS for c in s) or bool(_SYMBOL.match(s))


_PROSE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")


def _sentence_like(raw: str) -> bool:
    """Words around math ("Answer 9", "Soucis : 2,74") or plain prose ("I don't know"): not an answer.

    Text inside math delimiters ("$\\text{Even}$") is taken as the answer it is written as.
    """
    s = clean(raw)
    words = _PROSE.findall(s)
    if any(c.isdigit() for c in s):
        return bool(words) and not parse_number(s)
    delimited = any(d in raw for d in ("$", "\\(", "\\[", "\\boxed"))
    return len(words) >= 2 and not delimited


def _last_number(text: str) -> str | None:
    matches = _NUMBER.findall(fix_unicode(text))
    return matches[-1].strip() if matches else None


def _states_an_answer(span: str, problem: Problem) -> bool:
    """Whether an answer statement written after the last box names an answer itself (then it wins)."""
    s = clean(span)
    if _is_multi_choice(problem):
        return parse_letters(s, option_count(problem.choices, problem_options(problem))) is not None
    if problem.answer_type == "text":
        return len(s.split()) <= 6
    return any(c.isdigit() or c == "\\" for c in s)


def _refine(span: str, problem: Problem) -> str:
    """An answer statement that is a sentence ("The volume of $ABCD$ is 120") → its number or math."""
    if problem.answer_type == "text" or _is_multi_choice(problem) or len(_WORD.findall(clean(span))) < 3:
        return span
    if problem.answer_type in ("integer", "float"):
        return _last_number(span) or span
    if problem.answer_type == "expression":
        out = symbolic.extract(span)
        if out.status == "ok" and out.value:
            return str(out.value)
    return span


def _restated_option(text: str, answer: str, problem: Problem) -> str | None:
    """For options only the image shows: the letter the response's own list of options gives its answer
    ("The options are A: 2, B: 3, C: 4, D: 5. The answer is 4." → C)."""
    if problem_options(problem) or parse_letters(answer, option_count(problem.choices, ())) is not None:
        return None
    return letter_of_value(answer, options_from_question(text[-3000:]))


def _multi_choice(text: str, problem: Problem, options: tuple[str, ...]) -> Extraction:
    letter = _letter(text, option_count(problem.choices, options))
    if letter is not None:
        return Extraction(letter, "letter")
    opt = _option_text(text, options, problem.question)
    if opt is not None:
        return Extraction(opt, "option_text")
    if options and {text_key(o) for o in options} == {"yes", "no"}:
        said = yes_no(text, problem.question)
        if said is not None:
            return Extraction(said, "yes_no")
    number = final_number(text, problem.question)  # "There are eight dots." → the option whose value is 8
    if number is not None:
        return Extraction(number, "final_number")
    return NO_ANSWER


def _free_form(text: str, problem: Problem) -> Extraction:
    if problem.answer_type == "list":
        lists = _LIST.findall(text)
        if lists:
            return Extraction(lists[-1], "last_list")
        prose = prose_list(text)
        if prose is not None:
            return Extraction(prose, "prose_list")
    if problem.answer_type in ("integer", "float", "list"):
        number = final_number(text, problem.question) or _last_number(text)
        return Extraction(number, "last_number") if number is not None else NO_ANSWER
    if problem.answer_type == "expression":
        assigned = assignments(text)
        if assigned is not None:
            return Extraction(assigned, "assignments")
        stated = final_math(text) or spelled_number(text)
        if stated is not None:
            return Extraction(stated, "final_math")
        out = symbolic.extract(text)
        if out.status == "ok" and out.value:
            return Extraction(str(out.value), "math_verify")
    if problem.answer_type == "text":
        if is_yes_no_question(problem.question):
            said = yes_no(text, problem.question)
            if said is not None:
                return Extraction(said, "yes_no")
        committed = committed_text(text)
        if committed is not None:
            return Extraction(committed, "committed")
        stated = final_text(text) or final_math(text)
        if stated is not None:
            return Extraction(stated, "final_text")
    return NO_ANSWER


_CORRECTION = re.compile(r"(?i)\b(?:actually|wait|correction|on second thought|recount|re-?check|mistake|instead)\b")


def _correction(tail: str, problem: Problem) -> Extraction | None:
    """A self-correction written after the last box ("Actually, ... so there are 5."): the last committed
    answer counts, when the text after the box says it corrects itself and commits to an answer."""
    if not _CORRECTION.search(tail) or len(tail) > 2000:
        return None
    if _is_multi_choice(problem):
        n = option_count(problem.choices, problem_options(problem))
        letter = committed_letter(tail, n)
        return Extraction(letter, "correction") if letter is not None else None
    if problem.answer_type in ("integer", "float"):
        number = final_number(tail, problem.question)
        return Extraction(number, "correction") if number is not None else None
    if problem.answer_type == "expression":
        stated = final_math(tail)
        return Extraction(stated, "correction") if stated is not None else None
    return None


def _later_commitment(text: str, line: tuple[int, str], problem: Problem) -> str | None:
    """A letter the last sentence commits to after an earlier "the answer is A" ("..., so C."): it wins."""
    if not _is_multi_choice(problem):
        return None
    sentence = last_sentence(text)
    if not sentence or text.rfind(sentence) <= line[0]:
        return None
    letter = committed_letter(text, option_count(problem.choices, problem_options(problem)))
    return letter if letter is not None and letter != clean(line[1]) else None


def extract_answer(response: str, problem: Problem) -> Extraction:
    """The final answer of ``response`` for ``problem`` and how it was found (see the module docstring)."""
    found = _extract(response, problem)
    if found.answer is not None and _is_multi_choice(problem):
        letter = _restated_option(response[-MAX_RESPONSE_CHARS:], found.answer, problem)
        if letter is not None:
            return Extraction(letter, "restated_option")
    if found.answer is not None and problem.answer_type in ("integer", "float"):
        value = intercept_value(found.answer, problem.question)
        if value is not None:
            return Extraction(value, found.method)
    return found


def _extract(response: str, problem: Problem) -> Extraction:
    if not isinstance(response, str) or not response.strip():
        return NO_ANSWER
    text = response[-MAX_RESPONSE_CHARS:]
    boxes = find_boxes(text)
    boxed = last_boxed(text, boxes)
    if boxed is not None and clean(boxed):
        after = boxes[-1][1]
        later = answer_line(text[after:])  # an answer statement written after the last box wins
        if later is None or not _states_an_answer(later[1], problem):
            corrected = _correction(text[after:], problem)
            return corrected or Extraction(boxed.strip(), "boxed")
        return Extraction(_refine(later[1], problem), "answer_line")
    line = answer_line(text)
    tags = TAG.findall(text)
    if tags and clean(tags[-1]):
        return Extraction(tags[-1].strip(), "answer_tag")
    short = json_short_answer(text)
    if short is not None and clean(short):
        return Extraction(short, "json")
    if line is not None:
        later_letter = _later_commitment(text, line, problem)
        if later_letter is not None:
            return Extraction(later_letter, "letter")
        return Extraction(_refine(line[1], problem), "answer_line")
    options = problem_options(problem)
    whole = _short_whole(text, problem, options)
    if whole is not None:
        return Extraction(whole, "whole")
    if _is_multi_choice(problem):
        return _multi_choice(text, problem, options)
    return _free_form(text, problem)
