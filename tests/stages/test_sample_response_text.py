"""Rollouts store the response as InternVL's ``model.chat`` returns it, whatever the engine (issue 16).

``model.chat`` decodes, cuts at ``template.sep.strip()`` (``<|im_end|>``) and returns ``response.strip()``;
VLMEvalKit grades that text and VisualPRM scores it. Token counts stay those of the raw decode.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from tts.engines.base import Completion, Engine, GenerationRequest, SamplingParams
from tts.records import Problem, Rollout
from tts.rundir import RunDir
from tts.stages.sample import prompt_binding, reference_response, sample

RAW = (" Let me see.\n\nAnswer: \\boxed{4}\n\n", "\x0b\u3000Answer: \\boxed{B}\x0c", "x = 2<|im_end|>junk after", "\n\n")


class ScriptedEngine(Engine):
    """Returns fixed raw decodes, as an engine would before any post-processing."""

    name = "scripted"

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        return [[Completion(i, RAW[i % len(RAW)], "stop", 10, 7 + i, 0.0) for i in range(params.n)] for _ in requests]


def test_rollouts_hold_the_stripped_response_and_the_raw_token_counts(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.append([Problem(id="p", benchmark="demo", split="test", question="What is 2+2?")])
    sample(run, ScriptedEngine("m"), SamplingParams(n=4, max_new_tokens=8), progress=False)
    rollouts = sorted(run.read(Rollout), key=lambda r: r.sample_idx)
    assert [r.text for r in rollouts] == ["Let me see.\n\nAnswer: \\boxed{4}", "Answer: \\boxed{B}", "x = 2", ""]
    assert [r.completion_tokens for r in rollouts] == [7, 8, 9, 10]
    assert run.config("prompt")["response_text"] == "model.chat"


def test_a_run_sampled_before_responses_were_stripped_is_not_resumed(tmp_path):
    import pytest

    from tts.rundir import ConfigConflict

    run = RunDir.open(tmp_path / "run")
    old = {k: v for k, v in prompt_binding("internvl_cot").items() if k != "response_text"}
    run.bind("prompt", old)
    with pytest.raises(ConfigConflict, match="response_text"):
        run.bind("prompt", prompt_binding("internvl_cot"))


@given(st.lists(st.sampled_from([" ", "\n", "\t", "\x0b", "\u00a0", "a", "+", "<|im_end|>", "é"]), max_size=30).map("".join))
def test_reference_response_is_model_chats_post_processing(raw):
    expected = raw.split("<|im_end|>")[0].strip()  # InternVL modeling_internvl_chat.py, chat()
    assert reference_response(raw) == expected
