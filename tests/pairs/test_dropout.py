"""DropoutNTP: half a chosen response continued by the policy without the image; resumable."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.pairs.conftest import P, R, bad, ok, unparsable
from tts.engines import Completion, Engine, GenerationRequest, SamplingParams
from tts.jsonl import read_jsonl
from tts.pairs import build_pairs
from tts.pairs.rules import truncate_words
from tts.pairs.types import NO_CORRECT, NO_GOLD, SAME_TEXT, TOO_SHORT
from tts.rundir import ConfigConflict

LONG = ok("6", ["First we look at the figure and read the two legs of the triangle.",
                "The legs are 3 and 4 so the area is one half of 3 times 4."])


class ScriptedEngine(Engine):
    """Continues with a fixed text (or the rest of a known response) and records every request."""

    name = "scripted"

    def __init__(self, continuation: str | dict[str, str] = " and so on.") -> None:
        super().__init__("scripted-model")
        self.continuation = continuation
        self.requests: list[GenerationRequest] = []

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        self.requests += requests
        out = []
        for r in requests:
            text = self.continuation if isinstance(self.continuation, str) else self.continuation[r.problem_id]
            out.append([Completion(0, text, "stop", 10, 3, 0.01)])
        return out


def test_prefix_prompt_and_pair_follow_internvl(run_factory):
    run = run_factory([P("p", "6", [LONG, bad("5")], question="What is the area?")], critic=None)
    engine = ScriptedEngine()
    ps = build_pairs(run, "dropout-ntp", policy=engine, progress=False)
    (req,) = engine.requests
    prefix = truncate_words(LONG.text, 0.5)
    assert req.images == () and req.assistant_prefix == prefix and "<image>" not in req.prompt
    assert req.prompt.startswith("What is the area?")  # "<image>\n" removed and stripped
    (pair,) = ps.pairs
    assert pair.chosen == LONG.text and pair.rejected == prefix + " and so on."
    assert pair.prompt.startswith("<image>\n")  # the training prompt keeps the image
    assert pair.rejected_from.outcome == "generated" and pair.details["image_in_continuation"] is False
    assert ps.config["sampling"] == {"temperature": 0.7, "top_p": 1.0, "top_k": 50, "max_new_tokens": 2048}


def test_reasons_and_the_same_text_filter(run_factory):
    rest = LONG.text[len(truncate_words(LONG.text, 0.5)):]
    run = run_factory([
        P("same", "6", [LONG]),
        P("short", "6", [ok("6", [])]),  # "Answer: \\boxed{6}" is 2 words: the prefix is 1 word, fine
        P("one-word", "6", [R("6", "6", True)]),
        P("wrong", "6", [bad("5"), unparsable()]),
        P("no-gold", None, [LONG]),
    ], critic=None)
    engine = ScriptedEngine({"same#0": rest, "short#0": " more", "no-gold#0": " x"})
    ps = build_pairs(run, "dropout-ntp", policy=engine, progress=False)
    assert ps.report.no_pairs == {SAME_TEXT: ["same"], TOO_SHORT: ["one-word"], NO_CORRECT: ["wrong"],
                                  NO_GOLD: ["no-gold"]}
    assert [p.problem_id for p in ps.pairs] == ["short"]
    anyp = build_pairs(run, "dropout-ntp", policy=engine, chosen_from="any", progress=False,
                       continuations=run / "any.jsonl")
    assert "no-gold" in {p.problem_id for p in anyp.pairs}


def test_best_scored_correct_rollouts_are_continued_first(run_factory):
    a = ok("6", ["one two three four five six"], [0.2, 0.2])
    b = ok("6", ["seven eight nine ten eleven twelve"], [0.9, 0.9])
    run = run_factory([P("p", "6", [a, b, bad("5", scores=[0.5, 0.5])])])
    ps = build_pairs(run, "dropout-ntp", policy=ScriptedEngine(), progress=False)
    assert [p.chosen_from.sample_idx for p in ps.pairs] == [1]
    two = build_pairs(run, "dropout-ntp", policy=ScriptedEngine(), max_pairs_per_problem=2, progress=False,
                      continuations=run / "two.jsonl")
    assert [p.chosen_from.sample_idx for p in two.pairs] == [1, 0]


def test_rerun_generates_nothing_and_other_settings_are_refused(run_factory):
    run = run_factory([P(f"p{i}", "6", [LONG, bad("5")]) for i in range(3)], critic=None)
    first = ScriptedEngine()
    ps = build_pairs(run, "dropout-ntp", policy=first, progress=False)
    assert len(first.requests) == 3 and len(read_jsonl(run / "pairs" / "dropout_ntp.jsonl")) == 3
    again = ScriptedEngine()
    assert build_pairs(run, "dropout-ntp", policy=again, progress=False).pairs == ps.pairs
    assert again.requests == []
    with pytest.raises(ConfigConflict, match="temperature"):
        build_pairs(run, "dropout-ntp", policy=again, temperature=1.0, progress=False)


def test_a_failing_generation_costs_only_its_problem(run_factory):
    class Flaky(ScriptedEngine):
        def generate(self, requests, params):
            if any(r.problem_id.startswith("bad") for r in requests):
                raise RuntimeError("CUDA error")
            return super().generate(requests, params)

    run = run_factory([P("ok1", "6", [LONG]), P("bad1", "6", [LONG]), P("ok2", "6", [LONG])], critic=None)
    ps = build_pairs(run, "dropout-ntp", policy=Flaky(), batch_size=3, progress=False)
    assert ps.report.no_pairs == {"generation failed": ["bad1"]}
    assert ps.report.counts["generation_failures"] == 1
    ps2 = build_pairs(run, "dropout-ntp", policy=ScriptedEngine(), progress=False)  # the failed one is retried
    assert {p.problem_id for p in ps2.pairs} == {"ok1", "bad1", "ok2"}
