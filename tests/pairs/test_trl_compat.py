"""The TRL export goes through TRL's own vision-preference pipeline on the tiny InternVL policy.

Checks, against the installed TRL (``DataCollatorForVisionPreference``, ``apply_chat_template``,
``DPOTrainer``): the rows are a ready vision DPO dataset, the prompt TRL renders is exactly the prompt the
policy was sampled with, and one MPO step (sigmoid + bco_pair + sft, weights 0.8/0.2/1.0) trains.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pairs.conftest import SYSTEM, P, bad, ok, unparsable
from tts.pairs import build_pairs, load_trl, write_pairs

pytestmark = pytest.mark.slow

MPO_LOSS = ["sigmoid", "bco_pair", "sft"]
MPO_WEIGHTS = [0.8, 0.2, 1.0]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from tests.pairs.conftest import make_run

    base = tmp_path_factory.mktemp("trl")
    run = make_run(base / "run", [
        P("one", "6", [ok("6"), bad("5"), unparsable()]),
        P("two", "3", [ok("3"), bad("4")], images=2, question="Compare <image> and <image>: which?"),
    ], critic=None)
    write_pairs(build_pairs(run, "correctness"), "trl", base / "out")
    return load_trl(base / "out" / "correctness.jsonl")


@pytest.fixture(scope="module")
def processor(tiny):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(str(tiny.policy))


def test_installed_trl_accepts_the_mpo_loss_combination():
    import trl
    from packaging.version import Version
    from trl import DPOConfig

    assert Version(trl.__version__) >= Version("0.20")  # multi-loss DPO landed in TRL 0.20 (PR #2544)
    cfg = DPOConfig(output_dir="unused", loss_type=MPO_LOSS, loss_weights=MPO_WEIGHTS, use_cpu=True, bf16=False)
    assert cfg.loss_type == MPO_LOSS and cfg.loss_weights == MPO_WEIGHTS and cfg.beta == 0.1
    with pytest.raises(ValueError, match="same length"):
        DPOConfig(output_dir="unused", loss_type=MPO_LOSS, loss_weights=[0.8, 0.2], use_cpu=True, bf16=False)


def test_trl_renders_the_policy_prompt_exactly(dataset, tiny):
    from trl.data_utils import apply_chat_template, prepare_multimodal_messages

    from tts.engines import GenerationRequest, load_engine

    engine = load_engine("transformers", str(tiny.policy), system_message=SYSTEM)
    for row in dataset:
        prompt = prepare_multimodal_messages(row["prompt"], images=row["images"])
        rendered = apply_chat_template({"prompt": prompt, "chosen": row["chosen"], "rejected": row["rejected"]},
                                       engine.vlm.processor)
        policy_prompt = engine.render(GenerationRequest("x", _policy_prompt(row), tuple(row["images"])))
        assert rendered["prompt"] == policy_prompt.replace("<image>", "<IMG_CONTEXT>")
        assert rendered["chosen"] == row["chosen"][0]["content"][0]["text"] + "<|im_end|>\n"


def test_trl_renders_an_empty_system_turn_as_the_policy_was_sampled_with(tiny, tmp_path):
    from trl.data_utils import apply_chat_template, prepare_multimodal_messages

    from tests.pairs.conftest import make_run
    from tts.engines import GenerationRequest, load_engine

    run = make_run(tmp_path / "run", [P("one", "6", [ok("6"), bad("5")])], critic=None, system="")
    write_pairs(build_pairs(run, "correctness"), "trl", tmp_path / "out")
    (row,) = load_trl(tmp_path / "out" / "correctness.jsonl")
    engine = load_engine("transformers", str(tiny.policy), system_message="")
    prompt = prepare_multimodal_messages(row["prompt"], images=row["images"])
    rendered = apply_chat_template({"prompt": prompt, "chosen": row["chosen"], "rejected": row["rejected"]},
                                   engine.vlm.processor)
    policy_prompt = engine.render(GenerationRequest("x", _policy_prompt(row), tuple(row["images"])))
    assert policy_prompt.startswith("<|im_start|>system\n<|im_end|>\n")
    assert rendered["prompt"] == policy_prompt.replace("<image>", "<IMG_CONTEXT>")


def _policy_prompt(row) -> str:
    """The `<image>` prompt text back from the user content blocks (the inverse of the writer's split)."""
    out = ""
    for block in row["prompt"][-1]["content"]:
        out += "<image>\n" if block["type"] == "image" else block["text"]
    return out


def test_trl_vision_collator_builds_the_batch(dataset, processor):
    from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

    rows = [dict(r) for r in dataset]
    batch = DataCollatorForVisionPreference(processor)(rows)
    n = len(rows)
    assert batch["input_ids"].shape[0] == 2 * n  # chosen rows, then rejected rows
    image_token = processor.tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>")
    n_images = sum(len(r["images"]) for r in rows)
    per_image = processor.image_seq_length
    tiles = batch["pixel_values"].shape[0]  # InternVL tiles every image (thumbnail included)
    assert tiles >= 2 * n_images
    assert int((batch["input_ids"] == image_token).sum()) == tiles * per_image
    assert int(batch["completion_mask"].sum()) > 0
    assert not ((batch["completion_mask"] == 1) & (batch["input_ids"] == image_token)).any()


def test_one_mpo_training_step_on_the_tiny_policy(dataset, tiny, tmp_path):
    import math

    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import DPOConfig, DPOTrainer

    model = AutoModelForImageTextToText.from_pretrained(str(tiny.policy))
    args = DPOConfig(output_dir=str(tmp_path), loss_type=MPO_LOSS, loss_weights=MPO_WEIGHTS, max_length=None,
                     per_device_train_batch_size=2, max_steps=1, use_cpu=True, bf16=False, report_to=[],
                     save_strategy="no", logging_steps=1, disable_tqdm=True)
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset,
                         processing_class=AutoProcessor.from_pretrained(str(tiny.policy)))
    out = trainer.train()
    assert out.global_step == 1 and math.isfinite(out.training_loss)
    assert Path(tmp_path).exists()


