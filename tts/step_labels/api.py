"""``label_run``: Monte Carlo step labels for a run's rollouts (what ``tts label`` calls).

Where the labels live: ``RUN/labels/`` unless ``out`` says otherwise. Inside the run they travel with the
rollouts they describe, and the run's writer lock is held while they are written (like every command that
writes into a run). A long label job on a run others are still working on (scoring with another critic, say)
can write to a folder outside it instead (``out``): the run is then only read (no lock, not a byte changed) and
the folder has its own writer lock. Either way the folder binds the run it labels (its creation time, and its
path when the folder is outside it), and every journal line carries the text hash of its rollout, so the labels
of two runs, or of an edited rollout, never mix.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts.engines.base import Engine
from tts.errors import ConfigError
from tts.jsonl import jsonable
from tts.records import GradingRules, MCStep, Problem, Rollout, StepLabels
from tts.rundir import RunDir, RunDirError
from tts.step_labels.generate import Cost, GraderLike, label_targets
from tts.step_labels.plan import Estimate, Selection, estimate, select_targets
from tts.step_labels.policy import check_prompt, load_policy_engine, policy_of, prompt_set_of, sample_fresh
from tts.step_labels.settings import CONTINUATIONS, MAX_STEPS, ROLLOUTS, THRESHOLD, MCSettings
from tts.step_labels.store import REPORT_FILE, LabelError, LabelFolder

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "labels"


@dataclass
class LabelResult:
    """What a call found, planned, spent and wrote."""

    out: Path
    estimate: Estimate
    cost: Cost | None = None  # None for a dry run
    total_cost: dict[str, Any] = field(default_factory=dict)  # of every journaled step (killed calls included)
    labelled: int = 0  # rollouts with every step labelled
    incomplete: int = 0  # rollouts still missing a step (a failed generation; the next call retries)
    steps: int = 0
    positive: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def labels_path(self) -> Path:
        return self.out / "labels.jsonl"

    def labels(self) -> list[StepLabels]:
        from tts.jsonl import iter_jsonl

        return [StepLabels.from_json(row) for row in iter_jsonl(self.labels_path)]

    def summary(self) -> str:
        if self.dry_run:
            return f"would generate: {self.estimate.describe()}"
        negative = self.steps - self.positive
        share = f" ({negative / self.steps:.1%} '-')" if self.steps else ""
        lines = [f"labelled {self.labelled} rollouts, {self.steps} steps: {self.positive} '+', {negative} '-'{share}"]
        if self.cost is not None and (self.cost.continuations or self.cost.failed or self.cost.settled):
            lines.append(f"this call: {self.cost.describe()}")
            lines.append(f"estimated before starting: {self.estimate.describe()}")
        elif self.cost is not None:
            lines.append("this call generated nothing: every step was already labelled (files rewritten)")
        if self.incomplete:
            lines.append(f"warning: {self.incomplete} rollouts still miss a step (generation failed); run the same "
                         "command again to retry them")
        if self.skipped:
            lines.append("not labelled: " + ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())))
        return "\n".join(lines)


def _pick(problems: Sequence[Problem], limit: int | None) -> list[Problem]:
    """At most ``limit`` problems per benchmark, in run order."""
    if limit is None:
        return list(problems)
    seen: dict[str, int] = {}
    out = []
    for p in problems:
        if seen.get(p.benchmark, 0) < limit:
            seen[p.benchmark] = seen.get(p.benchmark, 0) + 1
            out.append(p)
    return out


def _bound(run: RunDir, settings: MCSettings, model: str, engine: str, *, inside: bool) -> dict[str, Any]:
    """What the folder binds. The run: its creation time, and its path when the folder lies outside it (a folder
    inside a run moves with it)."""
    identity = {"created": run.manifest.get("created")}
    if not inside:
        identity["path"] = str(run.path.resolve())
    return {"mc": settings.to_json(), "run": identity, "prompt": run.config("prompt") or {},
            "policy": {"model": model, "engine": engine}}


def _lock_folder(run: RunDir, folder: LabelFolder) -> contextlib.AbstractContextManager[Any]:
    """The run's writer lock when the folder is inside the run (taken when the run was opened), else the
    folder's own."""
    from tts.runlock import acquire

    inside = folder.path.resolve().is_relative_to(run.path.resolve())
    return contextlib.nullcontext() if inside else acquire(folder.path)


