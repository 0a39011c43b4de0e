"""``evaluate_critic``: score VisualProcessBench with any critic and write the report (what the CLI calls)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts.benchmarks.visualprocessbench import LoadedSamples
from tts.critic_eval.report import build_report, format_table, not_applicable_report, plot_report
from tts.critic_eval.scoring import OutputDir, ScoringSummary, score_samples
from tts.critics.base import Critic
from tts.jsonl import jsonable, write_json_atomic

log = logging.getLogger(__name__)

REPORT_FILE = "report.json"
PLOT_FILE = "report-f1.png"
ORM_REASON = ("an outcome reward model scores the whole response as one step, so it gives no score to "
              "VisualProcessBench's individual steps; step-level F1 does not apply")


@dataclass
class CriticEvalResult:
    """Where the results are, the report (as in ``report.json``) and what this call scored."""

    out: Path
    report: dict[str, Any]
    summary: ScoringSummary | None

    @property
    def report_path(self) -> Path:
        return self.out / REPORT_FILE

    @property
    def plot_path(self) -> Path | None:
        path = self.out / PLOT_FILE
        return path if self.report["applicable"] and path.exists() else None

    def table(self) -> str:
        return format_table(self.report)


def _is_outcome_model(critic: Critic | str, kind: str) -> bool:
    """Outcome-only critics say so with ``orm = True`` (``visualprm-orm``); known without loading the model."""
    if isinstance(critic, Critic):
        return bool(getattr(critic, "orm", False))
    from tts.critics import CRITICS

    return bool(getattr(CRITICS.get(kind), "orm", False))


def evaluate_critic(critic: Critic | str, out: str | os.PathLike[str], *, kind: str = "visualprm",
                    critic_options: Mapping[str, Any] | None = None, label: str | None = None,
                    data_dir: str | os.PathLike[str] | None = None, revision: str | None = None,
                    threshold: float = 0.5, batch_size: int = 8, limit: int | None = None,
                    sources: Sequence[str] | None = None, max_tiles: int | None = None, strict: bool = False,
                    progress: bool = True) -> CriticEvalResult:
    """Score every labelled step of VisualProcessBench with ``critic`` and report the paper's F1.

    Args:
        critic: a loaded :class:`~tts.critics.Critic` (left open), or a model id / path loaded as ``kind``
            with ``critic_options`` and ``label`` (closed at the end).
        out: the output folder; calling again resumes (settings must match; ``threshold`` may change).
        data_dir: local hub snapshots at ``ROOT/OpenGVLab/VisualProcessBench`` (default ``$TTS_DATA_DIR``,
            else the hub at ``revision``).
        threshold: the reported decision threshold (a step is correct iff its score > threshold).
        limit, sources: evaluate the first ``limit`` solutions of each source / only these sources.
        max_tiles: image tiling cap for every solution (default: the source benchmark's Best-of-N cap).

    Example:
        >>> from tts.critic_eval import evaluate_critic
        >>> result = evaluate_critic("OpenGVLab/VisualPRM-8B-v1_1", "out/vpb")  # doctest: +SKIP
        >>> print(result.table()); result.report["overall"]["macro_f1"]  # doctest: +SKIP
    """
    from tts.benchmarks.visualprocessbench import load_visualprocessbench

    folder = OutputDir(out)
    folder.lock()
    try:
        if _is_outcome_model(critic, kind):
            if isinstance(critic, Critic):
                described = {"label": critic.label, **critic.identity()}
            else:
                described = {"label": label or kind, "critic": kind, "model": critic}
            folder.bind({"critic": described}, {})
            report = not_applicable_report(described, ORM_REASON)
            write_json_atomic(folder.path / REPORT_FILE, report)
            return CriticEvalResult(folder.path, report, None)
        loaded = load_visualprocessbench(data_dir, revision=revision, limit=limit, sources=sources, strict=strict)
        try:
            described, summary = _score(folder, critic, loaded, kind=kind, critic_options=critic_options, label=label,
                                        batch_size=batch_size, max_tiles=max_tiles, progress=progress)
        finally:
            loaded.images.close()
        report = build_report(folder.read(), loaded, threshold=threshold, critic=described,
                              warnings=summary.warnings)
        report["dataset_warnings"] = loaded.warnings
        write_json_atomic(folder.path / REPORT_FILE, report)
        plot_report(report, folder.path / PLOT_FILE)
        return CriticEvalResult(folder.path, report, summary)
    finally:
        folder.unlock()


def _score(folder: OutputDir, critic: Critic | str, loaded: LoadedSamples, *, kind: str,
           critic_options: Mapping[str, Any] | None, label: str | None, batch_size: int, max_tiles: int | None,
           progress: bool) -> tuple[dict[str, Any], ScoringSummary]:
    """Load the critic if given by name, bind the settings, score what is missing; the critic's step cap is
    restored (and a critic loaded here closed) afterwards."""
    if isinstance(critic, Critic):
        scorer, owned = critic, False
    else:
        from tts.critics import load_critic

        scorer, owned = load_critic(kind, str(critic), label=label, **dict(critic_options or {})), True
    before = scorer.max_steps
    try:
        scorer.configure(max_steps=None)  # the dataset's steps are the steps: no even merge
        described = {"label": scorer.label, **scorer.identity()}
        folder.bind({"dataset": loaded.identity(), "critic": described, "max_tiles": max_tiles},
                    {"critic": jsonable(scorer.info()), "dataset_root": str(loaded.root),
                     "dataset_revision": loaded.revision})
        start = time.perf_counter()
        summary = score_samples(folder, scorer, loaded, batch_size=batch_size, max_tiles=max_tiles,
                                progress=progress)
        folder.add_time("score", time.perf_counter() - start)
    finally:
        scorer.configure(max_steps=before)
        if owned:
            scorer.close()
    return described, summary


