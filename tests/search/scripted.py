"""Scripted policies and critics for the search tests: deterministic texts and scores, every call logged.

* :class:`TreePolicy` — a hand-written tree: the step at each node path (``"1.0"``). It recovers the child
  index from the seed by the documented rule (``seed - base_seed(problem seed, parent path)``), so a search
  that drew the wrong seed asks for a child the script does not have and the test fails.
* :class:`HashPolicy` — a seeded sampler: the step is a pure function of (problem, partial solution, seed),
  or of (problem, partial solution) when greedy, as a real engine with per-request seeds. A small
  vocabulary makes duplicate siblings common.
* :class:`TableCritic`, :class:`HashCritic`, :class:`ConstantCritic` — a step's score from its text, from
  the partial solution up to it (causal, like a PRM), or a constant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tts.search.seeds import base_seed
from tts.search.types import PartialScore, ScoreRequest, StepProposal, StepRequest, join_steps


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Step:
    text: str
    tokens: int = 2
    finish: str = "step"  # step | stop


@dataclass
class CallLog:
    calls: list[list] = field(default_factory=list)

    @property
    def n_calls(self) -> int:
        return len(self.calls)

    def problems_per_call(self) -> list[set[str]]:
        return [{r.problem.problem_id for r in call} for call in self.calls]


def _cut(steps: list[Step], cap: int) -> StepProposal:
    """Join steps (the rest of a solution), cut at ``cap`` tokens as an engine would."""
    texts, used = [], 0
    for step in steps:
        if used + step.tokens > cap:
            texts.append(step.text[: max(0, cap - used)])
            return StepProposal(join_steps(texts), cap, "length", prompt_tokens=7)
        texts.append(step.text)
        used += step.tokens
    return StepProposal(join_steps(texts), used, steps[-1].finish if steps[-1].finish != "step" else "stop",
                        prompt_tokens=7)


class TreePolicy(CallLog):
    """Steps given per node path; ``greedy`` maps a node path to its greedy (lookahead) steps.

    ``script[path]`` for ``stop_at_step`` requests; for a continuation to the end, the steps at ``path``,
    ``path^``, ``path^^``, … up to the first that is not ``step`` (missing ones end the solution).
    """

    def __init__(self, script: Mapping[str, Step], greedy: Mapping[str, Step] | None = None,
                 default: Callable[[str], Step] | None = None) -> None:
        super().__init__()
        self.script = dict(script)
        self.greedy = dict(greedy or {})
        self.default = default
        self._paths: dict[tuple[str, tuple[str, ...]], list[str]] = {}

    def _step(self, path: str) -> Step:
        if path in self.script:
            return self.script[path]
        if self.default is not None:
            return self.default(path)
        raise AssertionError(f"the script has no step at {path!r}")

    def _parent(self, r: StepRequest) -> str:
        """The node path whose partial solution ``r`` continues: among the paths with that text, the one
        whose children the seeds number (texts may repeat across nodes)."""
        if not r.steps:
            return ""
        paths = self._paths.get((r.problem.problem_id, r.steps), [])
        assert paths, f"the policy never wrote {r.steps!r}"
        if r.greedy:
            return paths[0]
        fits = [p for p in paths if 0 <= r.seeds[0] - base_seed(r.problem.seed, p) < 1000]
        assert len(fits) == 1, f"seeds {r.seeds} are not child seeds of any of {paths}"
        return fits[0]

    def _remember(self, r: StepRequest, text: str, path: str) -> None:
        paths = self._paths.setdefault((r.problem.problem_id, (*r.steps, text)), [])
        if path not in paths:
            paths.append(path)

    def propose(self, requests: Sequence[StepRequest]) -> list[list[StepProposal]]:
        self.calls.append(list(requests))
        out = []
        for r in requests:
            parent = self._parent(r)
            if r.greedy:
                key = parent + "~"
                step = self.greedy.get(key) or (self.default(key) if self.default else Step(f"g{key}", 1))
                p = _cut([step], r.max_new_tokens) if step.tokens > r.max_new_tokens else \
                    StepProposal(step.text, step.tokens, step.finish, 7)
                self._remember(r, p.text, key)
                out.append([p])
                continue
            proposals = []
            for seed in r.seeds:
                c = seed - base_seed(r.problem.seed, parent)
                assert 0 <= c < 1000, f"seed {seed} is not a child seed of {parent!r}"
                path = str(c) if not parent else f"{parent}.{c}"
                if r.stop_at_step:
                    step = self._step(path)
                    p = _cut([step], r.max_new_tokens) if step.tokens > r.max_new_tokens else \
                        StepProposal(step.text, step.tokens, step.finish, 7)
                else:
                    chain, q = [], path
                    while True:
                        step = self._step(q) if (q in self.script or self.default or q == path) \
                            else Step("end", 1, "stop")
                        chain.append(step)
                        if step.finish != "step":
                            break
                        q += "^"
                    p = _cut(chain, r.max_new_tokens)
                self._remember(r, p.text, path)
                proposals.append(p)
            out.append(proposals)
        return out


class HashPolicy(CallLog):
    """A seeded sampler: steps from (problem, partial solution, seed), ``p_stop`` chance of end of sequence,
    ``p_answer`` chance of writing ``\\boxed{}``, 1..``max_tokens`` tokens, ``vocab`` distinct texts."""

    def __init__(self, p_stop: float = 0.25, p_answer: float = 0.1, max_tokens: int = 9, vocab: int = 4) -> None:
        super().__init__()
        self.p_stop, self.p_answer, self.max_tokens, self.vocab = p_stop, p_answer, max_tokens, vocab

    def _step(self, pid: str, steps: tuple[str, ...], seed: int | None) -> Step:
        h = _h(pid, steps, seed)
        text = f"s{h % self.vocab}"
        if (h >> 8) % 1000 < self.p_answer * 1000:
            text += r" \boxed{7}"
        finish = "stop" if (h >> 20) % 1000 < self.p_stop * 1000 else "step"
        return Step(text, 1 + (h >> 32) % self.max_tokens, finish)

    def propose(self, requests: Sequence[StepRequest]) -> list[list[StepProposal]]:
        self.calls.append(list(requests))
        out = []
        for r in requests:
            pid = r.problem.problem_id
            proposals = []
            for seed in r.seeds:
                key = None if r.greedy else seed
                if r.stop_at_step:
                    step = self._step(pid, r.steps, key)
                    proposals.append(_cut([step], r.max_new_tokens) if step.tokens > r.max_new_tokens
                                     else StepProposal(step.text, step.tokens, step.finish, 7))
                    continue
                chain, steps = [], r.steps
                for _ in range(200):
                    step = self._step(pid, steps, key)
                    chain.append(step)
                    if step.finish != "step":
                        break
                    steps = (*steps, step.text)
                else:
                    chain.append(Step("end", 1, "stop"))
                proposals.append(_cut(chain, r.max_new_tokens))
            out.append(proposals)
        return out


class TableCritic(CallLog):
    """A step's score from its text (``table``), ``default`` otherwise."""

    def __init__(self, table: Mapping[str, float], default: float = 0.5) -> None:
        super().__init__()
        self.table, self.default = dict(table), default

    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        self.calls.append(list(requests))
        return [PartialScore(tuple(self.table.get(s, self.default) for s in r.steps), tokens=3 * len(r.steps))
                for r in requests]


class HashCritic(CallLog):
    """A causal critic: step ``i``'s score depends on the problem and the steps up to ``i``."""

    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        self.calls.append(list(requests))
        return [PartialScore(tuple((_h(r.problem.problem_id, r.steps[: i + 1]) % 10_000) / 10_000
                                   for i in range(len(r.steps))), tokens=3 * len(r.steps))
                for r in requests]


class ConstantCritic(CallLog):
    def __init__(self, value: float = 0.5) -> None:
        super().__init__()
        self.value = value

    def score(self, requests: Sequence[ScoreRequest]) -> list[PartialScore]:
        self.calls.append(list(requests))
        return [PartialScore((self.value,) * len(r.steps), tokens=len(r.steps)) for r in requests]
