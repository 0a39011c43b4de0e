"""The search's two record types and their JSON line formats: the tree, and one summary per problem.

They follow :class:`tts.records.Record` (frozen, tuples for sequences, ``to_line``/``from_json``).

``search/<algo>.jsonl`` — :class:`SearchNode`, one line per node the policy proposed (the root, the empty
partial solution, has no line). Keys in order (``?``: may be ``null``):
    ``problem_id, node, parent?, depth, seed, step, tokens, prompt_tokens, finish_reason, answered, done,
    lookahead, lookahead_tokens, scores, critic_tokens, flags, score?, rank?, status, candidates, step_flags``.

    * ``node`` is the path of child indices (``"3.0.1"``), ``parent`` its parent's (``""`` for a root
      child); ``seed`` the seed the step was drawn with (:mod:`tts.search.seeds`).
    * ``step`` is the step's text without the trailing blank line; the partial solution is the parents'
      steps joined by ``"\\n\\n"``. ``tokens`` are the policy tokens of the step, ``prompt_tokens`` the prompt
      the engine read for it.
    * ``finish_reason``: ``step`` (stopped at the blank line), ``stop`` (end of sequence), ``length`` (token
      cap); ``answered``: the step wrote the final answer; ``done``: the path ends here (either, or the
      solution's token cap).
    * ``lookahead``: the greedy steps rolled out after it before scoring (``lookahead_tokens`` their cost).
    * ``scores``: the critic's score of every step of the scored text (the partial solution plus its
      lookahead, split as the critic splits; aligned to its end, ``[]`` unscored); ``critic_tokens`` the
      sequence length the critic read (a copy of a partial solution scored in the same call shares that
      one's answer: the summary's cost counts it once), ``flags`` its flags; ``score`` this step's own score; ``rank`` the
      aggregation of ``scores`` that ranked it.
    * ``status``: ``expanded`` (kept alive and continued), ``finished`` (a complete solution the search
      kept), ``pruned`` (ranked out or not resampled), ``duplicate`` (dropped: an earlier candidate had the
      same text), ``cut`` (alive when the search stopped). ``candidates``: the sample indices of the final
      candidates that end at this node (several for resampled particles).
    * ``step_flags``: the policy engine's markers for the step (``repetition``: a loop it cut). An empty step
      that ended the solution (``finish_reason`` ``stop``, blank ``step``) adds no step to the partial
      solution (:func:`tts.search.types.extend`).

``search/<algo>.summary.jsonl`` — :class:`SearchSummary`, one line per problem, written after its nodes
(a problem is complete in a run directory iff its summary line is there):
    ``problem_id, algorithm, seed, settings, candidates, candidate_flags, stopped, policy_tokens,
    critic_tokens, proposer_calls, scorer_calls, proposals, scored, nodes, tree_hash?, policy_seconds,
    critic_seconds``.

    ``candidates`` are node ids in sample order (sample ``i`` is ``candidates[i]``), ``candidate_flags`` each
    one's provenance (``copy``: a resampled particle already listed; ``sibling``: a finished sibling of a
    DVTS subtree's chosen step). ``stopped``: ``done|max_steps|budget``. Cost: policy tokens generated
    (lookahead included), critic tokens read (identical partial solutions of one call read once), policy/critic calls this problem took part in, continuations
    proposed, partial solutions scored, and its share of the calls' wall time (by tokens). ``nodes`` is the
    number of node lines of the problem's tree and ``tree_hash`` their :func:`tree_hash`: a reader takes a
    problem's last ``nodes`` lines and checks the hash, so lines left by an attempt killed before its summary
    was written are never mistaken for the tree.

Example:
    >>> n = SearchNode("p1", "0", "", 1, 7, "x = 2", 3, 10, "step", False, False, (), 0, (0.9,), 12, (),
    ...                0.9, 0.9, "expanded", ())
    >>> SearchNode.from_json(n.to_json()) == n
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tts.records import Record, RecordError
from tts.search.types import PROPOSAL_FINISHES, STEP_SEPARATOR

NODE_STATUSES: tuple[str, ...] = ("expanded", "finished", "pruned", "duplicate", "cut")
CANDIDATE_FLAGS: tuple[str, ...] = ("copy", "sibling")


@dataclass(frozen=True)
class SearchNode(Record):
    """One proposed step of one problem's search tree."""

    STAGE: ClassVar[str] = "search"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("lookahead", "flags", "candidates", "step_flags")

    problem_id: str
    node: str
    parent: str | None
    depth: int
    seed: int
    step: str
    tokens: int
    prompt_tokens: int
    finish_reason: str
    answered: bool
    done: bool
    lookahead: tuple[str, ...]
    lookahead_tokens: int
    scores: tuple[float, ...]
    critic_tokens: int
    flags: tuple[str, ...]
    score: float | None
    rank: float | None
    status: str
    candidates: tuple[int, ...]
    step_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", tuple(float(s) for s in self.scores or ()))
        super().__post_init__()

    def validate(self) -> None:
        if self.finish_reason not in PROPOSAL_FINISHES:
            raise RecordError(f"SearchNode.finish_reason {self.finish_reason!r} not in {PROPOSAL_FINISHES}")
        if self.status not in NODE_STATUSES:
            raise RecordError(f"SearchNode.status {self.status!r} not in {NODE_STATUSES}")
        if self.depth != len(self.node.split(".")):
            raise RecordError(f"SearchNode {self.node!r}: depth {self.depth} does not match its path")

    def key(self) -> tuple:
        return (self.problem_id, self.node)

    @property
    def kept(self) -> bool:
        """Whether the search kept this node (continued it, kept it as a complete solution, or still had it
        alive when it stopped), as opposed to pruned or dropped as a duplicate."""
        return self.status in ("expanded", "finished", "cut")

    @property
    def own_scores(self) -> tuple[float, ...]:
        """The scores of the partial solution's own steps (the lookahead's removed; exact for a causal
        critic, whose score of a step does not depend on what follows it)."""
        extra = sum(len(s.split(STEP_SEPARATOR)) for s in self.lookahead)
        return self.scores[: len(self.scores) - extra] if len(self.scores) > extra else ()


