"""The README's TRL snippet runs as written (here: on CPU), and the dev extra asks for the TRL the README names."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess

import pytest

from tests.conftest import PYTHON, REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _trl_snippet() -> str:
    section = README[README.index("## MPO preference pairs"):]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def test_the_dev_extra_asks_for_the_trl_the_readme_names():
    from packaging.requirements import Requirement

    pyproject = (REPO / "pyproject.toml").read_text()
    dev = pyproject[pyproject.index("dev = ["):]
    trl = Requirement(re.search(r'"(trl[^"]*)"', dev).group(1))
    assert f"`trl{trl.specifier}`" in README  # the range the README explains
    assert importlib.metadata.version("trl") in trl.specifier  # and the environment the tests run in has it


@pytest.mark.slow
def test_the_trl_snippet_runs_as_written(tmp_path, cli_env):
    from tests.pairs.conftest import P, bad, make_run, ok
    from tts.pairs import build_pairs, write_pairs

    run = make_run(tmp_path / "run", [P("one", "6", [ok("6", scores=(0.9, 0.8)), bad("5", scores=(0.2, 0.1))])])
    write_pairs(build_pairs(run, "prm"), "trl", tmp_path / "pairs" / "bo8")
    code = _trl_snippet() + "\nprint(len(ds), ds[0]['images'][0].size, args.loss_type, args.loss_weights)\n"
    env = {**cli_env, "CUDA_VISIBLE_DEVICES": ""}  # the CPU path, whatever the machine
    proc = subprocess.run([PYTHON, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "['sigmoid', 'bco_pair', 'sft'] [0.8, 0.2, 1.0]" in proc.stdout
