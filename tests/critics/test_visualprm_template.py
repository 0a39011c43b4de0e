"""VisualPRM's scoring conversation, pinned literally, and what a rollout may not smuggle into it."""

import copy
import json
import shutil
from collections import Counter

import pytest
from PIL import Image

from tts.critics import ScoringRequest, load_critic
from tts.critics.visualprm import conversation, reply_prefixes
from tts.models.layout import ModelLayout
from tts.prompts import prompt_text

QUESTION = "<image>\nWhat is the area?"


@pytest.fixture(scope="module")
def critic(tiny):
    return load_critic("visualprm", str(tiny.critic))


@pytest.fixture(scope="module")
def image():
    return Image.new("RGB", (120, 90), "white")


def test_conversation_is_internvl2_5_chatml_with_plus_replies():
    got = conversation("SYS", "Q?", ["s0", "s1"], 0)
    assert got == ("<|im_start|>system\nSYS<|im_end|>\n"
                   "<|im_start|>user\n### Question:\nQ?\n\n### Solution Process:\ns0<|im_end|>\n"
                   "<|im_start|>assistant\n+<|im_end|>\n"
                   "<|im_start|>user\ns1<|im_end|>\n"
                   "<|im_start|>assistant\n+<|im_end|>\n")


def test_image_placeholders_go_in_front_of_a_question_without_them():
    got = conversation("SYS", "Q?", ["s0"], 2)
    assert "<|im_start|>user\n### Question:\n<image>\n<image>\nQ?\n\n### Solution Process:\ns0<|im_end|>\n" in got
    assert conversation("SYS", "A <image> B", ["s0"], 1).count("<image>") == 1


def test_an_empty_step_writes_only_its_role_as_internvl_template_does():
    # InternVL's MPT separator style: an empty message adds the role and nothing else.
    got = conversation("SYS", "Q?", ["s0", "", "s2"], 0)
    assert got.endswith("<|im_start|>assistant\n+<|im_end|>\n"
                        "<|im_start|>user\n<|im_start|>assistant\n+<|im_end|>\n"
                        "<|im_start|>user\ns2<|im_end|>\n<|im_start|>assistant\n+<|im_end|>\n")
    prefixes = reply_prefixes("SYS", "Q?", ["s0", "", "s2"], 0)
    assert [got.startswith(p) for p in prefixes] == [True] * 3
    assert all(p.endswith("<|im_start|>assistant\n") for p in prefixes)


def test_empty_steps_are_scored_one_per_reply(critic, image):
    rec = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, "a\n\n\n\nb"),))])[0][0]
    assert rec.steps == ("a", "", "b") and len(rec.scores) == 3


def test_default_system_prompt_is_the_process_supervision_prompt(critic):
    text = prompt_text("visualprm_system")
    assert text.startswith("You are an advanced AI assistant, designed to serve as a process supervision model. ")
    assert '- Respond with **"-"** if you detect any issues or errors in the process up to this step.' in text
    assert text.endswith("Your task is to verify the accuracy and correctness of each step in the given solution process.")
    assert critic.system_message == text  # the tiny checkpoint's config has no system_message


def test_config_system_message_wins_over_the_default_and_an_argument_over_both(tiny, tmp_path):
    ck = tmp_path / "critic"
    shutil.copytree(tiny.critic, ck)
    config = json.loads((ck / "config.json").read_text())
    (ck / "config.json").write_text(json.dumps({**config, "system_message": "From the config."}))
    assert load_critic("visualprm", str(ck)).system_message == "From the config."
    explicit = load_critic("visualprm", str(ck), system_message="Given.")
    assert explicit.system_message == "Given."
    assert explicit.identity()["system_message"] != load_critic("visualprm", str(ck)).identity()["system_message"]


def test_an_empty_system_message_renders_an_empty_system_turn(tiny, image):
    """InternVL's template writes the system turn even for system_message="" (issue 16)."""
    assert conversation("", "Q?", ["s0"], 0).startswith("<|im_start|>system\n<|im_end|>\n<|im_start|>user\n")
    empty = load_critic("visualprm", str(tiny.critic), system_message="")
    assert empty.system_message == "" and empty.info()["system_message_source"] == "argument"
    request = [ScoringRequest("p", QUESTION, (image,), ((0, "a\n\nb"),))]
    scored = empty.score(request)[0][0]
    assert len(scored.scores) == 2
    assert scored.scores != load_critic("visualprm", str(tiny.critic)).score(request)[0][0].scores


