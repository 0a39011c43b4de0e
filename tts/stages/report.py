"""Stage 5: the run's report, ``report.json`` (``report-official.json`` under official grading; rewritten
atomically) plus ``report-curves.png``.

Keys of ``report.json``:

``accuracy[benchmark][rule] = {"accuracy", "correct", "total"}``
    Accuracy (%) of the selections stored in ``selections.jsonl`` (rule ``strategy/aggregation@n
    [critic]``) and of ``first_sample``. A selection that picked no rollout (``greedy`` in a run without a
    greedy sample) is not counted as wrong: the cell is over the problems with a pick, says how many had
    none (``"no_pick"``), and with no pick at all is ``{"accuracy": None, …, "unavailable": reason}``.
``metrics[benchmark][rule]``
    The benchmark's official metric of those selections (headline under ``"score"``; ``"warning"`` when it
    rests on partial data); see :func:`official_metrics`.
``curves``, ``ci_low``, ``ci_high``: ``[benchmark][strategy][aggregation][str(n)]``
    Accuracy (%) at every 1 ≤ n ≤ N and its 95% bootstrap interval, random-subset convention
    (:mod:`tts.analysis.curves`).
``overall_curves``
    The card's "Overall" (mean of the benchmarks' accuracies) as a curve with its interval
    (:func:`tts.analysis.tables.overall_curve_section`); absent for a run of one benchmark.
``first_n``
    The same blocks under the "first n samples" convention (search-and-learn, per-budget reruns).
``curve_info``
    Critic, N, draws, seed, estimators, resamples, coverage, anything unavailable, and ``warnings``: what
    the curves count as wrong for lack of data (failed samples, ungraded rollouts, problems without a
    greedy rollout).
``plot``, ``plots``
    The plot file of the headline aggregation (``report-curves.png``) and ``{aggregation: file}`` for all.
``overall``, ``comparison``, ``cost``, ``fidelity``, ``official_notes``
    See :mod:`tts.stages.report_sections`; ``official_notes`` says, for ``rules="official"``, where a
    benchmark's published scorer needs a GPT judge and the rule-based path was used instead.
``ignored_lines``
    Per record file, the lines the report did not use, by kind (duplicates, stale or foreign scores and
    grades: :mod:`tts.integrity`); present only when there are some. ``tts doctor RUN`` lists them.
``in_progress``
    Present when another process was writing the run: who, so the numbers are known to rest on the records
    written so far.
``search``
    Only in a step-level search run: each problem's search cost (:mod:`tts.search.report`).

Reading and writing: the report reads the run as any reader does (no lock), so it can be looked at while
a command writes the run. Its files are written under the run's writer lock: by the writer itself (the end
of ``tts bestofn``), or by ``tts report`` when no other process writes the run. While one does, the report
is returned (and printed) but its files are left to that writer (key ``not_written`` says so), so an
older report never replaces a newer one. Each file is replaced atomically (the plot too).

Example:
    >>> report = build_report(RunDir.open("runs/demo", create=False), aggregations=["mean"])  # doctest: +SKIP
    >>> report["curves"]["demo"]["best_of_n"]["mean"]["4"]                                   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tts.errors import ConfigError
from tts.jsonl import write_bytes_atomic, write_json_atomic
from tts.labels import pick_critic
from tts.records import Grade, Problem, Rollout, Selection
from tts.rundir import RunDir
from tts.runlock import holder, try_acquire
from tts.stages.report_sections import comparison_section, cost_section, fidelity_section, overall_section

PLOT_FILE = "report-curves.png"

log = logging.getLogger(__name__)


def official_metrics(benchmark: str, problems: Sequence[Problem], correct: dict[str, bool]) -> dict[str, Any] | None:
    """The benchmark's official metric of one set of selected answers (headline under ``"score"``).

    ``correct`` maps problem id → verdict of the selected answer. ``None`` for benchmarks without a
    registered metric (e.g. ``demo``).
    """
    from tts.metrics import METRICS, benchmark_metrics

    if benchmark not in METRICS:
        return None
    return benchmark_metrics(benchmark, list(problems), correct)


def _rule(s: Selection) -> str:
    agg = "" if s.aggregation == "none" else f"/{s.aggregation}"
    return f"{s.strategy}{agg}@{s.n}" + (f" [{s.critic}]" if s.critic else "")


NOT_APPLICABLE = {"greedy": "the run has no greedy rollout (no 'greedy' flag, temperature > 0)"}
"""Strategies whose missing pick means "does not apply to this problem", with the reason. For the others a
missing pick is an answer the strategy could not give (a vote over no parsed answer): a wrong answer."""


def selection_accuracy(run: RunDir, problems: dict[str, Problem], correct: dict[tuple[str, int], bool]):
    """(accuracy, metrics) of first-sample and of every stored selection rule, per benchmark.

    A greedy selection without a pick (no greedy rollout) is left out of its rule's numbers and counted in
    the cell's ``no_pick``; a rule with no pick at all is unavailable, never 0%.
    """
    picks: dict[str, dict[str, dict[str, bool | None]]] = defaultdict(lambda: defaultdict(dict))
    strategy_of: dict[str, str] = {"first_sample": "first_sample"}
    for pid, p in problems.items():
        if (pid, 0) in correct:
            picks[p.benchmark]["first_sample"][pid] = correct[(pid, 0)]
    for s in run.read(Selection):
        selected = problems.get(s.problem_id)
        if selected is not None:
            rule = _rule(s)
            strategy_of[rule] = s.strategy
            if s.sample_idx is None:
                ok = None if s.strategy in NOT_APPLICABLE else False
            else:
                ok = correct.get((s.problem_id, s.sample_idx), False)
            picks[selected.benchmark][rule][s.problem_id] = ok
    accuracy: dict[str, dict[str, dict[str, Any]]] = {}
    metrics: dict[str, dict[str, Any]] = {}
    for bench in sorted(picks):
        accuracy[bench] = {}
        for rule in sorted(picks[bench]):
            oks = {pid: ok for pid, ok in picks[bench][rule].items() if ok is not None}
            no_pick = len(picks[bench][rule]) - len(oks)
            c, t = sum(oks.values()), len(oks)
            cell: dict[str, Any] = {"accuracy": 100.0 * c / t if t else None, "correct": c, "total": t}
            if no_pick:
                cell["no_pick"] = no_pick
                why = NOT_APPLICABLE[strategy_of[rule]]
                if not t:
                    cell["unavailable"] = why
                else:
                    cell["warning"] = f"over {t} of {t + no_pick} problems; {no_pick} left out: {why}"
            accuracy[bench][rule] = cell
            if not t:
                continue
            metric = official_metrics(bench, [problems[pid] for pid in oks], dict(oks))
            if metric is not None:
                if no_pick:
                    from tts.metrics.common import add_warning

                    add_warning(metric, cell["warning"])
                metrics.setdefault(bench, {})[rule] = metric
    return accuracy, metrics


def check_graded(run: RunDir, rules: str, graded_rules: set[str]) -> None:
    """Refuse to report on grades that do not exist: every number would be 0%.

    A run with rollouts but no grade under ``rules`` raises :class:`~tts.errors.ConfigError` naming the
    command that makes them.
    """
    if rules in graded_rules or not run.file("rollouts").exists() or not run.read(Rollout):
        return
    have = f" (it is graded under: {', '.join(sorted(graded_rules))})" if graded_rules else ""
    raise ConfigError(f"{run.path} has no grades under the {rules} rules{have}; grade it first: "
                      f"tts grade {run.path} --rules {rules}")


def report_files(rules: str = "strict", name: str = "report") -> tuple[str, str]:
    """The (JSON, plot) file names of a report: ``report.json`` / ``report-curves.png`` for the full strict
    report; ``-<rules>`` for other grading rules; another ``name`` for a subset (``report-subset.json``).

    >>> report_files(), report_files("official", "report-subset")
    (('report.json', 'report-curves.png'), ('report-subset-official.json', 'report-subset-official-curves.png'))
    """
    stem = name if rules == "strict" else f"{name}-{rules}"
    return f"{stem}.json", f"{stem}-curves.png"


def build_report(run: RunDir, rules: str = "strict", *, critic: str | None = None,
                 strategies: Sequence[str] | None = None, aggregations: Sequence[str] | None = None,
                 draws: int | None = None, seed: int = 0, resamples: int | None = None, curves: bool = True,
                 plot: bool = True, plot_convention: str = "subsets", workers: int | None = None,
                 progress: bool = False, name: str = "report") -> dict[str, Any]:
    """Accuracy of stored selections plus accuracy-vs-n curves with intervals; writes the report files
    (unless another process is writing the run: see the module docstring).

    ``curves=False`` skips the curve analysis (only the selection accuracy is computed). The curves read
    the scores of ``critic`` (a label), else of the run's only critic; with several and none named this
    raises instead of guessing. ``name`` is the file stem (:func:`report_files`): a report restricted to
    some strategies or aggregations is written beside the full one, never over it.
    """
    writer = None if run.writable else holder(run.path)
    problems = {p.id: p for p in run.read(Problem)}
    if curves and problems:
        critic = pick_critic(run, critic)
    grades = run.read(Grade)
    check_graded(run, rules, {g.rules for g in grades})
    correct = {(g.problem_id, g.sample_idx): g.correct for g in grades if g.rules == rules}
    accuracy, metrics = selection_accuracy(run, problems, correct)
    report: dict[str, Any] = {
        "run": str(run.path),
        "rules": rules,
        "models": run.manifest.get("models", {}),
        "sampling": run.config("sampling"),
        "accuracy": accuracy,
        "metrics": metrics,
        "warnings": {k: v.get("count", 0) for k, v in run.manifest.get("warnings", {}).items()},
    }
    report["overall"] = overall_section(metrics)
    report["comparison"] = comparison_section(run, metrics, report["overall"])
    report["cost"] = cost_section(run)
    report["fidelity"] = fidelity_section(run)
    if writer is not None:
        report["in_progress"] = writer.describe()
        log.warning("%s is being written by %s: this report rests on the records written so far", run.path,
                    writer.describe())
    from tts.search.report import search_section  # a step-level search run: what each problem's search cost

    if (searched := search_section(run)) is not None:
        report["search"] = searched
    if rules == "official":
        from tts.grading import official_fallback_note

        notes = {b: official_fallback_note(b) for b in accuracy}
        report["official_notes"] = {b: note for b, note in notes.items() if note}
    if curves and problems:
        report.update(curve_report(run, rules, critic=critic, strategies=strategies, aggregations=aggregations,
                                   draws=draws, seed=seed, resamples=resamples, plot=False,
                                   plot_convention=plot_convention, workers=workers, progress=progress))
    if run.ignored:
        report["ignored_lines"] = {file: dict(counts) for file, counts in sorted(run.ignored.items())}
    json_file, plot_file = report_files(rules, name)
    _write_report_files(run, report, json_file, plot_file if plot and "curves" in report else None, plot_convention)
    return report


@contextlib.contextmanager
def _report_lock(run: RunDir) -> Iterator[str | None]:
    """``None`` while this process may write the report files (it writes the run, or nobody else does),
    else why not."""
    if run.writable:
        yield None
        return
    try:
        with try_acquire(run.path, purpose="report") as lock:
            if lock is not None:
                yield None
                return
            owner = holder(run.path)
            who = owner.describe() if owner else "another process"
            yield f"{run.path} is being written by {who}; its writer writes the report files"
    except OSError as exc:  # a run on a read-only mount, or someone else's: the report is printed only
        yield f"cannot write to {run.path} ({exc.strerror or exc})"


def _write_report_files(run: RunDir, report: dict[str, Any], json_file: str, plot_file: str | None,
                        convention: str) -> None:
    """The report's JSON and plot, each replaced atomically, under the run's lock."""
    with _report_lock(run) as refused:
        if refused is not None:
            report["not_written"] = refused
            log.warning("%s not updated: %s", run.path / json_file, refused)
            return
        if plot_file is not None:
            report["plot"] = _write_plot(run, report, plot_file, convention)
        write_json_atomic(run.path / json_file, report)


def _write_plot(run: RunDir, report: dict[str, Any], plot_file: str, convention: str) -> str:
    """Render one plot per aggregation in a private temporary folder, then replace the run's plots atomically
    (``report["plots"]``: aggregation → file); returns the headline aggregation's file."""
    from tts.analysis import plot_curves

    info = report["curve_info"]
    section = report["first_n"] if convention == "first_n" else report
    label = "first n samples" if convention == "first_n" else f"random n-subsets, {info['draws']} draws"
    aggs = info["aggregations"]
    headline = headline_aggregation(aggs)
    report["plots"] = {}
    with tempfile.TemporaryDirectory(prefix="tts-plot-") as tmp:
        for agg in [headline, *(a for a in aggs if a != headline)]:
            name = aggregation_plot_file(plot_file, agg, headline)
            title = f"{run.path.name}: critic {info['critic'] or 'none'}, aggregation {agg}, {label}"
            path = plot_curves(section, Path(tmp) / name, aggregation=agg, title=title)
            write_bytes_atomic(run.path / name, path.read_bytes())
            report["plots"][agg] = name
    return report["plots"][headline]


