"""The label files: VisualPRM400K conversations are the critic's own conversation, every file loads with
``datasets``, and TRL's PRM trainer tokenizes (and trains on) the stepwise rows where the installed TRL has one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pairs.conftest import P
from tests.step_labels.conftest import STEPS, FakeEngine, ScriptedGrader, rollout, small_run
from tts.critics.visualprm import PLACEHOLDER, ROLE_ASSISTANT, ROLE_SYSTEM, ROLE_USER, SEP, conversation
from tts.jsonl import read_jsonl
from tts.prompts import build_prompt, prompt_text
from tts.rundir import RunDir
from tts.step_labels import label_run, load_trl_prm

K = 4


def f_mixed(pid: str, sidx: int, k: int) -> int:
    return 0 if k == 1 else 2


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("formats")
    problems = [P("p1", "6", [rollout("6"), rollout("5", STEPS[1:3], False)]),
                P("p2", "4", [rollout("4", STEPS[2:4])], images=2),
                P("p3", "7", [rollout("7", ("Only words here.",))], images=0)]
    run = small_run(root / "run", problems=problems)
    label_run(run, policy=FakeEngine(), grader=ScriptedGrader(run, f_mixed), continuations=K, progress=False)
    return run


def _render(turns: list[dict[str, str]]) -> str:
    """InternVL2.5's template over a conversation (an empty message writes its role only, as the MPT style does)."""
    roles = {"system": ROLE_SYSTEM, "human": ROLE_USER, "gpt": ROLE_ASSISTANT}
    return "".join(f"{roles[t['from']]}{t['value']}{SEP}" if t["value"] else roles[t["from"]] for t in turns)


def test_conversations_are_the_critics_conversation_with_the_labels_as_replies(labelled):
    run = RunDir.open(labelled, create=False)
    problems = {p.id: p for p in run.problems()}
    rows = read_jsonl(labelled / "labels" / "visualprm400k.jsonl")
    labels = {(r["problem_id"], r["sample_idx"]): r for r in read_jsonl(labelled / "labels" / "labels.jsonl")}
    assert [r["id"] for r in rows] == ["p1#0", "p1#1", "p2#0", "p3#0"]
    for row in rows:
        pid, sidx = row["id"].split("#")
        problem, lab = problems[pid], labels[(pid, int(sidx))]
        turns = row["conversations"]
        assert turns[0] == {"from": "system", "value": prompt_text("visualprm_system")}
        assert [t["value"] for t in turns[2::2]] == ["+" if x else "-" for x in lab["labels"]]
        assert [t["value"] for t in turns[2::2]] == ["+", "-", "+"][: len(lab["steps"])]
        as_scored = [dict(t, value=PLACEHOLDER) if t["from"] == "gpt" else t for t in turns]
        assert _render(as_scored) == conversation(prompt_text("visualprm_system"), build_prompt(problem), lab["steps"],
                                                  len(problem.images))
        assert turns[1]["value"].startswith("### Question:\n") and "\n\n### Solution Process:\n" in turns[1]["value"]
        assert turns[1]["value"].count("<image>") == len(problem.images)
        images = [row["image"]] if isinstance(row.get("image"), str) else row.get("image", [])
        assert images == list(problem.images) and all((labelled / ref).is_file() for ref in images)
    meta = json.loads((labelled / "labels" / "meta.json").read_text())
    (entry,) = meta.values()
    assert entry == {"root": str(labelled.resolve()), "annotation": str((labelled / "labels" / "visualprm400k.jsonl").resolve()),
                     "data_augment": False, "repeat_time": 1, "length": 4}


def test_every_file_loads_with_datasets(labelled):
    import datasets

    folder = labelled / "labels"
    labels = datasets.load_dataset("json", data_files=str(folder / "labels.jsonl"), split="train")
    assert labels.num_rows == 4 and labels[0]["mc"] == [0.5, 0.0, 0.5] and labels[0]["labels"] == [True, False, True]
    conv = datasets.load_dataset("json", data_files=str(folder / "visualprm400k.jsonl"), split="train")
    assert conv.num_rows == 4 and conv[0]["conversations"][2] == {"from": "gpt", "value": "+"}
    trl = load_trl_prm(folder / "trl_prm.jsonl")
    assert trl.column_names[:3] == ["prompt", "completions", "labels"]
    row = trl[2]
    assert row["completions"] == [*STEPS[2:4], "Answer: \\boxed{4}"] and row["labels"] == [True, False, True]
    assert len(row["images"]) == 2 and all(im.size[0] > 0 for im in row["images"])  # decoded from their paths
    assert trl[3]["images"] == [] and row["prompt"].count("<image>") == 2


def _prm_trainer():
    """TRL's PRM trainer where the installed TRL has one (``trl.PRMTrainer`` up to 0.28, ``trl.experimental.prm``
    up to 1.13; removed in huggingface/trl#7133)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TRL's notice that trl.experimental is experimental
            from trl.experimental.prm import PRMConfig, PRMTrainer
    except ImportError:
        try:
            from trl import PRMConfig, PRMTrainer
        except ImportError:
            import trl

            pytest.skip(f"the installed TRL {trl.__version__} has no PRM trainer (removed in huggingface/trl#7133; "
                        "TRL <= 1.13 has trl.experimental.prm)")
    return PRMConfig, PRMTrainer


def test_trls_prm_trainer_tokenizes_the_rows_and_trains_a_step(labelled, tmp_path):
    prm_config, prm_trainer = _prm_trainer()
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from tts.testing import text_tiny_checkpoint

    path = text_tiny_checkpoint()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    ds = load_trl_prm(labelled / "labels" / "trl_prm.jsonl", decode=False)
    for row in ds:
        out = prm_trainer.tokenize_row(row, tokenizer, "\n\n", None, None, False, False)
        marked = [(i, v) for i, v in enumerate(out["labels"]) if v != -100]
        assert [v for _, v in marked] == [int(x) for x in row["labels"]]  # one label per step, at its last token
        text = tokenizer.decode(out["input_ids"], skip_special_tokens=True)
        assert text.replace(" ", "").endswith("\n\n".join(row["completions"]).replace(" ", "") + "\n\n")
    model = AutoModelForTokenClassification.from_pretrained(str(path), num_labels=2)
    args = prm_config(output_dir=str(tmp_path / "prm"), step_separator="\n\n", max_steps=1, per_device_train_batch_size=2,
                      report_to=[], save_strategy="no", use_cpu=True)
    trainer = prm_trainer(model=model, args=args, train_dataset=ds.remove_columns(["images"]), processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 1 and result.training_loss > 0
