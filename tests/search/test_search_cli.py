"""``tts search`` and ``tts run`` with a search recipe, through the real command line on the tiny checkpoints,
and the bundled search recipes."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import PYTHON
from tts.config import load_recipe, recipes_dir
from tts.rundir import RunDir
from tts.search import SEARCHES

SERIES = [f"internvl3-8b_visualprm-{algo}-n{n}" for algo in ("beam", "dvts", "particle") for n in (4, 16, 64)]


@pytest.mark.parametrize("name", SERIES)
def test_the_budget_series_recipes(name):
    cfg = load_recipe(name)
    algo = name.split("-")[2]
    assert cfg.search.algorithm == {"particle": "particle_filter"}.get(algo, algo)
    assert cfg.sampling.n == int(name.rsplit("n", 1)[1]) and cfg.sampling.max_new_tokens == 4096
    settings = cfg.search.checked(n=cfg.sampling.n, max_new_tokens=cfg.sampling.max_new_tokens)
    assert settings.options(cfg.search.algorithm)["aggregation"] == "mean"
    assert cfg.models.critic == "OpenGVLab/VisualPRM-8B-v1_1" and cfg.models.policy == "OpenGVLab/InternVL3-8B"
    assert cfg.models.critic_options.get("max_steps") is None  # a search scores every paragraph as a step


def test_the_best_of_n_baseline_recipe_covers_the_budgets():
    cfg = load_recipe("internvl3-8b_visualprm-bo64-mathvista")
    assert cfg.search is None and cfg.sampling.n == 64 and not cfg.sampling.first_greedy
    assert cfg.data.benchmarks == load_recipe(SERIES[0]).data.benchmarks
    assert (recipes_dir() / "internvl3-8b_visualprm-bo64-mathvista.yaml").exists()


def _tts(cli_env, *args, check=True):
    proc = subprocess.run([PYTHON, "-m", "tts", *args], env=cli_env, capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_tts_search_on_the_tiny_checkpoints(tiny, tmp_path, cli_env):
    out = tmp_path / "run"
    proc = _tts(cli_env, "search", "--policy", str(tiny.policy), "--critic", str(tiny.critic), "--algorithm", "dvts",
                "--n", "4", "--beam-width", "2", "--max-new-tokens", "24", "--max-steps", "3", "--benchmark", "demo",
                "--limit", "3", "--out", str(out))
    assert "dvts: 3 problems; per problem" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["search"]["dvts"]["problems"] == 3 and "best_of_n/last@4 [visualprm]" in report["accuracy"]["demo"]
    assert (out / "search" / "dvts.jsonl").exists() and RunDir.open(out, create=False).config("search")["algorithm"] == "dvts"
    again = _tts(cli_env, "search", "--policy", str(tiny.policy), "--critic", str(tiny.critic), "--algorithm", "dvts",
                 "--n", "4", "--beam-width", "2", "--max-new-tokens", "24", "--max-steps", "3", "--benchmark", "demo",
                 "--limit", "3", "--out", str(out), "--lookahead", "1", check=False)
    assert again.returncode == 2 and "search.settings.lookahead" in again.stderr  # a changed setting is refused


@pytest.mark.slow
def test_tts_run_with_a_search_recipe(tiny, tmp_path, cli_env):
    out = tmp_path / "run"
    _tts(cli_env, "run", "internvl3-8b_visualprm-beam-n4", "--set", f"models.policy={tiny.policy}",
         "--set", f"models.critic={tiny.critic}", "--set", "models.engine=transformers", "--set", "models.engine_options={}",
         "--set", "models.critic_options={}", "--set", "sampling.max_new_tokens=16", "--set", "data.benchmarks=[demo]",
         "--set", "data.limit=2", "--set", "search.max_steps=2", "--out", str(out))
    run = RunDir.open(out, create=False)
    assert run.config("search")["settings"]["beam_width"] == 4 and run.manifest["recipe"]["search"]["algorithm"] == "beam"
    assert json.loads((out / "report.json").read_text())["search"]["beam"]["problems"] == 2


def test_an_unknown_algorithm_is_one_line(cli_env, tmp_path):
    proc = _tts(cli_env, "search", "--policy", "p", "--critic", "c", "--algorithm", "beem", "--out", str(tmp_path / "x"),
                check=False)
    assert proc.returncode == 2 and "unknown search.algorithm 'beem' (did you mean beam?)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "beam" in SEARCHES.names()