def curve_report(run: RunDir, rules: str = "strict", *, critic: str | None = None,
                 strategies: Sequence[str] | None = None, aggregations: Sequence[str] | None = None,
                 draws: int | None = None, seed: int = 0, resamples: int | None = None, plot: bool = True,
                 plot_convention: str = "subsets", workers: int | None = None, progress: bool = False,
                 plot_file: str = PLOT_FILE) -> dict[str, Any]:
    """The curve keys of the report (``curves``, ``ci_low``, ``ci_high``, ``overall_curves``, ``first_n``,
    ``curve_info``, ``plot``, ``plots``); empty when no problem has rollouts yet."""
    from tts.analysis import (
        DEFAULT_DRAWS,
        compute_curves,
        curve_section,
        estimator,
        load_arrays,
        plot_curves,
    )
    from tts.analysis.bootstrap import DEFAULT_RESAMPLES
    from tts.analysis.tables import overall_curve_section
    from tts.strategies import AGGREGATIONS, STRATEGIES

    aggs = list(aggregations or AGGREGATIONS)
    names = list(strategies or STRATEGIES.names())
    draws = draws or DEFAULT_DRAWS
    resamples = DEFAULT_RESAMPLES if resamples is None else resamples
    arrays = load_arrays(run, critic=critic, rules=rules, aggregations=aggs, progress=progress)
    if arrays.n_problems == 0:
        return {}
    sections: dict[str, Any] = {}
    unavailable = without_scores(run, names) if arrays.critic is None else {}
    computed = [s for s in names if s not in unavailable]
    for convention in ("subsets", "first_n"):
        result = compute_curves(arrays, computed, aggs, convention=convention, draws=draws, seed=seed,
                                workers=workers, progress=progress)
        unavailable.update(result.unavailable)
        sections[convention] = curve_section(result, aggs, resamples=resamples, seed=seed)
        overall = overall_curve_section(result, aggs, resamples=resamples, seed=seed)
        if overall is not None:
            sections[convention]["overall_curves"] = overall
    out: dict[str, Any] = dict(sections["subsets"])
    out["first_n"] = sections["first_n"]
    out["curve_info"] = {
        "critic": arrays.critic, "n_samples": arrays.n_samples, "units": "percent",
        "convention": "subsets", "draws": draws, "seed": seed, "bootstrap_resamples": resamples,
        "ci_level": 0.95, "aggregations": aggs, "strategies": [s for s in names if s not in unavailable],
        "estimators": {s: estimator(s) for s in names if s not in unavailable},
        "unavailable": unavailable, "coverage": dict(arrays.coverage),
        "warnings": coverage_warnings(arrays, "greedy" in names and "greedy" not in unavailable)
        + unscored_warnings(run, arrays, computed),
    }
    if plot:  # build_report writes its plot itself (atomically, under the lock); this is for direct use
        label = "first n samples" if plot_convention == "first_n" else f"random n-subsets, {draws} draws"
        headline = headline_aggregation(aggs)
        out["plots"] = {}
        for agg in [headline, *(a for a in aggs if a != headline)]:
            title = f"{run.path.name}: critic {arrays.critic or 'none'}, aggregation {agg}, {label}"
            path = run.path / aggregation_plot_file(plot_file, agg, headline)
            out["plots"][agg] = plot_curves(sections[plot_convention], path, aggregation=agg, title=title).name
        out["plot"] = out["plots"][headline]
    return out


