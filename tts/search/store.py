"""A search's records in a run directory: ``search/<algorithm>.jsonl`` (the trees) and
``search/<algorithm>.summary.jsonl`` (one summary per problem), written whole problem by whole problem.

Write order for one problem: its node lines (one durable batch), then its summary (one durable batch: the
problem is *done* from this moment), then its final candidates as ``rollouts.jsonl`` and
``scores/<critic>.jsonl`` lines (derived records: :meth:`tts.search.SearchResult.rollouts`).

Reading (never writes): a problem is done iff it has a summary; its tree is its **last** ``summary.nodes``
node lines, checked against ``summary.tree_hash``, so node lines of an attempt that was killed before its
summary (kill -9 mid-search) are never mistaken for the tree; that problem is searched again from its seed.
A done problem whose rollouts or scores did not reach disk (killed between the summary and them) gets them
re-derived from its tree by the next run of the stage, no model needed (:func:`missing_derived`).

Example:
    >>> store = SearchStore(RunDir.open("runs/beam16", create=False), "beam")      # doctest: +SKIP
    >>> [r.summary.policy_tokens for r in store.results()]                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from tts.jsonl import JsonlAppender, iter_jsonl
from tts.records import RecordError, Rollout, StepScores
from tts.rundir import ReadOnlyRun, RunDir, RunDirError
from tts.search.records import SearchNode, SearchSummary, tree_hash
from tts.search.result import SearchResult

log = logging.getLogger(__name__)

SEARCH_DIR = "search"


def tree_file(run_path: Path, algorithm: str) -> Path:
    return Path(run_path) / SEARCH_DIR / f"{algorithm}.jsonl"


def summary_file(run_path: Path, algorithm: str) -> Path:
    return Path(run_path) / SEARCH_DIR / f"{algorithm}.summary.jsonl"


def algorithms_in(run_path: Path) -> list[str]:
    """The algorithms whose summaries a run directory holds."""
    folder = Path(run_path) / SEARCH_DIR
    return sorted(p.name.removesuffix(".summary.jsonl") for p in folder.glob("*.summary.jsonl"))


class SearchStore:
    """The search records of one algorithm in one run directory."""

    def __init__(self, run: RunDir, algorithm: str) -> None:
        self.run = run
        self.algorithm = algorithm
        self.trees_path = tree_file(run.path, algorithm)
        self.summaries_path = summary_file(run.path, algorithm)

    # ---------------------------------------------------------------------------------------- reading
    def summaries(self) -> dict[str, SearchSummary]:
        out: dict[str, SearchSummary] = {}
        for lineno, row in enumerate(iter_jsonl(self.summaries_path), start=1):
            try:
                summary = SearchSummary.from_json(row)
            except RecordError as exc:
                raise RunDirError(f"{self.summaries_path}:{lineno}: {exc}") from exc
            if summary.problem_id in out:
                log.warning("%s:%d: a second summary of %s is ignored", self.summaries_path, lineno, summary.problem_id)
                continue
            out[summary.problem_id] = summary
        return out

    def results(self) -> list[SearchResult]:
        """Every done problem's result, in summary order (trees checked against their summaries)."""
        summaries = self.summaries()
        lines: dict[str, list[SearchNode]] = defaultdict(list)
        for lineno, row in enumerate(iter_jsonl(self.trees_path), start=1):
            if row.get("problem_id") not in summaries:
                continue  # an attempt without a summary: searched again
            try:
                lines[row["problem_id"]].append(SearchNode.from_json(row))
            except RecordError as exc:
                raise RunDirError(f"{self.trees_path}:{lineno}: {exc}") from exc
        out = []
        for pid, summary in summaries.items():
            have = lines.get(pid, [])
            nodes = tuple(have[len(have) - summary.nodes :]) if summary.nodes else ()
            if len(nodes) != summary.nodes or (summary.tree_hash is not None and tree_hash(nodes) != summary.tree_hash):
                raise RunDirError(f"{self.trees_path}: the tree of {pid} does not match its summary "
                                  f"({len(have)} node lines, the summary names {summary.nodes}); the file was edited "
                                  "or damaged: move it and its summary aside to search that problem again")
            out.append(SearchResult(pid, summary, nodes))
        return out

    # ---------------------------------------------------------------------------------------- writing
    def write_tree(self, result: SearchResult) -> None:
        """The problem's nodes, then its summary: two durable batches (the summary makes it done)."""
        assert result.summary is not None
        if not self.run.writable:
            raise ReadOnlyRun(f"{self.run.path} was opened for reading; the search writes it with RunDir.open(path, "
                              "write=True) (one writer at a time)")
        with JsonlAppender(self.trees_path) as w:
            w.write_batch([n.to_line() for n in result.nodes])
        with JsonlAppender(self.summaries_path) as w:
            w.write_batch([result.summary.to_line()])


def derived_records(result: SearchResult, *, model: str, engine: str, critic: str, n: int
                    ) -> tuple[list[Rollout], list[StepScores]]:
    """The rollouts and step scores a done problem contributes (its candidates padded to ``n``)."""
    return result.rollouts(model, engine, pad_to=n), result.step_scores(critic, pad_to=n)


def missing_derived(run: RunDir, results: list[SearchResult], *, model: str, engine: str, critic: str, n: int
                    ) -> tuple[list[Rollout], list[StepScores]]:
    """Rollouts and scores of done problems that are not on disk yet (a kill after the summary)."""
    have_rollouts = run.keys(Rollout)
    have_scores = run.keys(StepScores, critic)
    rollouts: list[Rollout] = []
    scores: list[StepScores] = []
    for result in results:
        rs, ss = derived_records(result, model=model, engine=engine, critic=critic, n=n)
        rollouts += [r for r in rs if r.key() not in have_rollouts]
        scores += [s for s in ss if s.key() not in have_scores]
    return rollouts, scores
