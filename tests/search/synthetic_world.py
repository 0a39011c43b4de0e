"""A synthetic reasoning world for the comparison: steps are right or wrong, the critic sees it noisily.

Each problem has a difficulty ``q`` (the chance that a step is right); a solution is ``LENGTH`` steps, the
last one writes ``\\boxed{1}`` when every step was right, another number otherwise. The critic scores a
right step high and a wrong one low, with noise (a causal PRM). A step's text and tokens are a pure
function of (problem, partial solution, seed), as a seeded engine's. Everything is written as real run
directories: a sampled run (Best-of-N, ``tts sample``'s layout) and search runs (``tts search``'s), with
strict grades, so :func:`tts.search.compare.compare_runs` reads them as it reads real runs.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

from tts.engines.base import SamplingParams
from tts.records import Grade, Problem
from tts.rundir import RunDir
from tts.search import (
    PartialScore,
    ScoreRequest,
    SearchProblem,
    SearchSettings,
    StepProposal,
    StepRequest,
    search_problems,
)
from tts.search.store import SearchStore
from tts.stages.search import search_binding, search_sampling

LENGTH = 4


def _u(*parts: object) -> float:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big") / 2**64


def difficulty(pid: str) -> float:
    return 0.55 + 0.4 * _u("q", pid)


class WorldPolicy:
    def __init__(self) -> None:
        self.calls = 0

    def _step(self, pid: str, steps: tuple[str, ...], seed: int | None) -> StepProposal:
        k = len(steps)
        ok = _u(pid, steps, seed, "ok") < difficulty(pid)
        tokens = 20 + int(40 * _u(pid, steps, seed, "len"))
        text = f"{'ok' if ok else 'bad'} step {k} #{int(_u(pid, steps, seed) * 1e6)}"
        if k == LENGTH - 1:
            right = ok and all(s.startswith("ok") for s in steps)
            text += f" so \\boxed{{{1 if right else 2 + int(3 * _u(pid, steps, seed, 'a'))}}}"
            return StepProposal(text, tokens, "stop", 50)
        return StepProposal(text, tokens, "step", 50)

    def propose(self, requests: Sequence[StepRequest]) -> list[list[StepProposal]]:
        self.calls += 1
        out = []
        for r in requests:
            props = []
            for seed in r.seeds:
                key = None if r.greedy else seed
                if r.stop_at_step:
                    p = self._step(r.problem.problem_id, r.steps, key)
                    props.append(StepProposal(p.text, min(p.tokens, r.max_new_tokens),
                                              p.finish_reason if p.tokens <= r.max_new_tokens else "length", 50))
                    continue
                steps, texts, used = r.steps, [], 0
                while True:
                    p = self._step(r.problem.problem_id, steps, key)
                    if used + p.tokens > r.max_new_tokens:
                        props.append(StepProposal("\n\n".join(texts), r.max_new_tokens, "length", 50))
                        break
                    texts.append(p.text)
                    used += p.tokens
                    steps = (*steps, p.text)
                    if p.finish_reason == "stop":
                        props.append(StepProposal("\n\n".join(texts), used, "stop", 50))
                        break
            out.append(props)
        return out


class WorldCritic:
    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        out = []
        for r in requests:
            scores = []
            for i, step in enumerate(r.steps):
                z = (0.5 if step.startswith("ok") else -0.5) + 3.0 * (_u(r.problem.problem_id, r.steps[: i + 1]) - 0.5)
                scores.append(1 / (1 + math.exp(-z)))
            out.append(PartialScore(tuple(scores), 100 + 30 * len(r.steps)))
        return out


def _grades(rollouts):
    out = []
    for r in rollouts:
        answer = r.text.rsplit("\\boxed{", 1)[1].split("}")[0] if "\\boxed{" in r.text else None
        out.append(Grade(r.problem_id, r.sample_idx, answer, answer == "1", "synthetic", "strict"))
    return out


def problems(count: int) -> list[Problem]:
    benches = ("alpha", "beta")
    return [Problem(id=f"w{i}", benchmark=benches[i % 2], split="test", question=f"q{i}", answer="1",
                    answer_type="integer") for i in range(count)]


def _results(algorithm: str, settings: SearchSettings, probs: Sequence[Problem]):
    searched = [SearchProblem.from_run_seed(p.id, 0) for p in probs]
    return search_problems(algorithm, searched, WorldPolicy(), WorldCritic(), settings)


def sampled_run(path: Path, probs: Sequence[Problem], n: int) -> Path:
    with RunDir.open(path) as run:
        _sampled(run, probs, n)
    return path


def _sampled(run: RunDir, probs: Sequence[Problem], n: int) -> None:
    run.append(list(probs))
    run.bind("sampling", SamplingParams(n=n, max_new_tokens=1024).to_json())
    run.bind("critics.prm", {"critic": "world", "model": "world-critic"})
    run.bind("policy", {"model": "world-policy", "engine": "synthetic"})
    rollouts, scores = [], []
    for result in _results("best_of_n", SearchSettings(n=n, max_new_tokens=1024), probs):
        rollouts += [r.__class__(**{**r.to_json(), "search": None}) for r in result.rollouts("world-policy", "synthetic")]
        scores += result.step_scores("prm")
    run.append(rollouts)
    run.append(scores, critic="prm")
    run.append(_grades(rollouts))


def search_run(path: Path, probs: Sequence[Problem], algorithm: str, settings: SearchSettings) -> Path:
    with RunDir.open(path) as run:
        _searched(run, probs, algorithm, settings)
    return path


def _searched(run: RunDir, probs: Sequence[Problem], algorithm: str, settings: SearchSettings) -> None:
    run.append(list(probs))
    run.bind("sampling", search_sampling(SamplingParams(max_new_tokens=settings.max_new_tokens), settings).to_json())
    run.bind("search", search_binding(algorithm, settings))
    run.bind("critics.prm", {"critic": "world", "model": "world-critic"})
    run.bind("policy", {"model": "world-policy", "engine": "synthetic"})
    store = SearchStore(run, algorithm)
    for result in _results(algorithm, settings, probs):
        store.write_tree(result)
        rollouts = result.rollouts("world-policy", "synthetic", pad_to=settings.n)
        run.append(rollouts)
        run.append(result.step_scores("prm", pad_to=settings.n), critic="prm")
        run.append(_grades(rollouts))


def world(root: Path, *, count: int = 60, sampled_n: int = 32, budgets: Sequence[int] = (4, 8, 16)) -> list[Path]:
    """A sampled run and beam / DVTS / particle-filter runs at each budget, on the same problems."""
    probs = problems(count)
    paths = [sampled_run(root / "sampled", probs, sampled_n)]
    for n in budgets:
        paths.append(search_run(root / f"beam-n{n}", probs, "beam",
                                SearchSettings(n=n, beam_width=min(4, n), max_new_tokens=1024, aggregation="min")))
        paths.append(search_run(root / f"dvts-n{n}", probs, "dvts",
                                SearchSettings(n=n, beam_width=min(4, n), max_new_tokens=1024, aggregation="min")))
        paths.append(search_run(root / f"particle-n{n}", probs, "particle_filter",
                                SearchSettings(n=n, max_new_tokens=1024, aggregation="last")))
    return paths
