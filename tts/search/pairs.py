"""Step-DPO pairs from a search tree: siblings the critic scored apart (``tts pairs --method step``).

A search tree holds, at every expanded node, several continuations of the *same* partial solution, each
scored by the critic: natural Step-DPO pairs (``mpo.md`` §4.1: a shared prefix ``initial_reason_steps``, a
chosen next step, a rejected next step). A pair of one problem is made at a node ``P`` from two of its
children when

* the chosen child's step scores at least ``threshold`` **and** leads to a final candidate graded correct
  (the chosen step is on the path of a correct solution: grounded in the outcome, as the rollout-based step
  pairs' chosen side is);
* the rejected child's step scores below ``threshold`` and no correct candidate passes through it;
* their step texts differ, and neither is the empty step that ended a solution.

The prefix is ``P``'s partial solution plus ``"\\n\\n"`` (``""`` at the root). The chosen side's provenance
is the correct candidate's rollout (sample index, grade, its step scores); the rejected side is a tree node
(``outcome="search_step"``, no sample index). ``details`` carry ``source: search_tree``, the algorithm, both
node ids, both step scores and the margin. :func:`add_tree_pairs` merges them with the rollout-based pairs of
the same problem (duplicates dropped, the run's per-problem cap applied to the merged set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tts.pairs.common import Context, make_pair
from tts.pairs.rules import sample_capped, seeded_rng
from tts.pairs.source import Sample
from tts.pairs.types import Pair, Side
from tts.records import Problem
from tts.rundir import RunDir
from tts.search.result import SearchResult
from tts.search.seeds import ROOT
from tts.search.store import SearchStore, algorithms_in
from tts.search.types import STEP_SEPARATOR, continuation_prefix

TREE_SOURCE = "search_tree"


def load_trees(run_path: str | Path) -> dict[str, list[SearchResult]]:
    """Every done problem's search results (all algorithms the run holds), by problem id; ``{}`` for a run
    without a search."""
    path = Path(run_path)
    if not algorithms_in(path):
        return {}
    run = RunDir.open(path, create=False)
    out: dict[str, list[SearchResult]] = {}
    for algorithm in algorithms_in(path):
        for result in SearchStore(run, algorithm).results():
            out.setdefault(result.problem_id, []).append(result)
    return out


def _correct_nodes(result: SearchResult, samples: Sequence[Sample]) -> dict[str, Sample]:
    """Every node on the path of a correct final candidate → the first such candidate's sample."""
    assert result.summary is not None
    on_path: dict[str, Sample] = {}
    candidates = result.summary.candidates
    if not candidates:
        return on_path
    for s in samples:
        if s.outcome != "correct":
            continue
        node = candidates[s.idx % len(candidates)]  # sample i is candidate i, copies cyclically (padding)
        for n in result.path(node):
            on_path.setdefault(n.node, s)
    return on_path


def tree_pairs(ctx: Context, problem: Problem, results: Sequence[SearchResult], samples: Sequence[Sample], *,
               threshold: float) -> list[Pair]:
    pairs: list[Pair] = []
    for result in results:
        correct = _correct_nodes(result, samples)
        if not correct or result.summary is None:
            continue
        algorithm = result.summary.algorithm
        children: dict[str, list[Any]] = {}
        for n in result.nodes:
            if n.score is None or not n.step.strip():
                continue
            children.setdefault(n.parent or ROOT, []).append(n)
        for parent, kids in children.items():
            good = [k for k in kids if k.node in correct and k.score >= threshold]
            bad = [k for k in kids if k.node not in correct and k.score < threshold]
            if not good or not bad:
                continue
            prefix = continuation_prefix(result.steps(parent)) if parent != ROOT else ""
            for c in good:
                sample = correct[c.node]
                for r in bad:
                    if r.step == c.step:
                        continue
                    rejected = Side(sample_idx=None, outcome="search_step", score=r.score, step_scores=tuple(r.own_scores))
                    details = {
                        "source": TREE_SOURCE, "algorithm": algorithm, "parent": parent,
                        "chosen_node": c.node, "rejected_node": r.node, "threshold": threshold,
                        "chosen_step_score": c.score, "rejected_step_score": r.score, "margin": c.score - r.score,
                        "initial_reason_steps": prefix, "step_index": prefix.count(STEP_SEPARATOR),
                    }
                    pairs.append(make_pair(ctx, problem, "step", sample, rejected, chosen_text=c.step,
                                           rejected_text=r.step, initial_steps=prefix, details=details))
    return pairs


def add_tree_pairs(ctx: Context, problem: Problem, result: list[Pair] | str,
                   trees: Mapping[str, Sequence[SearchResult]], *, threshold: float) -> list[Pair] | str:
    """The rollout-based step pairs of ``problem`` (or the reason there are none) merged with its tree pairs."""
    results = trees.get(problem.id)
    if not results:
        return result
    samples = ctx.view.samples.get(problem.id, [])
    found = tree_pairs(ctx, problem, results, samples, threshold=threshold)
    if not found:
        return result
    ctx.report.count("search_tree_pairs_found", len(found))
    mine = list(result) if not isinstance(result, str) else []
    seen = {p.dedup_key() for p in mine}
    fresh = []
    for pair in found:
        if pair.dedup_key() in seen:
            ctx.report.count("duplicate_pairs")
            continue
        seen.add(pair.dedup_key())
        fresh.append(pair)
    room = max(0, ctx.cap - len(mine))
    drawn = sample_capped(fresh, room, seeded_rng(ctx.seed, problem.id, TREE_SOURCE))
    ctx.report.count("capped_away", len(fresh) - len(drawn))
    drawn.sort(key=lambda p: (p.details["step_index"], p.details["chosen_node"], p.details["rejected_node"]))
    return mine + drawn if (mine or drawn) else result