def label_run(run_dir: str | Path, out: str | Path | None = None, *, policy: str | Engine | None = None,
              engine: str | None = None, engine_options: Mapping[str, Any] | None = None,
              benchmarks: Sequence[str] = (), prompt_set: str | None = None, data_dir: str | Path | None = None,
              limit: int | None = None, rollouts: int = ROLLOUTS, continuations: int = CONTINUATIONS,
              max_steps: int | None = MAX_STEPS, early_stop: bool = False, threshold: float = THRESHOLD,
              rules: GradingRules = "strict", temperature: float = 1.0, top_p: float = 1.0, top_k: int | None = 50,
              max_new_tokens: int = 4096, seed: int = 0, stop_on_repetition: bool = True,
              batch_size: int | None = None, device: str | None = None, dtype: str | None = None,
              shard: tuple[int, int] | str | None = None, merge: Sequence[str | Path] = (),
              grader: GraderLike | None = None, workers: int | None = None, dry_run: bool = False,
              on_estimate: Callable[[Estimate], None] | None = None, progress: bool = True) -> LabelResult:
    """Label every step of a run's rollouts with its Monte Carlo score (VisualPRM400K's recipe).

    For each selected rollout (the first ``rollouts`` samples of every problem with a gold answer), its steps
    (the critic's split, up to ``max_steps``) and, for each step, ``continuations`` (K) continuations of the prefix
    ending with that step, sampled from the policy and graded with ``rules``: ``mc = correct / K``, label ``+``
    iff ``mc > threshold``. Defaults are InternVL's v1.1 data script (:mod:`tts.step_labels.settings`).

    Args:
        run_dir: the run directory. With ``benchmarks`` its problems are loaded first (created if missing) and
            ``rollouts`` rollouts per problem sampled with the labelling settings (temperature 1.0 …), as
            InternVL samples the responses it labels.
        out: the label folder (default ``run_dir/labels``); calling again resumes at the (problem, sample, step)
            level. Settings that change an mc score must match (``threshold`` and ``rollouts`` may change).
        policy, engine, engine_options, device, dtype: the model that continues (default: the run's policy and
            engine, with the options its rollouts were sampled with), or a loaded :class:`~tts.engines.Engine`.
        limit: at most this many problems per benchmark.
        shard: ``(i, k)`` or ``"i/k"``: label every k-th problem from index i (K processes, each with its own
            ``out`` folder outside the run, label one run at once; seeds make the shards equal one unsharded job).
        merge: other label folders of the same run and settings (the shards) whose step estimates this folder
            takes before labelling what is still missing.
        early_stop: steps after a step with mc 0 get mc 0 without rollouts (InternVL's ``--early-stop``).
        batch_size: problems per engine call (default: the engine's preferred batch / ``rollouts``, at least 1).
        grader: grades continuations (default: a :class:`~tts.grading.Grader` session with ``rules``).
        dry_run: print-only: the estimate, nothing written, no model loaded.
        on_estimate: called with the estimate before any continuation is generated (the CLI prints it).

    Example:
        >>> from tts.step_labels import label_run
        >>> result = label_run("runs/mv", continuations=16)   # doctest: +SKIP
        >>> print(result.summary()); result.labels()[0].mc      # doctest: +SKIP
    """
    settings = MCSettings(continuations=continuations, max_steps=max_steps, early_stop=early_stop,
                          temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens, seed=seed,
                          stop_on_repetition=stop_on_repetition, rules=rules)
    if rollouts < 1:
        raise ConfigError("--rollouts must be >= 1")
    if batch_size is not None and batch_size < 1:
        raise ConfigError("--batch-size must be >= 1")
    run_dir = Path(run_dir)
    folder = LabelFolder(Path(out) if out is not None else run_dir / DEFAULT_FOLDER)
    inside = folder.path.resolve().is_relative_to(run_dir.resolve())
    loaded = policy if isinstance(policy, Engine) else None
    run = _open_run(run_dir, benchmarks=benchmarks, inside=inside, dry_run=dry_run)
    owned_engine: Engine | None = None
    try:
        model, engine_name = policy_of(run, policy, engine)
        problems = None
        if benchmarks and not dry_run:
            owned_engine, problems = sample_fresh(run, benchmarks, settings, loaded, model, engine_name,
                                                   engine_options or {}, device, dtype, prompt_set, data_dir, limit,
                                                   rollouts, batch_size, progress)
        prompts_set = prompt_set_of(run, prompt_set)
        check_prompt(run)
        selection = _select(run, problems, limit=limit, shard=shard, rollouts=rollouts, max_steps=max_steps)
        bound = _bound(run, settings, model, engine_name, inside=inside)
        folder.check(bound)
        sources = [LabelFolder(m) for m in merge]
        with contextlib.nullcontext() if dry_run else _lock_folder(run, folder):
            if not dry_run:
                folder.bind(bound)
                folder.clean()
            done, ignored = _done(folder, sources, selection, bound, write=not dry_run)
            plan = estimate(selection.targets, done, continuations=continuations, early_stop=early_stop)
            log.info("%s: estimate: %s", folder.path, plan.describe())
            if on_estimate is not None:
                on_estimate(plan)
            if dry_run:
                return LabelResult(folder.path, plan, skipped=selection.counts(), dry_run=True)
            cost = Cost()
            if plan.continuations:
                owned_engine = owned_engine or (None if loaded else load_policy_engine(run, model, engine_name,
                                                                                  engine_options or {}, device, dtype))
                policy_engine = loaded or owned_engine
                assert policy_engine is not None
                folder.bind({"policy_identity": policy_engine.identity()}, {"policy": jsonable(policy_engine.info())})
                cost = label_targets(run, folder, selection, done, policy_engine, grader, settings, prompts_set,
                              batch_size=batch_size, rollouts=rollouts, workers=workers, total=plan.continuations,
                              progress=progress)
                log.info("%s: %s", folder.path, cost.describe())
            return _finish(run, folder, selection, done, prompts_set, threshold, plan, cost, journal_cost(done), ignored)
    finally:
        if owned_engine is not None:
            owned_engine.close()
        run.close()


