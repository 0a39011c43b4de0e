"""``tts label`` on the command line: the estimate of a dry run, one-line errors, the shared vocabulary."""

from __future__ import annotations

import json

from tests.step_labels.conftest import small_run

pytest_plugins = ["tests.fixtures.cli_fixtures"]  # tts, detach_run_logs


def test_a_dry_run_prints_the_estimate_and_writes_nothing(tts, tmp_path):
    run = small_run(tmp_path / "run", policy="no/such-model")
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    result = tts("label", run, "--dry-run", "--continuations", "16")
    assert result.exit_code == 0, result.output
    assert "would generate: 3 rollouts, 9 steps (0 already labelled): 144 continuations (16 per step)" in result.stdout
    assert "not labelled: fewer_rollouts 2, no_gold_answer 1" in result.stdout
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before
    bound = tts("label", run, "--dry-run", "--early-stop")
    assert "at most 144 continuations" in bound.stdout


def test_mistakes_are_one_line_and_exit_2(tts, tmp_path):
    run = small_run(tmp_path / "run", policy="no/such-model")
    cases = [
        ((tmp_path / "nothing", "--dry-run"), "is not a run directory"),
        ((run, "--rules", "lenient", "--dry-run"), "--rules must be one of strict, official"),
        ((run, "--temperature", "0", "--dry-run"), "--temperature must be > 0"),
        ((run, "--continuations", "0", "--dry-run"), "--continuations must be >= 1"),
        ((run, "--prompt-set", "mathvista_official", "--dry-run"), "was sampled with prompt set 'internvl_cot'"),
        ((run, "--benchmark", "demo", "--dry-run"), "--dry-run estimates the labelling of rollouts already"),
    ]
    for args, message in cases:
        result = tts("label", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("error: ") and message in result.stderr and "Traceback" not in result.stderr


def test_settings_that_change_a_score_are_refused_on_resume(tts, tmp_path):
    run = small_run(tmp_path / "run", policy="no/such-model")
    folder = run / "labels"
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps({"schema_version": 1, "bound": {"mc": {"continuations": 16}}}))
    result = tts("label", run, "--continuations", "8", "--dry-run")
    assert result.exit_code == 2
    assert "mc.continuations: the labels were made with 16, this call asks for 8" in result.stderr


def test_the_command_speaks_the_shared_vocabulary(tts):
    help_text = tts("label", "--help").output
    for flag in ("--rules", "--prompt-set", "--engine", "--engine-option", "--policy", "--benchmark", "--out",
                 "--dry-run", "--early-stop", "--continuations", "--rollouts", "--threshold"):
        assert flag in help_text, flag
    assert "--label " not in help_text and "--prompt " not in help_text


def test_the_defaults_are_internvls_v1_1_data_script():
    """Issue 22: 4 rollouts, 16 continuations, temperature 1.0, up to 16 steps, no early stop, '+' iff mc > 0
    (``visualprm_mmpr_8b.sh`` over the pipeline's own argparse defaults: top-k 50, top-p 1.0, 4096 tokens), the
    same in the library call and on the command line."""
    import inspect

    from tts.cli.label import label
    from tts.step_labels import MCSettings, label_run

    expected = {"rollouts": 4, "continuations": 16, "temperature": 1.0, "max_steps": 16, "early_stop": False,
                "threshold": 0.0, "top_k": 50, "top_p": 1.0, "max_new_tokens": 4096}
    s = MCSettings()
    assert {k: getattr(s, k) for k in expected if hasattr(s, k)} == {k: v for k, v in expected.items() if hasattr(s, k)}
    library = inspect.signature(label_run).parameters
    command = inspect.signature(label).parameters
    for name, value in expected.items():
        assert library[name].default == value, name
        assert command[name].default.default == value, name  # typer.Option(default, ...)
