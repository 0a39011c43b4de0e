"""Text clean-up shared by extraction and equivalence: unicode, broken escapes, LaTeX wrappers, boxes.

Model output and benchmark golds both arrive dirty: unicode minus signs and superscripts, mojibake
(MathVerse's ``掳`` is a mis-decoded ``°``), JSON escapes that ate a LaTeX backslash (MathVision's
``\\x0crac`` was ``\\frac``), answers wrapped in ``$...$``, ``\\boxed{}`` or ``\\text{}``. Everything here is
plain string work (no SymPy), linear in the input length, and safe on arbitrary text.

Example:
    >>> clean("$\\\\boxed{\\\\dfrac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> repair_escapes("\\x0crac{36}{13}")
    '\\\\frac{36}{13}'
    >>> last_boxed("so \\\\boxed{3} then \\\\boxed{\\\\{1, 2\\\\}}")
    '\\\\{1, 2\\\\}'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Control characters that a JSON/Python string escape produced out of a LaTeX command (``\f`` of ``\frac``,
#: ``\b`` of ``\boxed``/``\beta``, ``\v`` of ``\vec``, ``\a`` of ``\alpha``/``\approx``).
_CONTROL_ESCAPES = {"\x0c": "\\f", "\x08": "\\b", "\x0b": "\\v", "\x07": "\\a"}
# ``\t``, ``\r`` and ``\n`` are real characters too, so they are repaired only in front of a LaTeX command.
_TAB_COMMAND = re.compile(r"\t(?=(?:ext|imes|heta|an|frac|au|riangle|ilde|extbf|extrm)\b|ext\{|frac\{)")
_CR_COMMAND = re.compile(r"\r(?=(?:ight|ho|angle|m)\b|ight[()\[\]|.\\])")
_NL_COMMAND = re.compile(r"\n(?=(?:eq|u|abla|ot|eq|leq|geq)\b)")

_MOJIBAKE = (("掳", "°"), ("Â°", "°"), ("Âº", "°"), ("âˆ’", "-"), ("Ï€", "π"), ("Â\xa0", " "), ("Â ", " "))

_UNICODE = {
    "\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-", "\u2010": "-", "\u2011": "-",
    "\uff0b": "+", "\u00d7": "\\times ", "\u22c5": "\\cdot ", "\u00b7": "\\cdot ", "\u00f7": "/",
    "\u03c0": "\\pi ", "\u221e": "\\infty ", "\u221a": "\\sqrt", "\u2264": "\\le ", "\u2265": "\\ge ",
    "\u2260": "\\ne ", "\u2248": "\\approx ", "\u00b2": "^2", "\u00b3": "^3", "\u00b9": "^1", "\u2070": "^0",
    "\u2032": "'", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2044": "/",
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u200b": "", "\ufeff": "", "\u3000": " ",
    "\uff1a": ":", "\uff08": "(", "\uff09": ")", "\uff0c": ",", "\u3001": ",", "\u00ba": "°", "\u02da": "°",
}
_UNICODE_TABLE = str.maketrans(_UNICODE)


def repair_escapes(s: str) -> str:
    """Put back LaTeX backslashes that an over-eager string escape turned into control characters."""
    if s.isprintable():
        return s
    for bad, good in _CONTROL_ESCAPES.items():
        if bad in s:
            s = s.replace(bad, good)
    if "\t" in s:
        s = _TAB_COMMAND.sub(r"\\t", s)
    if "\r" in s:
        s = _CR_COMMAND.sub(r"\\r", s)
    if "\n" in s:
        s = _NL_COMMAND.sub(r"\\n", s)
    return s


# A root sign applies to the number, letter or bracket right after it: "2√5" is 2\sqrt{5}, "√20" is \sqrt{20}.
_ROOT_SIGN = re.compile(r"([√∛∜])\s*(\d+(?:\.\d+)?|[A-Za-zπ]|\([^()]{0,80}\)|\{[^{}]{0,80}\})")
_ROOT_INDEX = {"√": "", "∛": "[3]", "∜": "[4]"}


def _root(m: re.Match[str]) -> str:
    arg = m.group(2)
    if arg[0] in "({":
        arg = arg[1:-1]
    return "\\sqrt" + _ROOT_INDEX[m.group(1)] + "{" + arg + "}"


# Vulgar fractions as LaTeX, so "−½x" is -\frac{1}{2}x (NFKC would make it "-1/2x", which reads as 1/(2x)).
_VULGAR_FRACTIONS = {
    "½": "\\frac{1}{2}", "⅓": "\\frac{1}{3}", "⅔": "\\frac{2}{3}", "¼": "\\frac{1}{4}", "¾": "\\frac{3}{4}",
    "⅕": "\\frac{1}{5}", "⅖": "\\frac{2}{5}", "⅗": "\\frac{3}{5}", "⅘": "\\frac{4}{5}", "⅙": "\\frac{1}{6}",
    "⅚": "\\frac{5}{6}", "⅛": "\\frac{1}{8}", "⅜": "\\frac{3}{8}", "⅝": "\\frac{5}{8}", "⅞": "\\frac{7}{8}",
}
_VULGAR = re.compile("[" + "".join(_VULGAR_FRACTIONS) + "]")


def fix_unicode(s: str) -> str:
    """Map unicode math symbols, dashes, spaces and known mojibake to their ASCII/LaTeX spelling."""
    if s.isascii():
        return s
    for bad, good in _MOJIBAKE:
        if bad in s:
            s = s.replace(bad, good)
    if "√" in s or "∛" in s or "∜" in s:
        s = _ROOT_SIGN.sub(_root, s)
    if _VULGAR.search(s):
        s = _VULGAR.sub(lambda m: _VULGAR_FRACTIONS[m.group()], s)
    s = s.translate(_UNICODE_TABLE)
    if not s.isascii():
        # Full-width digits and letters, ligatures, vulgar fractions (¾ → 3⁄4); degree signs survive NFKC.
        s = unicodedata.normalize("NFKC", s).translate(_UNICODE_TABLE)
    return s


# "\\+": over-escaped text ("\\\\boxed") still counts as a box.
_BOX_TOKENS = re.compile(r"\\+(?:boxed|fbox)(?![A-Za-z])|\\.|[{}]", re.DOTALL)


def find_boxes(s: str) -> list[tuple[int, int, str]]:
    """Every balanced ``\\boxed{...}`` / ``\\fbox{...}`` in ``s`` as ``(start, end, content)``, in order.

    One regex-driven pass with a brace stack from the first box on (linear even for thousands of unclosed
    boxes); escaped braces (``\\{``) do not count; an unclosed box is ignored; a box inside another box is
    part of the outer one. Also accepts ``\\boxed 5``.
    """
    first = min((i for i in (s.find("\\boxed"), s.find("\\fbox")) if i >= 0), default=-1)
    if first < 0:
        return []
    found: list[tuple[int, int, str]] = []
    stack: list[tuple[int, int]] = []  # (box start, or -1 for a plain brace; content start)
    pending_box = -1  # a box command waiting for its opening brace
    n = len(s)
    for m in _BOX_TOKENS.finditer(s, first):
        token, at = m.group(), m.start()
        if token.endswith(("boxed", "fbox")):
            j = m.end()
            while j < n and s[j] == " ":
                j += 1
            if j < n and s[j] == "{":
                pending_box = at
            elif j > m.end() and j < n and s[j] not in "\\$":  # "\boxed 5"
                k = j
                while k < n and not s[k].isspace() and s[k] not in "$.,;{}":
                    k += 1
                if k > j:
                    found.append((at, k, s[j:k]))
            continue
        if token == "{":
            stack.append((pending_box, m.end()))
            pending_box = -1
        elif token == "}" and stack:
            start, content = stack.pop()
            if start >= 0:
                found.append((start, m.end(), s[content:at]))
    found.sort()
    out: list[tuple[int, int, str]] = []
    for box in found:
        if not out or box[0] >= out[-1][1]:
            out.append(box)
    return out


# Text allowed between two boxes that belong to one final answer ("\boxed{1}, \boxed{2} and \boxed{3}").
_BOX_GAP_NOISE = re.compile(r"\\(?:quad|qquad|text|mbox|textnormal|left|right|,|;|!)|\\[()\[\]]|[\s$,;{}.]")
_BOX_GAP_JOIN = re.compile(r"(?i)\b(?:and|or)\b|,|;")


def _joinable_gap(gap: str) -> bool:
    if len(gap) > 60:
        return False
    rest = _BOX_GAP_NOISE.sub(" ", gap)
    words = rest.split()
    if not words or not any(c.isalpha() for c in rest):
        return True
    return len(words) <= 5 and bool(_BOX_GAP_JOIN.search(gap)) and not any(w.lower() == "answer" for w in words)


def last_boxed(s: str, boxes: list[tuple[int, int, str]] | None = None) -> str | None:
    """Content of the last box; boxes right before it joined by only "and", commas or spacing are included.

    ``"\\boxed{1}, \\boxed{2}"`` → ``"1, 2"``; an intermediate boxed result earlier in the text is not.
    """
    boxes = find_boxes(s) if boxes is None else boxes
    if not boxes:
        return None
    parts = [boxes[-1][2]]
    for (_, end, content), (nxt_start, _, _) in zip(reversed(boxes[:-1]), reversed(boxes[1:]), strict=True):
        if not _joinable_gap(s[end:nxt_start]):
            break
        parts.append(content)
    parts.reverse()
    if len(parts) > 1 and len(set(parts)) == 1:
        return parts[0]
    return ", ".join(p.strip() for p in parts)


_WRAPPERS = re.compile(
    r"^\\(?:text|textbf|textrm|textit|mathrm|mathbf|mathit|textnormal|mbox|operatorname|boxed|fbox)\s*\{(.*)\}$",
    re.DOTALL,
)
_DELIMS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))


def _balanced(s: str) -> bool:
    depth = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def strip_wrappers(s: str) -> str:
    """Remove what surrounds an answer: math delimiters, ``\\boxed{}``/``\\text{}``, markdown, final dot."""
    s = s.strip()
    if s[:1] not in ("$", "\\", "*") and s[-1:] not in (".", ";", ","):
        return s  # every wrapper starts with one of these characters or ends with punctuation
    for _ in range(8):
        before = s
        s = s.strip()
        if s.startswith("**") and s.endswith("**") and len(s) > 4:
            s = s[2:-2].strip()
        s = s.rstrip(".;,").rstrip() if not s.endswith("\\.") else s
        for left, right in _DELIMS:
            if len(s) > len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : -len(right)].strip()
                break
        m = _WRAPPERS.match(s)
        if m and _balanced(m.group(1)):
            s = m.group(1)
        if s == before:
            break
    return s


_TEXT_CMD = re.compile(r"\\(?:text|textbf|textrm|textit|mathrm|mathbf|mathit|textnormal|mbox|operatorname)\s*\{([^{}]*)\}")
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad\b|\\displaystyle\b|\\left\b|\\right\b|\\big[lr]?\b|\\Big[lr]?\b|~")
_FRAC_VARIANTS = re.compile(r"\\[dtc]frac\b")
_DEGREE = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?!le)|\\circ(?!le)|\\degree\b|\{\s*degrees?\s*\}")


_INNER_DOLLAR = re.compile(r"(?<!\\)\$")
_LATEX_THOUSANDS = re.compile(r"(?<=\d),\\!\s*(?=\d{3}(?!\d))")
_QUOTES = ("\"", "'", "`")


@lru_cache(maxsize=65536)
def clean(s: str) -> str:
    """Normalise one answer string (a pred after extraction, or a gold) into its canonical spelling.

    Unicode and escapes repaired, wrappers and quotes stripped, inner math ``$`` dropped, ``\\text{}``
    unwrapped, LaTeX spacing and ``\\left``/``\\right`` dropped, ``\\dfrac`` → ``\\frac``, degree marks → ``°``,
    whitespace collapsed.
    """
    s = fix_unicode(repair_escapes(s))
    s = strip_wrappers(s)
    if len(s) >= 4 and s.startswith('\\"') and s.endswith('\\"'):
        s = strip_wrappers(s[2:-2])
    if len(s) >= 2 and s[0] == s[-1] and s[0] in _QUOTES:
        s = strip_wrappers(s[1:-1])
    if "$" in s:
        s = _INNER_DOLLAR.sub("", s)
    if "\\" in s or "{" in s:
        s = _LATEX_THOUSANDS.sub(",", s)
        for _ in range(3):
            new = _TEXT_CMD.sub(r"\1", s)
            if new == s:
                break
            s = new
        s = _DEGREE.sub("°", s)
        s = _SPACING.sub(" ", s)
        s = _FRAC_VARIANTS.sub(r"\\frac", s)
        s = s.replace("{,}", ",").replace("\\%", "%").replace("\\$", "$").replace("\\&", "&")
        s = strip_wrappers(s)
    return " ".join(s.split())


@lru_cache(maxsize=65536)
def squash(s: str) -> str:
    """``clean`` without any whitespace: the key for "same string" comparisons of math answers."""
    return "".join(clean(s).split())


_WORDY = re.compile(r"[^a-z0-9°%.\-+/]+")


@lru_cache(maxsize=65536)
def text_key(s: str) -> str:
    """Case- and punctuation-insensitive key for free-text answers ("Tampa" = "tampa."), digits kept."""
    return _WORDY.sub(" ", clean(s).lower()).strip()


_CONNECTIVE = re.compile(r"\s*,?\s*\b(?:and|or)\b\s*", re.IGNORECASE)


def and_list(s: str) -> str:
    """Join math items listed with words: "1 and 2 and 3" / "21,16 or 11" → "1, 2, 3" / "21,16, 11".

    Only when every item is short and wordless, so a phrase like "Tampa and Florida" is left alone.
    """
    if " and " not in s and " or " not in s:
        return s
    parts = _CONNECTIVE.split(s)
    if len(parts) < 2 or any(not p.strip() or len(p) > 80 or re.search(r"[A-Za-z]{3,}", p.replace("\\", " ")) for p in parts):
        return s
    return ", ".join(p.strip() for p in parts)


_BOUND = r"(?P<{v}>-?\d+(?:\.\d+)?|-?\\infty)"
_LOWER = re.compile(r"^(?P<x>[a-z])\s*(?P<op>>|\\ge|\\geq|≥)\s*" + _BOUND.format(v="a") + r"$")
_UPPER = re.compile(r"^(?P<x>[a-z])\s*(?P<op><|\\le|\\leq|≤)\s*" + _BOUND.format(v="b") + r"$")
_BOTH = re.compile(r"\s*(?:,\s*and\b|\band\b|,)\s*")


def inequality_chain(s: str) -> str:
    """Two bounds on one variable joined by "and" as one chain: "x > -2 and x \\le 3" → "-2 < x \\le 3"."""
    parts = _BOTH.split(s.strip())
    if len(parts) != 2 or len(s) > 80:
        return s
    found = {}
    for part in parts:
        for name, pattern in (("lower", _LOWER), ("upper", _UPPER)):
            m = pattern.match(part.strip())
            if m:
                found[name] = m
    lo, hi = found.get("lower"), found.get("upper")
    if lo is None or hi is None or lo.group("x") != hi.group("x"):
        return s
    left = "<" if lo.group("op") == ">" else "\\le"
    return f"{lo.group('a')} {left} {lo.group('x')} {hi.group('op')} {hi.group('b')}"
