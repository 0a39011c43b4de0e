"""Printing reports on the console, laid out as the model card's table: benchmarks as columns, one row per
selection rule or strategy, and the card's Overall column.

Every table fits 100 columns. A number that rests on partial data carries a footnote mark (``*1``) and its
reason under the table; a rule that could not be computed says ``n/a`` with the reason, never ``0.0``.
When the output is not a terminal (a Slurm log, ``nohup``), tables are laid out for 100 columns instead of
rich's default 80 (``$COLUMNS`` still wins).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

WIDTH = 100
"""Columns every table fits in."""

ROW_ORDER = ("first_sample", "greedy", "random", "best_of_n", "weighted_vote", "majority", "oracle")
"""Strategies in the order a reader compares them: the single-sample baselines, the selection rules, the
pass@n ceiling."""


def make_console(*, stderr: bool = False) -> Any:
    """A rich console for stdout (or stderr): the terminal's width, else :data:`WIDTH` unless ``$COLUMNS``."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else WIDTH
    return Console(stderr=stderr, width=width, highlight=False)


def column_titles(benchmarks: Sequence[str]) -> list[tuple[str, str]]:
    """``(benchmark, title)`` in the card's column order."""
    from tts.metrics import COLUMN_TITLES, card_order

    return [(b, COLUMN_TITLES.get(b, b)) for b in card_order(list(benchmarks))]


@dataclass(frozen=True)
class Rule:
    """A stored selection rule ``strategy[/aggregation]@n [critic]`` taken apart."""

    text: str
    strategy: str
    aggregation: str | None
    n: int | None
    critic: str | None

    @classmethod
    def parse(cls, text: str) -> Rule:
        """
        >>> Rule.parse("best_of_n/mean@8 [prm]")
        Rule(text='best_of_n/mean@8 [prm]', strategy='best_of_n', aggregation='mean', n=8, critic='prm')
        >>> Rule.parse("first_sample").n is None
        True
        """
        m = re.fullmatch(r"([^/@ ]+)(?:/([^@ ]+))?(?:@(\d+))?(?: \[(.+)\])?", text)
        if not m:
            return cls(text, text, None, None, None)
        return cls(text, m[1], m[2], int(m[3]) if m[3] else None, m[4])

    def label(self, *, with_n: bool) -> str:
        agg = f"/{self.aggregation}" if self.aggregation else ""
        return f"{self.strategy}{agg}" + (f"@{self.n}" if with_n and self.n is not None else "")

    def order(self) -> tuple[int, str, int]:
        rank = ROW_ORDER.index(self.strategy) if self.strategy in ROW_ORDER else len(ROW_ORDER)
        return (self.n or 0, f"{rank:02d}{self.strategy}/{self.aggregation or ''}", 0)


@dataclass
class Footnotes:
    """Numbered reasons under a table; the same reason for the same column is one note."""

    notes: list[str] = field(default_factory=list)

    def mark(self, column: str, message: str) -> str:
        text = f"{column}: {message}"
        if text not in self.notes:
            self.notes.append(text)
        return f"*{self.notes.index(text) + 1}"

    def print(self, console: Any) -> None:
        for i, note in enumerate(self.notes, start=1):
            console.print(f"[yellow]*{i}[/] {note}", markup=True, soft_wrap=False)


