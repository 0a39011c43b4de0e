"""The critic in the loop: a :class:`~tts.search.types.PartialScorer` over any registered
:class:`~tts.critics.Critic` (VisualPRM on transformers or vLLM, its ORM mode, Math-Shepherd).

A partial solution is scored exactly as a finished rollout is: the critic's own conversation format, its
text the steps joined by ``"\\n\\n"`` and split back the same way, with ``max_steps=None`` (VisualPRM's
12-step merge would change what a step is; the stage configures it and binds it into the run). All partial
solutions of one problem in a call go into one :class:`~tts.critics.ScoringRequest`, so the critic encodes
the problem's image once for all of them (transformers) or its prefix cache shares the prompt, image and
common steps (vLLM); all problems of the round go into one ``critic.score`` call.

Answers: the critic's step scores (P(+) for VisualPRM), aligned to the end of the request's steps when the
critic dropped leading steps to fit its context (flag ``truncated``); an unscored partial solution (empty,
template mismatch, too long) has no scores and keeps the critic's flags. ``tokens`` is the length of the
sequence the critic read.
"""

from __future__ import annotations

from collections.abc import Sequence

from tts.critics.base import Critic, ScoringRequest
from tts.search.context import context_of
from tts.search.types import PartialScore, ScoreRequest, join_steps


class CriticScorer:
    """Step scores of partial solutions from ``critic``."""

    def __init__(self, critic: Critic) -> None:
        if critic.max_steps is not None:
            raise ValueError(f"critic {critic.label!r} merges steps (max_steps={critic.max_steps}); a search scores "
                             "with max_steps=None so a critic step is a search step")
        self.critic = critic
        self.calls = 0

    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        groups: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            groups.setdefault(r.problem.problem_id, []).append(i)
        scoring = []
        for pid, members in groups.items():
            problem = requests[members[0]].problem
            ctx = context_of(problem)
            responses = tuple((k, join_steps(requests[i].steps)) for k, i in enumerate(members))
            scoring.append(ScoringRequest(pid, ctx.prompt, ctx.images, responses, max_tiles=ctx.max_tiles,
                                          raw_question=ctx.raw_question))
        self.calls += 1
        results = self.critic.score(scoring)
        out: list[PartialScore | None] = [None] * len(requests)
        for members, records in zip(groups.values(), results):
            if len(records) != len(members):
                raise ValueError(f"the critic answered {len(records)} records for {len(members)} partial solutions")
            for i, rec in zip(members, records):
                out[i] = PartialScore(tuple(rec.scores), int(rec.tokens or 0), tuple(rec.flags))
        unanswered = [requests[i].problem.problem_id for i, s in enumerate(out) if s is None]
        if unanswered:
            raise ValueError(f"the critic left partial solutions of {unanswered[0]} unscored")
        return [s for s in out if s is not None]
