"""One problem's search result, and its final candidates as ordinary ``Rollout`` + ``StepScores`` records.

Everything is derived from the two records a run directory will hold (the problem's
:class:`~tts.search.records.SearchNode` lines and its :class:`~tts.search.records.SearchSummary`), so a
result read back from disk converts exactly as a fresh one.

Conversion (sample ``i`` is ``summary.candidates[i]``):

* ``Rollout.text`` is the path's steps joined by ``"\\n\\n"``; ``finish_reason`` is ``stop`` when the policy
  ended the solution or the search ended it at its final answer, else ``length`` (token cap, or cut by the
  budget: flag ``unfinished``); ``completion_tokens`` the path's own policy tokens (the search's total cost
  is in the summary); ``prompt_tokens`` the problem prompt's (the path's first step); ``seconds`` the
  problem's policy seconds split evenly, so the rollouts sum to the search's policy time; ``seed`` the
  problem seed. ``flags``: ``search:<algorithm>``, ``node:<path>``, ``search_settings:<compact JSON of the
  settings the algorithm reads>``, the candidate's provenance (``copy``, ``sibling``), ``answered`` (ended at
  its final answer, not by the policy), ``unfinished``.
* ``StepScores`` holds the critic's split of that text and the scores of the path's own steps (lookahead
  removed); ``tokens`` is the sequence length the critic read. A critic that dropped leading steps to fit
  its context scored only the trailing ones: ``steps`` are those, flagged ``truncated``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tts.critics.steps import split_steps
from tts.records import Rollout, StepScores
from tts.search.records import SearchNode, SearchSummary
from tts.search.seeds import ROOT
from tts.search.types import join_steps


@dataclass(frozen=True)
class SearchResult:
    """A finished problem (``error`` is ``None``), or a failed one: ``error`` says why; it has no records and
    a rerun searches it again from its seed."""

    problem_id: str
    summary: SearchSummary | None
    nodes: tuple[SearchNode, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def _by_id(self) -> dict[str, SearchNode]:
        return {n.node: n for n in self.nodes}

    def path(self, node: str) -> list[SearchNode]:
        """The nodes from the root's child down to ``node``."""
        by_id = self._by_id()
        out = []
        while node != ROOT:
            record = by_id[node]
            out.append(record)
            node = record.parent or ROOT
        return out[::-1]

    def text(self, node: str) -> str:
        return join_steps([n.step for n in self.path(node)])

    def rollouts(self, model: str, engine: str) -> list[Rollout]:
        """The final candidates as rollouts (sample index = candidate order)."""
        summary = self._summary()
        settings = json.dumps(summary.settings, sort_keys=True, separators=(",", ":"))
        seconds = summary.policy_seconds / max(1, len(summary.candidates))
        out = []
        for i, (node_id, provenance) in enumerate(zip(summary.candidates, summary.candidate_flags)):
            path = self.path(node_id)
            end = path[-1]
            complete = end.finish_reason == "stop" or (end.finish_reason == "step" and end.answered)
            flags = [f"search:{summary.algorithm}", f"node:{node_id}", f"search_settings:{settings}", *provenance]
            if end.answered and end.finish_reason == "step":
                flags.append("answered")
            if not end.done:
                flags.append("unfinished")
            out.append(Rollout(
                self.problem_id, i, join_steps([n.step for n in path]), "stop" if complete else "length",
                path[0].prompt_tokens, sum(n.tokens for n in path), seconds, model, engine, summary.seed,
                tuple(flags),
            ))
        return out

    def step_scores(self, critic: str) -> list[StepScores]:
        """The critic's scores of the final candidates (as the search computed them, no rescoring)."""
        summary = self._summary()
        out = []
        for i, node_id in enumerate(summary.candidates):
            end = self._by_id()[node_id]
            steps = split_steps(self.text(node_id), max_steps=None)
            scores = end.own_scores
            if not steps or not scores:
                reason = "empty" if not steps else "no_scores"
                out.append(StepScores(self.problem_id, i, critic, tuple(steps), (), ("unscored", reason),
                                      end.critic_tokens or None))
                continue
            flags = tuple(end.flags)
            if len(scores) < len(steps):
                steps = steps[len(steps) - len(scores) :]
                flags = (*flags, "truncated") if "truncated" not in flags else flags
            out.append(StepScores(self.problem_id, i, critic, tuple(steps), scores, flags, end.critic_tokens))
        return out

    def _summary(self) -> SearchSummary:
        if self.summary is None:
            raise ValueError(f"{self.problem_id}: the search failed ({self.error}); it has no candidates")
        return self.summary
