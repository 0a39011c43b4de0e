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
  problem seed. ``search`` = ``{"algorithm", "node", "settings"}`` (:class:`tts.records.Rollout`). ``flags``:
  the candidate's provenance (``copy``, ``sibling``), ``answered`` (ended at its final answer, not by the
  policy), ``unfinished``, ``repetition`` (a step of the path was a loop the engine cut).
* Padding (``pad_to``, the search's N, as the stage writes them): a search that returns fewer than N
  candidates (beam search's completed pool, DVTS without finished siblings) is padded to N with copies of
  its candidates in order, cyclically (search-and-learn's ``(completed * repeats)[:n]``), flagged ``copy``,
  so every problem has samples ``0 … N-1`` as a sampled run does (``tts select`` and ``report`` read them
  unchanged; a vote counts a copy as search-and-learn's does; drop ``copy`` rollouts to count each
  solution once).
* ``StepScores`` holds the critic's split of that text and the scores of the path's own steps (lookahead
  removed); ``tokens`` is the sequence length the critic read; ``text_hash`` the rollout text's. A critic that dropped leading steps to fit
  its context scored only the trailing ones: ``steps`` are those, flagged ``truncated``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tts.critics.steps import split_steps
from tts.records import Rollout, StepScores, hash_text
from tts.search.records import SearchNode, SearchSummary
from tts.search.seeds import ROOT
from tts.search.types import extend, join_steps


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

    def steps(self, node: str) -> tuple[str, ...]:
        """The partial solution at ``node`` (the rule of :func:`tts.search.types.extend`)."""
        steps: tuple[str, ...] = ()
        for n in self.path(node):
            steps = extend(steps, n.step, n.finish_reason)
        return steps

    def text(self, node: str) -> str:
        return join_steps(self.steps(node))

    def _order(self, pad_to: int | None) -> list[tuple[str, tuple[str, ...]]]:
        """(node, provenance flags) per sample index, padded with flagged copies up to ``pad_to``."""
        summary = self._summary()
        own = list(zip(summary.candidates, summary.candidate_flags))
        out = [(node, tuple(flags)) for node, flags in own]
        if own and pad_to is not None:
            for i in range(len(own), pad_to):
                node, flags = own[i % len(own)]
                out.append((node, (*flags, "copy") if "copy" not in flags else tuple(flags)))
        return out

    def rollouts(self, model: str, engine: str, *, pad_to: int | None = None) -> list[Rollout]:
        """The final candidates as rollouts (sample index = candidate order; see the module doc)."""
        summary = self._summary()
        order = self._order(pad_to)
        seconds = summary.policy_seconds / max(1, len(order))
        settings = dict(summary.settings)
        out = []
        for i, (node_id, provenance) in enumerate(order):
            path = self.path(node_id)
            end = path[-1]
            complete = end.finish_reason == "stop" or (end.finish_reason == "step" and end.answered)
            flags = list(provenance)
            if end.answered and end.finish_reason == "step":
                flags.append("answered")
            if not end.done:
                flags.append("unfinished")
            if any("repetition" in n.step_flags for n in path):
                flags.append("repetition")
            out.append(Rollout(
                self.problem_id, i, self.text(node_id), "stop" if complete else "length",
                path[0].prompt_tokens, sum(n.tokens for n in path), seconds, model, engine, summary.seed,
                tuple(flags), search={"algorithm": summary.algorithm, "node": node_id, "settings": settings},
            ))
        return out

    def step_scores(self, critic: str, *, pad_to: int | None = None) -> list[StepScores]:
        """The critic's scores of the final candidates (as the search computed them, no rescoring)."""
        by_id = self._by_id()
        out = []
        for i, (node_id, _) in enumerate(self._order(pad_to)):
            end = by_id[node_id]
            steps = split_steps(self.text(node_id), max_steps=None)
            scores = end.own_scores
            if not steps or not scores:
                reason = "empty" if not steps else "no_scores"
                out.append(StepScores(self.problem_id, i, critic, tuple(steps), (), ("unscored", reason),
                                      end.critic_tokens or None, text_hash=hash_text(self.text(node_id))))
                continue
            flags = tuple(end.flags)
            if len(scores) < len(steps):
                steps = steps[len(steps) - len(scores) :]
                flags = (*flags, "truncated") if "truncated" not in flags else flags
            out.append(StepScores(self.problem_id, i, critic, tuple(steps), scores, flags, end.critic_tokens,
                                  text_hash=hash_text(self.text(node_id))))
        return out

    def _summary(self) -> SearchSummary:
        if self.summary is None:
            raise ValueError(f"{self.problem_id}: the search failed ({self.error}); it has no candidates")
        return self.summary
