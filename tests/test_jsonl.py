import errno
import json
import os
import signal

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


def test_a_batch_that_does_not_fit_is_cut_off_whole(tmp_path):
    from tests.small_disk import small_disk

    with small_disk(tmp_path / "disk", "64k") as disk:
        path = disk / "a.jsonl"
        written = []
        with JsonlAppender(path) as w, pytest.raises(OSError) as exc:
            for i in range(10_000):
                batch = [{"i": i, "j": j, "pad": "x" * 700} for j in range(5)]
                w.write_batch(batch)
                written += batch
        assert exc.value.errno == errno.ENOSPC and exc.value.filename == str(path)
        assert read_jsonl(path) == written and path.read_bytes().endswith(b"\n")  # no half batch, no half line


def test_an_atomic_write_that_fails_leaves_no_temporary_file(tmp_path):
    from tests.small_disk import fill, small_disk

    with small_disk(tmp_path / "disk", "64k") as disk:
        write_json_atomic(disk / "m.json", {"a": 1})
        filler = fill(disk)
        with pytest.raises(OSError) as exc:
            write_json_atomic(disk / "m.json", {"a": "x" * 100_000})
        assert exc.value.errno == errno.ENOSPC and exc.value.filename == str(disk / "m.json")
        assert sorted(p.name for p in disk.iterdir()) == ["filler", "m.json"]
        assert json.loads((disk / "m.json").read_text()) == {"a": 1}
        filler.unlink()


def test_a_repaired_tail_is_kept_when_asked(tmp_path):
    path, keep = tmp_path / "a.jsonl", tmp_path / "q" / "a.jsonl"
    path.write_bytes(b'{"i": 1}\n{"i": 2, "te')
    assert repair_tail(path, keep=keep) == 12
    assert path.read_bytes() == b'{"i": 1}\n' and keep.read_bytes() == b'{"i": 2, "te\n'


def test_a_signal_during_a_batch_write_waits_for_the_whole_batch(tmp_path, monkeypatch):
    """SIGTERM arriving between two write calls of one batch: the batch completes, then Interrupted."""
    import tts.jsonl
    from tts import interrupts

    real_write, calls = os.write, []

    def slow_write(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs at the next bytecode boundary
            return real_write(fd, bytes(data[:5]))  # a short write: the rest follows in a second call
        return real_write(fd, data)

    monkeypatch.setattr(tts.jsonl.os, "write", slow_write)
    path = tmp_path / "a.jsonl"
    interrupts.install()
    try:
        with JsonlAppender(path) as w, pytest.raises(interrupts.Interrupted) as exc:
            w.write_batch([{"i": 1}, {"i": 2}])
    finally:
        interrupts.uninstall()
    assert exc.value.exit_code == 143 and len(calls) == 2
    assert read_jsonl(path) == [{"i": 1}, {"i": 2}]


def test_surrogates_in_a_manifest_round_trip(tmp_path):
    write_json_atomic(tmp_path / "m.json", {"path": "/data/caf\udce9"})
    assert json.loads((tmp_path / "m.json").read_text())["path"] == "/data/caf\udce9"
