"""The final answer of a free-text response, by strength of evidence; never a guess.

Order: the last balanced ``\\boxed{...}`` (the InternVL CoT prompt ends with ``Answer: \\boxed{...}``), an
``<answer>`` tag or a JSON ``"short answer"`` (other tools' formats), an "Answer:" / "the answer is" /
"final answer is" line, a short response that is the answer itself, then for multiple choice an option
letter in a common form or an option's text on the last line, then math-verify's extraction (expression
answers), the last list (list answers) or the last number (integer and float answers). Nothing found is
``Extraction(None, "none")``, which grades as wrong with reason "no answer".

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="1", benchmark="demo", split="test", question="q", answer="5", answer_type="integer")
    >>> extract_answer("So there are 5 circles.\\nAnswer: \\\\boxed{5}", p)
    Extraction(answer='5', method='boxed')
    >>> extract_answer("I count the red ones: 2 + 3 = 5", p)
    Extraction(answer='5', method='last_number')
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tts.grading import symbolic
from tts.grading.choice import is_letter_list, option_count, options_from_question, parse_letters
from tts.grading.numeric import parse_number
from tts.grading.text import clean, find_boxes, fix_unicode, last_boxed, text_key
from tts.records import Problem

MAX_RESPONSE_CHARS = 20000


@dataclass(frozen=True)
class Extraction:
    """An extracted answer (None when there is none) and the evidence it came from."""

    answer: str | None
    method: str


NO_ANSWER = Extraction(None, "none")

_TAG = re.compile(r"<answer>\s*(.*?)\s*</answer>", re.DOTALL | re.IGNORECASE)
_JSON_KEY = re.compile(r'"short[ _]answer"\s*:\s*("(?:[^"\\]|\\.){0,400}"|-?[\d.]+)', re.IGNORECASE)
_CUES = (
    re.compile(r"(?im)^[ \t>#*_-]*(?:\*\*)?<?(?:final\s+)?answer>?(?:\*\*)?\s*[:：](?:\*\*)?[ \t]*(?P<a>\S[^\n]*)$"),
    re.compile(
        r"(?i)\b(?:final|correct)\s+(?:answer|option|choice)s?(?:\s+to\s+the\s+question)?\s*(?:is|are|should\s+be|would\s+be|will\s+be|=|:)"
        r"\s*:?[ \t]*(?P<a>\S[^\n]*)"
    ),
    re.compile(r"(?i)\bthe\s+answers?\s*(?:is|are|should\s+be|would\s+be|will\s+be)\s*:?[ \t]*(?P<a>\S[^\n]*)"),
    re.compile(r"(?i)\banswer>?\s*[:：][ \t]*(?P<a>\S[^\n]*)"),
)
_SENTENCE_END = re.compile(
    r"(?<!\\)\.\s+(?=[A-Z(])|\s+(?:because|since|as it|which|so that)\s|\s+is\s+(?:the\s+)?(?:correct|right|true)\b"
    r"|\.?\s*I hope it is correct|<\|",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(r"^(?:(?:is|be|that|then|therefore|thus|so)\b[\s:,]*)+", re.IGNORECASE)
_LAST_IS = re.compile(r"(?i)^(?:[a-z][\w\s$\\{}^']{0,60}?)\s(?:is|equals|=|are)\s+(?P<v>\S.*)$")
_LETTER_CUES = (
    re.compile(r"(?i)\b(?:option|choice)\s*[:\s]\s*\(?(?P<l>(?-i:[A-J]))\)?(?![\w'])"),
    re.compile(r"(?i)\b(?:option|choice)\s*\((?P<l>(?-i:[A-J]))\)"),
    re.compile(r"(?:^|\s)\((?P<l>[A-J])\)(?=[\s.,:;!]|$)"),
    re.compile(r"(?m)^\W{0,4}(?P<l>[A-J])\s*[.:)](?=\s|$)"),
    re.compile(
        r"(?i)\b(?:answer|option|choice)\s+(?:is|would\s+be|should\s+be)\s*:?\s*\**\(?(?P<l>(?-i:[A-J]))\)?\**(?![\w'])"
    ),
)
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:\s*%)?")
_LIST = re.compile(r"\[[^\[\]\n]{1,300}\]")
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


def _answer_span(raw: str) -> str:
    """Trim an "Answer: ..." tail to the answer itself (markdown, filler words, trailing sentence)."""
    a = raw.strip().strip("*_").strip()
    a = _LEADING_FILLER.sub("", a).strip()
    m = _SENTENCE_END.search(a)
    if m:
        a = a[: m.start()]
    a = a.strip().strip("*_").rstrip(".").strip()
    m = _LAST_IS.match(a)
    if m and "$" not in a[: m.start("v")].replace("$", "", 2) and len(_WORD.findall(a[: m.start("v")])) >= 2:
        a = m.group("v").strip().rstrip(".")
    return a


def _answer_line(text: str) -> tuple[int, str] | None:
    """The last "Answer: ..." / "the answer is ..." statement: its position and its trimmed answer."""
    best: tuple[int, str] | None = None
    for pattern in _CUES:
        for m in pattern.finditer(text):
            if best is None or m.start("a") > best[0]:
                best = (m.start("a"), m.group("a"))
    if best is None:
        return None
    span = _answer_span(best[1])
    return (best[0], span) if clean(span) else None


def _json_short_answer(text: str) -> str | None:
    matches = list(_JSON_KEY.finditer(text))
    if not matches:
        return None
    raw = matches[-1].group(1)
    if raw.startswith('"'):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raw = raw.strip('"')
    return str(raw).strip() or None


def _nonempty_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# A sentence that commits to an answer ("..., so the next shape is a star, D.", "Therefore, B.", "which is C.").
_COMMIT = re.compile(
    r"(?i)\b(?:so|thus|therefore|hence|which\s+is|which\s+corresponds\s+to|corresponding\s+to|i\.e\.|that\s+is|"
    r"is\s+option|answer\s+is|choose|select|pick|go\s+with)\b"
)
_NOT_COMMITTED = re.compile(
    r"(?i)\b(?:check|consider|look|examine|test|try|verify|compare|eliminate|rule|exclude|not|isn't|cannot|can't|"
    r"unless|whether|if)\b"
)
_END_LETTER = re.compile(r"(?:^|[\s,(:])(?:(?i:option|choice)\s+)?\(?(?P<l>[A-J])\)?\s*[.!]?\s*$")
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])|\n+")


def _last_sentence(text: str) -> str:
    parts = [p.strip() for p in _SENTENCES.split(text.strip()[-2000:]) if p.strip()]
    return parts[-1] if parts else ""


def _committed_letter(text: str, n_options: int) -> str | None:
    """The option letter the last sentence commits to: it ends with the letter and says so/therefore/which is."""
    sentence = _last_sentence(text)
    m = _END_LETTER.search(sentence)
    if not m or m.group("l") not in "ABCDEFGHIJ"[: max(1, min(n_options, 10))]:
        return None
    before = sentence[: m.start("l")]
    if not before.strip(" ("):
        return m.group("l")
    commits = list(_COMMIT.finditer(before))
    if not commits or _NOT_COMMITTED.search(before[commits[-1].end() :]):
        return None  # "so we still have to check option D." names D without choosing it
    return m.group("l")


_COMMIT_TEXT = re.compile(
    r"(?i)(?:^|[\s,;])(?:so|thus|therefore|hence|which\s+is)\s*,?\s+(?P<a>[^\s,;.][^,;]{0,40}?)\s*[.!]?\s*$"
)


def _committed_text(text: str) -> str | None:
    """A short answer the last sentence commits to ("The graph mirrors across x = 0, so yes.")."""
    m = _COMMIT_TEXT.search(_last_sentence(text))
    if not m or len(m.group("a").split()) > 4:
        return None
    return m.group("a").strip()


_NUM = r"-?\d+(?:\.\d+)?"
_PROSE_LIST = re.compile(rf"(?<![\w.])({_NUM}(?:\s*,\s*{_NUM})*)\s*,?\s+and\s+({_NUM})(?!\w|\.\d)")


def _prose_list(text: str) -> str | None:
    """The last list written in words in the final sentence ("in 1998 and 2003" → "1998, 2003")."""
    found = list(_PROSE_LIST.finditer(fix_unicode(_last_sentence(text))))
    if not found:
        return None
    m = found[-1]
    return ", ".join([x.strip() for x in m.group(1).split(",")] + [m.group(2)])


_ASSIGN = re.compile(rf"\b([a-z])\s*=\s*({_NUM}(?:/\d+)?)(?!\w|\.\d)")
_JOIN = re.compile(r"^\s*(?:,|;|\band\b|\bor\b|,\s*and\b|,\s*or\b)\s*$")


def _assignments(text: str) -> str | None:
    """Values given to variables in the final sentence: "x = -1 and y = 2" → "(-1, 2)" (a point),
    "x = 3 or x = -2" → "3, -2" (the solutions of one variable)."""
    sentence = fix_unicode(_last_sentence(text))
    found = list(_ASSIGN.finditer(sentence))
    best: list[re.Match[str]] = []
    for m in found:
        if best and _JOIN.match(sentence[best[-1].end() : m.start()]):
            best.append(m)
        else:
            best = [m]
    if len(best) < 2:
        return None
    names = [m.group(1) for m in best]
    values = [m.group(2) for m in best]
    if len(set(names)) == 1:
        return ", ".join(values)
    if len(set(names)) == len(names):
        return "(" + ", ".join(values) + ")"
    return None


def _letter(text: str, n_options: int) -> str | None:
    lines = _nonempty_lines(text)
    if not lines:
        return None
    committed = _committed_letter(text, n_options)
    if committed is not None:
        return committed
    sentence = _last_sentence(text)
    if _END_LETTER.search(sentence) and _NOT_COMMITTED.search(sentence):
        return None  # the response ends naming an option it does not choose
    last = lines[-1].strip("*_ #>").strip()
    letters = parse_letters(last, n_options)
    if letters is not None:
        return ", ".join(sorted(letters))
    valid = set("ABCDEFGHIJ"[: max(1, min(n_options, 10))])
    tail = "\n".join(lines[-2:])
    found: list[tuple[int, str]] = []
    for pattern in _LETTER_CUES:
        found.extend((m.start("l"), m.group("l").upper()) for m in pattern.finditer(tail))
    distinct = {letter for _, letter in found if letter in valid}
    if len(distinct) == 1:
        return distinct.pop()
    # No cue, no letter line: a capital letter inside a sentence ("Point D is the midpoint") names a point
    # or a label as often as an option, so it is not taken as the answer (never guess).
    return None


def _option_text(text: str, options: tuple[str, ...]) -> str | None:
    lines = _nonempty_lines(text)
    if not lines or not options:
        return None
    line = " " + text_key(lines[-1]) + " "
    hits = []
    for opt in options:
        key = text_key(opt)
        if not key:
            continue
        if len(key) < 2 and not key.isdigit() and line.strip() != key:
            continue
        if f" {key} " in line:
            hits.append(opt)
    keys = {text_key(h) for h in hits}
    if len(keys) == 1:
        return hits[-1]
    return None


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
        return s if parse_number(s) is not None or len(_WORD.findall(s)) <= 1 else None
    if problem.answer_type == "list":
        return s if any(c.isdigit() for c in s) else None
    if problem.answer_type == "expression" and (_sentence_like(s) or not _looks_like_math(s)):
        return None
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


def extract_answer(response: str, problem: Problem) -> Extraction:
    """The final answer of ``response`` for ``problem`` and how it was found (see the module docstring)."""
    if not isinstance(response, str) or not response.strip():
        return NO_ANSWER
    text = response[-MAX_RESPONSE_CHARS:]
    boxes = find_boxes(text)
    boxed = last_boxed(text, boxes)
    if boxed is not None and clean(boxed):
        after = boxes[-1][1]
        later = _answer_line(text[after:])  # an answer statement written after the last box wins
        if later is None or not _states_an_answer(later[1], problem):
            return Extraction(boxed.strip(), "boxed")
        return Extraction(_refine(later[1], problem), "answer_line")
    line = _answer_line(text)
    tags = _TAG.findall(text)
    if tags and clean(tags[-1]):
        return Extraction(tags[-1].strip(), "answer_tag")
    short = _json_short_answer(text)
    if short is not None and clean(short):
        return Extraction(short, "json")
    if line is not None:
        return Extraction(_refine(line[1], problem), "answer_line")
    options = problem_options(problem)
    whole = _short_whole(text, problem, options)
    if whole is not None:
        return Extraction(whole, "whole")
    if _is_multi_choice(problem):
        letter = _letter(text, option_count(problem.choices, options))
        if letter is not None:
            return Extraction(letter, "letter")
        opt = _option_text(text, options)
        if opt is not None:
            return Extraction(opt, "option_text")
        return NO_ANSWER
    if problem.answer_type == "list":
        lists = _LIST.findall(text)
        if lists:
            return Extraction(lists[-1], "last_list")
        prose = _prose_list(text)
        if prose is not None:
            return Extraction(prose, "prose_list")
    if problem.answer_type in ("integer", "float", "list"):
        number = _last_number(text)
        return Extraction(number, "last_number") if number is not None else NO_ANSWER
    if problem.answer_type == "expression":
        assigned = _assignments(text)
        if assigned is not None:
            return Extraction(assigned, "assignments")
        out = symbolic.extract(text)
        if out.status == "ok" and out.value:
            return Extraction(str(out.value), "math_verify")
    if problem.answer_type == "text":
        committed = _committed_text(text)
        if committed is not None:
            return Extraction(committed, "committed")
    return NO_ANSWER
