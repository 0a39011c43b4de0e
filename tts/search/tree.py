"""One problem's search tree: its nodes, budgets, seeds and cost, and the two moves every algorithm makes.

* :meth:`SearchTree.expand` — propose continuations of some nodes (one policy call for all of them, then
  up to ``lookahead`` greedy calls), enforcing the token caps and deriving every seed from the node path;
* :meth:`SearchTree.score` — score the new partial solutions (one critic call).

Both are generators: they yield the :class:`~tts.search.types.Propose`/:class:`~tts.search.types.Score`
action and receive the models' answers, so an algorithm written with ``yield from tree.expand(...)`` is a
per-problem state machine that the driver can run alone or in lockstep with other problems.

The answers are checked against the contract (counts, token caps, finish reasons, score lengths, finite
scores); a broken answer raises :class:`SearchContractError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tts.critics.steps import split_steps
from tts.search.records import SearchNode, SearchSummary, tree_hash
from tts.search.registry import Outcome
from tts.search.seeds import ROOT, base_seed, child_path, lookahead_seed
from tts.search.settings import SearchSettings
from tts.search.types import (
    PROPOSAL_FINISHES,
    STEP_SEPARATOR,
    Action,
    PartialScore,
    Propose,
    Score,
    ScoreRequest,
    SearchProblem,
    StepProposal,
    StepRequest,
    extend,
    join_steps,
)
from tts.strategies.scores import aggregate


class SearchContractError(ValueError):
    """A proposer or scorer answered something the search interface does not allow."""


@dataclass(eq=False)
class Node:
    """A node while the search runs (mutable); :meth:`record` freezes it into a :class:`SearchNode`."""

    path: str
    parent: Node | None
    order: int  # creation order within the problem: ties go to the earlier node
    seed: int = 0
    step: str = ""
    tokens: int = 0
    prompt_tokens: int = 0
    finish_reason: str = "step"
    step_flags: tuple[str, ...] = ()
    answered: bool = False
    done: bool = False
    steps: tuple[str, ...] = ()  # the partial solution: every step from the root to here
    path_tokens: int = 0
    lookahead: list[str] = field(default_factory=list)
    lookahead_tokens: int = 0
    lookahead_open: bool = True
    scores: tuple[float, ...] = ()
    critic_tokens: int = 0
    critic_flags: tuple[str, ...] = ()
    rank: float | None = None
    score: float | None = None
    status: str | None = None  # set by the algorithm; None at the end becomes finished/cut
    children: int = 0

    @property
    def text(self) -> str:
        return join_steps(self.steps)

    @property
    def depth(self) -> int:
        """Depth in the tree (a blank step that ended the solution is a node, though it adds no step)."""
        return 0 if self.path == ROOT else self.path.count(".") + 1

    def key(self) -> tuple[bool, float, int]:
        """Ranking key, larger is better: scored first, then the aggregated score, then the earlier node."""
        return (self.rank is not None, self.rank if self.rank is not None else 0.0, -self.order)


@dataclass
class Cost:
    """What one problem's search spent."""

    policy_tokens: int = 0
    critic_tokens: int = 0
    proposer_calls: int = 0
    scorer_calls: int = 0
    proposals: int = 0
    scored: int = 0
    policy_seconds: float = 0.0
    critic_seconds: float = 0.0


