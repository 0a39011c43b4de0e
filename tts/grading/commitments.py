"""Which option letter(s) the last sentence of a response commits to, when no box or "Answer:" line says it.

A capital letter in a sentence names a point or a label as often as an option ("Point D is the midpoint"),
so a letter counts only when the sentence commits to it: a cue word ("..., which is C.", "Therefore, B."),
a weaker cue whose clause does not hedge ("Among the choices, that's B."), an answer noun as subject or
right before the letter ("the next figure is D", "the star must go in cell E"), the letter as the subject
of an answer predicate ("so B is the odd one out", "Conclusions A and D follow"), several letters listed
the same way ("The two shapes are B and D."), or a verdict per statement closing the response ("Statement
A is true. Statement B is false. ..."). A reason after the letter is ignored ("cell E because A-D share a
row"); a hedge after the cue is not ("so we still have to check option D").

Example:
    >>> committed_letter("The pattern rotates by 90°; the next figure is D.", 5)
    'D'
    >>> committed_letter("Point D is the midpoint, so we still have to check option D.", 5) is None
    True
    >>> sorted(committed_letters("The two shapes are B and D.", 5))
    ['B', 'D']
"""

from __future__ import annotations

import re

from tts.grading.choice import LETTERS, parse_letters
from tts.grading.prose import clauses, last_sentence, sentences

#: Nouns that name what a question asks to choose ("the next figure is D", "Conclusions A and D follow").
_NOUNS = "figure|shape|piece|cell|image|picture|diagram|graph|pattern|card|statement|option|choice|answer|one|conclusion|claim|item|object|drawing|net|tile|path|route"

# A sentence that commits to an answer ("..., so the next shape is a star, D.", "Therefore, B.", "which is C.").
_COMMIT = re.compile(
    r"(?i)\b(?:so|thus|therefore|hence|which\s+is|which\s+corresponds\s+to|corresponding\s+to|i\.e\.|that\s+is|"
    r"is\s+option|answers?\s+(?:is|are)|choose|select|pick|go\s+with)\b"
)
# Weaker commitments, which count only when nothing in their clause hedges ("I cannot decide whether it is D"):
# "that's B", "it is D", an answer noun as subject ("the next figure is D", "the true statements are A and C"),
# or an answer noun right before the letter ("the star must go in cell E").
_WEAK_COMMIT = re.compile(
    r"(?i)\b(?:that's|it's|it\s+is|this\s+is|"
    rf"(?:{_NOUNS})s?"
    r"(?:\s+\w+){0,4}?\s+(?:is|are|must\s+be|should\s+be|would\s+be|will\s+be|goes\s+in|go\s+in|belongs\s+in)|"
    r"(?:is|are|be|in|into|to)\s+(?:the\s+)?(?:cell|figure|shape|piece|image|picture|graph|card|statement|box))\b"
)
_CLAUSE_START = re.compile(r"[,;:]")
# A letter (or letters) as the subject of the last clause: "so B is the odd one out", "Figure B is the answer",
# "Conclusions A and D follow", "Both A and C are correct".
_LETTER_SUBJECT = re.compile(
    rf"(?i)(?:^|[,;:]\s*|\b(?:so|thus|therefore|hence)\s*,?\s+)(?:both\s+)?(?:(?:the\s+)?(?:only\s+)?(?:{_NOUNS})s?\s+)?"
    r"(?P<list>(?-i:\(?[A-J]\)?(?:\s*(?:,\s*and\b|,|\band\b|&)\s*\(?[A-J]\)?)*))\s+"
    r"(?:(?:is|are|must\s+be|should\s+be|would\s+be)\s+(?:the\s+)?(?:correct|right|answer|odd|one|missing|next|best|"
    r"true|valid|answers|ones|correct\s+\w+)|follows?|holds?|(?:is|are)\s+(?:true|valid|correct)|fits?|works?|"
    r"completes?|continues?|matches)\b"
)
_NOT_COMMITTED = re.compile(
    r"(?i)\b(?:check|consider|look|examine|test|try|verify|compare|eliminate|rule|exclude|not|isn't|cannot|can't|"
    r"unless|whether|if)\b"
)
_END_LETTER = re.compile(r"(?:^|[\s,(:])(?:(?i:option|choice)\s+)?\(?(?P<l>[A-J])\)?\s*[.!]?\s*$")
_END_LETTERS = re.compile(
    r"(?:^|[\s,:])(?P<list>\(?[A-J]\)?(?:\s*(?:,\s*and\b|,|\band\b|&)\s*\(?[A-J]\)?)+)\s*[.!]?\s*$"
)


