"""Shared fixtures: the tiny offline checkpoints (built once per cache) and a fresh run directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny():
    from tts.testing import tiny_checkpoints

    return tiny_checkpoints()


@pytest.fixture()
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running ``python -m tts`` in a subprocess against this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


PYTHON = sys.executable

# Doctest collection would import every conftest.py as a module named "conftest" (two would clash when their
# folders are run together); conftests hold no doctests.
collect_ignore_glob = ["*/conftest.py"]
