"""Every recipe end to end on the tiny checkpoints and hub-layout fixture datasets (as CI runs them).

The overrides swap the models for tiny local checkpoints of the same styles (the original remote-code
layout for both, like OpenGVLab/InternVL3-* and VisualPRM), use 2 rollouts, one problem per benchmark
and short generations; everything else (the seven benchmarks, prompts, tiling, strategies, expected
numbers) is the recipe's own.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import PYTHON
from tts.api import run_recipe
from tts.config import load_recipe, recipes_dir
from tts.metrics import OVERALL_BENCHMARKS
from tts.rundir import RunDir

pytest_plugins = ["tests.fixtures.pytest_fixtures"]
pytestmark = pytest.mark.slow

# The step-level search series differ only in N within an algorithm: the N=4 recipe of each runs end to end here
# (tests/search/test_search_cli.py checks every budget's settings).
RECIPES = sorted(p.stem for p in recipes_dir().glob("*.yaml") if not p.stem.endswith(("-n16", "-n64")))


def _overrides(name: str, tiny, root, out) -> list[str]:
    cfg = load_recipe(name)
    common = [f"models.policy={tiny.policy_remote}", f"models.critic={tiny.critic_remote}", "data.limit=1",
              "sampling.max_new_tokens=12", f"data.data_dir={root}", f"out={out}"]
    if cfg.models.engine == "vllm":  # no vLLM in this environment: the same run on transformers
        common += ["models.engine=transformers", "models.engine_options={}", "models.critic_options={}"]
    if cfg.search is not None:  # the recipe's own N (beam width 4 divides it), two search iterations
        return [*common, "search.max_steps=2"]
    return [*common, "sampling.n=2"]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_runs_end_to_end_on_tiny_checkpoints(name, tiny, reasoning7_root, tmp_path):
    out = tmp_path / "run"
    result = run_recipe(name, _overrides(name, tiny, reasoning7_root, out), progress=False)
    report = result.report
    run = RunDir.open(out, create=False)
    assert run.manifest["recipe"]["models"]["policy"] == str(tiny.policy_remote)
    benches = set(report["accuracy"])
    recipe = load_recipe(name)
    if recipe.data.benchmarks == ("mathvista:testmini",):  # the search series and its Best-of-64 baseline
        assert benches == {"mathvista"}
        n = recipe.sampling.n if recipe.search is not None else 2  # the overrides' n for sampled runs
        assert report["cost"]["policy"]["rollouts"] == n * len(run.problems())
        if recipe.search is not None:
            assert report["search"][recipe.search.algorithm]["problems"] == len(run.problems())
        assert report["curves"]["mathvista"]["best_of_n"]["mean"][str(n)] is not None
    elif name.startswith("internvl3-"):
        assert benches == set(OVERALL_BENCHMARKS)
        rule = "best_of_n/mean@2 [visualprm]"
        headline = {b: report["metrics"][b][rule]["score"] for b in OVERALL_BENCHMARKS}
        if all(v is not None for v in headline.values()):  # Overall only when all seven have a headline
            assert report["overall"][rule] == pytest.approx(sum(headline.values()) / 7)
        else:  # e.g. WeMath's 4-D score needs complete knowledge groups, which one problem is not
            assert rule not in report["overall"]
        comparison = report["comparison"]
        if not run.manifest["recipe"]["expected"]:  # a recipe of another evaluation setting has no published row
            assert comparison == {} and not report["fidelity"]["faithful"]
        else:
            assert set(comparison) == {"best_of_n/mean", "greedy"}
            assert comparison["greedy"]["rule"] == "greedy@2" and comparison["best_of_n/mean"]["rule"] == rule
            rows = comparison["best_of_n/mean"]["benchmarks"]
            assert all(rows[b]["ours"] == headline[b] for b in OVERALL_BENCHMARKS)
            # faithful but for the test's short generations
            assert report["fidelity"]["deviations"] == ["sampling max_new_tokens 12 (reference 4096)"]
        assert report["curves"]["mathvista"]["best_of_n"]["prod"]["2"] is not None
        assert report["cost"]["policy"]["rollouts"] == 2 * len(run.problems())
    else:  # the MPO-pairs recipe ends with its pairs in TRL format
        pairs_dir = out / "pairs-prm-trl"
        assert (pairs_dir / "prm.jsonl").exists() and (pairs_dir / "reports" / "prm.json").exists()


def test_recipe_through_the_cli_exactly_as_ci_runs_it(tiny, reasoning7_root, tmp_path, hf_cache):
    out = tmp_path / "cli-run"
    env = {**os.environ, "TTS_DATA_DIR": str(reasoning7_root), "HF_DATASETS_CACHE": str(hf_cache), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [PYTHON, "-m", "tts", "run", "recipes/internvl3-8b_visualprm-bo8.yaml", "--set",
         f"models.policy={tiny.policy_remote}", "--set", f"models.critic={tiny.critic_remote}", "--set", "sampling.n=2",
         "--set", "sampling.max_new_tokens=12", "--limit", "1", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "deprecated" not in proc.stderr  # the documented nested keys
    assert "Ours vs published" in proc.stdout and "Official metric" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["comparison"]["best_of_n/mean"]["benchmarks"]["overall"]["expected"] == 50.2
    again = subprocess.run([PYTHON, "-m", "tts", "report", str(out), "--n", "1", "--n", "2"], capture_output=True,
                           text=True, env=env, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Ours vs published" in again.stdout and "wall s:" in again.stdout
