"""Multiple choice: option letters in their common spellings, and option texts, mapped both ways.

Golds differ by benchmark (MathVista stores the option *text*, the others a letter, LogicVista sometimes
several letters "A, C"), and so do predictions ("B", "(B)", "B. 6 cm", "option B", "6 cm"). Everything
is turned into a set of letters and compared as sets, so "A, C" equals "C, A".

Example:
    >>> parse_letters("(B) 6 cm", 4)
    frozenset({'B'})
    >>> sorted(parse_letters("C and A", 5))
    ['A', 'C']
    >>> options_from_question("Which angle?\\nChoices:\\nA:40°\\nB:60°\\nC:80°")
    ('40°', '60°', '80°')
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tts.grading.numeric import numbers_match, parse_number
from tts.grading.text import clean, squash, text_key

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_OPTION_COUNT = 10  # letters A-J when a problem does not say how many options it has

_SINGLE = re.compile(
    r"^(?:(?:the\s+)?(?:correct\s+)?(?:option|choice|answer)\s*(?:is\s*)?:?\s*)?"
    r"[(\[{]?\s*(?P<l>[A-Za-z])\s*[)\]}]?\s*(?:[.:)\-]\s*(?P<rest>.*))?$",
    re.DOTALL | re.IGNORECASE,
)
_LEAD = re.compile(r"^[(\[]?(?P<l>[A-Z])(?:[)\]]\s*|[.:]\s+|\s+-\s+)(?P<rest>\S.*)$", re.DOTALL)
_MULTI = re.compile(r"^[(\[]?[A-Z][)\]]?(?:\s*(?:,\s*and\b|,|;|/|&|\band\b|\s)\s*[(\[]?[A-Z][)\]]?)+$")
_MULTI_LOWER = re.compile(r"^\(?[a-j]\)?(?:\s*(?:,\s*and\b|,|;|/|&|\band\b)\s*\(?[a-j]\)?)+$")
_OPTION_LINE = re.compile(r"^[ \t]*[(\[]?(?P<l>[A-Z])[ \t]*[)\]]?[ \t]*[:.)：][ \t]*(?P<text>\S.*)$")


def option_count(problem_choices: Sequence[str], options: Sequence[str]) -> int:
    """How many options a problem offers: its choices (even literal letters), else what the question lists."""
    if problem_choices:
        return len(problem_choices)
    return len(options) if options else DEFAULT_OPTION_COUNT


def is_letter_list(choices: Sequence[str]) -> bool:
    """MathVision lists some options as just ['A', 'B', 'C', 'D', 'E'] (the options are in the image)."""
    return bool(choices) and all(c.strip().upper() == LETTERS[i] for i, c in enumerate(choices))


def options_from_question(question: str) -> tuple[str, ...]:
    """Option texts written inline in a question ("Choices:\\nA:40°\\nB:60°"), in letter order A, B, ...

    Only a run of consecutive letters starting at A counts; anything else gives ().
    """
    found: dict[str, str] = {}
    for line in question.splitlines():
        m = _OPTION_LINE.match(line)
        if not m:
            continue
        letter = m.group("l")
        expected = LETTERS[len(found)] if len(found) < len(LETTERS) else None
        if letter == "A" and found:
            found = {}
            expected = "A"
        if letter == expected:
            found[letter] = m.group("text").strip()
    if len(found) >= 2:
        return tuple(found.values())
    return _inline_options(question)


# Options written on one line: "Choices: (A) odd (B) even (C) neither", "A. Amy B. Ben C. Cara".
_INLINE_MARKS = (
    re.compile(r"(?:(?<=\s)|^)\((?P<l>[A-J])\)\s*"),
    re.compile(r"(?:(?<=\s)|^)(?P<l>[A-J])[.:：]\s+"),
)


def _inline_options(question: str) -> tuple[str, ...]:
    """The last line of ``question`` that lists options A, B, C, ... inline, as their texts; () if none."""
    for line in reversed(question[-3000:].splitlines()):
        for pattern in _INLINE_MARKS:
            marks = list(pattern.finditer(line))
            start = next((i for i in range(len(marks) - 1, -1, -1) if marks[i].group("l") == "A"), None)
            if start is None:
                continue
            run = [marks[start]]
            for m in marks[start + 1 :]:
                if m.group("l") == LETTERS[len(run)]:
                    run.append(m)
            if len(run) < 2:
                continue
            texts = [line[m.end() : (run[i + 1].start() if i + 1 < len(run) else len(line))].strip().rstrip(";,")
                     for i, m in enumerate(run)]
            if all(texts) and all(len(t) <= 120 for t in texts):
                return tuple(t.strip() for t in texts)
    return ()


def parse_letters(s: str, n_options: int) -> frozenset[str] | None:
    """The option letter(s) an extracted answer names, or None when it names none.

    Accepted: "B", "(B)", "B.", "B:", "B)", "[B]", "option B", "B. 6 cm", "(B) 6 cm", "A, C", "A and C".
    Lowercase letters count only on their own ("b", "(b)", "a, c"). Letters beyond the option count are not
    letters.
    """
    s = clean(s)
    if not s or len(s) > 400:
        return None
    valid = LETTERS[: max(1, min(n_options, len(LETTERS)))]
    if len(s) <= 40 and (_MULTI.match(s) or _MULTI_LOWER.match(s)):  # first: "(A) and (C)" names two letters
        letters = frozenset(x.upper() for x in re.findall(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])", s))
        if letters and letters <= set(valid):
            return letters
    m = _SINGLE.match(s)
    if m:
        letter, rest = m.group("l"), m.group("rest")
        bare = rest is None and len(s) <= 12
        if letter.isupper() or bare:
            letter = letter.upper()
            if letter in valid and (rest is None or letter.isupper()):
                return frozenset(letter)
    m = _LEAD.match(s)
    if m and m.group("l") in valid:
        return frozenset(m.group("l"))
    return None


def letter_and_text(s: str, n_options: int) -> tuple[str, str] | None:
    """A single upper-case option letter and the text written after it ("C: 12", "(C) 12", "C. 12 cm" →
    ("C", "12 cm")), or None when ``s`` is not that shape (a bare letter, several letters, prose)."""
    s = clean(s)
    if not s or len(s) > 400:
        return None
    valid = LETTERS[: max(1, min(n_options, len(LETTERS)))]
    m = _SINGLE.match(s)
    if m and m.group("rest") and m.group("l").isupper():
        letter, rest = m.group("l"), m.group("rest").strip()
    elif (m := _LEAD.match(s)) is not None:
        letter, rest = m.group("l"), m.group("rest").strip()
    else:
        return None
    return (letter, rest) if letter in valid and rest else None


def names_another_option(pred: str, letters: frozenset[str], options: Sequence[str], n_options: int) -> bool:
    """Whether ``pred`` is a letter followed by the text or the value of a *different* option ("C: 12" where
    option C is 14 and option B is 12): two answers in one. A text that names no option ("C: the largest one")
    or the letter's own option ("C: 14", "(C) 14 cm") is no contradiction. Only texts and plain numbers are
    compared: nothing symbolic runs for it."""
    lead = letter_and_text(pred, n_options)
    if lead is None or frozenset(lead[0]) != letters:
        return False
    rest = lead[1]
    named = letters_for_text(rest, options)
    if named is None and (p := parse_number(rest)) is not None:
        hits = frozenset(LETTERS[i] for i, opt in enumerate(options[: len(LETTERS)])
                         if (o := parse_number(opt)) is not None and numbers_match(p, o))
        named = hits or None
    return named is not None and lead[0] not in named


_RUN = re.compile(r"^[A-J]{2,10}$")


def concatenated_letters(s: str, n_options: int) -> frozenset[str] | None:
    """Several option letters written together ("AC", "BD", "DB"), as multi-select answers often are.

    Only distinct, valid capital letters; callers try option texts first (a segment "AB" may be an option).
    """
    s = clean(s).replace(" ", "")
    if not _RUN.match(s) or len(set(s)) != len(s):
        return None
    valid = LETTERS[: max(1, min(n_options, len(LETTERS)))]
    return frozenset(s) if set(s) <= set(valid) else None


_SUBSCRIPT_MARKS = re.compile(r"_|\{|\}")
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def subscript_key(s: str) -> str:
    """``squash`` with subscripts written plainly: "CH_3COOH", "CH_{3}COOH" and "CH₃COOH" → "CH3COOH". Formulas
    in option texts are written one way and in answers another; superscripts (charges, powers) are kept."""
    return _SUBSCRIPT_MARKS.sub("", squash(s).translate(_SUBSCRIPT_DIGITS))


def letters_for_text(s: str, options: Sequence[str]) -> frozenset[str] | None:
    """Letters whose option text is ``s`` (same text up to case, spacing, wrappers and the spelling of
    subscripts); None if none."""
    if not options:
        return None
    key, sq = text_key(s), squash(s)
    if not key and not sq:
        return None
    hits = frozenset(
        LETTERS[i] for i, opt in enumerate(options) if i < len(LETTERS) and (text_key(opt) == key or squash(opt) == sq)
    )
    if not hits and any(c in x for x in (s, *options) for c in "_₀₁₂₃₄₅₆₇₈₉"):
        sub = subscript_key(s)
        hits = frozenset(LETTERS[i] for i, opt in enumerate(options) if i < len(LETTERS) and subscript_key(opt) == sub)
    return hits or None


def gold_letters(gold: str, options: Sequence[str], n_options: int, *, text_first: bool = False) -> frozenset[str] | None:
    """A gold as letters: a letter gold directly, an option-text gold (MathVista) via its option(s).

    ``text_first`` is for benchmarks whose golds are option texts, where an option may itself read "B".
    """
    if text_first:
        return letters_for_text(gold, options) or parse_letters(gold, n_options)
    return parse_letters(gold, n_options) or letters_for_text(gold, options) or concatenated_letters(gold, n_options)


MAX_SENTENCE = 2000
_NEGATED = re.compile(r"(?:\bnot|\bn t|\bno|\bnor|\bneither|\bexcept|\brather\s+than|\binstead\s+of)\s+(?:\w+\s+)?$")
_SECOND_CLAIM = re.compile(r"(?i)\b(?:than|but|or|except|instead|whereas|while|rather|either|neither|nor|not)\b|n't\b")
_STOPWORDS = frozenset(
    "the and that this with from into than then they them their there which what when where have has been "
    "will would could should does more most less least very only also same other answer option choice".split()
)


def _distinctive_words(options: Sequence[str]) -> list[set[str]]:
    """For each option, its words (4+ letters, not stop words) that no other option uses."""
    words = [{w for w in re.findall(r"[a-z]{4,}", text_key(o)) if w not in _STOPWORDS} for o in options]
    return [w - set().union(*(x for j, x in enumerate(words) if j != i)) for i, w in enumerate(words)]


def named_option(sentence: str, options: Sequence[str], *, partial: bool = False, question: str = "") -> str | None:
    """The one option ``sentence`` names by its text, not negated ("it is not odd" names no option).

    ``partial``: an option also counts when the sentence uses a word only that option has ("The cartoon
    shows Bismarck" for "Otto von Bismarck", "the equilibrium price increases" for "The price increases"),
    but only in a sentence that makes no contrast or second claim ("than", "but", "or", "not").
    A sentence naming several options is read by its last clause ("..., but the circle is the largest") or,
    for a superlative question, by its comparison ("the red car is faster than the blue car and the green
    car" answers "Which car is the fastest?").
    """
    line = " " + text_key(sentence[-MAX_SENTENCE:]) + " "
    hits: list[str] = []
    for opt in options:
        key = text_key(opt)
        if not key or (len(key) < 2 and not key.isdigit() and line.strip() != key):
            continue
        at = line.find(f" {key} ")
        while at >= 0 and _NEGATED.search(line[max(0, at - 40) : at + 1]):
            at = line.find(f" {key} ", at + 1)
        if at >= 0:
            hits.append(opt)
    if len({text_key(h) for h in hits}) == 1:
        return hits[-1]
    if len(hits) > 1:
        return _last_clause_option(sentence, options, question)
    if not partial or _SECOND_CLAIM.search(sentence):
        return None
    words = set(re.findall(r"[a-z]{4,}", line))
    named = [opt for opt, own in zip(options, _distinctive_words(options), strict=True) if own & words]
    return named[0] if len(named) == 1 else None


def letter_of_value(answer: str, options: Sequence[str]) -> str | None:
    """The letter of the one option whose text or plain value is ``answer`` ("4" → "C" for "A: 2 ... C: 4")."""
    key, value = text_key(answer), parse_number(answer)
    hits = [LETTERS[i] for i, opt in enumerate(options[: len(LETTERS)])
            if (key and text_key(opt) == key)
            or (value is not None and (o := parse_number(opt)) is not None and o.value == value.value)]
    return hits[0] if len(hits) == 1 else None


_LAST_CLAUSE = re.compile(r"(?i)(?:[,;:]\s*(?:but|so|thus|therefore|hence|and\s+so)?|\b(?:but|so|therefore|thus|hence)\b)\s*")
_SUPERLATIVE = re.compile(r"(?i)\b(?:the\s+)?(?:(?P<most>most|least)\s+(?P<adj>[a-z]+)|(?P<stem>[a-z]{2,}?)(?P<i>i)?est)\b")


def _last_clause_option(sentence: str, options: Sequence[str], question: str) -> str | None:
    parts = [p for p in _LAST_CLAUSE.split(sentence) if p and p.strip()]
    if len(parts) > 1:
        last = named_option(parts[-1], options)
        if last is not None:
            return last
    return _compared_option(sentence, options, question)


def _compared_option(sentence: str, options: Sequence[str], question: str) -> str | None:
    """The option a comparison puts first, when it answers the question's superlative ("fastest" ← "faster
    than", "most expensive" ← "more expensive than")."""
    m = _SUPERLATIVE.search(question[-300:])
    if not m:
        return None
    if m.group("adj"):
        word = ("more " if m.group("most").lower() == "most" else "less ") + m.group("adj").lower()
    else:
        word = m.group("stem").lower() + ("ier" if m.group("i") else "er")
    at = sentence.lower().find(f" {word} than ")
    if at < 0:
        return None
    return named_option(sentence[:at], options)