def _open_run(run_dir: Path, *, benchmarks: Sequence[str], inside: bool, dry_run: bool) -> RunDir:
    """For writing when it gets problems and rollouts (``benchmarks``) or the labels go inside it; else read-only."""
    if not dry_run:
        return RunDir.open(run_dir, create=bool(benchmarks), write=bool(benchmarks) or inside)
    if benchmarks:
        raise ConfigError("--dry-run estimates the labelling of rollouts already in the run; sample them first "
                          "(tts label RUN --benchmark … without --dry-run, or tts sample), then estimate")
    if not (run_dir / "manifest.json").exists():
        raise RunDirError(f"{run_dir} is not a run directory yet; a dry run estimates the labelling of sampled "
                          "rollouts (sample first, or drop --dry-run)")
    return RunDir.open(run_dir, create=False)


def _select(run: RunDir, problems: Sequence[Problem] | None, *, limit: int | None,
            shard: tuple[int, int] | str | None, rollouts: int, max_steps: int | None) -> Selection:
    """The run's problems (at most ``limit`` per benchmark, or those just sampled), this shard's share, and their
    first ``rollouts`` rollouts."""
    from tts.shard import parse_shard, take_shard

    chosen = _pick(run.problems(), None if problems is not None else limit)
    if problems is not None:
        wanted = {p.id for p in problems}
        chosen = [p for p in chosen if p.id in wanted]
    if shard is not None:
        index, count = parse_shard(shard) if isinstance(shard, str) else shard
        chosen = take_shard(chosen, index, count)
    return select_targets(chosen, run.read(Rollout), rollouts_per_problem=rollouts, max_steps=max_steps)


