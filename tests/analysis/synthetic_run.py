"""Hand-made run directories (no model): problems, rollouts, step scores and strict grades."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tts.records import Grade, Problem, Rollout, StepScores
from tts.rundir import RunDir

ANSWERS = ["1/2", "3", "7", "12"]  # "1/2" is gold; wrong answers are distinct integers


def make_run(path: Path, *, problems: int = 6, n: int = 8, seed: int = 0, benchmarks: tuple[str, ...] = ("alpha", "beta"),
             first_greedy: bool = True, critic: str = "prm", equivalent_forms: bool = True) -> RunDir:
    """A run with ``problems`` problems × ``n`` rollouts; sample answers mix equivalent forms of the gold
    (``1/2``, ``0.5``, ``\\frac{1}{2}``), wrong integers and unparsed responses."""
    rng = np.random.default_rng(seed)
    run = RunDir.open(path)
    run.bind("sampling", {"n": n, "temperature": 0.7, "first_greedy": first_greedy})
    probs, rolls, scores, grades = [], [], [], []
    gold_forms = ["1/2", "0.5", "\\frac{1}{2}"] if equivalent_forms else ["1/2"]
    for i in range(problems):
        pid = f"q{i}"
        probs.append(Problem(pid, benchmarks[i % len(benchmarks)], "test", f"question {i}", answer="1/2"))
        skill = rng.uniform(0.1, 0.9)
        for j in range(n):
            kind = rng.random()
            if kind < skill:
                extracted, ok = gold_forms[int(rng.integers(len(gold_forms)))], True
            elif kind < 0.93:
                extracted, ok = ANSWERS[int(rng.integers(1, len(ANSWERS)))], False
            else:
                extracted, ok = None, False
            flags = ("greedy",) if first_greedy and j == 0 else ()
            text = f"step one\n\nstep two\n\nAnswer: \\boxed{{{extracted}}}" if extracted else "no idea"
            rolls.append(Rollout(pid, j, text, "stop", 10, 20, 0.1, "m", "transformers", seed=i, flags=flags))
            steps = int(rng.integers(1, 4))
            vals = np.clip(rng.normal(0.5 + 0.25 * ok, 0.2, steps), 0, 1).round(3)
            unscored = rng.random() < 0.05
            scores.append(StepScores(pid, j, critic, tuple(f"s{k}" for k in range(steps)),
                                     () if unscored else tuple(float(v) for v in vals)))
            grades.append(Grade(pid, j, extracted, ok, "match" if ok else "mismatch", "strict"))
    run.append(probs)
    run.append(rolls)
    run.append(scores, critic=critic)
    run.append(grades)
    return run