@pytest.mark.parametrize("name", ["visualprm_system", "internvl_system"])
def test_the_fallback_system_message_is_an_explicit_setting(tiny, name):
    critic = load_critic("visualprm", str(tiny.critic), default_system_message=name)
    assert critic.system_message == prompt_text(name)  # the tiny config has no system_message
    assert critic.info()["system_message_source"] == f"prompts/{name}.txt"
    with pytest.raises(KeyError, match="unknown prompt"):
        load_critic("visualprm", str(tiny.critic), default_system_message="no_such_prompt")


def test_a_rollout_that_writes_image_placeholder_text_is_scored_as_text(critic, image):
    plain = "Look at <image> closely.\n\nAnswer: \\boxed{12}"
    out = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, plain), (1, "It is 12.")))])[0]
    assert [len(r.scores) for r in out] == [2, 1]
    alone = critic.score([ScoringRequest("p", QUESTION, (image,), ((1, "It is 12."),))])[0][0]
    assert out[1].scores == pytest.approx(alone.scores, abs=1e-6)


@pytest.mark.parametrize("marker", ["<IMG_CONTEXT>", "<img>", "</img>"])
def test_image_tokens_in_a_rollout_leave_only_that_rollout_unscored(critic, image, marker):
    out = critic.score([ScoringRequest("p", QUESTION, (image,), ((0, f"x {marker} y\n\nz"), (1, "It is 12.")))])[0]
    assert out[0].scores == () and out[0].flags == ("unscored", "template_mismatch")
    assert len(out[1].scores) == 1


class RecordingScorer:
    """Stands in for vLLM: records the prompts the critic would send and answers 0.5 for each."""

    def __init__(self) -> None:
        self.items: list = []
        self.stats: Counter = Counter()

    def p_first(self, items, candidates, rounding="none"):
        self.items.extend(items)
        return [[0.5] * len(prompts) for _, prompts in items]


def vllm_view(critic, checkpoint):
    """The transformers critic rewired to the vLLM backend's request building (no vLLM needed)."""
    view = copy.copy(critic)
    view.backend, view.layout, view.engine = "vllm", ModelLayout.from_pretrained(str(checkpoint)), RecordingScorer()
    return view


@pytest.mark.parametrize("style", ["native", "remote"])
def test_vllm_image_prompts_use_the_checkpoints_image_token(tiny, image, style):
    checkpoint = tiny.critic if style == "native" else tiny.critic_remote
    view = vllm_view(load_critic("visualprm", str(checkpoint)), checkpoint)
    token = "<IMG_CONTEXT>" if style == "native" else "<image>"
    out = view.score([ScoringRequest("p", "What is the area?", (image,), ((0, "a\n\nb"),), max_tiles=2)])[0]
    assert out[0].scores == (0.5, 0.5)
    (_, prompts), = view.engine.items
    assert [p["prompt"].count(token) for p in prompts] == [1, 1]
    assert prompts[0]["prompt"].endswith(f"### Question:\n{token}\nWhat is the area?\n\n### Solution Process:\n"
                                         "a<|im_end|>\n<|im_start|>assistant\n")
    assert prompts[1]["prompt"].startswith(prompts[0]["prompt"] + "+<|im_end|>\n<|im_start|>user\nb")
    assert all(p["multi_modal_data"] == {"image": [image]} for p in prompts)
    assert prompts[0]["mm_processor_kwargs"] == ({"max_patches": 2} if style == "native" else {"max_dynamic_patch": 2})


def test_vllm_image_path_refuses_rollouts_that_write_its_image_token(tiny, image, critic):
    view = vllm_view(critic, tiny.critic)
    out = view.score([ScoringRequest("p", QUESTION, (image,), ((0, "see <IMG_CONTEXT>"), (1, "fine")))])[0]
    assert out[0].flags == ("unscored", "template_mismatch") and out[1].scores == (0.5,)
    remote = vllm_view(load_critic("visualprm", str(tiny.critic_remote)), tiny.critic_remote)
    out = remote.score([ScoringRequest("p", QUESTION, (image,), ((0, "see <image> here"), (1, "fine")))])[0]
    assert out[0].flags == ("unscored", "template_mismatch") and out[1].scores == (0.5,)
    # Without images vLLM gets token ids, so "<image>" is ordinary text there.
    out = remote.score([ScoringRequest("p", "What is x?", (), ((0, "see <image> here"),))])[0]
    assert out[0].scores == (0.5,)
