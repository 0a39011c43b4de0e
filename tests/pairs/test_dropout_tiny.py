"""DropoutNTP on the tiny InternVL policy: no image input reaches the model; kill -9 and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON
from tests.pairs.conftest import P, bad, make_run, ok
from tts.jsonl import read_jsonl
from tts.pairs import build_pairs
from tts.pairs.rules import truncate_words

pytestmark = pytest.mark.slow

CHOSEN = ok("6", ["First we look at the figure and read the two legs of the triangle.",
                  "The legs are 3 and 4 so the area is one half of 3 times 4 which is 6."])


@pytest.fixture(scope="module")
def engine(tiny):
    from tts.engines import load_engine

    return load_engine("transformers", str(tiny.policy))


class Probe:
    """Counts vision-tower calls and records every rendered prompt and every token id the LM embeds."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.vision_calls = 0
        self.rendered: list[str] = []
        self.embedded: list[list[int]] = []

    def __enter__(self) -> Probe:
        model = self.engine.vlm.model
        self.handles = [
            model.model.vision_tower.register_forward_hook(lambda *a: setattr(self, "vision_calls", self.vision_calls + 1)),
            model.get_input_embeddings().register_forward_hook(
                lambda mod, args, out: self.embedded.append(args[0].flatten().tolist())),
        ]
        original = self.engine.render

        def render(request):
            text = original(request)
            self.rendered.append(text)
            return text

        self.engine.render = render
        return self

    def __exit__(self, *exc) -> None:
        for h in self.handles:
            h.remove()
        del self.engine.render


def test_continuation_is_generated_without_image_input(engine, tmp_path, tiny):
    run = make_run(tmp_path / "run", [P("p1", "6", [CHOSEN, bad("5")]), P("p2", "6", [CHOSEN, bad("4")], images=2)],
                   critic=None, policy=str(tiny.policy))
    image_token = engine.vlm.image_token_id
    with Probe(engine) as probe:
        ps = build_pairs(run, "dropout-ntp", policy=engine, max_new_tokens=8, progress=False)
    assert probe.vision_calls == 0
    assert len(probe.rendered) == 2
    for text in probe.rendered:
        assert "<IMG_CONTEXT>" not in text and "<img>" not in text and "<image>" not in text
        assert text.endswith("<|im_start|>assistant\n" + truncate_words(CHOSEN.text, 0.5))
    assert probe.embedded and all(image_token not in ids for ids in probe.embedded)
    assert len(ps.pairs) == 2
    for pair in ps.pairs:
        assert pair.rejected.startswith(truncate_words(CHOSEN.text, 0.5)) and pair.rejected != pair.chosen
        assert pair.prompt.count("<image>") == len(pair.images) >= 1

    # Control: the same probe does see the image when the policy samples with it.
    from tts.engines import GenerationRequest, SamplingParams
    from tts.rundir import RunDir
    from tts.stages.common import load_images

    problem = RunDir.open(run, create=False).problems()[0]
    with Probe(engine) as probe:
        engine.generate([GenerationRequest("p1", "<image>\nQ", load_images(RunDir.open(run, create=False), problem), 1)],
                        SamplingParams(n=1, max_new_tokens=2))
    assert probe.vision_calls == 1 and any(image_token in ids for ids in probe.embedded)


def _cmd(run: Path, out: Path) -> list[str]:
    return [PYTHON, "-m", "tts", "pairs", str(run), "--method", "dropout-ntp", "--format", "trl", "--out", str(out),
            "--batch-size", "1", "--max-new-tokens", "12"]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_kill_and_resume_equals_a_clean_run(tiny, tmp_path, cli_env):
    problems = [P(f"p{i}", "6", [CHOSEN, bad("5")]) for i in range(6)]
    clean_run = make_run(tmp_path / "clean", problems, critic=None, policy=str(tiny.policy))
    subprocess.run(_cmd(clean_run, tmp_path / "clean-out"), check=True, capture_output=True, env=cli_env)
    killed_run = make_run(tmp_path / "killed", problems, critic=None, policy=str(tiny.policy))
    cont = killed_run / "pairs" / "dropout_ntp.jsonl"
    proc = subprocess.Popen(_cmd(killed_run, tmp_path / "killed-out"), env={**cli_env, "TTS_STAGE_BATCH_DELAY": "0.5"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while _lines(cont) < 2:
        assert proc.poll() is None, "the export ended before the kill"
        assert time.time() < deadline, "timed out waiting for continuations"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _lines(cont) < 6, "the export finished before the kill; the test proves nothing"
    with open(cont, "ab") as f:  # a kill in the middle of a write leaves half a line
        f.write(b'{"problem_id": "p5", "sample_idx": 0, "pre')
    subprocess.run(_cmd(killed_run, tmp_path / "killed-out"), check=True, capture_output=True, env=cli_env)

    def continuations(run: Path) -> list[dict]:
        return sorted(read_jsonl(run / "pairs" / "dropout_ntp.jsonl"), key=lambda r: r["problem_id"])

    assert continuations(killed_run) == continuations(clean_run)
    assert len(continuations(killed_run)) == 6

    def rows(out: Path) -> list[tuple]:
        return [(r["pair_id"], r["chosen"], r["rejected"]) for r in read_jsonl(out / "dropout_ntp.jsonl")]

    assert rows(tmp_path / "killed-out") == rows(tmp_path / "clean-out") and len(rows(tmp_path / "clean-out")) == 6
