"""Explicit answer statements: an "Answer: ..." / "the answer is ..." / "答案是 ..." line, an ``<answer>`` tag,
a JSON ``"short answer"``; each trimmed to the answer itself (markdown, filler words, a trailing sentence).

Example:
    >>> answer_line("We add them.\\nFinal answer: **C**.")
    (27, 'C')
    >>> json_short_answer('{"solution": "...", "short answer": "3.0"}')
    '3.0'
"""

from __future__ import annotations

import json
import re

from tts.grading.text import clean

_WORD = re.compile(r"[A-Za-z]{2,}")

TAG = re.compile(r"<answer>\s*(.*?)\s*</answer>", re.DOTALL | re.IGNORECASE)
_JSON_KEY = re.compile(r'"short[ _]answer"\s*:\s*("(?:[^"\\]|\\.){0,400}"|-?[\d.]+)', re.IGNORECASE)
_CUES = (
    re.compile(r"(?im)^[ \t>#*_-]*(?:\*\*)?<?(?:final\s+)?answers?>?(?:\*\*)?\s*[:：](?:\*\*)?[ \t]*(?P<a>\S[^\n]*)$"),
    re.compile(
        r"(?i)\b(?:final|correct)\s+(?:answer|option|choice)s?(?:\s+to\s+the\s+question)?\s*(?:is|are|should\s+be|would\s+be|will\s+be|=|:)"
        r"\s*:?[ \t]*(?P<a>\S[^\n]*)"
    ),
    re.compile(r"(?i)\bthe\s+answers?\s*(?:is|are|should\s+be|would\s+be|will\s+be)\s*:?[ \t]*(?P<a>\S[^\n]*)"),
    re.compile(r"(?i)\banswers?>?\s*[:：][ \t]*(?P<a>\S[^\n]*)"),
    # Chinese: "答案：C", "答案是 C。", "因此答案为 7", "答案选 B", "故选 A"
    re.compile(r"答案\s*(?:应该|应)?\s*(?:是|为|选|:|：)\s*(?P<a>\S[^\n]*)"),
    re.compile(r"(?m)(?:^|[，,。\s]|故|所以|因此|应)选(?:择)?\s*[:：]?\s*(?P<a>\(?[A-J]\)?)\s*[。.！!]?\s*$"),
)
_SENTENCE_END = re.compile(
    r"(?<!\\)\.\s+(?=[A-Z(])|\s+(?:because|since|as it|which|so that)\s|\s+is\s+(?:the\s+)?(?:correct|right|true)\b"
    r"|\.?\s*I hope it is correct|<\||[。，；！？]",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(r"^(?:(?:is|be|that|then|therefore|thus|so)\b[\s:,]*)+", re.IGNORECASE)
_LAST_IS = re.compile(r"(?i)^(?:[a-z][\w\s$\\{}^']{0,60}?)\s(?:is|equals|=|are)\s+(?P<v>\S.*)$")
def answer_span(raw: str) -> str:
    """Trim an "Answer: ..." tail to the answer itself (markdown, filler words, trailing sentence)."""
    a = raw.strip().strip("*_").strip()
    a = _LEADING_FILLER.sub("", a).strip()
    m = _SENTENCE_END.search(a)
    if m:
        a = a[: m.start()]
    for _ in range(3):
        a = a.strip().strip("*_").rstrip(".").strip()
    m = _LAST_IS.match(a)
    if m and "$" not in a[: m.start("v")].replace("$", "", 2) and len(_WORD.findall(a[: m.start("v")])) >= 2:
        a = m.group("v").strip().rstrip(".")
    return a


def answer_line(text: str) -> tuple[int, str] | None:
    """The last "Answer: ..." / "the answer is ..." statement: its position and its trimmed answer."""
    best: tuple[int, str] | None = None
    for pattern in _CUES:
        for m in pattern.finditer(text):
            if best is None or m.start("a") > best[0]:
                best = (m.start("a"), m.group("a"))
    if best is None:
        return None
    span = answer_span(best[1])
    return (best[0], span) if clean(span) else None


def json_short_answer(text: str) -> str | None:
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
