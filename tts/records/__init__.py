"""The five pipeline records and their JSON line formats: problem → rollout → step scores → grade → selection.

That is the stages' order (:mod:`tts.stages`): rollouts are scored by a critic and graded, and a selection
reads both (the critic's scores and the strict grades, whose extracted answers the votes cluster).

Every stage of a run writes exactly one record type, one JSON object per line, and never edits a record
written by another stage. Records are frozen dataclasses; sequences are stored as tuples so a record can
not be changed after it is made. This package is the single place where the line formats are defined (the classes live in
:mod:`tts.records.pipeline` and :mod:`tts.records.labels`, their common base in :mod:`tts.records.base`).

Line formats (keys in order; ``?`` marks a key that may be ``null``):

``problems.jsonl`` — :class:`Problem`
    ``id, benchmark, split, question, images, choices, answer?, question_type, answer_type, precision?,
    unit?, meta``. ``images`` are file paths relative to the run directory (or absolute); images are never
    inlined. ``question_type`` is ``multi_choice|free_form``; ``answer_type`` is
    ``text|integer|float|list|expression``. ``answer`` is a string, or a list of strings when several golds
    are accepted (MMMU), or ``null`` when the split hides its answers.

``rollouts.jsonl`` — :class:`Rollout`
    ``problem_id, sample_idx, text, finish_reason, prompt_tokens, completion_tokens, seconds, model, engine,
    seed?, flags``. ``text`` is the response as InternVL's ``model.chat`` returns it (cut at ``<|im_end|>``,
    stripped; :func:`tts.stages.sample.reference_response`), ``completion_tokens`` counts the raw decode.
    ``finish_reason`` is ``stop|length|error``. ``seconds`` is this rollout's share of the
    wall time of the engine call that produced it, so the sum over rollouts is the sampling wall time.
    ``seed`` is the per-problem seed the engine was given. ``flags`` holds markers such as ``greedy`` or
    ``repetition``. ``search?``: only on the final candidates of a step-level search (``tts search``; the key
    is absent on sampled rollouts): ``{"algorithm", "node", "settings"}``, the search algorithm, the node of
    its tree (``search/<algorithm>.jsonl``) the candidate ends at, and the settings the algorithm read
    (:mod:`tts.search.records`).

``scores/<critic>.jsonl`` — :class:`StepScores`
    ``problem_id, sample_idx, critic, steps, scores, flags, tokens?, text_hash``. ``scores[i]`` is the
    critic's score of ``steps[i]`` (for VisualPRM: P(+) at that step). An empty ``scores`` means unscored
    (flag ``unscored``); every strategy ranks such a rollout last. ``tokens`` is the length of the sequence
    the critic read (for cost accounting), ``null`` when the critic does not report it. ``critic`` is the
    label of the file the line belongs to.

``grades.jsonl`` — :class:`Grade`
    ``problem_id, sample_idx, extracted?, correct, reason, rules, text_hash, flags``. One line per rollout
    and set of grading rules (``strict``: a careful human's verdict, or ``official``: the benchmark's
    published scorer). Lines written before the rename carry the same value under ``scoring``; they are
    read as ``rules``.

``selections.jsonl`` — :class:`Selection`
    ``problem_id, strategy, aggregation, n, critic?, sample_idx?, answer?, flags, text_hash?``. The rollout a
    strategy chose among the first ``n`` samples; ``sample_idx`` is ``null`` when no rollout could be chosen.

What a record depends on (``text_hash``, in scores and grades)
    The first 16 hex digits of the SHA-256 of the rollout ``text`` (UTF-8) the score or grade was computed
    from (:func:`hash_text`). A line whose hash differs from its rollout's is *stale* (the rollout was
    edited, or the line was copied from another run): readers ignore it, the stage computes it again and
    ``tts doctor`` reports it. Lines written before the field existed have no hash: they are read as
    unknown, not stale. Written only when known (an absent key reads as unknown). A selection depends on the
    texts of the first ``n`` rollouts of its problem (through their scores and grades): its ``text_hash`` is
    :func:`hash_texts` of their hashes in sample order, and it is stale, ignored and chosen again, in the same way.

Text that UTF-8 cannot encode (``flags``)
    A lone surrogate (``"\\ud800"``, from a JSON escape in a server reply or a dataset file) cannot be
    written as UTF-8. Every record replaces each one with U+FFFD on construction and says so: the flag
    ``unencodable_replaced`` in ``flags`` (rollouts, scores, grades, selections) or the key
    ``"unencodable_replaced": true`` in a problem's ``meta``. A well-formed surrogate pair becomes its
    character. ``flags`` of grades and selections is written only when not empty.

Outside run directories, ``tts critic-eval`` writes one more record type:

``<out>/scores.jsonl`` — :class:`LabelledStepScores`
    ``sample_id, source, critic, labels, scores, flags, policy_model, tokens?``. A critic's scores of the
    human-labelled steps of one benchmark solution (VisualProcessBench): ``labels[i]`` is the label of step
    ``i`` (1 correct, 0 neutral, -1 incorrect) and ``scores[i]`` the critic's score of it, ``null`` when
    the critic gave it none (``flags`` says why: ``unscored`` with a reason, or ``truncated`` /
    ``dropped_steps:<k>`` when the start of a long solution did not fit the critic's context).

``tts label`` (Monte Carlo step labels, :mod:`tts.step_labels`) writes two more, in its label folder (``RUN/labels``
by default):

``mc_steps.jsonl`` — :class:`MCStep`
    ``problem_id, sample_idx, step_idx, n_steps, correct, total, cut, tokens, prompt_tokens, seconds, seed?,
    digest?, text_hash?, flags``. One step prefix of one rollout (steps ``0..step_idx`` joined by a blank line)
    continued ``total`` times by the policy; ``correct`` continuations reached a correct answer (prefix +
    continuation graded), ``cut`` ended at the token cap (or a loop) rather than the end of sequence. ``mc`` is
    ``correct / total``. ``total`` is 0 only with the flag ``early_stop`` (an earlier step had mc 0, so this one
    is 0 without rollouts, as InternVL's ``--early-stop``). ``tokens`` / ``prompt_tokens`` are the continuations'
    generated tokens and the prompt tokens of the request, ``seconds`` its share of the engine call's wall time;
    ``seed`` the request's seed (continuation ``j`` drew with ``seed + j``), ``digest`` the first 16 hex digits of
    the SHA-256 of the continuation texts (a reproducibility check). The append-only journal the stage resumes
    from, one line per (problem, sample, step).

``labels.jsonl`` — :class:`StepLabels`
    ``problem_id, sample_idx, steps, mc, correct, total, labels, threshold, text_hash?, flags``. One rollout whose
    every step has an :class:`MCStep`: ``labels[i]`` is ``mc[i] > threshold`` (VisualPRM's ``+``). Rewritten from
    the journal at the end of every ``tts label`` call (so a new ``--threshold`` needs no new rollouts).

Example:
    >>> r = Rollout(problem_id="p1", sample_idx=0, text="Answer: \\\\boxed{2}", finish_reason="stop",
    ...             prompt_tokens=10, completion_tokens=5, seconds=0.1, model="m", engine="transformers")
    >>> Rollout.from_json(r.to_json()) == r
    True
"""

