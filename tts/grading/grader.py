"""``grade``: one response → a :class:`tts.records.Grade`; ``grade_many``: many, in worker processes.

A grade never raises: a bad response, an odd problem or a symbolic timeout is a wrong answer with the cause
in ``reason``. Reasons read ``match (<check>; <evidence>)`` / ``mismatch (<check>; <evidence>)``, e.g.
``match (number; boxed)``, or ``no answer``, ``no gold``, ``timeout``, ``error: ...``; official grades start
with ``official <benchmark>: ...``.

Example:
    >>> from tts.records import Problem
    >>> p = Problem(id="q1", benchmark="mathvista", split="testmini", question="q", choices=("6cm", "8cm"),
    ...             answer="8cm", question_type="multi_choice", answer_type="text")
    >>> g = grade("The longer side is 8 cm.\\nAnswer: \\\\boxed{B}", p)
    >>> (g.correct, g.extracted, g.reason)
    (True, 'B', 'match (letter; boxed)')
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from tts.grading import sandbox, symbolic
from tts.grading.equivalence import judge
from tts.grading.extract import extract_answer
from tts.grading.official import grade_official, official_equivalent, official_fallback_note
from tts.grading.rules import rule_for
from tts.records import Grade, GradingRules, Problem

RULE_SETS: tuple[GradingRules, ...] = ("strict", "official")
#: Below this many items ``grade_many`` grades in-process (starting workers costs about a second each).
POOL_THRESHOLD = 400
CHUNK = 32


def _strict(response: str, problem: Problem) -> tuple[bool, str | None, str]:
    found = extract_answer(response, problem)
    if found.answer is None:
        return False, None, "no answer"
    rule = rule_for(problem)
    verdicts = [judge(found.answer, str(gold), rule) for gold in problem.golds]
    best = next((v for v in verdicts if v.correct), verdicts[0])
    if best.how in ("timeout", "too_complex", "error"):
        return False, found.answer, f"{best.how} ({found.method})"
    word = "match" if best.correct else "mismatch"
    return best.correct, found.answer, f"{word} ({best.how}; {found.method})"


def grade(
    response: str,
    problem: Problem,
    rules: GradingRules = "strict",
    *,
    sample_idx: int = 0,
    rng: random.Random | None = None,
) -> Grade:
    """Grade ``response`` against ``problem`` under ``rules`` (``strict`` or ``official``).

    ``rng`` is the random stream MMMU's official scorer draws its fallback letters from (see
    :mod:`tts.grading.official.mmmu`); leave it None outside :func:`grade_many`.
    """
    if rules not in RULE_SETS:
        raise ValueError(f"rules must be one of {RULE_SETS}, got {rules!r}")
    response = response if isinstance(response, str) else ""
    try:
        with symbolic.budget(symbolic.call_budget()):
            return _grade(response, problem, rules, sample_idx, rng)
    except Exception as exc:  # noqa: BLE001 - one bad line must never stop a grading run
        reason = f"error: {type(exc).__name__}: {str(exc)[:160]}"
        return Grade(problem.id, sample_idx, None, False, reason, rules)


def _grade(response: str, problem: Problem, rules: GradingRules, sample_idx: int, rng: random.Random | None) -> Grade:
    try:
        if not problem.golds:
            found = extract_answer(response, problem)
            return Grade(problem.id, sample_idx, found.answer, False, "no gold", rules)
        result = None
        if rules == "official":
            result = grade_official(response, problem, rng)
            if result is None and official_fallback_note(problem.benchmark):
                correct, extracted, reason = _strict(response, problem)
                result = (correct, extracted, f"official {problem.benchmark} (strict fallback): {reason}")
        correct, extracted, reason = result if result is not None else _strict(response, problem)
    except Exception as exc:  # noqa: BLE001 - one bad line must never stop a grading run
        correct, extracted, reason = False, None, f"error: {type(exc).__name__}: {str(exc)[:160]}"
    return Grade(problem.id, sample_idx, extracted, bool(correct), reason, rules)


def equivalent(pred: str, gold: str, problem: Problem | None = None, *, rules: GradingRules = "strict") -> bool:
    """Whether ``pred`` is the answer ``gold`` (gold-first semantics); never raises.

    ``problem`` supplies the benchmark rule (options, precision, tolerance); without one, generic math
    equivalence. ``rules="official"`` applies the benchmark's published comparison where it has a
    rule-based one (see :mod:`tts.grading.official`).

    Example:
        >>> equivalent("0.5", "\\\\frac{1}{2}")
        True
    """
    try:
        if not isinstance(pred, str) or not isinstance(gold, str):
            return False
        with symbolic.budget(symbolic.call_budget()):
            if rules == "official" and problem is not None:
                return official_equivalent(pred, gold, problem)
            return judge(pred, gold, rule_for(problem)).correct
    except Exception:  # noqa: BLE001 - the contract is "never raises"; an odd input is simply not equal
        return False


def _needs_shared_rng(problem: Problem, rules: GradingRules) -> bool:
    return rules == "official" and (problem.benchmark or "").lower() == "mmmu" and problem.question_type == "multi_choice"


def _grade_in_process(items: Sequence[tuple[str, Problem, int]], rules: GradingRules, rng: random.Random,
                      advance: Callable[[int], None]) -> list[Grade]:
    out = []
    for response, problem, idx in items:
        out.append(grade(response, problem, rules, sample_idx=idx, rng=rng))
        advance(1)
    return out


def _grade_chunk(worker: sandbox.Worker, chunk: list[tuple[int, tuple[str, Problem, int]]], rules: GradingRules,
                 timeout: float, results: list[Grade | None], advance: Callable[[int], None]) -> None:
    pending = list(chunk)
    while pending:
        message = {
            "op": "grade",
            "rules": rules,
            "items": [{"response": r if isinstance(r, str) else "", "problem": p.to_json(), "sample_idx": i}
                      for _, (r, p, i) in pending],
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
    items: Sequence[tuple[str, Problem, int]],
    rules: GradingRules = "strict",
    workers: int | None = None,
    progress: bool = False,
) -> list[Grade]:
    """Grade ``(response, problem, sample_idx)`` triples; results in input order.

    Large inputs are spread over ``workers`` worker processes (default: the CPU count), each item held to
    its own deadline: an item whose worker hangs is graded "timeout" and the rest go on. Small inputs, or
    ``workers=1``, are graded in this process.
    """
    if rules not in RULE_SETS:
        raise ValueError(f"rules must be one of {RULE_SETS}, got {rules!r}")
    n = len(items)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    results: list[Grade | None] = [None] * n
    bar, advance = _progress(n, progress)
    try:
        shared = [k for k, (_, p, _) in enumerate(items) if _needs_shared_rng(p, rules)]
        rng = random.Random(42)
        for k, g in zip(shared, _grade_in_process([items[k] for k in shared], rules, rng, advance), strict=True):
            results[k] = g
        rest = [k for k in range(n) if results[k] is None]
        if workers <= 1 or len(rest) < POOL_THRESHOLD:
            for k, g in zip(rest, _grade_in_process([items[k] for k in rest], rules, rng, advance), strict=True):
                results[k] = g
        else:
            _grade_in_pool(items, rest, rules, workers, results, advance)
    finally:
        if bar is not None:
            bar.stop()
    return [g for g in results if g is not None]


def _grade_in_pool(items: Sequence[tuple[str, Problem, int]], rest: list[int], rules: GradingRules, workers: int,
                   results: list[Grade | None], advance: Callable[[int], None]) -> None:
    chunks = [[(k, items[k]) for k in rest[i : i + CHUNK]] for i in range(0, len(rest), CHUNK)]
    queue = list(reversed(chunks))
    lock = threading.Lock()
    per_item = (symbolic.BUDGET_FACTOR + 1) * sandbox.DEFAULT_TIMEOUT + 10

    def run_worker() -> None:
        worker: sandbox.Worker | None = None
        started = sandbox.Worker()
        try:
            started.start()
            worker = started
        except sandbox.WorkerError:
            pass  # no subprocess possible here: grade this thread's share in-process
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    chunk = queue.pop()
                if worker is None:
                    graded = _grade_in_process([it for _, it in chunk], rules, random.Random(42), advance)
                    for (k, _), g in zip(chunk, graded, strict=True):
                        results[k] = g
                else:
                    _grade_chunk(worker, chunk, rules, per_item, results, advance)
        finally:
            if worker is not None:
                worker.close()

    with ThreadPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        for future in [pool.submit(run_worker) for _ in range(min(workers, len(chunks)))]:
            future.result()


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None, lambda k: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    task = bar.add_task("grade", total=total)
    bar.start()
    lock = threading.Lock()

    def advance(k: int) -> None:
        with lock:
            bar.advance(task, k)

    return bar, advance