def headline_aggregation(aggregations: Sequence[str]) -> str:
    """The aggregation a report shows first: ``mean`` (the seeds' Best-of-N setting) when computed."""
    return "mean" if "mean" in aggregations else aggregations[0]


def aggregation_plot_file(plot_file: str, aggregation: str, headline: str) -> str:
    """``report-curves.png`` for the headline aggregation, ``report-curves-min.png`` … for the others.

    >>> aggregation_plot_file("report-curves.png", "min", "mean"), aggregation_plot_file("report-curves.png", "mean", "mean")
    ('report-curves-min.png', 'report-curves.png')
    """
    if aggregation == headline:
        return plot_file
    stem, dot, ext = plot_file.rpartition(".")
    return f"{stem}-{aggregation}{dot}{ext}"


def needs_scores(strategy: str) -> bool:
    """Whether the strategy's pick rests on critic scores (:attr:`tts.strategies.rules.Strategy.needs_scores`)."""
    from tts.strategies import STRATEGIES

    return STRATEGIES.get(strategy).needs_scores


def without_scores(run: RunDir, strategies: Sequence[str]) -> dict[str, str]:
    """In a run with no critic scores at all, the strategies that cannot be computed, with why: their
    "pick" would be the lowest sample index, a number that looks like best-of-N and is not."""
    reason = f"the run has no critic scores; score it first (tts score {run.path} --critic MODEL)"
    return {s: reason for s in strategies if needs_scores(s)}


