import pytest

from tts.jsonl import JsonlAppender, JsonlCorruption, read_jsonl, repair_tail, write_json_atomic


def test_batches_append_and_read_back(tmp_path):
    path = tmp_path / "a.jsonl"
    with JsonlAppender(path) as w:
        assert w.write_batch([{"i": 1}, {"i": 2}]) == 2
    with JsonlAppender(path) as w:
        w.write_batch(['{"i": 3}'])
    assert [r["i"] for r in read_jsonl(path)] == [1, 2, 3]


def test_truncated_trailing_line_is_ignored_then_cut_before_appending(tmp_path, caplog):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"i": 1}\n{"i": 2}\n{"i": 3, "te')
    assert [r["i"] for r in read_jsonl(path)] == [1, 2]
    with JsonlAppender(path) as w:  # opening repairs the tail, so the next line is not glued to it
        w.write_batch([{"i": 4}])
    assert [r["i"] for r in read_jsonl(path)] == [1, 2, 4]
    assert "truncated" in caplog.text


def test_repair_of_a_file_that_is_only_a_partial_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"i": 1')
    assert repair_tail(path) == 7
    assert path.read_bytes() == b""


def test_corruption_in_the_middle_names_the_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"i": 1}\nnot json\n{"i": 3}\n')
    with pytest.raises(JsonlCorruption, match="a.jsonl:2"):
        read_jsonl(path)


def test_rows_with_raw_newlines_are_refused(tmp_path):
    with JsonlAppender(tmp_path / "a.jsonl") as w, pytest.raises(ValueError):
        w.write_batch(["{\n}"])


def test_atomic_json_write_replaces(tmp_path):
    path = tmp_path / "r.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"a": 2})
    assert path.read_text().strip().endswith("}")
    assert not list(tmp_path.glob(".r.json.tmp*"))
