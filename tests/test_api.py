"""Resume checks of the pipeline API that run before any model is loaded."""

import pytest

from tts.api import check_resumable, sampling_params
from tts.config import RunConfig
from tts.rundir import ConfigConflict, RunDir


def _check(run, **changes):
    config = RunConfig(policy="org/policy", critic="org/critic", **changes)
    check_resumable(run, config, sampling_params(config))


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
        check_resumable(run, RunConfig(policy="org/policy", critic="org/other"),
                        sampling_params(RunConfig(policy="org/policy", critic="org/other")))
    # another label is another critic: allowed beside the first
    _check(run, critic_label="second")


def test_check_reads_only_the_keys_it_is_given(tmp_path):
    run = RunDir.open(tmp_path / "run")
    run.check("critics.visualprm", {"model": "x"})  # nothing stored yet: nothing to refuse
    assert run.config("critics") is None
    run.bind("critics.visualprm", {"model": "x", "max_steps": 12})
    run.check("critics.visualprm", {"model": "x"})
    with pytest.raises(ConfigConflict, match="critics.visualprm.model: the run has 'x', this command asks for 'y'"):
        run.check("critics.visualprm", {"model": "y"})
