"""What the last sentence of a response states, when no box, tag or "Answer:" line says it.

Real chain-of-thought outputs often end in prose: "The age gap between them is seven years.", "The city
marked is Tampa, Florida.", "so the function is not continuous at x = 0.", "Area = 4π square units.". A
careful grader reads the final sentence; these readers do the same and return None rather than guess: a
number only when it is the last number of the final sentence (or the one whose subject is the question's),
in digits or words, with its unit; a text only when the sentence states it ("X is Y"); math only when the
sentence states short math ("... is", "=", "so"); yes/no only when the sentence opens with it or restates
the question's predicate. Option letters are read by :mod:`tts.grading.commitments`.

Plain string work, linear in the input, no SymPy.

Example:
    >>> final_number("The man is 60 and the woman 53. The age gap between them is seven years.")
    'seven years'
    >>> final_text("The city marked is Tampa, Florida.")
    'Tampa, Florida'
    >>> final_math("The quarter circle has area πr² ÷ 4 = 0.785r².")
    '\\\\pi r^2 / 4'
"""

from __future__ import annotations

import re

from tts.grading.numeric import parse_number
from tts.grading.text import clean, fix_unicode
from tts.grading.words import find_number_words

_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*])|(?<=[。！？])|\n+")


def sentences(text: str) -> list[str]:
    """The sentences of the end of ``text`` (its last 2,000 characters), in order."""
    return [p.strip() for p in _SENTENCES.split(text.strip()[-2000:]) if p.strip()]


def last_sentence(text: str) -> str:
    parts = sentences(text)
    return parts[-1] if parts else ""


_CUT_WORD = re.compile(r"(?<![A-Za-z])[a-z]{2,}$")
_DANGLING = re.compile(r"(?:[=+×÷≈(,]|\\[A-Za-z]*|\\approx)$")


def _last_line(text: str) -> str:
    tail = text.rstrip()[-400:]
    return tail.splitlines()[-1].strip().rstrip("*_ ") if tail else ""


def dangling(text: str) -> bool:
    """Whether the response stops in the middle of a formula or a list ("... so ∠BAC =", "... 3 +", "(2,"),
    as a rollout cut at the token limit does: nothing it states at its end is an answer."""
    return bool(_DANGLING.search(_last_line(text)))


def cut_off(text: str) -> bool:
    """Whether the response may stop mid-sentence: it is :func:`dangling`, or its last line ends in a
    lower-case word with no closing mark and no number ("... The star folds"). The second sign is weak (a
    last sentence may simply lack its full stop: "so the blue car is the fastest"), so it only stops the
    guesses that do not rest on a statement: an option the unfinished reasoning names in passing, or the
    last number anywhere in the text."""
    last = _last_line(text)
    return dangling(text) or (bool(_CUT_WORD.search(last)) and not any(c.isdigit() for c in last))


# A reason clause after the answer ("cell E because A-D share a row") is not part of what is chosen.
_REASON = re.compile(r"(?i)[,;]?\s+(?:because|since|as\s+(?:it|they|this)|given\s+that|due\s+to)\s.*$")


def clauses(text: str) -> list[str]:
    """The last sentence, then (if different) its main clause without a trailing reason."""
    sentence = last_sentence(text).replace("**", "").replace("__", "")
    main = _REASON.sub("", sentence).strip()
    return [sentence] if main == sentence or not main else [sentence, main]


_COMMIT_TEXT = re.compile(
    r"(?i)(?:^|[\s,;])(?:so|thus|therefore|hence|which\s+is)\s*,?\s+(?P<a>[^\s,;.][^,;]{0,40}?)\s*[.!]?\s*$"
)


def committed_text(text: str) -> str | None:
    """A short answer the last sentence commits to ("The graph mirrors across x = 0, so yes.")."""
    m = _COMMIT_TEXT.search(last_sentence(text))
    if not m or len(m.group("a").split()) > 4:
        return None
    return m.group("a").strip()


_STATES = re.compile(r"(?i)^(?P<subj>[^\d=]{3,80}?)\s+(?:is|are|was|were)\s+(?P<v>[^\s].{0,120}?)\s*[.!]?\s*$")
_CLAUSE_CUT = re.compile(r"(?i)\s+(?:which|that\s+is|so\s+that|while|whereas)\s.*$")


