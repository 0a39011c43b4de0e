"""Run one search algorithm over many problems at once: one policy call and one critic call per round.

Every problem in flight is a state machine (its algorithm's generator over its own
:class:`~tts.search.tree.SearchTree`). A round answers, first, every problem waiting for next steps with
ONE :meth:`StepProposer.propose` call holding all their requests, then every problem waiting for scores
with ONE :meth:`PartialScorer.score` call. Problems move in lockstep, so a batch of 64 problems costs as
many model calls as its longest search alone; a problem that finishes leaves the batch at once (its result
is yielded) and the next problem takes its place (``max_in_flight`` bounds the batch).

A problem's search reads nothing but its own answers, and its seeds depend only on its own seed and node
paths, so the batched driver and the one-problem-at-a-time driver (``max_in_flight=1``) give identical
results, in any order and any sharding, whenever the models answer a request the same way whatever else is
in the call (true of seeded sampling per request; batch-dependent numerics aside).

Failures cost only their problem: a call that raises is retried problem by problem, and a problem whose
own call (or whose answers) fail yields a result with ``error`` and no records, to be searched again from
its seed by a rerun. The traceback goes to the log.

Example (see ``tests/search`` for scripted models)::

    for result in run_search("beam", problems, proposer, scorer, SearchSettings(n=16, beam_width=4)):
        write(result.nodes, result.summary)          # whole problems only: resume per problem
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tts.search.registry import SEARCHES
from tts.search.result import SearchResult
from tts.search.settings import SearchSettings
from tts.search.tree import SearchTree
from tts.search.types import Action, PartialScore, PartialScorer, Propose, Score, SearchProblem, StepProposer

log = logging.getLogger(__name__)


@dataclass
class _Run:
    """One problem in flight: its tree, its generator and the action it waits on."""

    problem: SearchProblem
    tree: SearchTree
    gen: Any
    pending: Action | None = None
    result: SearchResult | None = None

    @property
    def requests(self) -> Sequence[Any]:
        """The requests of the action this run waits on (only runs that wait on one are served)."""
        if self.pending is None:
            raise RuntimeError(f"{self.problem.problem_id}: served while waiting on nothing")
        return self.pending.requests


def run_search(algorithm: str, problems: Iterable[SearchProblem], proposer: StepProposer, scorer: PartialScorer,
               settings: SearchSettings, *, max_in_flight: int = 64) -> Iterator[SearchResult]:
    """Search every problem; yield each :class:`SearchResult` as soon as its problem is done."""
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
    algo = SEARCHES.get(algorithm)
    settings.check(algorithm)
    queue = iter(problems)
    active: list[_Run] = []
    exhausted = False
    while True:
        while not exhausted and len(active) < max_in_flight:
            problem = next(queue, None)
            if problem is None:
                exhausted = True
                break
            tree = SearchTree(problem, settings, algorithm)
            run = _Run(problem, tree, algo.search(tree))
            _advance(run, None)
            active.append(run)
        if not active:
            return
        _serve(_waiting(active, Propose), lambda reqs: proposer.propose(reqs), _proposal_tokens, "policy")
        _serve(_waiting(active, Score), lambda reqs: scorer.score(reqs), _score_tokens, "critic")
        for run in active:
            if run.result is not None:
                yield run.result
        active = [run for run in active if run.result is None]


def _waiting(active: Sequence[_Run], kind: type) -> list[_Run]:
    return [run for run in active if run.result is None and isinstance(run.pending, kind)]


def _advance(run: _Run, answer: Any) -> None:
    """Send ``answer`` to the run's generator and store its next action, or its result."""
    try:
        run.pending = run.gen.send(answer)
    except StopIteration as stop:
        summary, nodes = run.tree.records(stop.value)
        run.result = SearchResult(run.problem.problem_id, summary, nodes)
    except Exception as exc:  # noqa: BLE001 - one problem's failure must not take the batch down
        _fail(run, exc)


def _fail(run: _Run, exc: BaseException) -> None:
    log.error("search of %s failed: %s: %s", run.problem.problem_id, type(exc).__name__, exc, exc_info=exc)
    run.gen.close()
    run.result = SearchResult(run.problem.problem_id, None, (), f"{type(exc).__name__}: {exc}")


def _serve(runs: list[_Run], call: Callable[[list[Any]], Sequence[Any]], weigh: Callable[[Any], int],
           which: str) -> None:
    """Answer every run's pending action with one call; retry run by run if the call raises."""
    if not runs:
        return
    requests = [r for run in runs for r in run.requests]
    start = time.perf_counter()
    try:
        answers = list(call(requests))
        if len(answers) != len(requests):
            raise ValueError(f"the {which} model answered {len(answers)} items for {len(requests)} requests")
    except Exception as exc:  # noqa: BLE001 - isolate the failing problem
        if len(runs) == 1:
            _fail(runs[0], exc)
            return
        for run in runs:
            _serve([run], call, weigh, which)
        return
    seconds = time.perf_counter() - start
    parts, at = [], 0
    for run in runs:
        k = len(run.requests)
        parts.append(answers[at : at + k])
        at += k
    weights = [sum(weigh(a) for a in part) for part in parts]
    total = sum(weights)
    for run, part, weight in zip(runs, parts, weights):
        share = seconds * (weight / total if total else len(part) / len(requests))
        if which == "policy":
            run.tree.cost.policy_seconds += share
        else:
            run.tree.cost.critic_seconds += share
        _advance(run, part)


def _proposal_tokens(answer: Any) -> int:
    return sum(getattr(p, "tokens", 0) for p in answer) if isinstance(answer, Sequence) else 0


def _score_tokens(answer: Any) -> int:
    return answer.tokens if isinstance(answer, PartialScore) else 0


def search_problems(algorithm: str, problems: Iterable[SearchProblem], proposer: StepProposer,
                    scorer: PartialScorer, settings: SearchSettings, *, max_in_flight: int = 64) -> list[SearchResult]:
    """:func:`run_search`, collected in the problems' order."""
    problems = list(problems)
    if len({p.problem_id for p in problems}) != len(problems):
        raise ValueError("search_problems: problem ids must be unique")
    by_id = {r.problem_id: r for r in run_search(algorithm, problems, proposer, scorer, settings,
                                                  max_in_flight=max_in_flight)}
    return [by_id[p.problem_id] for p in problems]