@pytest.fixture(scope="module")
def step_dataset(tmp_path_factory):
    from tests.pairs.conftest import make_run

    base = tmp_path_factory.mktemp("trl-step")
    run = make_run(base / "run", [
        P("s", "6", [ok("6", ["Look.", "So 6."], [0.9, 0.9, 0.9]), bad("5", ["Look.", "So 5."], [0.9, 0.1, 0.1])]),
    ])
    write_pairs(build_pairs(run, "step"), "trl", base / "out")
    return load_trl(base / "out" / "step.jsonl")


def test_step_rows_continue_the_shared_prefix_in_the_prompt(step_dataset, tiny, processor):
    """TRL trains the two next steps alone, after the policy's prompt continued by the shared prefix."""
    from trl.trainer.dpo_trainer import DataCollatorForVisionPreference

    from tts.engines import GenerationRequest, load_engine

    (row,) = [dict(r) for r in step_dataset]
    assert (row["initial_reason_steps"], row["chosen"], row["rejected"]) == ("Look.\n\n", "So 6.", "So 5.")
    engine = load_engine("transformers", str(tiny.policy), system_message=SYSTEM)
    question = row["prompt"].split("<|im_start|>user\n")[1].split("<|im_end|>")[0].replace("<IMG_CONTEXT>", "<image>")
    sampled = engine.render(GenerationRequest("x", question, tuple(row["images"]), assistant_prefix="Look.\n\n"))
    assert row["prompt"] == sampled.replace("<image>", "<IMG_CONTEXT>")

    batch = DataCollatorForVisionPreference(processor)([row])
    tok = processor.tokenizer
    for i, step in enumerate(("So 6.", "So 5.")):
        ids = batch["input_ids"][i][batch["completion_mask"][i] == 1].tolist()
        assert ids == tok.encode(step, add_special_tokens=False)  # no end-of-turn: the solution goes on


def test_one_mpo_training_step_on_step_pairs(step_dataset, tiny, tmp_path):
    import math

    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(output_dir=str(tmp_path), loss_type=MPO_LOSS, loss_weights=MPO_WEIGHTS, max_length=None,
                     per_device_train_batch_size=1, max_steps=1, use_cpu=True, bf16=False, report_to=[],
                     save_strategy="no", logging_steps=1, disable_tqdm=True)
    trainer = DPOTrainer(model=AutoModelForImageTextToText.from_pretrained(str(tiny.policy)), args=args,
                         train_dataset=step_dataset, processing_class=AutoProcessor.from_pretrained(str(tiny.policy)))
    out = trainer.train()
    assert out.global_step == 1 and math.isfinite(out.training_loss)