def final_text(text: str) -> str | None:
    """The short text the last sentence states as its answer: "The city marked is Tampa, Florida." → "Tampa,
    Florida"; a trailing reason or description ("blue, covering about 40% of the chart") is dropped."""
    m = _STATES.match(clauses(text)[-1])
    if not m:
        return None
    value = _CLAUSE_CUT.sub("", m.group("v")).strip()
    head, comma, tail = value.partition(",")
    if comma and len(tail.split()) > 2:
        value = head.strip()
    return value if value and len(value.split()) <= 8 else None


_YES_NO_QUESTION = re.compile(
    r"(?i)(?:^|[\n.?!]\s*)(?:is|are|was|were|does|do|did|can|could|will|would|should|has|have)\s+[^?]{3,200}\?"
    r"|\byes\s+or\s+no\b|\(yes/no\)"
)
_YES_NO_START = re.compile(r"(?i)^\W{0,3}(?P<a>yes|no)\b\s*[,.;:!—-]")
_NEGATION = re.compile(r"(?i)\b(?:not|isn't|aren't|wasn't|weren't|doesn't|don't|didn't|cannot|can't|never|no)\s+$")
_AFFIRM = re.compile(r"(?i)\b(?:is|are|was|were|does|do|can|will)\s+$")
_STOP = frozenset(
    "this that these those with from have does there their which what when where whether answer image figure "
    "shown given following question the and for are was not any all its has how why who yes can".split()
)
_CONTENT = re.compile(r"[A-Za-z][a-z]{2,}")


def is_yes_no_question(question: str) -> bool:
    return bool(_YES_NO_QUESTION.search(question[-600:]))


def yes_no(text: str, question: str) -> str | None:
    """"Yes"/"No" from a last sentence that opens with it ("No, it is discontinuous at 0.") or restates the
    question's predicate, negated or not ("so the function is not continuous at x = 0." → "No")."""
    sentence = last_sentence(text)
    m = _YES_NO_START.match(sentence)
    if m:
        return m.group("a").capitalize()
    words = {w.lower() for w in _CONTENT.findall(question[-600:])} - _STOP
    found: set[str] = set()
    negated_anywhere = bool(re.search(r"(?i)\b(?:not|no|never|n't)\b|n't\b", sentence))
    for m in _CONTENT.finditer(sentence):
        if m.group().lower() not in words:
            continue
        before = sentence[max(0, m.start() - 30) : m.start()]
        if _NEGATION.search(before):
            found.add("No")
        elif _AFFIRM.search(before) and not negated_anywhere:
            found.add("Yes")
    return found.pop() if len(found) == 1 else None


_NUMBER = re.compile(
    # closed forms first, so "4\\sqrt{2}" and "\\frac{1}{2}" are one number each
    r"(?<![\w.^{])-?(?:(?:\d+(?:\.\d+)?\s*)?\\sqrt\{\d+\}|\\frac\{-?\d+\}\{\d+\}|(?:\d+(?:\.\d+)?\s*)?\\pi\b"
    r"|(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:\s*:\s*\d+(?:\.\d+)?(?![\d.]))?(?:\s*%)?)"
)
_TAIL_WORD = re.compile(r"\s*([A-Za-zμΩ°'][A-Za-zμΩ°'²³^0-9/.-]*)")
_CLAUSE = re.compile(r"(?i)(?:[,;]|\band\b|\bwhile\b|\bwhereas\b)")
_SUBJECT_IS = re.compile(r"(?i)^(?P<subj>.*?)\b(?:is|are|was|equals|=|≈)\s*$")


def _with_tail(sentence: str, start: int, end: int) -> str:
    """The number at ``[start:end]`` with the unit or noun written after it, if any ("24 newtons")."""
    number = sentence[start:end].strip()
    tail: list[str] = []
    pos = end
    for _ in range(4):
        m = _TAIL_WORD.match(sentence, pos)
        if not m:
            break
        tail.append(m.group(1).rstrip(".,"))
        pos = m.end()
        if m.group(1).endswith((".", ",")):
            break
    bare = parse_number(number)
    for k in range(len(tail), 0, -1):
        candidate = number + " " + " ".join(tail[:k])
        parsed = parse_number(candidate)
        # a unit ("24 newtons") or a scale word ("1.5 million people") belongs to the number; a noun does not
        if parsed is not None and (parsed.unit is not None or parsed.percent or bare is None
                                   or parsed.value != bare.value):
            return candidate
    return number