def _table(first: str) -> Any:
    """A table in the card's style, its first column ``first`` (row labels)."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False)
    table.add_column(first, no_wrap=True)
    return table


def _print(console: Any, title: str, table: Any) -> None:
    """The title on its own line (a rich table title would wrap to the table's width, narrow for a run of
    one benchmark), then the table."""
    console.print(f"[bold]{title}[/]")
    console.print(table)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


# --------------------------------------------------------------------------------------- selection tables
def print_report(report: dict[str, Any], title: str = "Accuracy (%)", *, aggregations: Sequence[str] | None = None,
                 console: Any = None, issues: Sequence[Any] = ()) -> None:
    """The run's official metrics (the card's numbers) for every stored selection rule, published numbers
    beside ours, cost and warnings. ``aggregations`` keeps the rules of those aggregations only (rules that
    read no scores are always shown). ``issues`` (:class:`tts.api.StageIssues`: the partial failures of
    the command that made the report) are printed first, on stderr."""
    print_issues(issues)
    console = console or make_console()
    console.print(f"[bold]{title}[/]")
    print_selection_table(report, console, aggregations=aggregations)
    print_comparison(report, console)
    print_cost(report, console)
    print_warnings(report, console)


def print_selection_table(report: dict[str, Any], console: Any, *,
                          aggregations: Sequence[str] | None = None) -> None:
    """Benchmarks as columns (the card's order) and the card's Overall; one row per stored selection rule.

    A cell is the benchmark's official headline metric of the rule's selections (accuracy for most,
    DynaMath's worst case, WeMath's strict 4-D score), falling back to plain accuracy where a benchmark has
    no registered metric.
    """
    accuracy, metrics = report.get("accuracy", {}), report.get("metrics", {})
    if not accuracy:
        console.print("[yellow]No graded selections yet: nothing to report.[/]")
        return
    rules = sorted({Rule.parse(r) for cells in accuracy.values() for r in cells}, key=Rule.order)
    if aggregations:
        rules = [r for r in rules if r.aggregation is None or r.aggregation in aggregations]
    ns = {r.n for r in rules if r.n is not None}
    critics = {r.critic for r in rules if r.critic}
    columns = column_titles(list(accuracy))
    overall = report.get("overall", {})
    show_overall = _has_all_seven(accuracy)
    where = f" at n={next(iter(ns))}" if len(ns) == 1 else ""
    by = f", critic {next(iter(critics))}" if len(critics) == 1 else ""
    title = f"Official metric (%) of the selections{where}{by}, {report.get('rules', 'strict')} grading"
    table = _table("rule")
    for _, name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    if show_overall:
        table.add_column("Overall", justify="right", no_wrap=True)
    notes = Footnotes()
    for rule in rules:
        cells = []
        marked = False
        for bench, name in columns:
            cell = accuracy[bench].get(rule.text)
            metric = (metrics.get(bench) or {}).get(rule.text)
            text, mark = _selection_cell(cell, metric, name, notes)
            marked = marked or bool(mark)
            cells.append(text + mark)
        if show_overall:
            value = overall.get(rule.text)
            if value is None:
                mark = notes.mark("Overall", "needs the headline score of all seven benchmarks")
            else:
                mark = notes.mark("Overall", "rests on a marked number") if marked else ""
            cells.append(_number(value) + mark)
        table.add_row(rule.label(with_n=len(ns) > 1), *cells)
    totals = [str(max((c.get("total", 0) + c.get("no_pick", 0) for c in accuracy[b].values()), default=0))
              for b, _ in columns]
    table.add_row("[dim]problems[/]", *[f"[dim]{t}[/]" for t in totals], *([""] if show_overall else []))
    _print(console, title, table)
    notes.print(console)


def _selection_cell(cell: dict[str, Any] | None, metric: dict[str, Any] | None, column: str,
                    notes: Footnotes) -> tuple[str, str]:
    if cell is None:
        return "-", ""
    if cell.get("unavailable"):
        return "n/a", notes.mark(column, cell["unavailable"])
    if metric is not None:
        score = metric.get("score")
        warning = metric.get("warning")
        return _number(score), notes.mark(column, warning) if warning else ""
    return _number(cell.get("accuracy")), notes.mark(column, cell["warning"]) if cell.get("warning") else ""


def _has_all_seven(by_benchmark: dict[str, Any]) -> bool:
    from tts.metrics import OVERALL_BENCHMARKS

    return set(OVERALL_BENCHMARKS) <= set(by_benchmark)


# ------------------------------------------------------------------------------------------ curve table
def print_curve_table(report: dict[str, Any], ns: Sequence[int], aggregations: Sequence[str], *,
                      first_n: bool = False, console: Any = None) -> None:
    """Accuracy (%) with its 95% interval below it: benchmarks (and Overall) as columns, one row per
    strategy at each n in ``ns`` under each of ``aggregations`` (strategies that read no scores once)."""
    from tts.strategies import STRATEGIES

    console = console or make_console()
    section = report["first_n"] if first_n else report
    info = report["curve_info"]
    overall = section.get("overall_curves")
    convention = "first n samples" if first_n else f"random n-subsets, {info['draws']} draws for votes"
    aggs = ", ".join(aggregations)
    at = f" at n={ns[0]}" if len(ns) == 1 else ""
    title = f"Accuracy (%){at} and 95% CI, critic {info['critic'] or 'none'}, aggregation {aggs}, {convention}"
    table = _table("strategy")
    columns = column_titles(list(section["curves"]))
    for _, name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    if overall:
        table.add_column(overall["name"], justify="right", no_wrap=True)
    notes = Footnotes()
    names = sorted(set(info["strategies"]) | set(info["unavailable"]),
                   key=lambda s: (ROW_ORDER.index(s) if s in ROW_ORDER else len(ROW_ORDER), s))
    for i, n in enumerate(ns):
        if i:
            table.add_section()
        for strategy in names:
            free = strategy in STRATEGIES and STRATEGIES.get(strategy).aggregation_free
            for agg in ([aggregations[0]] if free else aggregations):
                label = strategy if free or len(aggregations) == 1 else f"{strategy}/{agg}"
                label += f"@{n}" if len(ns) > 1 else ""
                if strategy in info["unavailable"]:
                    mark = notes.mark(strategy, info["unavailable"][strategy])
                    table.add_row(label, *["n/a" + mark] * (len(columns) + bool(overall)))
                    continue
                cells = [_curve_cell(section, bench, strategy, agg, n) for bench, _ in columns]
                if overall:
                    cells.append(_curve_cell(overall, None, strategy, agg, n))
                table.add_row(label, *cells)
    _print(console, title, table)
    if overall:
        what = "the seven benchmarks" if overall["name"] == "Overall" else f"the {len(overall['benchmarks'])} benchmarks"
        console.print(f"[dim]{overall['name']}: unweighted mean of {what}' accuracies (the card's Overall uses DynaMath's "
                      "worst case and WeMath's 4-D score: see the official-metric table).[/]")
    notes.print(console)


def _curve_cell(block: dict[str, Any], bench: str | None, strategy: str, agg: str, n: int) -> str:
    def get(name: str) -> float | None:
        node = block[name] if bench is None else block[name].get(bench, {})
        per_agg = node.get(strategy, {})
        series: dict[str, float | None] = per_agg.get(agg) or next(iter(per_agg.values()), {})
        return series.get(str(n))

    value, low, high = get("curves"), get("ci_low"), get("ci_high")
    if value is None:
        return "-"
    interval = f"\n[dim]{low:.0f}-{high:.0f}[/]" if low is not None and high is not None else ""
    return f"{value:.1f}{interval}"


# --------------------------------------------------------------------------------------- other sections
def print_issues(issues: Sequence[Any], *, examples: int = 5) -> None:
    """Partial failures on stderr: how many of how many, and the first reasons.

    Skipped dataset rows are listed as ``tts problems`` lists them (``warning: <row>: <why>``).
    """
    if not issues:
        return
    err = make_console(stderr=True)
    for issue in issues:
        if issue.stage == "preflight":
            for message in issue.examples:
                err.print(f"warning: {message}", markup=False, soft_wrap=True)
            continue
        if issue.stage == "problems":
            for message in issue.examples:
                err.print(f"warning: {message}", markup=False, soft_wrap=True)
            more = f" ({issue.count - len(issue.examples)} more in manifest.json)" if issue.count > len(issue.examples) else ""
            err.print(f"warning: skipped {issue.count} bad dataset row(s){more}", markup=False, soft_wrap=True)
            continue
        err.print(f"warning: {issue.count} of {issue.total} {issue.what}; the first reasons:", markup=False,
                  soft_wrap=True)
        for message in issue.examples[:examples]:
            err.print(f"  {message}", markup=False, soft_wrap=True)


def print_comparison(report: dict[str, Any], console: Any) -> None:
    """Published numbers beside ours, benchmarks as columns (one block of three rows per expected rule), then
    the evaluation-fidelity settings the run used."""
    from rich.markup import escape

    from tts.stages.report_sections import fidelity_lines

    for expected_rule, block in report.get("comparison", {}).items():
        benches = [b for b in block["benchmarks"] if b != "overall"]
        columns = column_titles(benches)
        has_overall = "overall" in block["benchmarks"]
        ours_rule = block.get("rule") or "not run"
        title = f"Ours vs published: {expected_rule} (our rule: {ours_rule})"
        table = _table("")
        for _, name in columns:
            table.add_column(name, justify="right", no_wrap=True)
        if has_overall:
            table.add_column("Overall", justify="right", no_wrap=True)
        keys = [b for b, _ in columns] + (["overall"] if has_overall else [])
        rows = [block["benchmarks"][k] for k in keys]
        names = [name for _, name in columns] + (["Overall"] if has_overall else [])
        notes = Footnotes()
        table.add_row("ours", *[("-" if r["ours"] is None else _number(r["ours"]))
                                + (notes.mark(name, r["warning"]) if r.get("warning") else "")
                                for r, name in zip(rows, names)])
        table.add_row("published", *[f"{r['expected']:.1f}" for r in rows])
        table.add_row("delta", *["-" if r["delta"] is None else f"{r['delta']:+.1f}" for r in rows])
        _print(console, title, table)
        notes.print(console)
    for line in fidelity_lines(report.get("fidelity") or {}):
        console.print(escape(line))


def print_cost(report: dict[str, Any], console: Any) -> None:
    cost = report.get("cost")
    if not cost:
        return
    pol = cost["policy"]
    parts = [f"policy: {pol['rollouts']} rollouts, {pol['prompt_tokens']:,} prompt + {pol['completion_tokens']:,} "
             "completion tokens"]
    for label, c in cost.get("critics", {}).items():
        parts.append(f"critic {label}: {c['tokens']:,} tokens over {c['rollouts']} rollouts")
    if cost.get("seconds"):
        parts.append("wall s: " + ", ".join(f"{k} {v:.1f}" for k, v in cost["seconds"].items()))
    console.print("[dim]" + "; ".join(parts) + "[/]")


def print_warnings(report: dict[str, Any], console: Any) -> None:
    """What the numbers above rest on: official-scorer fallbacks, data the curves count as wrong, and the
    run's counted warnings (skipped rows, failed problems …) with where to read them."""
    for bench, note in report.get("official_notes", {}).items():
        console.print(f"[yellow]{bench}[/]: {note}")
    for line in (report.get("curve_info") or {}).get("warnings", []):
        console.print(f"[yellow]warning:[/] {line}")
    counted = {stage: n for stage, n in (report.get("warnings") or {}).items() if n}
    if counted:
        listed = ", ".join(f"{stage} {n}" for stage, n in counted.items())
        console.print(f"[yellow]warning:[/] the run recorded warnings ({listed}); see manifest.json 'warnings' "
                      "and run.log")
