"""Which rollouts get labelled, their steps and step prefixes, the seeds, and the cost estimate.

Steps are split exactly as the critic splits them (:func:`tts.critics.steps.split_steps`: ``"\\n\\n"``, even
merge down to ``max_steps``). The prefix of step ``k`` is steps ``0..k`` joined by ``"\\n\\n"`` — the rollout's
own text up to the end of that step, as InternVL's ``join_steps(steps[:k+1])`` — and the policy continues it as
the pre-filled start of its reply. The last step's prefix is the whole rollout (InternVL continues it too).

Rollouts: the first ``rollouts`` samples of each problem (sample index ``< rollouts``). Left out, and counted:
problems without a gold answer (nothing to grade against), rollouts the engine failed on, empty rollouts.

Seeds: the K continuations of step ``k`` of sample ``s`` of problem ``p`` draw with seeds ``u, u+1, …, u+K-1``
where ``u = problem_seed(seed, "p#s#k")`` (the engines' per-sample rule), so a resumed, re-batched or
sharded label run makes the same continuations as a clean one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tts.critics.steps import split_steps
from tts.engines.base import problem_seed
from tts.records import MCStep, Problem, Rollout

SEP = "\n\n"


def unit_seed(seed: int, problem_id: str, sample_idx: int, step_idx: int) -> int:
    """The seed of the continuations of one step prefix (continuation ``j`` uses ``unit_seed + j``).

    >>> unit_seed(0, "p1", 0, 2) == unit_seed(0, "p1", 0, 2) != unit_seed(0, "p1", 0, 3)
    True
    """
    return problem_seed(seed, f"{problem_id}#{sample_idx}#{step_idx}")


@dataclass(frozen=True)
class Target:
    """One rollout to label: its problem, its record and its steps."""

    problem: Problem
    rollout: Rollout
    steps: tuple[str, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.problem.id, self.rollout.sample_idx)

    def prefix(self, step_idx: int) -> str:
        return SEP.join(self.steps[: step_idx + 1])

    def step_key(self, step_idx: int) -> tuple[str, int, int]:
        return (*self.key, step_idx)


@dataclass(frozen=True)
class Unit:
    """One step prefix to continue K times."""

    target: Target
    step_idx: int
    seed: int

    @property
    def key(self) -> tuple[str, int, int]:
        return self.target.step_key(self.step_idx)

    @property
    def prefix(self) -> str:
        return self.target.prefix(self.step_idx)


@dataclass
class Selection:
    """The rollouts to label, in run order, and what was left out and why."""

    targets: list[Target] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> "problem#sample" (or problem) ids
    problems: int = 0

    def skip(self, reason: str, what: str) -> None:
        self.skipped.setdefault(reason, []).append(what)

    def counts(self) -> dict[str, int]:
        return {reason: len(ids) for reason, ids in self.skipped.items()}


def select_targets(problems: Sequence[Problem], rollouts: Iterable[Rollout], *, rollouts_per_problem: int,
                   max_steps: int | None) -> Selection:
    """The rollouts to label: per problem with a gold answer, samples ``0..rollouts_per_problem-1``."""
    by_problem: dict[str, dict[int, Rollout]] = {}
    for r in rollouts:
        if r.sample_idx < rollouts_per_problem:
            by_problem.setdefault(r.problem_id, {})[r.sample_idx] = r
    out = Selection(problems=len(problems))
    for problem in problems:
        have = by_problem.get(problem.id, {})
        if not problem.golds:
            out.skip("no_gold_answer", problem.id)
            continue
        if len(have) < rollouts_per_problem:
            out.skip("fewer_rollouts", f"{problem.id} ({len(have)} of {rollouts_per_problem})")
        for idx in sorted(have):
            r = have[idx]
            name = f"{problem.id}#{idx}"
            if r.finish_reason == "error":
                out.skip("engine_error", name)
                continue
            steps = split_steps(r.text, max_steps=max_steps)
            if not steps:
                out.skip("empty_rollout", name)
                continue
            out.targets.append(Target(problem, r, tuple(steps)))
    return out


def pending_steps(target: Target, done: Mapping[tuple, MCStep]) -> list[int]:
    return [k for k in range(len(target.steps)) if target.step_key(k) not in done]


@dataclass(frozen=True)
class Estimate:
    """What a label call will generate, computed before it starts (``--dry-run`` prints it).

    ``continuations`` is exact without early stop (the test suite checks a call makes exactly that many); with
    early stop it is the most a call can make (steps after an mc-0 step are skipped). ``tokens`` and ``seconds``
    are rough: each continuation is assumed to be as long as the rest of its rollout after the prefix, generated
    at the rollouts' own sampling rate.
    """

    rollouts: int
    steps: int
    steps_done: int
    continuations: int
    tokens: int
    seconds: float | None
    exact: bool
    per_step: int

    def describe(self) -> str:
        bound = "" if self.exact else "at most "
        secs = f", ~{_duration(self.seconds)} at the rollouts' sampling rate" if self.seconds is not None else ""
        return (f"{self.rollouts} rollouts, {self.steps} steps ({self.steps_done} already labelled): "
                f"{bound}{self.continuations} continuations ({self.per_step} per step), "
                f"~{self.tokens} generated tokens{secs}")

    def to_json(self) -> dict[str, Any]:
        return {"rollouts": self.rollouts, "steps": self.steps, "steps_done": self.steps_done,
                "continuations": self.continuations, "tokens": self.tokens, "seconds": self.seconds,
                "exact": self.exact, "per_step": self.per_step}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def remaining_tokens(target: Target, step_idx: int) -> int:
    """The rollout's generated tokens after the prefix of ``step_idx`` (by share of characters), at least 1."""
    text = target.rollout.text
    share = max(0, len(text) - len(target.prefix(step_idx))) / max(1, len(text))
    return max(1, round(target.rollout.completion_tokens * share))