def _mentions(sentence: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _NUMBER.finditer(sentence)]
    spans += [(a, b) for a, b, _ in find_number_words(sentence)]
    return sorted(spans)


def _question_words(question: str) -> set[str]:
    return {w.lower() for w in _CONTENT.findall(question[-600:])} - _STOP


def spelled_number(text: str) -> str | None:
    """A number in words ending a last sentence that has no digits ("x is thirty-five degrees.")."""
    sentence = fix_unicode(last_sentence(text))
    if any(c.isdigit() for c in sentence):
        return None
    found = find_number_words(sentence)
    return _with_tail(sentence, found[-1][0], found[-1][1]) if found else None


_REJECTING = re.compile(r"(?i)(?:[,;]\s*(?:but\s+)?not|\s(?:and|but)\s+not|\brather\s+than|\binstead\s+of)\s*$")


def final_number(text: str, question: str = "") -> str | None:
    """The last number of the last sentence, in digits or words, with its unit ("seven years", "24 N",
    "1.5 million people", "1.85:1"); when the sentence gives several quantities ("the slope is −0.5 and the
    intercept is 2"), the one whose subject shares a word with the question."""
    sentence = fix_unicode(last_sentence(text))
    spans = _mentions(sentence)
    kept = [(s, e) for s, e in spans if not _REJECTING.search(sentence[max(0, s - 24):s])]
    if kept:
        spans = kept  # "the count is 9, not 10": a number named only to be rejected is not the answer
    if not spans:
        return None
    start, end = spans[-1]
    if 1 < len(spans) <= 12 and question:
        asked = _question_words(question)
        chosen = []
        for s, e in spans:
            clause_start = max((m.end() for m in _CLAUSE.finditer(sentence, 0, s)), default=0)
            m = _SUBJECT_IS.match(sentence[clause_start:s])
            if m and asked & {w.lower() for w in _CONTENT.findall(m.group("subj"))}:
                chosen.append((s, e))
        if len(chosen) == 1:
            start, end = chosen[0]
    return _with_tail(sentence, start, end)


_NUM = r"-?\d+(?:\.\d+)?"
_PROSE_LIST = re.compile(rf"(?<![\w.])({_NUM}(?:\s*,\s*{_NUM})*)\s*,?\s+and\s+({_NUM})(?!\w|\.\d)")


def prose_list(text: str) -> str | None:
    """The last list written in words in the final sentence ("in 1998 and 2003" → "1998, 2003")."""
    found = list(_PROSE_LIST.finditer(fix_unicode(last_sentence(text))))
    if not found:
        return None
    m = found[-1]
    return ", ".join([x.strip() for x in m.group(1).split(",")] + [m.group(2)])


_ASSIGN = re.compile(rf"\b([a-z])\s*=\s*({_NUM}(?:/\d+)?)(?!\w|\.\d)")
_JOIN = re.compile(r"^\s*(?:,|;|\band\b|\bor\b|,\s*and\b|,\s*or\b)\s*$")


def assignments(text: str) -> str | None:
    """Values given to variables in the final sentence: "x = -1 and y = 2" → "(-1, 2)" (a point),
    "x = 3 or x = -2" → "3, -2" (the solutions of one variable)."""
    sentence = fix_unicode(last_sentence(text))
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


_STATED = re.compile(r"(?i)^.*\b(?:so|thus|therefore|hence|is|are|equals|becomes|gives)\b\s*:?\s*")
_SET_BUILDER = re.compile(r"(?i)^(?:all|every|the\s+set\s+of)\s+(?:real\s+)?(?:numbers\s+)?[a-z]\s+"
                          r"(?:with|such\s+that|where|satisfying|for\s+which)\s+")
_FUNCTION_NAMES = frozenset("sin cos tan cot sec csc log exp sqrt frac pi cdot times le ge leq geq and or".split())
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_DELIMITED = re.compile(r"\$|\\[()\[\]]")
_VALUE_END = re.compile(r"<\||\.\s|\s+(?:because|since|which|where)\s")
_MATH_MARK = re.compile(r"[\d\\^+\-*/=()<>√π°]")


