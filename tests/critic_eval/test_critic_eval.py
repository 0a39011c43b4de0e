"""``evaluate_critic`` end to end on the tiny checkpoints and the VisualProcessBench fixture.

The tiny critics are random, so the F1 values mean nothing; what is checked is the pipeline: every labelled
step gets the score the critic gives it in its Best-of-N conversation, the report's numbers are the
metric of those scores, reruns resume, and other settings are refused.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.visualprocessbench import ROWS, build_visualprocessbench
from tts.benchmarks.visualprocessbench import HUB_ID
from tts.critic_eval import confusion, evaluate_critic
from tts.critic_eval.scoring import CriticEvalError, OutputDir
from tts.critics import ScoringRequest, load_critic
from tts.images import decode, to_rgb

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return build_visualprocessbench(tmp_path_factory.mktemp("hub"))


@pytest.fixture(scope="module")
def critic(tiny):
    return load_critic("visualprm", str(tiny.critic))


@pytest.fixture(scope="module")
def result(critic, root, tmp_path_factory):
    return evaluate_critic(critic, tmp_path_factory.mktemp("eval") / "out", data_dir=root, batch_size=3,
                           progress=False)


def _records(out: Path) -> dict[str, dict]:
    return {r.sample_id: r for r in OutputDir(out).read()}


def _image(root: Path, path: str):
    with zipfile.ZipFile(root / HUB_ID / "images.zip") as zf:
        return to_rgb(decode(zf.read(path)))


def test_every_labelled_step_is_scored_without_merging(result):
    records = _records(result.out)
    assert sorted(records) == [f"vpb-{i:05d}" for i in range(len(ROWS))]
    for i, row in enumerate(ROWS):
        rec = records[f"vpb-{i:05d}"]
        assert list(rec.labels) == row["response"]["process_correctness"]
        assert len(rec.scores) == len(row["response"]["steps"]) and all(0 <= s <= 1 for s in rec.scores)
        assert rec.source == row["data_source"] and rec.policy_model == row["policy_model"]
    assert len(records["vpb-00008"].scores) == 14  # 14 steps, above VisualPRM's cap of 12: not merged
    assert records["vpb-00000"].flags == ("steps_rewritten",) and records["vpb-00005"].flags == ("steps_rewritten",)
    assert records["vpb-00001"].flags == ()


def test_scores_are_the_critics_best_of_n_conversation_scores(result, critic, root):
    """Independent of the pipeline: the question with its image placed as the policy prompt places it,
    the source benchmark's tiling (MMMU: 12 tiles, first image doubled; others: 6), the steps joined by a
    blank line, no step cap."""
    from PIL import Image

    records = _records(result.out)
    critic.configure(max_steps=None)
    try:
        mmmu = ROWS[1]
        img = _image(root, mmmu["image"][0])
        text = "\n\n".join(mmmu["response"]["steps"])

        def scores(image, tiles):
            request = ScoringRequest("x", "<image>\n" + mmmu["question"], (image,), ((0, text),), max_tiles=tiles)
            return critic.score([request])[0][0].scores

        doubled = img.resize((img.width * 2, img.height * 2), Image.BILINEAR)
        want = scores(doubled, 12)
        assert records["vpb-00001"].scores == pytest.approx(want, abs=1e-6)
        for other in (scores(img, 12), scores(doubled, 6)):  # the check can tell the tiling rules apart
            assert other != pytest.approx(want, abs=1e-6)
        wemath = ROWS[8]  # 14 steps
        text = "\n\n".join(wemath["response"]["steps"])
        want = critic.score([ScoringRequest("y", "<image>\n" + wemath["question"], (_image(root, wemath["image"][0]),),
                                            ((0, text),), max_tiles=6)])[0][0]
        assert records["vpb-00008"].scores == pytest.approx(want.scores, abs=1e-6)
        two = ROWS[0]  # two images: VLMEvalKit's "Image-1: <image>" lines
        question = f"Image-1: <image>\nImage-2: <image>\n{two['question']}"
        assert critic.question_text(ScoringRequest("z", question, (), ())) == question
    finally:
        critic.configure(max_steps=12)
    assert critic.max_steps == 12  # evaluate_critic gave the critic back with its own cap


def test_report_is_the_metric_of_the_records(result):
    report = json.loads(result.report_path.read_text())
    assert report == json.loads(json.dumps(result.report))
    records = list(_records(result.out).values())
    labels = [y for r in records for y in r.labels]
    scores = [s for r in records for s in r.scores]
    c = confusion(labels, scores, 0.5)
    assert report["overall"]["confusion"] == c.as_dict()
    assert report["overall"]["macro_f1"] == pytest.approx(100 * c.macro_f1)
    assert report["overall"]["steps"] == {"correct": 26, "incorrect": 10, "neutral": 3}
    assert report["overall"]["evaluated_steps"] == 36 and report["overall"]["unscored_steps"] == 0
    mmmu = [r for r in records if r.source == "MMMU_DEV_VAL"]
    assert report["sources"]["MMMU"]["macro_f1"] == pytest.approx(
        100 * confusion([y for r in mmmu for y in r.labels], [s for r in mmmu for s in r.scores], 0.5).macro_f1)
    assert list(report["sources"]) == ["MMMU", "MathVision", "MathVerse-VO", "DynaMath", "WeMath"]
    assert [report["sources"][c]["paper"] for c in report["sources"]] == [58.5, 62.1, 61.0, 62.7, 61.8]
    assert report["overall"]["paper"] == 62.0
    best = report["best_threshold"]
    assert best["macro_f1"] >= max(report["curve"]["overall"]) - 1e-9
    assert best["macro_f1"] >= report["overall"]["macro_f1"]
    assert best["macro_f1"] == pytest.approx(100 * confusion(labels, scores, best["threshold"]).macro_f1)
    assert report["coverage"]["complete"] is True and report["warnings"] == []
    assert result.plot_path is not None and result.plot_path.read_bytes()[:4] == b"\x89PNG"
    table = result.table()
    assert "Overall (pooled)" in table and "62.0" in table and "best threshold" in table


def test_a_rerun_resumes_and_may_change_only_the_threshold(result, critic, root):
    before = result.out.joinpath("scores.jsonl").read_bytes()
    again = evaluate_critic(critic, result.out, data_dir=root, threshold=0.9, progress=False)
    assert again.summary.written == 0 and result.out.joinpath("scores.jsonl").read_bytes() == before
    assert again.report["threshold"] == 0.9
    assert again.report["best_threshold"] == result.report["best_threshold"]
    with pytest.raises(CriticEvalError, match="other settings.*max_tiles"):
        evaluate_critic(critic, result.out, data_dir=root, max_tiles=2, progress=False)


def test_a_critic_given_by_name_gives_the_same_records(result, tiny, root, tmp_path):
    named = evaluate_critic(str(tiny.critic), tmp_path / "named", data_dir=root, batch_size=3, progress=False)
    ours, theirs = _records(named.out), _records(result.out)
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key].scores == pytest.approx(theirs[key].scores, abs=1e-6)


def test_the_text_prm_adapter_is_evaluated_too(root, tmp_path):
    from tts.testing.text_prm_tiny import text_prm_checkpoints

    res = evaluate_critic(str(text_prm_checkpoints().math_shepherd), tmp_path / "ms", kind="math-shepherd",
                          data_dir=root, progress=False)
    records = _records(res.out)
    assert len(records) == len(ROWS) and all(r.scored for r in records.values())
    assert len(records["vpb-00008"].scores) == 14
    assert res.report["applicable"] and res.report["critic"]["critic"] == "math-shepherd"
    assert res.report["overall"]["evaluated_steps"] == 36


def test_an_outcome_model_is_reported_not_applicable(tiny, tmp_path):
    res = evaluate_critic(str(tiny.critic), tmp_path / "orm", kind="visualprm-orm", data_dir=tmp_path / "no-data",
                          progress=False)
    assert res.report["applicable"] is False and "outcome" in res.report["reason"]
    assert not (res.out / "scores.jsonl").exists() and res.plot_path is None
    assert "not applicable" in res.table()
    assert json.loads(res.report_path.read_text())["applicable"] is False


def test_bad_rows_and_a_bad_image_cost_only_themselves(critic, tmp_path):
    root = build_visualprocessbench(tmp_path / "hub", bad_lines=True)
    zip_path = root / HUB_ID / "images.zip"
    with zipfile.ZipFile(zip_path) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries["images/DynaMath/7.png"] = b"\x89PNG not really"
    with zipfile.ZipFile(zip_path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    res = evaluate_critic(critic, tmp_path / "out", data_dir=root, progress=False)
    records = list(_records(res.out).values())
    bad = [r for r in records if not r.scored]
    assert len(records) == len(ROWS) and len(bad) == 1 and bad[0].flags == ("unscored", "bad_image")
    report = res.report
    assert report["coverage"]["skipped_rows"] == 5 and report["coverage"]["complete"] is False
    assert report["overall"]["unscored_steps"] == 2
    assert any("5 of 15 dataset rows were skipped" in w for w in report["warnings"])
    assert any("partial data" in w for w in report["warnings"])
    assert len(report["dataset_warnings"]) == 5
