"""Runs the search stage on the tiny checkpoints in its own process (for the kill -9 test and the bench).

Usage: ``python tests/search/stage_worker.py RUN_DIR ALGORITHM [--batch-size K] [--problems demo]``.
The tiny policy writes steps through :func:`tts.testing.steps.bias_steps`; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SETTINGS = {"n": 4, "beam_width": 2, "max_steps": 6, "max_new_tokens": 64}


def run_stage(run_dir: str, algorithm: str, *, batch_size: int | None = None, progress: bool = False,
              settings: dict | None = None, engine=None, critic=None) -> dict:
    from tts.critics import load_critic
    from tts.engines import SamplingParams, load_engine
    from tts.rundir import RunDir
    from tts.search import SearchSettings
    from tts.stages import add_problems
    from tts.stages.search import search
    from tts.testing import tiny_checkpoints
    from tts.testing.steps import bias_steps

    ck = tiny_checkpoints()
    engine = engine or load_engine("transformers", str(ck.policy))
    critic = critic or load_critic("visualprm", str(ck.critic))
    settings = SearchSettings(**{**SETTINGS, **(settings or {})})
    with RunDir.open(run_dir) as run, bias_steps(engine, 3.0, 1.5):
        problems = add_problems(run, ["demo"])
        summary = search(run, engine, critic, algorithm, settings, SamplingParams(n=settings.n, seed=5), problems,
                         batch_size=batch_size, progress=progress)
    return {"searched": summary.searched, "skipped": summary.skipped_done, "failed": summary.failed,
            "rederived": summary.rederived}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("algorithm")
    parser.add_argument("--batch-size", type=int)
    args = parser.parse_args()
    print(json.dumps(run_stage(args.run_dir, args.algorithm, batch_size=args.batch_size)), flush=True)


if __name__ == "__main__":
    main()