def estimate(targets: Sequence[Target], done: Mapping[tuple, MCStep], *, continuations: int,
             early_stop: bool) -> Estimate:
    """The cost of labelling every pending step of ``targets`` with ``continuations`` draws each."""
    steps = sum(len(t.steps) for t in targets)
    pending = [(t, k) for t in targets for k in pending_steps(t, done)]
    tokens = sum(remaining_tokens(t, k) for t, k in pending) * continuations
    generated = sum(t.rollout.completion_tokens for t in targets)
    seconds_spent = sum(t.rollout.seconds for t in targets)
    rate = generated / seconds_spent if generated and seconds_spent > 0 else None
    return Estimate(rollouts=len(targets), steps=steps, steps_done=steps - len(pending),
                    continuations=len(pending) * continuations, tokens=tokens,
                    seconds=tokens / rate if rate else None, exact=not early_stop, per_step=continuations)


def next_round(targets: Sequence[Target], done: Mapping[tuple, MCStep], *, seed: int, early_stop: bool,
               failed: set[tuple]) -> tuple[list[Unit], list[tuple[Target, int]]]:
    """The units to continue now and the steps early stop settles without rollouts.

    Without early stop every pending step of every rollout goes at once (one engine call). With it, each rollout
    advances one step per round (its first pending step, all earlier ones being done); a rollout with an mc-0
    step has all its later pending steps settled at 0. Units that failed in this call are not asked again.
    """
    units: list[Unit] = []
    settled: list[tuple[Target, int]] = []
    for target in targets:
        pending = pending_steps(target, done)
        if not pending:
            continue
        if early_stop:
            first = pending[0]
            if any(done[target.step_key(j)].correct == 0 for j in range(first)):
                settled += [(target, k) for k in pending]
                continue
            pending = [first]
        for k in pending:
            if target.step_key(k) not in failed:
                units.append(Unit(target, k, unit_seed(seed, target.problem.id, target.rollout.sample_idx, k)))
    return units, settled


__all__ = ["Estimate", "Selection", "Target", "Unit", "estimate", "next_round", "pending_steps", "select_targets",
           "unit_seed"]
