"""The TRL and MMPR writers: exact columns and layout, images, provenance, and loading with ``datasets``."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.pairs.conftest import SYSTEM, P, bad, ok, unparsable
from tts.jsonl import read_jsonl
from tts.pairs import build_pairs, load_trl, make_pairs, write_pairs


@pytest.fixture()
def run(run_factory) -> Path:
    return run_factory([
        P("one-image", "6", [ok("6"), bad("5"), unparsable()]),
        P("two-images", "3", [ok("3"), bad("4")], images=2, question="Compare <image> and <image>: which?"),
        P("text-only", "1", [ok("1"), bad("2")], images=0, benchmark="other"),
        P("all-right", "1", [ok("1")]),
    ], critic=None)


def test_trl_rows_are_conversational_with_image_blocks_in_order(run, tmp_path):
    ps = build_pairs(run, "correctness")
    written = write_pairs(ps, "trl", tmp_path / "out")
    rows = read_jsonl(tmp_path / "out" / "correctness.jsonl")
    assert written.rows == len(rows) == 4
    by_problem = {r["problem_id"]: r for r in rows if r["kind"] == "correctness"}
    one = by_problem["one-image"]
    assert set(one) == {"prompt", "chosen", "rejected", "images", "pair_id", "problem_id", "method", "kind"}
    assert one["prompt"][0] == {"role": "system", "content": [{"type": "text", "text": SYSTEM}]}
    assert one["prompt"][1]["role"] == "user"
    assert one["prompt"][1]["content"][0] == {"type": "image"}
    assert one["prompt"][1]["content"][1]["text"].startswith("Question one-image?\n")
    assert one["chosen"] == [{"role": "assistant", "content": [{"type": "text", "text": ok("6").text}]}]
    assert one["rejected"][0]["content"][0]["text"] == bad("5").text
    assert len(one["images"]) == 1 and Path(one["images"][0]).is_absolute()
    assert Path(one["images"][0]).parent == (tmp_path / "out" / "images").resolve()
    two = by_problem["two-images"]["prompt"][1]["content"]
    assert [b["type"] for b in two] == ["text", "image", "text", "image", "text"]
    assert [b.get("text") for b in two if b["type"] == "text"][:2] == ["Compare ", " and "]
    assert len(by_problem["two-images"]["images"]) == 2
    text_only = by_problem["text-only"]
    assert text_only["images"] == [] and [b["type"] for b in text_only["prompt"][1]["content"]] == ["text"]


@pytest.mark.parametrize("system,turn", [
    ("", {"role": "system", "content": [{"type": "text", "text": ""}]}),  # sampled with an empty system turn
    (None, None),  # a run that does not record the policy's system message: no system turn is made up
])
def test_the_system_turn_of_trl_rows_is_the_one_the_policy_was_sampled_with(run_factory, tmp_path, system, turn):
    """InternVL's template writes ``<|im_start|>system\n<|im_end|>\n`` for an empty system message, and so do the
    engines; the pairs must train on that prompt, not on one without a system turn."""
    from types import SimpleNamespace

    from tts.pairs.formats import trl_step_prompt

    run = run_factory([P("one-image", "6", [ok("6"), bad("5")])], critic=None, system=system)
    write_pairs(build_pairs(run, "correctness"), "trl", tmp_path / "out")
    (row,) = read_jsonl(tmp_path / "out" / "correctness.jsonl")
    assert (row["prompt"][0] if row["prompt"][0]["role"] == "system" else None) == turn
    step = trl_step_prompt(SimpleNamespace(prompt="<image>\nQ?", initial_steps="Step 1.\n\n"), system)  # type: ignore[arg-type]
    head = "<|im_start|>system\n<|im_end|>\n" if system == "" else ""
    assert step == head + "<|im_start|>user\n<IMG_CONTEXT>\nQ?<|im_end|>\n<|im_start|>assistant\nStep 1.\n\n"


def test_trl_output_loads_with_datasets_as_pil_images(run, tmp_path):
    write_pairs(build_pairs(run, "correctness"), "trl", tmp_path / "out")
    import datasets

    ds = datasets.load_dataset("json", data_files=str(tmp_path / "out" / "correctness.jsonl"), split="train")
    ds = ds.cast_column("images", datasets.Sequence(datasets.Image()))
    assert set(ds.column_names) >= {"prompt", "chosen", "rejected", "images"}
    row = next(r for r in ds if r["problem_id"] == "two-images")
    assert [im.size for im in row["images"]] == [(33, 24), (33, 25)]
    assert row["chosen"][0]["role"] == "assistant"


def test_load_trl_re_roots_a_moved_folder(run, tmp_path):
    write_pairs(build_pairs(run, "correctness"), "trl", tmp_path / "out")
    shutil.move(tmp_path / "out", tmp_path / "moved")
    ds = load_trl(tmp_path / "moved" / "correctness.jsonl")
    assert all(im.size[0] > 0 for r in ds for im in r["images"])


def test_provenance_and_report_sidecars(run, tmp_path):
    ps = build_pairs(run, "correctness")
    write_pairs(ps, "trl", tmp_path / "out")
    prov = read_jsonl(tmp_path / "out" / "provenance" / "correctness.jsonl")
    rows = read_jsonl(tmp_path / "out" / "correctness.jsonl")
    assert [p["pair_id"] for p in prov] == [r["pair_id"] for r in rows]
    assert prov[0]["chosen"]["outcome"] == "correct" and prov[0]["chosen"]["extracted"] == "6"
    report = json.loads((tmp_path / "out" / "reports" / "correctness.json").read_text())
    assert report["report"]["problems"] == 4 and report["report"]["no_pairs"] == {"all rollouts correct": 1}
    assert report["config"]["seed"] == 0 and report["config"]["max_pairs_per_problem"] == 15


def test_mmpr_layout_and_meta_as_internvl_reads_it(run, tmp_path):
    out = tmp_path / "mmpr"
    ps = build_pairs(run, "correctness")
    write_pairs(ps, "mmpr", out)
    meta = json.loads((out / "meta.json").read_text())
    assert sorted(meta) == ["demo_test_pairs_vqa_correctness_rules", "demo_test_pairs_vqa_format_rules",
                            "other_test_pairs_vqa_correctness_rules"]
    total = 0
    for entry in meta.values():
        assert set(entry) == {"root", "annotation", "data_augment", "repeat_time", "length"}
        assert entry["annotation"].endswith("jsonl") and entry["data_augment"] is False and entry["repeat_time"] == 1
        lines = read_jsonl(Path(entry["annotation"]))
        assert entry["length"] == len(lines)
        total += len(lines)
        for line in lines:
            assert {"question", "chosen", "rejected", "answer_gt"} <= set(line)
            images = line.get("image", [])
            images = [images] if isinstance(images, str) else images
            assert line["question"].count("<image>") == len(images)
            for name in images:  # the trainer opens os.path.join(root, image)
                assert os.path.isfile(os.path.join(entry["root"], name))
            assert line["chosen_meta"]["outcome"] == "correct"
    assert total == len(ps.pairs)
    fmt = read_jsonl(out / "annotations" / "demo_test_pairs_vqa_format_rules.jsonl")
    assert fmt == [{"image": fmt[0]["image"], "question": fmt[0]["question"], "chosen": ok("6").text,
                    "rejected": unparsable().text, "answer_gt": "6", "chosen_meta": fmt[0]["chosen_meta"],
                    "rejected_meta": fmt[0]["rejected_meta"]}]
    two = next(r for r in read_jsonl(out / "annotations" / "demo_test_pairs_vqa_correctness_rules.jsonl")
               if isinstance(r.get("image"), list))
    assert len(two["image"]) == 2 and two["question"].startswith("Compare <image> and <image>")
    text_only = read_jsonl(out / "annotations" / "other_test_pairs_vqa_correctness_rules.jsonl")
    assert "image" not in text_only[0]


def test_mmpr_meta_is_merged_across_methods_and_rewrites_are_idempotent(run_factory, tmp_path):
    run = run_factory([P("p", "6", [ok("6", ["a", "b"], [0.9, 0.9, 0.9]), bad("5", ["a", "c"], [0.9, 0.1, 0.1])])])
    out = tmp_path / "mmpr"
    make_pairs(run, method="correctness", format="mmpr", out=out)
    make_pairs(run, method="step", format="mmpr", out=out)
    make_pairs(run, method="step", format="mmpr", out=out)
    meta = json.loads((out / "meta.json").read_text())
    assert sorted(meta) == ["demo_test_pairs_vqa_correctness_rules", "demo_test_step_dpo"]
    (step,) = read_jsonl(Path(meta["demo_test_step_dpo"]["annotation"]))
    assert step["initial_reason_steps"] == "a\n\n"
    assert step["chosen"] == "a\n\nb" and step["rejected"] == "a\n\nc"


def test_trl_step_rows_carry_step_dpo_columns(run_factory, tmp_path):
    run = run_factory([P("p", "6", [ok("6", ["a", "b"], [0.9, 0.9, 0.9]), bad("5", ["a", "c"], [0.9, 0.1, 0.1])])])
    make_pairs(run, method="step", format="trl", out=tmp_path / "trl")
    (row,) = read_jsonl(tmp_path / "trl" / "step.jsonl")
    assert (row["initial_reason_steps"], row["chosen"], row["rejected"]) == ("a\n\n", "b", "c")
    # the prompt continues the assistant turn with the shared prefix, as Step-DPO's template does
    assert isinstance(row["prompt"], str) and row["prompt"].endswith("<|im_end|>\n<|im_start|>assistant\na\n\n")
    assert row["prompt"].count("<IMG_CONTEXT>") == len(row["images"]) and "<image>" not in row["prompt"]


def test_unknown_format_fails_before_any_work(run, tmp_path):
    with pytest.raises(KeyError, match="unknown pair format 'trll'"):
        make_pairs(run, method="correctness", format="trll", out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_missing_image_file_skips_only_its_problem(run, tmp_path):
    (img,) = [p for p in (run / "images").iterdir() if p.stat().st_size and p.name.endswith(".png")][:1]
    ps0 = build_pairs(run, "correctness")
    victims = {p.problem_id for p in ps0.pairs if str(img.resolve()) in p.images}
    img.unlink()
    ps = build_pairs(run, "correctness")
    assert ps.report.no_pairs.get("image file missing") == sorted(victims)
    write_pairs(ps, "trl", tmp_path / "out")  # writing does not trip over the missing file


def test_mmpr_rewrite_drops_a_benchmark_that_no_longer_gives_pairs(run_factory, tmp_path):
    out = tmp_path / "mmpr"
    good, wrong = ok("6", scores=[0.9, 0.9]), bad("5", scores=[0.9, 0.1])
    first = run_factory([P("a", "6", [good, wrong]), P("b", "6", [good, wrong], benchmark="other")])
    make_pairs(first, method="correctness", format="mmpr", out=out)
    make_pairs(first, method="step", format="mmpr", out=out)  # another method's entries are kept
    second = run_factory([P("a", "6", [good, wrong]), P("b", "6", [good], benchmark="other")])
    make_pairs(second, method="correctness", format="mmpr", out=out)
    meta = json.loads((out / "meta.json").read_text())
    assert sorted(meta) == ["demo_test_pairs_vqa_correctness_rules", "demo_test_step_dpo", "other_test_step_dpo"]
    assert sorted(p.name for p in (out / "annotations").iterdir()) == [f"{stem}.jsonl" for stem in sorted(meta)]
