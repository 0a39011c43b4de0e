"""What a search algorithm says to the models, and what it hears back: batched across problems.

The algorithms never see a model. They ask a :class:`StepProposer` for next steps and a
:class:`PartialScorer` for step scores, always as one list of requests for *every* live node of *every*
problem in flight, so a batch of 64 problems costs as many policy and critic calls as one problem.

A *step* is what the policy writes up to the next blank line (``"\\n\\n"``), exactly the critic's step split
(:func:`tts.critics.steps.split_steps`). Step texts are stored **without** the separator; a partial solution
is its steps joined by ``"\\n\\n"`` (:func:`join_steps`), which is also the text the policy continues (plus
one trailing ``"\\n\\n"``, see the design note in :mod:`tts.search`).

Example:
    >>> join_steps(("a", "b")), continuation_prefix(("a", "b"))
    ('a\\n\\nb', 'a\\n\\nb\\n\\n')
    >>> StepProposal("x = 2", tokens=4, finish_reason="step").finished
    False
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

STEP_SEPARATOR = "\n\n"
"""The step boundary: the policy stops there, the critic splits there."""

ProposalFinish = Literal["step", "stop", "length"]
PROPOSAL_FINISHES: tuple[str, ...] = ("step", "stop", "length")


def join_steps(steps: Sequence[str]) -> str:
    """The text of a partial solution made of ``steps``."""
    return STEP_SEPARATOR.join(steps)


def continuation_prefix(steps: Sequence[str]) -> str:
    """The assistant reply the policy continues to write the step after ``steps`` (``""`` at the root)."""
    return join_steps(steps) + STEP_SEPARATOR if steps else ""


def extend(steps: tuple[str, ...], text: str, finish_reason: str) -> tuple[str, ...]:
    """The partial solution after a proposal: ``steps`` plus its text, except that an empty continuation
    that ended the solution (end of sequence right after a blank line) adds no step, so a solution never
    ends with an empty step the policy did not write.

    >>> extend(("a",), "b", "step"), extend(("a",), "", "stop"), extend(("a",), "", "step")
    (('a', 'b'), ('a',), ('a', ''))
    """
    if finish_reason == "stop" and not text.strip():
        return steps
    return (*steps, text)


@dataclass(frozen=True)
class SearchProblem:
    """One problem to search. ``seed`` is the problem's seed (:func:`tts.engines.base.problem_seed` of the run
    seed and the problem id); every node's seed derives from it (:mod:`tts.search.seeds`).

    ``context`` is opaque to the search: whatever the proposer and scorer need to render the problem (in
    step two: the generation request — prompt, decoded images, tiling cap — and the scoring request).
    """

    problem_id: str
    seed: int
    context: Any = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def from_run_seed(cls, problem_id: str, run_seed: int, context: Any = None) -> SearchProblem:
        from tts.engines.base import problem_seed

        return cls(problem_id, problem_seed(run_seed, problem_id), context)


@dataclass(frozen=True)
class StepRequest:
    """Continue one partial solution ``len(seeds)`` times.

    ``seeds[i]`` is the seed of continuation ``i``. They are consecutive (``seeds[i] == seeds[0] + i``), so an
    engine may serve the request as one ``SamplingParams(n=len(seeds), seed=seeds[0])`` (vLLM's child-seed
    rule, as the sample stage does). ``greedy`` asks for temperature 0 (lookahead rolls). ``stop_at_step``
    false means write to the end of the solution (the last iteration; Best-of-N). ``max_new_tokens`` caps
    each continuation; the search derives it from its budgets and never lets a proposal exceed it.
    """

    problem: SearchProblem
    steps: tuple[str, ...]
    seeds: tuple[int, ...]
    max_new_tokens: int
    greedy: bool = False
    stop_at_step: bool = True

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def prefix(self) -> str:
        """The assistant reply to continue (what step two passes as ``assistant_prefix``)."""
        return continuation_prefix(self.steps)


@dataclass(frozen=True)
class StepProposal:
    """One continuation: the new step's text (without the trailing separator), the policy tokens it cost and
    why the policy stopped: ``step`` (at the blank line: the solution goes on), ``stop`` (end of sequence:
    the solution is complete) or ``length`` (``max_new_tokens`` reached). ``prompt_tokens`` is the length of
    the prompt the engine read (prompt and partial solution), when it reports it; ``flags`` the engine's
    markers (``repetition``: a loop the engine cut)."""

    text: str
    tokens: int
    finish_reason: ProposalFinish
    prompt_tokens: int = 0
    flags: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        """True when the policy will not write more (end of sequence or token cap)."""
        return self.finish_reason != "step"


@dataclass(frozen=True)
class ScoreRequest:
    """Score every step of one partial solution. ``steps`` is the critic's own split of the partial
    solution's text (``split_steps(text, max_steps=None)``), lookahead steps included."""

    problem: SearchProblem
    steps: tuple[str, ...]


@dataclass(frozen=True)
class PartialScore:
    """The critic's score of each step of a partial solution. ``scores`` align with the *end* of the
    request's steps: a critic that had to drop leading steps to fit its context (``tts.critics.fitting``)
    returns fewer; ``()`` means unscored. ``tokens`` is the length of the sequence the critic read."""

    scores: tuple[float, ...]
    tokens: int = 0
    flags: tuple[str, ...] = ()


class StepProposer(Protocol):
    """The policy seen by the search: one call continues every request of the batch."""

    def propose(self, requests: Sequence[StepRequest]) -> list[list[StepProposal]]:
        """For each request, ``request.n`` proposals in seed order."""
        ...


class PartialScorer(Protocol):
    """The critic seen by the search: one call scores every partial solution of the batch."""

    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        """One :class:`PartialScore` per request, in order."""
        ...


@dataclass(frozen=True)
class Propose:
    """What a problem's search yields when it needs next steps (answered with one list per request)."""

    requests: tuple[StepRequest, ...]


@dataclass(frozen=True)
class Score:
    """What a problem's search yields when it needs step scores (answered with one score per request)."""

    requests: tuple[ScoreRequest, ...]


Action = Propose | Score
