"""``tts report`` states the evaluation-fidelity settings a run used, under the published comparison (issue 16)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tts.config import load_recipe, recipes_dir
from tts.prompts import prompt_text
from tts.rundir import RunDir
from tts.stages.report_sections import fidelity_lines, fidelity_section
from tts.stages.sample import prompt_binding

pytest_plugins = ["tests.fixtures.cli_fixtures"]  # detach_run_logs: the command attaches the run's log

REPRODUCTIONS = sorted(p.stem for p in recipes_dir().glob("internvl3-*_visualprm-bo8.yaml"))
REFERENCE_SAMPLING = {"n": 8, "temperature": 0.7, "top_p": 0.95, "top_k": 50, "max_new_tokens": 4096, "seed": 0,
                      "first_greedy": True, "stop_on_repetition": True}


def _critic_info(**over):
    info = {"model": "OpenGVLab/VisualPRM-8B-v1_1", "critic": "visualprm", "label": "visualprm", "max_steps": 12,
            "score_rounding": "bf16", "dtype": "bfloat16", "backend": "transformers",
            "system_message": prompt_text("visualprm_system"), "system_message_source": "checkpoint config"}
    return {**info, **over}


def _run(tmp_path, prompt_set="internvl_cot", sampling=None, critic=None, policy_system=None):
    run = RunDir.open(tmp_path / "run")
    run.bind("prompt", prompt_binding(prompt_set))
    run.bind("sampling", {**REFERENCE_SAMPLING, **(sampling or {})})
    run.set_model_info("policy", {"model": "OpenGVLab/InternVL3-8B", "engine": "vllm",
                                  "system_message": prompt_text("internvl_system") if policy_system is None else policy_system})
    run.set_model_info("critic:visualprm", critic or _critic_info())
    return run


def test_a_reproduction_run_is_reported_faithful(tmp_path):
    section = fidelity_section(_run(tmp_path))
    assert section["faithful"] and section["deviations"] == []
    assert section["prompt_set"]["name"] == "internvl_cot" and "3b6bca0f" in section["prompt_set"]["reference"]
    assert section["response_text"] == "model.chat"
    critic = section["critics"]["visualprm"]
    assert (critic["max_steps"], critic["score_rounding"], critic["system_message"]["source"]) == (
        12, "bf16", "checkpoint config")
    assert any("step cap 12" in n for n in section["notes"])  # stated, with what could not be verified
    lines = fidelity_lines(section)
    assert lines[0].endswith("faithful reproduction")
    assert any("step cap 12, score rounding bf16, system message prompts/visualprm_system.txt" in line for line in lines)


def test_every_departure_from_the_reference_evaluation_is_listed(tmp_path):
    critic = _critic_info(score_rounding="none", max_steps=None, system_message="",
                          system_message_source="argument")
    run = _run(tmp_path, "internvl_cot_open_qa", {"temperature": 0.6, "top_k": None}, critic)
    section = fidelity_section(run)
    assert not section["faithful"]
    text = "\n".join(section["deviations"])
    for fragment in ("prompt set internvl_cot_open_qa", "MMMU open questions", "temperature 0.6 (reference 0.7)",
                     "top_k None (reference 50)",
                     "float32 (score_rounding none)", "system message given explicitly (empty system turn)"):
        assert fragment in text, fragment
    assert any("step cap none" in n for n in section["notes"])
    assert fidelity_lines(section)[0].endswith(f"{len(section['deviations'])} deviation(s)")


def test_a_run_sampled_without_the_response_rule_is_flagged(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.bind("prompt", {k: v for k, v in prompt_binding("internvl_cot").items() if k != "response_text"})
    assert any("raw decode" in d for d in fidelity_section(run)["deviations"])


@pytest.mark.parametrize("name", REPRODUCTIONS)
def test_reproduction_recipes_state_their_fidelity_settings(name):
    cfg = load_recipe(name)
    s = cfg.sampling
    assert cfg.data.prompt_set == "internvl_cot"
    assert (s.temperature, s.top_p, s.top_k, s.first_greedy, s.max_new_tokens) == (0.7, 0.95, 50, True, 4096)
    assert cfg.models.critic_options == {"max_steps": 12, "default_system_message": "visualprm_system",
                                         "score_rounding": "bf16"}


def test_the_2509_recipe_is_todays_vlmevalkit_and_claims_no_published_numbers():
    cfg = load_recipe("internvl3-8b_visualprm-bo8_vlmevalkit-2509")
    assert (cfg.data.prompt_set, cfg.sampling.temperature) == ("internvl_cot_2509", 0.6) and not cfg.expected


def test_tts_report_prints_the_fidelity_lines_under_the_published_comparison(tmp_path, monkeypatch, detach_run_logs):
    """The printing path of ``tts report`` (build_report is stubbed: the curves are tested elsewhere)."""
    from tts.cli import build_app
    from tts.stages import report as report_stage

    run = _run(tmp_path)
    stub = {"comparison": {"best_of_n/mean": {"rule": "best_of_n/mean@8 [visualprm]", "benchmarks": {
        "overall": {"ours": 50.0, "expected": 50.2, "delta": -0.2}}}}, "fidelity": fidelity_section(run),
        "curve_info": {"n_samples": 8, "unavailable": {}, "aggregations": ["mean"]}, "curves": {}}
    monkeypatch.setattr(report_stage, "build_report", lambda *a, **k: stub)
    monkeypatch.setattr("tts.cli.render.print_curve_table", lambda *a, **k: None)
    result = CliRunner().invoke(build_app(), ["report", str(run.path), "--no-plot"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("Ours vs published") < out.index("Evaluation fidelity vs VLMEvalKit@3b6bca0f")
    assert "prompt set: internvl_cot — open-compass/VLMEvalKit@3b6bca0f" in out and "faithful reproduction" in out
    assert json.dumps(stub["fidelity"])  # report.json-serialisable