def _commits(before: str) -> bool:
    """Whether the words before a final letter commit to it (see ``_COMMIT`` and ``_WEAK_COMMIT``)."""
    if not before.strip(" ("):
        return True
    strong = list(_COMMIT.finditer(before))
    weak = list(_WEAK_COMMIT.finditer(before))
    last_strong = strong[-1] if strong else None
    last_weak = weak[-1] if weak else None
    if last_weak is not None and (last_strong is None or last_weak.end() > last_strong.end()):
        starts = [m.end() for m in _CLAUSE_START.finditer(before, 0, last_weak.start())]
        clause = before[max([last_strong.end() if last_strong else 0, *starts]) :]
        return not _NOT_COMMITTED.search(clause)
    # "so we still have to check option D." names D without choosing it
    return last_strong is not None and not _NOT_COMMITTED.search(before[last_strong.end() :])


def letter_subject(text: str, n_options: int) -> frozenset[str] | None:
    """The letter(s) the last clause of the last sentence makes its subject: "so B is the odd one out",
    "Figure B is the answer", "Conclusions A and D follow; B and C do not" (only the first clause affirms)."""
    sentence = last_sentence(text).replace("**", "")
    found = None
    for m in _LETTER_SUBJECT.finditer(sentence):
        rest = sentence[m.end() : m.end() + 12]
        if re.match(r"(?i)\s*(?:not|n't)\b", rest) or _NOT_COMMITTED.search(sentence[max(0, m.start() - 30) : m.start()]):
            continue
        letters = parse_letters(m.group("list"), n_options)
        if letters is not None:
            found = letters
            break
    return found


def committed_letter(text: str, n_options: int) -> str | None:
    """The option letter the last sentence commits to: it ends with the letter and says so/therefore/which is,
    or has an answer noun as its subject ("the next figure is D"); a reason after it is ignored ("cell E
    because A-D share a row")."""
    for sentence in clauses(text):
        m = _END_LETTER.search(sentence)
        if not m or m.group("l") not in LETTERS[: max(1, min(n_options, 10))]:
            continue
        return m.group("l") if _commits(sentence[: m.start("l")]) else None
    return None


def names_letter_without_choosing(text: str) -> bool:
    """The response ends naming an option it does not choose ("..., so we still have to check option D.")."""
    sentence = last_sentence(text)
    return bool(_END_LETTER.search(sentence) and _NOT_COMMITTED.search(sentence))


def committed_letters(text: str, n_options: int) -> frozenset[str] | None:
    """Several option letters the last sentence commits to ("The true statements are (A) and (C).")."""
    for sentence in clauses(text):
        m = _END_LETTERS.search(sentence)
        if not m:
            continue
        letters = parse_letters(m.group("list"), n_options)
        if letters is None or len(letters) < 2:
            return None
        return letters if _commits(sentence[: m.start("list")]) else None
    return None


_VERDICT = re.compile(
    r"(?i)^(?:statement|option|choice|conclusion|claim)?\s*\(?(?P<l>(?-i:[A-J]))\)?\s*(?:is|:|-|—)\s*"
    r"(?:also\s+)?(?P<v>true|correct|valid|right|false|incorrect|invalid|wrong)\b[^.]{0,80}\.?$"
)
_TRUE = frozenset({"true", "correct", "valid", "right"})


def statement_verdicts(text: str, n_options: int) -> frozenset[str] | None:
    """A response that ends judging each statement in turn ("Statement A is true. Statement B is false. ...")
    selects the ones it calls true; at least two verdicts in a row must close the response."""
    valid = LETTERS[: max(1, min(n_options, 10))]
    verdicts: dict[str, bool] = {}
    for sentence in reversed(sentences(text)[-12:]):
        m = _VERDICT.match(sentence.replace("**", ""))
        if not m or m.group("l") not in valid or m.group("l") in verdicts:
            break
        verdicts[m.group("l")] = m.group("v").lower() in _TRUE
    chosen = frozenset(letter for letter, ok in verdicts.items() if ok)
    return chosen if len(verdicts) >= 2 and chosen else None