class SearchTree:
    """The state of one problem's search."""

    def __init__(self, problem: SearchProblem, settings: SearchSettings, algorithm: str) -> None:
        self.problem = problem
        self.settings = settings
        self.algorithm = algorithm
        self.root = Node(ROOT, None, -1)
        self.nodes: list[Node] = []
        self.cost = Cost()

    # ----------------------------------------------------------------------------------------- budgets
    def remaining(self) -> int | None:
        """Policy tokens this problem may still generate (``None``: no budget)."""
        budget = self.settings.token_budget
        return None if budget is None else budget - self.cost.policy_tokens

    def _share(self, count: int) -> int | None:
        """Tokens each of ``count`` continuations may use under the budget (``None``: unlimited)."""
        left = self.remaining()
        return None if left is None else left // count

    def _cap(self, used: int, share: int | None, *, step: bool) -> int:
        cap = self.settings.max_new_tokens - used
        if step and self.settings.max_step_tokens is not None:
            cap = min(cap, self.settings.max_step_tokens)
        return cap if share is None else min(cap, share)

    # ---------------------------------------------------------------------------------------- proposing
    def expand(self, entries: Sequence[tuple[Node, int]], *, to_end: bool = False,
               lookahead: int = 0) -> Generator[Action, Any, list[list[Node]] | None]:
        """Propose ``count`` continuations of each ``(node, count)``; the new nodes, grouped as ``entries``.

        Entries naming the same node are asked in one request whose children are numbered in entry order.
        ``to_end`` writes each continuation to the end of the solution. After the proposals, up to
        ``lookahead`` greedy steps are rolled out after every unfinished new node (one policy call per
        round, the budget permitting). Returns ``None``, and proposes nothing, when the budget cannot give
        every continuation one token.
        """
        merged: dict[int, tuple[Node, int]] = {}
        for node, count in entries:
            if node.done:
                raise ValueError(f"{self.problem.problem_id}: node {node.path!r} is finished; it has no next step")
            prev = merged.get(id(node), (node, 0))
            merged[id(node)] = (node, prev[1] + count)
        total = sum(count for _, count in merged.values())
        if total == 0:
            return [[] for _ in entries]
        share = self._share(total)
        if share is not None and share < 1:
            return None
        requests = []
        for node, count in merged.values():
            base = base_seed(self.problem.seed, node.path)
            cap = self._cap(node.path_tokens, share, step=not to_end)
            seeds = tuple(base + c for c in range(node.children, node.children + count))
            requests.append(StepRequest(self.problem, node.steps, seeds, cap, greedy=False, stop_at_step=not to_end))
        answers = yield Propose(tuple(requests))
        self._check_proposals(requests, answers)
        self.cost.proposer_calls += 1
        made: dict[int, list[Node]] = {}
        for (node, _), request, proposals in zip(merged.values(), requests, answers):
            made[id(node)] = [self._child(node, seed, p) for seed, p in zip(request.seeds, proposals)]
            node.status = "expanded"
        groups = []
        for node, count in entries:
            groups.append(made[id(node)][:count])
            made[id(node)] = made[id(node)][count:]
        if lookahead and not to_end:
            yield from self._lookahead([c for g in groups for c in g], lookahead)
        return groups

    def _child(self, parent: Node, seed: int, proposal: StepProposal) -> Node:
        s = self.settings
        path_tokens = parent.path_tokens + proposal.tokens
        node = Node(
            child_path(parent.path, parent.children), parent, len(self.nodes), seed=seed, step=proposal.text,
            tokens=proposal.tokens, prompt_tokens=proposal.prompt_tokens, finish_reason=proposal.finish_reason,
            step_flags=tuple(proposal.flags), answered=s.answered(proposal.text),
            steps=extend(parent.steps, proposal.text, proposal.finish_reason), path_tokens=path_tokens,
        )
        node.done = proposal.finished or node.answered or path_tokens >= s.max_new_tokens
        node.lookahead_open = not node.done
        parent.children += 1
        self.nodes.append(node)
        self.cost.policy_tokens += proposal.tokens
        self.cost.proposals += 1
        return node

    def _lookahead(self, nodes: Sequence[Node], rounds: int) -> Generator[Action, Any, None]:
        """search-and-learn's lookahead: roll greedy steps after each node (scored, then discarded)."""
        for r in range(rounds):
            targets = [n for n in nodes if n.lookahead_open]
            for n in targets:
                if n.path_tokens + n.lookahead_tokens >= self.settings.max_new_tokens:
                    n.lookahead_open = False
            targets = [n for n in targets if n.lookahead_open]
            if not targets:
                return
            share = self._share(len(targets))
            if share is not None and share < 1:
                return
            requests = [
                StepRequest(self.problem, (*n.steps, *n.lookahead), (lookahead_seed(self.problem.seed, n.path, r),),
                            self._cap(n.path_tokens + n.lookahead_tokens, share, step=True), greedy=True)
                for n in targets
            ]
            answers = yield Propose(tuple(requests))
            self._check_proposals(requests, answers)
            self.cost.proposer_calls += 1
            for n, (p,) in zip(targets, answers):
                n.lookahead.append(p.text)
                n.lookahead_tokens += p.tokens
                self.cost.policy_tokens += p.tokens
                self.cost.proposals += 1
                if p.finished or self.settings.answered(p.text):
                    n.lookahead_open = False

    def _check_proposals(self, requests: Sequence[StepRequest], answers: Any) -> None:
        who = self.problem.problem_id
        if not isinstance(answers, Sequence) or len(answers) != len(requests):
            raise SearchContractError(f"{who}: the proposer answered {len(answers) if isinstance(answers, Sequence) else answers!r} "
                                      f"lists for {len(requests)} requests")
        for request, proposals in zip(requests, answers):
            if len(proposals) != request.n:
                raise SearchContractError(f"{who}: {len(proposals)} proposals for a request of {request.n}")
            for p in proposals:
                if not isinstance(p, StepProposal) or p.finish_reason not in PROPOSAL_FINISHES:
                    raise SearchContractError(f"{who}: not a valid StepProposal: {p!r}")
                if not 0 <= p.tokens <= request.max_new_tokens:
                    raise SearchContractError(f"{who}: a proposal of {p.tokens} tokens for max_new_tokens="
                                              f"{request.max_new_tokens}")
                if not request.stop_at_step and p.finish_reason == "step":
                    raise SearchContractError(f"{who}: a continuation asked to run to the end stopped at a step")

    # ------------------------------------------------------------------------------------------ scoring
    def advance(self, chains: list[Node], iteration: int) -> Generator[Action, Any, str | None]:
        """One step for every unfinished chain of independent single-path walkers (particles, stepwise
        samples), replacing each by its child in place; the last iteration writes to the end. Returns why the
        walk stops (``"done"``: every chain finished; ``"budget"``: nothing was proposed) or ``None``."""
        live = [i for i, node in enumerate(chains) if not node.done]
        if not live:
            return "done"
        groups = yield from self.expand([(chains[i], 1) for i in live], to_end=iteration == self.settings.max_steps - 1)
        if groups is None:
            return "budget"
        for i, (child,) in zip(live, groups):
            chains[i] = child
        return None

    def score(self, nodes: Iterable[Node]) -> Generator[Action, Any, None]:
        """Score each node's partial solution (with its lookahead) in one critic call; nodes whose text is
        blank stay unscored and cost no call.

        Identical partial solutions of the call (duplicate siblings are common) are sent once and share the
        answer: the problem's critic cost counts them once (each node still records the length of the
        sequence its text is, ``critic_tokens``), and a tie stays a tie
        (ties go to the node proposed first). A real critic's floats move in their last bits with the batch
        it is scored in, so two copies scored apart would be ranked by that noise, and a search batched
        across problems (or resumed) would keep other beams than one run alone.
        """
        todo: list[tuple[Node, int]] = []
        requests: list[ScoreRequest] = []
        index: dict[tuple[str, ...], int] = {}
        for node in nodes:
            steps = tuple(split_steps(join_steps((*node.steps, *node.lookahead)), max_steps=None))
            if steps:
                if steps not in index:
                    index[steps] = len(requests)
                    requests.append(ScoreRequest(self.problem, steps))
                todo.append((node, index[steps]))
        if not requests:
            return
        answers = yield Score(tuple(requests))
        who = self.problem.problem_id
        if not isinstance(answers, Sequence) or len(answers) != len(requests):
            raise SearchContractError(f"{who}: the scorer answered {answers!r} for {len(requests)} requests")
        self.cost.scorer_calls += 1
        for request, answer in zip(requests, answers):
            if not isinstance(answer, PartialScore) or len(answer.scores) > len(request.steps):
                raise SearchContractError(f"{who}: {answer!r} for {len(request.steps)} steps")
            if not all(isinstance(s, numbers.Real) and math.isfinite(s) for s in answer.scores):
                raise SearchContractError(f"{who}: non-finite step scores {answer.scores!r}")
            self.cost.critic_tokens += answer.tokens
            self.cost.scored += 1
        for node, k in todo:
            answer = answers[k]
            node.scores = tuple(float(s) for s in answer.scores)
            node.critic_tokens = answer.tokens
            node.critic_flags = tuple(answer.flags)
            node.rank = aggregate(node.scores, self.settings.aggregation)
            extra = sum(len(s.split(STEP_SEPARATOR)) for s in node.lookahead)
            own = node.scores[: len(node.scores) - extra] if len(node.scores) > extra else ()
            node.score = own[-1] if own else None

    # ------------------------------------------------------------------------------------------ ranking
    @staticmethod
    def ranked(nodes: Iterable[Node]) -> list[Node]:
        """Best first; ties to the earlier node."""
        return sorted(nodes, key=Node.key, reverse=True)

    @staticmethod
    def best(nodes: Sequence[Node]) -> Node:
        return max(nodes, key=Node.key)

    # ---------------------------------------------------------------------------------------- finishing
    def records(self, outcome: Outcome) -> tuple[SearchSummary, tuple[SearchNode, ...]]:
        """The problem's summary and tree records once its algorithm returned ``outcome``."""
        sample_of: dict[int, list[int]] = {}
        for i, node in enumerate(outcome.candidates):
            sample_of.setdefault(id(node), []).append(i)
        nodes = []
        for n in self.nodes:
            status = n.status or ("finished" if n.done else "cut")
            nodes.append(SearchNode(
                self.problem.problem_id, n.path, n.parent.path if n.parent else None, n.depth, n.seed, n.step,
                n.tokens, n.prompt_tokens, n.finish_reason, n.answered, n.done, tuple(n.lookahead),
                n.lookahead_tokens, n.scores, n.critic_tokens, n.critic_flags, n.score, n.rank, status,
                tuple(sample_of.get(id(n), ())), n.step_flags,
            ))
        c = self.cost
        summary = SearchSummary(
            self.problem.problem_id, self.algorithm, self.problem.seed, self.settings.options(self.algorithm),
            tuple(n.path for n in outcome.candidates), tuple(tuple(f) for f in outcome.flags), outcome.stopped,
            c.policy_tokens, c.critic_tokens, c.proposer_calls, c.scorer_calls, c.proposals, c.scored,
            nodes=len(nodes), tree_hash=tree_hash(nodes),
            policy_seconds=c.policy_seconds, critic_seconds=c.critic_seconds,
        )
        return summary, tuple(nodes)