from __future__ import annotations

from tts.records.base import (
    ANSWER_TYPES,
    FINISH_REASONS,
    GRADING_RULES,
    QUESTION_TYPES,
    SCHEMA_VERSION,
    UNENCODABLE_FLAG,
    AnswerType,
    FinishReason,
    GradingRules,
    QuestionType,
    Record,
    RecordError,
    hash_text,
    hash_texts,
    records_from_lines,
)
from tts.records.labels import LabelledStepScores, MCStep, StepLabels
from tts.records.pipeline import Grade, Problem, Rollout, Selection, StepScores

DEPENDENT_TYPES: tuple[type[StepScores], type[Grade]] = (StepScores, Grade)
"""Records computed from one rollout's text (they carry ``text_hash``)."""

#: The record types of a run directory, by stage (``LabelledStepScores`` lives outside runs; ``MCStep`` and
#: ``StepLabels`` in a label folder).
RECORD_TYPES: dict[str, type[Record]] = {
    cls.STAGE: cls for cls in (Problem, Rollout, StepScores, Grade, Selection)
}

__all__ = [
    "ANSWER_TYPES",
    "AnswerType",
    "DEPENDENT_TYPES",
    "FINISH_REASONS",
    "FinishReason",
    "GRADING_RULES",
    "Grade",
    "GradingRules",
    "LabelledStepScores",
    "MCStep",
    "Problem",
    "QUESTION_TYPES",
    "QuestionType",
    "RECORD_TYPES",
    "Record",
    "RecordError",
    "Rollout",
    "SCHEMA_VERSION",
    "Selection",
    "StepLabels",
    "StepScores",
    "UNENCODABLE_FLAG",
    "hash_text",
    "hash_texts",
    "records_from_lines",
]