@dataclass(frozen=True)
class SearchSummary(Record):
    """How one problem's search ended, what it returned and what it cost."""

    STAGE: ClassVar[str] = "search_summary"
    _TUPLE_FIELDS: ClassVar[tuple[str, ...]] = ("candidates", "candidate_flags")

    problem_id: str
    algorithm: str
    seed: int
    settings: Mapping[str, Any]
    candidates: tuple[str, ...]
    candidate_flags: tuple[tuple[str, ...], ...]
    stopped: str
    policy_tokens: int = 0
    critic_tokens: int = 0
    proposer_calls: int = 0
    scorer_calls: int = 0
    proposals: int = 0
    scored: int = 0
    nodes: int = 0
    tree_hash: str | None = None
    policy_seconds: float = field(default=0.0, compare=False)
    critic_seconds: float = field(default=0.0, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidate_flags", tuple(tuple(f) for f in self.candidate_flags or ()))
        object.__setattr__(self, "settings", dict(self.settings))
        super().__post_init__()

    def validate(self) -> None:
        from tts.search.registry import STOP_REASONS

        if len(self.candidate_flags) != len(self.candidates):
            raise RecordError(f"SearchSummary {self.problem_id}: {len(self.candidate_flags)} candidate_flags "
                              f"for {len(self.candidates)} candidates")
        if self.stopped not in STOP_REASONS:
            raise RecordError(f"SearchSummary.stopped {self.stopped!r} not in {STOP_REASONS}")

    def key(self) -> tuple:
        return (self.problem_id,)


def tree_hash(nodes: Sequence[SearchNode]) -> str:
    """A fingerprint of a problem's tree: sha256 (16 hex digits) over its node lines in order."""
    digest = hashlib.sha256()
    for node in nodes:
        digest.update(node.to_line().encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]
