"""Resume checks of the pipeline API that run before any model is loaded."""

import pytest

from tts.api import check_resumable
from tts.config import RunConfig
from tts.rundir import ConfigConflict, RunDir
from tts.stages.sample import prompt_binding


def _check(run, **changes):
    check_resumable(run, RunConfig.of("org/policy", "org/critic", **changes))


def test_conflicts_are_refused_before_loading_anything(tmp_path):
    run = RunDir.open(tmp_path / "run")
    _check(run)
    run.bind("critics.visualprm", {"critic": "visualprm", "model": "org/critic", "max_steps": 12})
    _check(run)  # the same command resumes
    with pytest.raises(ConfigConflict, match="prompt.set: the run has 'internvl_cot'"):
        _check(run, prompt_set="mathvista_official")
    with pytest.raises(ConfigConflict, match="sampling.n: the run has 8"):
        _check(run, n=16)
    with pytest.raises(ConfigConflict, match="critics.visualprm.model: the run has 'org/critic'"):
        check_resumable(run, RunConfig.of("org/policy", "org/other"))
    # another label is another critic: allowed beside the first
    _check(run, critic_label="second")


def test_a_run_made_before_the_config_records_resumes(tmp_path):
    """The bindings a run stores must not change for the same settings: these are the exact sections the
    flat RunConfig (before the records) bound for `n=4, first_greedy=True` and the default prompt set."""
    run = RunDir.open(tmp_path / "run")
    run.manifest["config"] = {
        "run": {"policy": "org/policy", "engine": "transformers"},
        "sampling": {"n": 4, "temperature": 0.7, "top_p": 0.95, "top_k": None, "max_new_tokens": 4096, "seed": 0,
                     "first_greedy": True, "stop_on_repetition": True},
        "prompt": prompt_binding("internvl_cot"),
        "critics": {"visualprm": {"critic": "visualprm", "model": "org/critic", "max_steps": 12}},
    }
    run.manifest["recipe"] = {"policy": "org/policy", "critic": "org/critic", "n": 4, "first_greedy": True}
    run.save()
    before = dict(run.manifest["config"])
    _check(run, n=4, first_greedy=True)
    assert run.manifest["config"] == before
    assert RunConfig.from_mapping(run.manifest["recipe"]) == RunConfig.of("org/policy", "org/critic", n=4,
                                                                         first_greedy=True)


def test_check_reads_only_the_keys_it_is_given(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.check("critics.visualprm", {"model": "x"})  # nothing stored yet: nothing to refuse
    assert run.config("critics") is None
    run.bind("critics.visualprm", {"model": "x", "max_steps": 12})
    run.check("critics.visualprm", {"model": "x"})
    with pytest.raises(ConfigConflict, match="critics.visualprm.model: the run has 'x', this command asks for 'y'"):
        run.check("critics.visualprm", {"model": "y"})
