"""``tts label`` on the tiny InternVL policy with the real transformers engine: known mc values through a scripted
grader, the prompt the policy sees, the estimate, batching-independent continuations, fresh sampling, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON
from tests.pairs.conftest import P
from tests.step_labels.conftest import STEPS, ScriptedGrader, rollout, small_run
from tts.jsonl import read_jsonl
from tts.rundir import RunDir
from tts.step_labels import label_run

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.fixtures.cli_fixtures"]  # tts, detach_run_logs

K = 2


@pytest.fixture(scope="module")
def engine(tiny):
    from tts.engines import load_engine

    return load_engine("transformers", str(tiny.policy))


class Probe:
    """Counts vision-tower calls and records the text of every prompt the engine renders."""

    def __init__(self, engine) -> None:
        self.engine, self.vision_calls, self.rendered = engine, 0, []

    def __enter__(self) -> Probe:
        tower = self.engine.vlm.model.model.vision_tower
        self.handle = tower.register_forward_hook(lambda *a: setattr(self, "vision_calls", self.vision_calls + 1))
        original = self.engine.render

        def render(request):
            self.rendered.append(original(request))
            return self.rendered[-1]

        self.engine.render = render
        return self

    def __exit__(self, *exc) -> None:
        self.handle.remove()
        del self.engine.render


def f_known(pid: str, sidx: int, k: int) -> int:
    return (k + sidx) % (K + 1)


def _journal(folder: Path) -> list[dict]:
    rows = [{k: v for k, v in r.items() if k != "seconds"} for r in read_jsonl(folder / "mc_steps.jsonl")]
    return sorted(rows, key=lambda r: (r["problem_id"], r["sample_idx"], r["step_idx"]))


def test_known_mc_values_through_the_real_engine(engine, tiny, tmp_path):
    run = small_run(tmp_path / "run", policy=str(tiny.policy))
    estimates = []
    with Probe(engine) as probe:
        result = label_run(run, policy=engine, grader=ScriptedGrader(run, f_known), continuations=K, max_new_tokens=6,
                           on_estimate=estimates.append, progress=False)
    labels = result.labels()
    assert len(labels) == 3
    for lab in labels:
        expected = [f_known(lab.problem_id, lab.sample_idx, k) for k in range(len(lab.steps))]
        assert list(lab.correct) == expected and list(lab.mc) == [c / K for c in expected]
        assert list(lab.labels) == [c > 0 for c in expected]
    assert result.cost.continuations == estimates[0].continuations == 9 * K
    assert result.cost.tokens > 0 and result.cost.engine_calls == 2  # two problems, one per call (4 // 2 rollouts)
    # every request is the rollout's prompt with its prefix pre-filled as the assistant's reply
    prefixes = {"\n\n".join(lab.steps[: k + 1]) for lab in labels for k in range(len(lab.steps))}
    assert len(probe.rendered) == 9
    for text in probe.rendered:
        head, _, prefix = text.rpartition("<|im_start|>assistant\n")
        assert prefix in prefixes and head.count("<|im_start|>user\n") == 1
    run_problems = {p.id: p for p in RunDir.open(run, create=False).problems()}
    with_images = [lab for lab in labels for _ in lab.steps if run_problems[lab.problem_id].images]
    if hasattr(engine, "image_cache"):  # the engine keeps a problem's image encoding for all its prefixes
        assert probe.vision_calls == len({lab.problem_id for lab in with_images})
    else:  # one encoding per step prefix, shared by its K continuations
        assert probe.vision_calls == len(with_images)


def test_continuations_do_not_depend_on_batching(engine, tiny, tmp_path):
    run = small_run(tmp_path / "run", policy=str(tiny.policy))
    common = dict(policy=engine, grader=ScriptedGrader(run, f_known), continuations=K, max_new_tokens=6, progress=False)
    label_run(run, tmp_path / "one-call", batch_size=8, **common)
    label_run(run, tmp_path / "per-problem", batch_size=1, **common)
    one, per = _journal(tmp_path / "one-call"), _journal(tmp_path / "per-problem")
    assert [r["digest"] for r in one] == [r["digest"] for r in per] and len(one) == 9


def test_fresh_rollouts_are_sampled_with_the_label_settings(tiny, tts, tmp_path):
    run = tmp_path / "fresh"
    result = tts("label", run, "--policy", tiny.policy, "--benchmark", "demo", "--limit", "1", "--rollouts", "2",
                 "--continuations", str(K), "--max-new-tokens", "6")
    assert result.exit_code == 0, result.output
    manifest = json.loads((run / "manifest.json").read_text())
    sampling = manifest["config"]["sampling"]
    assert (sampling["n"], sampling["temperature"], sampling["top_p"], sampling["top_k"]) == (2, 1.0, 1.0, 50)
    assert "estimate: " in result.stderr and "labelled 2 rollouts" in result.stdout
    labels = read_jsonl(run / "labels" / "labels.jsonl")
    assert len(labels) == 2 and all(len(r["mc"]) == len(r["steps"]) >= 1 for r in labels)
    assert json.loads((run / "labels" / "report.json").read_text())["cost_total"]["continuations"] == \
        sum(len(r["steps"]) for r in labels) * K


def _cmd(run: Path, *extra: str) -> list[str]:
    return [PYTHON, "-m", "tts", "label", str(run), "--continuations", str(K), "--max-new-tokens", "6",
            "--batch-size", "1", *extra]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _problems() -> list[P]:
    return [P(f"p{i}", "6", [rollout("6", STEPS[i % 3 : i % 3 + 2]), rollout("5", STEPS[:1], False)], images=i % 2)
            for i in range(4)]


def test_kill_then_resume_equals_a_clean_run(tiny, tmp_path, cli_env):
    clean = small_run(tmp_path / "clean", policy=str(tiny.policy), problems=_problems())
    subprocess.run(_cmd(clean), check=True, capture_output=True, env=cli_env)
    killed = small_run(tmp_path / "killed", policy=str(tiny.policy), problems=_problems())
    journal = killed / "labels" / "mc_steps.jsonl"
    proc = subprocess.Popen(_cmd(killed), env={**cli_env, "TTS_STAGE_BATCH_DELAY": "1.0"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while _lines(journal) < 1:
        assert proc.poll() is None, "the label run ended before writing anything"
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)
    second = subprocess.run(_cmd(killed), capture_output=True, text=True, env=cli_env)  # one writer per run
    assert second.returncode == 2 and "is being written by PID" in second.stderr
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    total = len(_journal(clean / "labels"))
    assert 0 < _lines(journal) < total, "the run finished before the kill; the test proves nothing"
    with open(journal, "ab") as f:  # a kill in the middle of a write leaves half a line
        f.write(b'{"problem_id": "p3", "sample_idx": 1, "step_i')
    resumed = subprocess.run(_cmd(killed), capture_output=True, text=True, env=cli_env)
    assert resumed.returncode == 0, resumed.stderr
    assert _journal(killed / "labels") == _journal(clean / "labels")
    assert (killed / "labels" / "labels.jsonl").read_bytes() == (clean / "labels" / "labels.jsonl").read_bytes()
    for name in ("trl_prm.jsonl", "visualprm400k.jsonl"):
        a = (killed / "labels" / name).read_text().replace(str(killed.resolve()), "RUN")
        assert a == (clean / "labels" / name).read_text().replace(str(clean.resolve()), "RUN")
    assert list((killed / "labels" / "quarantine").iterdir())  # the half line was set aside, not deleted
    report = json.loads((killed / "labels" / "report.json").read_text())
    assert report["cost_total"]["continuations"] == total * K  # summed from the journal: the killed call's work too
