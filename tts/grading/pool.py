"""Grading many responses: a :class:`Grader` session keeps its worker processes for all its batches.

Starting a grading worker costs about a second (it imports SymPy and math-verify), so a session starts
them once, on the first batch large enough to need them, and every later batch reuses them: a run graded
in batches is as fast per response as one big file. Each item is held to its own deadline: an item whose
worker hangs is graded "timeout", the worker is replaced, and the rest go on. Results come back in input
order. MMMU's official random fallback letters come from one seeded stream per session, drawn in input
order (:mod:`tts.grading.official.mmmu`); a resumed session replays the draws of the items already graded
(:meth:`Grader.skip`) so its stream continues where the interrupted one stopped.

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="q", benchmark="demo", split="s", question="q", answer="5", answer_type="integer")
    >>> with Grader("strict", workers=1) as grader:
    ...     [g.correct for g in grader.grade([("Answer: \\\\boxed{5}", p, 0), ("Answer: 6", p, 1)])]
    [True, False]
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from tts.grading import sandbox, symbolic
from tts.grading.grader import RULE_SETS, encodable, grade
from tts.records import Grade, GradingRules, Problem

#: Below this many items a session grades in-process (starting workers costs about a second each).
POOL_THRESHOLD = 400
#: Items sent to a worker in one request.
CHUNK = 32
Item = tuple[str, Problem, int]
Advance = Callable[[int], None]


def _needs_shared_rng(problem: Problem, rules: GradingRules) -> bool:
    return rules == "official" and (problem.benchmark or "").lower() == "mmmu" and problem.question_type == "multi_choice"


def _no_progress(k: int) -> None:
    return None


class Grader:
    """A grading session: ``grade(items)`` as often as needed, worker processes kept between calls.

    ``expected`` is how many items the session will grade in all: with ``workers > 1`` and at least
    :data:`POOL_THRESHOLD` expected items, batches go to worker processes (started on first use);
    otherwise everything is graded in this process (its symbolic work still runs in bounded workers).
    """

    def __init__(self, rules: GradingRules = "strict", workers: int | None = None, *, expected: int = 0) -> None:
        if rules not in RULE_SETS:
            raise ValueError(f"rules must be one of {RULE_SETS}, got {rules!r}")
        self.rules: GradingRules = rules
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.expected = expected
        self.rng = random.Random(42)
        self._procs: list[sandbox.Worker | None] | None = None

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the session's worker processes."""
        for proc in self._procs or []:
            if proc is not None:
                proc.close()
        self._procs = None

    def skip(self, items: Sequence[Item]) -> None:
        """Account for items graded by an earlier, interrupted session: replay their random draws."""
        for response, problem, idx in items:
            if _needs_shared_rng(problem, self.rules):
                grade(response, problem, self.rules, sample_idx=idx, rng=self.rng)

    def grade(self, items: Sequence[Item], advance: Advance = _no_progress) -> list[Grade]:
        """Grades of ``(response, problem, sample_idx)`` items, in input order; never raises for an item."""
        n = len(items)
        results: list[Grade | None] = [None] * n
        shared = [k for k, (_, p, _) in enumerate(items) if _needs_shared_rng(p, self.rules)]
        for k in shared:
            response, problem, idx = items[k]
            results[k] = grade(response, problem, self.rules, sample_idx=idx, rng=self.rng)
            advance(1)
        rest = [k for k in range(n) if results[k] is None]
        if rest and self.workers > 1 and max(self.expected, n) >= POOL_THRESHOLD:
            self._grade_in_pool(items, rest, results, advance)
        else:
            for k in rest:
                response, problem, idx = items[k]
                results[k] = grade(response, problem, self.rules, sample_idx=idx, rng=self.rng)
                advance(1)
        return [g for g in results if g is not None]

    def _start(self) -> list[sandbox.Worker | None]:
        if self._procs is None:
            procs: list[sandbox.Worker | None] = []
            for _ in range(self.workers):
                worker = sandbox.Worker()
                try:
                    worker.start()
                    procs.append(worker)
                except sandbox.WorkerError:
                    procs.append(None)  # no subprocess possible here: this share is graded in-process
            self._procs = procs
        return self._procs

    def _grade_in_pool(self, items: Sequence[Item], rest: list[int], results: list[Grade | None],
                       advance: Advance) -> None:
        chunks = [[(k, items[k]) for k in rest[i : i + CHUNK]] for i in range(0, len(rest), CHUNK)]
        queue = list(reversed(chunks))
        lock = threading.Lock()
        per_item = (symbolic.BUDGET_FACTOR + 1) * sandbox.DEFAULT_TIMEOUT + 10
        procs = self._start()

        def run(worker: sandbox.Worker | None) -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    chunk = queue.pop()
                if worker is None:
                    for k, (response, problem, idx) in chunk:
                        results[k] = grade(response, problem, self.rules, sample_idx=idx, rng=random.Random(42))
                        advance(1)
                else:
                    grade_chunk(worker, chunk, self.rules, per_item, results, advance)

        busy = procs[: min(len(procs), len(chunks))]
        with ThreadPoolExecutor(max_workers=len(busy)) as pool:
            for future in [pool.submit(run, worker) for worker in busy]:
                future.result()


def grade_chunk(worker: Any, chunk: list[tuple[int, Item]], rules: GradingRules, timeout: float,
                results: list[Grade | None], advance: Advance) -> None:
    """Grade ``chunk`` in ``worker``, each item within ``timeout`` of the previous reply; a hung item costs
    only itself (graded "timeout"), the rest of the chunk is sent again to the replaced worker."""
    pending = list(chunk)
    while pending:
        message = {
            "op": "grade",
            "rules": rules,
            "items": [{"response": encodable(r) if isinstance(r, str) else "", "problem": p.to_json(),
                       "sample_idx": i} for _, (r, p, i) in pending],
        }
        done = 0
        try:
            for reply in worker.request(message, len(pending), timeout):
                pos, (_, problem, idx) = pending[done]
                try:
                    results[pos] = Grade.from_json(reply["grade"])
                except Exception:  # noqa: BLE001 - an odd reply costs its item, the stream stays in step
                    reason = f"error: {reply.get('error', 'malformed reply from the grading worker')}"
                    results[pos] = Grade(problem.id, idx, None, False, reason, rules)
                done += 1
                advance(1)
            pending = []
        except sandbox.WorkerError as exc:
            pos, (_, problem, idx) = pending[done]
            reason = "timeout" if isinstance(exc, sandbox.WorkerTimeout) else f"error: {exc}"
            results[pos] = Grade(problem.id, idx, None, False, reason, rules)
            advance(1)
            pending = pending[done + 1 :]


def grade_many(
    items: Sequence[Item],
    rules: GradingRules = "strict",
    workers: int | None = None,
    progress: bool = False,
) -> list[Grade]:
    """Grade ``(response, problem, sample_idx)`` triples in one session; results in input order.

    Large inputs are spread over ``workers`` worker processes (default: the CPU count); small inputs, or
    ``workers=1``, are graded in this process.
    """
    with Grader(rules, workers, expected=len(items)) as grader, progress_bar(len(items), progress) as advance:
        return grader.grade(items, advance)


class progress_bar:  # noqa: N801 - used like a function in a with statement
    """A rich progress bar for ``total`` items when ``enabled``; the context value advances it (thread-safe)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled and total > 0
        self._bar: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Advance:
        if not self.enabled:
            return _no_progress
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        task = self._bar.add_task("grade", total=self.total)
        self._bar.start()

        def advance(k: int) -> None:
            with self._lock:
                self._bar.advance(task, k)

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