def _done(folder: LabelFolder, sources: Sequence[LabelFolder], selection: Selection, bound: Mapping[str, Any], *,
          write: bool) -> tuple[dict[tuple, MCStep], dict[str, int]]:
    """The steps already estimated: this folder's journal, plus the lines of ``sources`` (other label folders of
    the same run and settings, e.g. shards) that it lacks, appended to it unless this is a dry run."""
    hashes = {t.key: t.rollout.text_hash for t in selection.targets}
    done, ignored = folder.read_journal(hashes)
    for source in sources:
        source.check_same(bound)
        theirs, _ = source.read_journal(hashes)
        new = [step for key, step in theirs.items() if key not in done]
        if write and new:
            with folder.appender() as journal:
                folder.append(journal, new)
        done.update((s.key(), s) for s in new)
        log.info("%s: %d step estimates taken from %s", folder.path, len(new), source.path)
    if ignored.get("stale") or ignored.get("duplicate"):
        log.warning("%s: ignored %s journal line(s) (stale: of a rollout whose text changed; duplicate); those "
                    "steps are labelled again", folder.journal_path,
                    ", ".join(f"{v} {k}" for k, v in ignored.items() if k != "other"))
    return done, ignored


def _finish(run: RunDir, folder: LabelFolder, selection: Selection, done: Mapping[tuple, MCStep], prompt_set: str,
            threshold: float, plan: Estimate, cost: Cost, total: dict[str, Any], ignored: dict[str, int]) -> LabelResult:
    """Write labels.jsonl, the training formats and report.json from the journal."""
    from tts.jsonl import write_json_atomic
    from tts.prompts import build_prompt, prompt_text
    from tts.step_labels.formats import step_labels, write_files

    labels, incomplete = step_labels(selection.targets, done, threshold)
    targets = {t.key: t for t in selection.targets}
    prompts = {t.problem.id: build_prompt(t.problem, prompt_set) for t in selection.targets}
    files = write_files(folder.path, labels, targets, prompts=prompts, run_path=run.path,
                        system=prompt_text("visualprm_system"), meta_key=f"{run.path.resolve().name}_prm")
    steps = sum(len(lab.steps) for lab in labels)
    positive = sum(sum(lab.labels) for lab in labels)
    skipped = selection.counts()
    report = {
        "run": str(run.path.resolve()), "threshold": threshold, "problems": selection.problems,
        "rollouts_labelled": len(labels), "rollouts_incomplete": [f"{t.problem.id}#{t.rollout.sample_idx}" for t in incomplete],
        "steps": steps, "positive": positive, "negative": steps - positive,
        "mean_mc": (sum(sum(lab.mc) for lab in labels) / steps) if steps else None,
        "skipped": skipped, "skipped_examples": {k: v[:10] for k, v in selection.skipped.items()},
        "journal_ignored": ignored, "estimate": plan.to_json(), "cost": cost.to_json(), "cost_total": total,
        "warnings": cost.warnings[:50], "files": {k: str(v.relative_to(folder.path)) for k, v in files.items()},
    }
    write_json_atomic(folder.path / REPORT_FILE, report)
    return LabelResult(folder.path, plan, cost, total, len(labels), len(incomplete), steps, positive, skipped, files)


def journal_cost(done: Mapping[tuple, MCStep]) -> dict[str, Any]:
    """What the journaled steps cost, summed from the journal itself, so work of a killed call is counted."""
    steps = list(done.values())
    return {"steps": sum(s.total > 0 for s in steps), "continuations": sum(s.total for s in steps),
            "tokens": sum(s.tokens for s in steps), "prompt_tokens": sum(s.prompt_tokens for s in steps),
            "engine_seconds": round(sum(s.seconds for s in steps), 3)}


__all__ = ["DEFAULT_FOLDER", "LabelError", "LabelResult", "label_run"]
