"""The label files made from the journal: ``labels.jsonl``, VisualPRM400K's conversations, TRL's stepwise rows.

Only rollouts whose every step has an estimate are written (a rollout with a failed step waits for the next call).
Rows follow the run's problem order, then the sample index, so the files do not depend on the order work was done
in (a resumed call writes the same bytes as a clean one).

``visualprm400k.jsonl`` — what InternVL's ``visualprm_data_pipeline_postprocess.py`` (``item2conv_prm``) writes,
i.e. the critic's own conversation (:mod:`tts.critics.visualprm`) with the labels as replies::

    {"id": "p1#0", "image": "images/….png",
     "conversations": [{"from": "system", "value": <VisualPRM's process-supervision prompt>},
                       {"from": "human", "value": "### Question:\\n<image>\\n…\\n\\n### Solution Process:\\n<step 0>"},
                       {"from": "gpt", "value": "+"}, {"from": "human", "value": "<step 1>"}, {"from": "gpt", "value": "-"}, …]}

The question is the full policy prompt the rollout answered (``<image>`` placeholders included; ``<image>\\n`` put in
front when it has none), as InternVL's pipeline stores it. ``image`` is relative to the ``root`` of ``meta.json``
(the run directory): a list for several images, absent for text-only problems. InternVL writes ``"id": -1``; the
id here names the rollout. Every step is supervised (the post-processor's ``--early-stop`` is off by default).

``trl_prm.jsonl`` — TRL's stepwise-supervision format (``prompt``, ``completions``, ``labels``), which TRL's
``PRMTrainer`` tokenizes as ``prompt`` followed by each completion and the step separator, labelling each step's
last token. Set ``PRMConfig(step_separator="\\n\\n")`` to train on the rollout's own text (TRL's default is
``"\\n"``). Extra columns: ``images`` (absolute paths; cast with ``datasets.Sequence(datasets.Image())``, see
:func:`load_trl_prm`), ``mc``, ``problem_id``, ``sample_idx``. TRL's PRM trainer is text-only and drops them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tts.jsonl import write_bytes_atomic, write_json_atomic
from tts.records import MCStep, StepLabels
from tts.step_labels.plan import Target

PLUS, MINUS = "+", "-"


def step_labels(targets: Iterable[Target], done: Mapping[tuple, MCStep], threshold: float) -> tuple[list[StepLabels], list[Target]]:
    """Labels of every fully estimated rollout (in ``targets`` order) and the rollouts still missing a step."""
    labels, incomplete = [], []
    for t in targets:
        steps = [done.get(t.step_key(k)) for k in range(len(t.steps))]
        if any(s is None for s in steps):
            incomplete.append(t)
            continue
        found = [s for s in steps if s is not None]
        flags = (("early_stop",) if any("early_stop" in s.flags for s in found) else ()) + \
            (() if t.rollout.finish_reason == "stop" else (f"rollout_{t.rollout.finish_reason}",))
        labels.append(StepLabels(
            t.problem.id, t.rollout.sample_idx, t.steps, tuple(s.mc for s in found), tuple(s.correct for s in found),
            tuple(s.total for s in found), tuple(s.mc > threshold for s in found), threshold, t.rollout.text_hash,
            flags,
        ))
    return labels, incomplete


def conversation_row(label: StepLabels, question: str, images: Sequence[str], system: str) -> dict[str, Any]:
    """One VisualPRM400K training conversation (see the module docstring)."""
    from tts.critics.visualprm import first_turn

    turns: list[dict[str, str]] = [{"from": "system", "value": system}]
    for i, (step, plus) in enumerate(zip(label.steps, label.labels)):
        turns.append({"from": "human", "value": first_turn(question, step, len(images)) if i == 0 else step})
        turns.append({"from": "gpt", "value": PLUS if plus else MINUS})
    row: dict[str, Any] = {"id": f"{label.problem_id}#{label.sample_idx}"}
    if images:
        row["image"] = images[0] if len(images) == 1 else list(images)
    row["conversations"] = turns
    return row


def trl_row(label: StepLabels, prompt: str, images: Sequence[str]) -> dict[str, Any]:
    """One TRL stepwise-supervision row (see the module docstring)."""
    return {"prompt": prompt, "completions": list(label.steps), "labels": list(label.labels), "images": list(images),
            "mc": list(label.mc), "problem_id": label.problem_id, "sample_idx": label.sample_idx}


def _lines(rows: Iterable[Mapping[str, Any] | str]) -> bytes:
    parts = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False, allow_nan=False) for r in rows]
    return "".join(p + "\n" for p in parts).encode("utf-8")


def write_files(out: Path, labels: Sequence[StepLabels], targets: Mapping[tuple[str, int], Target], *,
                prompts: Mapping[str, str], run_path: Path, system: str, meta_key: str) -> dict[str, Path]:
    """Write ``labels.jsonl``, ``visualprm400k.jsonl`` + ``meta.json`` and ``trl_prm.jsonl`` (each replaced whole)."""
    from tts.step_labels.store import CONVERSATIONS_FILE, LABELS_FILE, META_FILE, TRL_FILE

    run_path = run_path.resolve()
    conversations, trl = [], []
    for label in labels:
        problem = targets[label.key()].problem
        refs = list(problem.images)  # relative to the run directory (or absolute)
        absolute = [str(run_path / ref) for ref in refs]
        conversations.append(conversation_row(label, prompts[problem.id], refs, system))
        trl.append(trl_row(label, prompts[problem.id], absolute))
    paths = {"labels": out / LABELS_FILE, "conversations": out / CONVERSATIONS_FILE, "meta": out / META_FILE,
             "trl": out / TRL_FILE}
    write_bytes_atomic(paths["labels"], _lines(r.to_line() for r in labels))
    write_bytes_atomic(paths["conversations"], _lines(conversations))
    write_bytes_atomic(paths["trl"], _lines(trl))
    meta = {meta_key: {"root": str(run_path), "annotation": str(paths["conversations"].resolve()),
                       "data_augment": False, "repeat_time": 1, "length": len(conversations)}}
    write_json_atomic(paths["meta"], meta)
    return paths


def load_trl_prm(path: str | os.PathLike[str], *, decode: bool = True) -> Any:
    """``trl_prm.jsonl`` as a ``datasets.Dataset``, ``images`` cast to ``Sequence(Image())`` when there are any."""
    import datasets

    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    if "images" in ds.column_names and any(ds["images"]):
        ds = ds.cast_column("images", datasets.Sequence(datasets.Image(decode=decode)))
    return ds


__all__ = ["conversation_row", "load_trl_prm", "step_labels", "trl_row", "write_files"]
