"""``system_message=""``: InternVL's template still writes the system turn (issue 16).

InternVL's ``Conversation.get_prompt`` (``internvl_chat/internvl/conversation.py``, MPT separator style)
begins with ``system_template.format(system_message=...) + sep`` whatever the message, and
``internvl2_5`` has ``system_template='<|im_start|>system\\n{system_message}'``, ``sep='<|im_end|>\\n'``.
So an empty message renders ``<|im_start|>system\\n<|im_end|>\\n`` before the first user turn.
"""

from __future__ import annotations

from PIL import Image

from tts.engines import GenerationRequest, load_engine
from tts.engines.prompting import render_chatml
from tts.models.internvl import chatml

EMPTY_SYSTEM_TURN = "<|im_start|>system\n<|im_end|>\n"
USER = "<|im_start|>user\n"


def _request() -> GenerationRequest:
    return GenerationRequest("p", "<image>\nHow many?", (Image.new("RGB", (60, 60)),), 0)


def internvl2_5_prompt(system_message: str, question: str) -> str:
    """The prompt InternVL's MPT-style ``get_prompt`` builds for one question (written from its rules)."""
    ret = "<|im_start|>system\n" + system_message + "<|im_end|>\n"
    ret += "<|im_start|>user\n" + question + "<|im_end|>\n"
    return ret + "<|im_start|>assistant\n"


def test_an_empty_system_message_renders_an_empty_system_turn():
    assert chatml("", "Q") == internvl2_5_prompt("", "Q") == EMPTY_SYSTEM_TURN + USER + "Q<|im_end|>\n<|im_start|>assistant\n"
    assert render_chatml(_request(), "") == internvl2_5_prompt("", "<image>\nHow many?")
    assert render_chatml(_request(), "SYS") == internvl2_5_prompt("SYS", "<image>\nHow many?")


def test_the_transformers_engine_sends_the_empty_system_turn_to_the_model(tiny):
    engine = load_engine("transformers", str(tiny.policy_remote), system_message="")
    assert engine.system_message == "" and engine.render(_request()).startswith(EMPTY_SYSTEM_TURN + USER)
    ids = engine.vlm.encode(engine.vlm.expand_images(engine.render(_request()), [1]))
    assert ids[: len(engine.vlm.encode(EMPTY_SYSTEM_TURN + USER))] == engine.vlm.encode(EMPTY_SYSTEM_TURN + USER)


def test_the_openai_engine_sends_an_empty_system_message_instead_of_none():
    from tts.engines.openai_engine import OpenAIEngine

    engine = OpenAIEngine("m", base_url="http://127.0.0.1:9/v1", system_message="", vllm_extensions=False)
    assert engine.messages(GenerationRequest("p", "Q", (), 0))[0] == {"role": "system", "content": ""}