def unscored_warnings(run: RunDir, arrays: Any, strategies: Sequence[str]) -> list[str]:
    """A run scored in part (a stage interrupted, problems that failed to score): the score-reading curves
    rank the unscored rollouts below every scored one, so say how many there are and how to finish."""
    cov = arrays.coverage
    if arrays.critic is None or not any(needs_scores(s) for s in strategies) or cov["scored"] >= cov["rollouts"]:
        return []
    from tts.records import StepScores

    # the arrays count a rollout with no steps (an empty response, scored as such) as unscored: count records
    scored = {s.key() for s in run.read(StepScores, arrays.critic)}
    keys = {(pid, i) for row, pid in enumerate(arrays.problem_ids) for i in range(arrays.n_samples)
            if arrays.present[row, i]}
    missing = len(keys - scored)
    if not missing:
        return []
    return [f"{missing} of {len(keys)} rollouts have no score from critic {arrays.critic}: best_of_n and the votes "
            "rank them below every scored one (resume the run, or tts score RUN --critic MODEL --critic-label "
            f"{arrays.critic})"]


def coverage_warnings(arrays: Any, greedy: bool) -> list[str]:
    """What the curves count as wrong for lack of data, one sentence each (empty when nothing is missing)."""
    cov = arrays.coverage
    out = []
    if cov.get("missing"):
        out.append(f"{cov['missing']} of {cov['problems'] * cov['samples']} samples have no rollout (failed): "
                   "counted as wrong answers")
    if cov.get("ungraded"):
        out.append(f"{cov['ungraded']} rollouts are not graded under the {arrays.rules} rules: counted wrong "
                   f"(tts grade RUN --rules {arrays.rules})")
    if cov.get("problems_without_rollouts"):
        out.append(f"{cov['problems_without_rollouts']} problems have no rollout at all: left out of every curve")
    if greedy:
        none = int((arrays.greedy < 0).sum())
        if none:
            out.append(f"greedy: {none} of {arrays.n_problems} problems have no greedy rollout: counted wrong")
    return out
