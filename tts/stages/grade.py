"""Stage 3: grade every rollout's final answer (``grades.jsonl``, one line per rollout and rules mode).

Each grade carries the :func:`~tts.records.hash_text` of the rollout text it judged, so a grade whose
rollout changed since is ignored on reading and graded again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tts.progress import progress_bar
from tts.records import Grade, GradingRules, Problem, Rollout, hash_text
from tts.rundir import RunDir
from tts.stages.common import after_batch, chunks, select_problems


def grade_run(run: RunDir, problems: Sequence[Problem] | None = None, *, rules: GradingRules = "strict",
              batch_size: int = 512, workers: int | None = None, progress: bool = True) -> int:
    """Grade the rollouts of ``problems`` (default: all) not yet graded under ``rules``; returns lines written.

    One grading session for the whole stage, so its worker processes start once (not once per batch);
    each batch is appended as it completes, so an interrupted stage resumes where it stopped.
    """
    from tts.grading import Grader

    by_id = {p.id: p for p in select_problems(run, problems)}
    done = run.keys(Grade)
    mine = [r for r in run.read(Rollout) if r.problem_id in by_id]
    todo = [r for r in mine if (r.problem_id, r.sample_idx, rules) not in done]
    written = 0
    with Grader(rules, workers, expected=len(todo)) as grader, \
            progress_bar(f"grading ({rules})", total=len(todo), unit="rollouts", enabled=progress) as advance:
        # MMMU's official random letters: one seeded stream in rollout order, continued after a resume
        grader.skip([(r.text, by_id[r.problem_id], r.sample_idx) for r in mine
                     if (r.problem_id, r.sample_idx, rules) in done])
        for batch in chunks(todo, batch_size):
            items = [(r.text, by_id[r.problem_id], r.sample_idx) for r in batch]
            hashes = {(r.problem_id, r.sample_idx): hash_text(r.text) for r in batch}
            written += run.append([dataclasses.replace(g, text_hash=hashes.get((g.problem_id, g.sample_idx)))
                                   for g in grader.grade(items)])
            advance(len(batch))
            after_batch()
    run.update_stage(f"grade:{rules}", graded=len([k for k in run.keys(Grade) if k[2] == rules]))
    return written
