"""VisualProcessBench's loader on a copy in the hub's exact layout and schema (tests/fixtures/visualprocessbench.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.visualprocessbench import BAD_LINES, ROWS, build_visualprocessbench, image_bytes, png
from tts.benchmarks.base import BenchmarkError
from tts.benchmarks.visualprocessbench import HUB_ID, column_of, load_visualprocessbench


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return build_visualprocessbench(tmp_path_factory.mktemp("hub"))


def test_rows_become_samples_with_every_field(root):
    loaded = load_visualprocessbench(root)
    assert loaded.warnings == [] and loaded.skipped == 0 and loaded.rows == len(ROWS)
    assert [s.id for s in loaded.samples] == [f"vpb-{i:05d}" for i in range(len(ROWS))]
    for sample, row in zip(loaded.samples, ROWS):
        assert sample.question == row["question"] and sample.answer == row["answer"]
        assert list(sample.steps) == row["response"]["steps"]
        assert list(sample.labels) == row["response"]["process_correctness"]
        assert list(sample.images) == row["image"] and sample.policy_model == row["policy_model"]
        assert sample.source == row["data_source"]
        for path in sample.images:
            assert loaded.images.read(path).startswith(b"\x89PNG")
    assert [s.column for s in loaded.samples][::2] == ["MMMU", "MathVision", "MathVerse-VO", "DynaMath", "WeMath"]
    loaded.images.close()


@pytest.mark.parametrize("source,column", [
    ("MMMU_DEV_VAL", "MMMU"), ("MathVision_MINI", "MathVision"), ("MathVision", "MathVision"),
    ("MathVerse_MINI_Vision_Only", "MathVerse-VO"), ("mathverse", "MathVerse-VO"), ("DynaMath", "DynaMath"),
    ("WeMath", "WeMath"), ("We-Math", "WeMath"), ("MathVista_MINI", None), ("LogicVista", None),
])
def test_sources_map_to_table3_columns(source, column):
    assert column_of(source) == column


def test_bad_rows_are_skipped_each_with_its_reason(tmp_path):
    loaded = load_visualprocessbench(build_visualprocessbench(tmp_path, bad_lines=True))
    assert len(loaded.samples) == len(ROWS) and loaded.skipped == len(BAD_LINES)
    assert loaded.rows == len(ROWS) + len(BAD_LINES)
    for warning, (_, reason) in zip(loaded.warnings, BAD_LINES):
        assert reason in warning and warning.endswith("skipped")
    # ids are line numbers of the file, so the good rows after the bad ones keep their own lines
    assert loaded.samples[3].id == f"vpb-{3 + len(BAD_LINES):05d}"
    with pytest.raises(BenchmarkError, match="line 4: not valid JSON.*--strict"):
        load_visualprocessbench(tmp_path, strict=True)


@pytest.mark.parametrize("layout", ["zip-without-prefix", "unpacked"])
def test_other_image_layouts_are_found(tmp_path, layout):
    if layout == "unpacked":
        root = build_visualprocessbench(tmp_path, unpacked=True)
    else:
        root = build_visualprocessbench(tmp_path, zip_prefix="images/")
        names = zipfile.ZipFile(root / HUB_ID / "images.zip").namelist()
        assert all(not n.startswith("images/") for n in names)
    loaded = load_visualprocessbench(root)
    assert len(loaded.samples) == len(ROWS) and not loaded.warnings
    first = loaded.samples[0].images[0]
    assert loaded.images.read(first) == image_bytes(first)


def test_image_paths_cannot_leave_the_dataset_folder(tmp_path):
    root = build_visualprocessbench(tmp_path, unpacked=True)
    (tmp_path / "secret.png").write_bytes(png(1))
    rows = [dict(ROWS[0], image=["../../../secret.png"])] + ROWS[1:]
    (root / HUB_ID / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    loaded = load_visualprocessbench(root)
    assert loaded.skipped == 1 and "not found" in loaded.warnings[0]


def test_an_unexpected_schema_fails_with_one_clear_message(tmp_path):
    repo = tmp_path / HUB_ID
    repo.mkdir(parents=True)
    rows = [{"images": ["a.png"], "query": "q", "steps": ["s"], "labels": [1]} for _ in range(5)]
    (repo / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(BenchmarkError, match=r"5 of 5 rows .* unusable .*missing field.*Expected the schema"):
        load_visualprocessbench(tmp_path)


def test_an_unexpected_image_layout_fails_naming_both_sides(tmp_path):
    root = build_visualprocessbench(tmp_path)
    rows = [dict(r, image=[p.replace("images/", "imgs/v2/") for p in r["image"]]) for r in ROWS]
    (root / HUB_ID / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(BenchmarkError, match=r"not found.*images.zip holds e.g. 'images/"):
        load_visualprocessbench(root)


def test_limit_is_per_source_and_sources_filter(root):
    loaded = load_visualprocessbench(root, limit=1)
    assert [s.column for s in loaded.samples] == ["MMMU", "MathVision", "MathVerse-VO", "DynaMath", "WeMath"]
    only = load_visualprocessbench(root, sources=["wemath", "MMMU_DEV_VAL"])
    assert {s.column for s in only.samples} == {"WeMath", "MMMU"} and len(only.samples) == 4


def test_data_dir_from_the_environment_and_a_clear_error_without_a_copy(root, tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_DATA_DIR", str(root))
    assert len(load_visualprocessbench().samples) == len(ROWS)
    with pytest.raises(BenchmarkError, match="huggingface-cli download --repo-type dataset OpenGVLab/VisualProcessBench"):
        load_visualprocessbench(tmp_path / "empty")
    with pytest.raises(BenchmarkError, match="looks like the dataset itself"):
        load_visualprocessbench(root / HUB_ID)


def test_identity_is_the_file_hash(root, tmp_path):
    a = load_visualprocessbench(root).identity()
    other = build_visualprocessbench(tmp_path, bad_lines=True)
    b = load_visualprocessbench(other).identity()
    assert a["dataset"] == HUB_ID and a["sha256"] != b["sha256"] and b["rows"] == len(ROWS) + len(BAD_LINES)


def test_datasets_cannot_load_the_card_as_published(root, tmp_path, monkeypatch):
    """Why the loader reads test.jsonl itself: the card declares every column a string, the file does not agree."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    with pytest.raises(Exception, match="(?s)cast|generat"):
        datasets.load_dataset(str(root / HUB_ID), split="test")


def test_from_the_hub_a_snapshot_is_fetched_and_its_commit_recorded(root, tmp_path, monkeypatch):
    import shutil

    import huggingface_hub

    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / "snapshots" / commit
    shutil.copytree(root / HUB_ID, snapshot)
    calls = []

    def fake_snapshot_download(repo_id, **kwargs):
        calls.append((repo_id, kwargs))
        return str(snapshot)

    monkeypatch.delenv("TTS_DATA_DIR", raising=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    loaded = load_visualprocessbench(revision="main")
    assert len(loaded.samples) == len(ROWS) and loaded.revision == commit
    repo_id, kwargs = calls[0]
    assert repo_id == HUB_ID and kwargs["repo_type"] == "dataset" and kwargs["revision"] == "main"
    assert {"test.jsonl", "images.zip"} <= set(kwargs["allow_patterns"])

    def offline(repo_id, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    with pytest.raises(BenchmarkError, match="cannot fetch OpenGVLab/VisualProcessBench.*--data-dir"):
        load_visualprocessbench()
