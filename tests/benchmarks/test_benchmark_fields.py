"""Field parsers: untrusted dataset text is parsed safely, malformed values become clear BadRow errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.benchmarks.fields import (
    choices_block,
    letter_options,
    numeric_answer_type,
    parse_str_list,
    precision_int,
    str_list,
)
from tts.benchmarks.hub import BadRow, image_bytes
from tts.benchmarks.mmmu import multi_gold


@pytest.mark.parametrize("text,expected", [
    ("['A', 'B']", ["A", "B"]),
    ("[]", []),
    ('["<image 1>", "x\'s"]', ["<image 1>", "x's"]),
    ("  ['padded']  ", ["padded"]),
])
def test_parse_str_list_accepts_list_literals(text, expected):
    assert parse_str_list(text, "options") == expected


@pytest.mark.parametrize("text", [
    "['a', 'b'",                                   # truncated
    "__import__('os').system('true')",             # code, not a literal
    "[open('/etc/passwd').read()]",                 # a call inside a list
    "[1, 2]",                                      # not strings
    "'just a string'",                             # not a list
    "{'a': 1}",
    "",
    None,
])
def test_parse_str_list_rejects_everything_else(text):
    with pytest.raises(BadRow, match="malformed options"):
        parse_str_list(text, "options")


@given(st.lists(st.text(max_size=20), max_size=8))
def test_parse_str_list_inverts_repr(values):
    assert parse_str_list(repr(values), "options") == values


@pytest.mark.parametrize("text,expected", [
    ("A. 300, 400;B. 400, 300;C. 500", ["300, 400", "400, 300", "500"]),
    ("A. 1; B. 2; C. No correct answer", ["1", "2", "No correct answer"]),
    ("A. x;y;B. z", ["x;y", "z"]),                 # a ';' not followed by a letter stays in the option
    ("A:3 cm;B:4 cm", ["3 cm", "4 cm"]),
])
def test_letter_options(text, expected):
    assert letter_options(text, "option") == expected


@pytest.mark.parametrize("text", ["300, 400", "B. 1;A. 2", "A. 1;C. 2", "", None])
def test_letter_options_rejects_malformed(text):
    with pytest.raises(BadRow, match="malformed option"):
        letter_options(text, "option")


@pytest.mark.parametrize("question,expected", [
    ("angle CED is ()\nChoices:\nA:40°\nB:60°\nC:120°\nD:140°", ["40°", "60°", "120°", "140°"]),
    ("Find x.\nChoices:\nA. 1\nB. 2", ["1", "2"]),
    ("Find x.", []),
    ("Choices:\nB:1\nA:2", []),
])
def test_choices_block(question, expected):
    assert choices_block(question) == expected


@pytest.mark.parametrize("answer,expected", [
    ("3", "integer"), ("-12", "integer"), ("1.5", "float"), (".5", "float"), ("1e3", "float"),
    ("4.4 m", "expression"), ("\\frac{1}{2}", "expression"), ("", "expression"), (None, "expression"),
])
def test_numeric_answer_type(answer, expected):
    assert numeric_answer_type(answer, fallback="expression") == expected


@pytest.mark.parametrize("value,expected", [(None, None), (1.0, 1), (2.0, 2), (float("nan"), None), (3, 3)])
def test_precision_int(value, expected):
    assert precision_int(value) == expected


@pytest.mark.parametrize("value", [1.5, -1.0, "one"])
def test_precision_int_rejects(value):
    with pytest.raises(BadRow, match="malformed precision"):
        precision_int(value)


@pytest.mark.parametrize("answer,expected", [
    ("['24/7', '3.429']", ("24/7", "3.429")),
    ("['Tampa', 'Florida']", ("Tampa", "Florida")),
    ("[2014, 2016]", "[2014, 2016]"),          # a list answer, not several golds
    ("B", "B"),
    ("[unbalanced", "[unbalanced"),
])
def test_mmmu_multi_gold(answer, expected):
    assert multi_gold(answer) == expected


def test_str_list_and_image_values(tmp_path):
    assert str_list(None, "choices") == []
    with pytest.raises(BadRow):
        str_list("abc", "choices")
    (tmp_path / "a.png").write_bytes(b"png")
    assert image_bytes({"bytes": None, "path": "a.png"}, "image", tmp_path) == b"png"
    with pytest.raises(BadRow, match="missing image image: no bytes .path 'b.png' not found"):
        image_bytes({"bytes": None, "path": "b.png"}, "image", tmp_path)
    with pytest.raises(BadRow, match="missing image"):
        image_bytes(None, "image")
