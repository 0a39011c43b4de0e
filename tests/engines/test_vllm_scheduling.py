"""Unit checks of the vLLM engine's safety helpers (the vLLM runs are in test_vllm_engine.py)."""

from __future__ import annotations

import logging

import pytest

from tts.engines.vllm_scheduling import abort_unfinished, context_length


@pytest.mark.parametrize("config, length", [
    ({"model_type": "internvl_chat", "llm_config": {"max_position_embeddings": 32768}}, 32768),
    ({"model_type": "internvl", "text_config": {"max_position_embeddings": 8192}}, 8192),
    ({"model_type": "qwen2", "max_position_embeddings": 2048}, 2048),
    ({"model_type": "qwen2"}, None),
])
def test_context_length_reads_each_config_layout(config, length):
    assert context_length(config) == length


class _Processor:
    def __init__(self, ids):
        self.external_req_ids = {i: [f"{i}-x"] for i in ids}


class _Engine:
    def __init__(self, ids):
        self.output_processor = _Processor(ids)
        self.aborted: list[str] = []

    def abort_request(self, ids):
        self.aborted += ids


class _LLM:
    def __init__(self, engine):
        self.llm_engine = engine


def test_abort_unfinished_aborts_every_request_left_in_the_engine():
    engine = _Engine(["0", "1"])
    abort_unfinished(_LLM(engine))
    assert engine.aborted == ["0", "1"]
    idle = _Engine([])
    abort_unfinished(_LLM(idle))
    assert idle.aborted == []


def test_abort_unfinished_never_hides_the_original_error(caplog):
    with caplog.at_level(logging.WARNING):
        abort_unfinished(object())  # another vLLM's bookkeeping: a warning, no exception
    assert "could not abort" in caplog.text