_CHAIN = re.compile(r"=|≈|\\approx(?![A-Za-z])")
_DECIMAL = re.compile(r"\d\.\d")
_RELATION_MARK = re.compile(r"[<>!]=|==|[<>≤≥≠]|\\(?:le|ge|leq|geq|neq|ne|lt|gt)(?![A-Za-z])")
_PROSE_PREFIX = re.compile(r"^(?:(?!(?:sin|cos|tan|cot|sec|csc|log|ln|exp)\b)[A-Za-z]{2,}'?s?\s+)+")


def chain_answer(value: str) -> str:
    """The answer of a chain of equalities: "AB = √52 ≈ 7.21 cm" → "√52" (the exact member before a decimal
    approximation), "Area = 4π cm²" → "4π cm²" (a label dropped), "AB ≈ 72.1 mm" → "72.1 mm". An equation
    is left whole ("y = 2x + 3", "2x + 4y - 3 = 0"), and so are relations and lists ("x >= 5", "AB=4, CD=5")."""
    if "," in value or ";" in value or _RELATION_MARK.search(value):
        return value
    members = [m.strip() for m in _CHAIN.split(value)]
    if len(members) == 1 or not all(members):
        return value
    approx = "≈" in value or "\\approx" in value
    first = _PROSE_PREFIX.sub("", members[0])  # "The quarter circle has area πr²/4 = ..." → "πr²/4"
    label = len(first) <= 40 and not any(c.isdigit() for c in first)
    if not label:  # "πr²/4 = 0.785r²": an approximation restates the exact value; otherwise an equation
        return first if _DECIMAL.search(members[-1]) and not _DECIMAL.search(first) else value
    if len(members) == 2 and not approx and re.fullmatch(r"[a-zA-Z]", first):
        return value  # "y = 2x + 3", "x = 5"
    members = members[1:]
    exact = [m for m in members if not _DECIMAL.search(m)]
    return exact[-1] if _DECIMAL.search(members[-1]) and exact else members[-1]


def final_math(text: str) -> str | None:
    """The mathematical answer the last sentence states ("Area = 4π square units." → "4\\pi square units",
    "so y = −½x + 4." → "y = -\\frac{1}{2}x + 4", "The bearing is S23.5°W." → "S23.5°W"); None when the
    sentence states no short math."""
    sentence = clauses(text)[-1]
    if _DELIMITED.search(sentence):
        return None  # LaTeX in "$...$" or "\\(...\\)": math-verify's own extraction reads it best
    m = _STATED.match(sentence)
    stated = bool(m and m.end() < len(sentence)) or "=" in sentence
    value = sentence[m.end() :] if m and m.end() < len(sentence) else sentence
    value = _VALUE_END.split(value, maxsplit=1)[0]
    value = _SET_BUILDER.sub("", fix_unicode(value).strip().rstrip(".").strip())
    value = chain_answer(value).strip()
    prose = [w for w in _PROSE_WORD.findall(value) if w.lower() not in _FUNCTION_NAMES]
    if not value or len(value) > 80 or not _MATH_MARK.search(value) or len(prose) > (2 if stated else 0):
        return None  # a sentence that states nothing ("not it's not 10 it's 1,000.99") is no answer
    return value


_INTERCEPT = re.compile(r"(?i)\b(?P<axis>[xy])[- ]?intercept\b")
_POINT = re.compile(r"^\(\s*(?P<x>[^,()]{1,30}?)\s*,\s*(?P<y>[^,()]{1,30}?)\s*\)$")


def intercept_value(answer: str, question: str) -> str | None:
    """An intercept given as its point: "(0, -2)" for "the y-intercept" is -2, "(3, 0)" for the x-intercept 3."""
    m = _INTERCEPT.search(question[-600:])
    p = _POINT.match(clean(answer))
    if not m or not p:
        return None
    x, y = parse_number(p.group("x")), parse_number(p.group("y"))
    if m.group("axis").lower() == "y" and x is not None and x.value == 0:
        return p.group("y")
    if m.group("axis").lower() == "x" and y is not None and y.value == 0:
        return p.group("x")
    return None
