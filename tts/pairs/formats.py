"""Writing a :class:`~tts.pairs.types.PairSet` as training data: TRL's vision preference format or MMPR's.

``trl`` (``mpo.md`` §3.3) — ``OUT/<method>.jsonl`` and ``OUT/images/``. Columns ``prompt``, ``chosen``,
``rejected`` in TRL's conversational form (the user turn holds one ``{"type": "image"}`` block per
``<image>`` placeholder, in order, and the text around them; a system turn carries the policy's system
message) and ``images`` (absolute paths of the copied files), plus the string columns ``pair_id``,
``problem_id``, ``method`` and ``kind`` (DPOTrainer drops columns it does not use). Ready for TRL::

    ds = datasets.load_dataset("json", data_files="OUT/correctness.jsonl", split="train")
    ds = ds.cast_column("images", datasets.Sequence(datasets.Image()))
    trainer = trl.DPOTrainer(model, args=trl.DPOConfig(loss_type=["sigmoid", "bco_pair", "sft"],
                             loss_weights=[0.8, 0.2, 1.0], max_length=None), train_dataset=ds, processing_class=processor)

(:func:`load_trl` does the same and re-roots the image paths when the folder was moved.)

``mmpr`` (``mpo.md`` §1.2-1.3) — InternVL's layout: ``OUT/images/``, ``OUT/annotations/<benchmark>_<split>_<suffix>.jsonl``
with lines ``{image, question, chosen, rejected, answer_gt, chosen_meta, rejected_meta}`` (``image`` a file
name relative to the meta ``root``, a list for several images, absent for text-only; ``question`` the full
policy prompt with its ``<image>`` placeholders), and ``OUT/meta.json`` with one entry per annotation file
``{root, annotation, data_augment: false, repeat_time: 1, length}``. The suffixes are MMPR's
(``pairs_vqa_correctness_rules``, ``pairs_vqa_format_rules``, ``dropout_ntp``) plus ``pairs_vqa_prm_rules``,
``pairs_vqa_prm_format_rules`` and ``step_dpo``. An existing ``meta.json`` is merged, so several methods can
share one folder.

Both formats write ``OUT/provenance/<method>.jsonl`` (per pair: the rollouts it came from, their grades and
critic scores) and ``OUT/reports/<method>.json`` (the settings and the report).

Step pairs (``step.jsonl``) are Step-DPO's triple in TRL's *standard* (string) format: ``prompt`` is the
rendered policy prompt with the assistant turn already continued by ``initial_reason_steps`` (the shared
correct prefix), ``chosen``/``rejected`` are the two next steps alone, with no end-of-turn (the solution goes
on). A conversational row cannot say this: TRL would close the prefix as its own assistant turn, and the
prefix inside both completions would not cancel in MPO's ``bco_pair`` and ``sft`` terms (and ``sft`` would
learn to stop after one step). TRL skips its EOS step for vision datasets, so the rows train as written.
MMPR rows (InternVL's trainer has no prefix slot) keep ``initial_reason_steps + step`` on both sides plus an
``initial_reason_steps`` column.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts.jsonl import read_jsonl, write_json_atomic
from tts.pairs.types import Pair, PairSet
from tts.registry import Registry

MMPR_SUFFIX = {
    "correctness": "pairs_vqa_correctness_rules",
    "format": "pairs_vqa_format_rules",
    "prm": "pairs_vqa_prm_rules",
    "prm_format": "pairs_vqa_prm_format_rules",
    "dropout_ntp": "dropout_ntp",
    "step": "step_dpo",
}
METHOD_KINDS = {
    "correctness": ("correctness", "format"),
    "prm": ("prm", "prm_format"),
    "dropout-ntp": ("dropout_ntp",),
    "step": ("step",),
}


@dataclass(frozen=True)
class WrittenPairs:
    """What :func:`write_pairs` wrote."""

    out_dir: Path
    format: str
    rows: int
    files: tuple[Path, ...]


def file_stem(method: str) -> str:
    return method.replace("-", "_")


def _write_jsonl_atomic(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Replace ``path`` with the rows (temp file, fsync, rename): an export is rewritten whole, never appended."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
            n += 1
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return n


class ImageCopier:
    """Copies a pair set's image files into ``OUT/images`` once each, under content-addressed names."""

    def __init__(self, out_dir: Path) -> None:
        self.dir = out_dir / "images"
        self.names: dict[str, str] = {}
        self.paths: dict[str, str] = {}

    def name(self, src: str) -> str:
        if src not in self.names:
            path = Path(src)
            # Run images are already named by their hash (tts.images.ImageStore); others get one here.
            if path.parent.name == "images" and re.fullmatch(r"[0-9a-f]{16,}\.\w+", path.name):
                name = path.name
            else:
                name = hashlib.sha256(path.read_bytes()).hexdigest()[:24] + path.suffix.lower()
            dest = self.dir / name
            if not dest.exists():
                self.dir.mkdir(parents=True, exist_ok=True)
                tmp = dest.with_name(f".{name}.tmp-{os.getpid()}")
                shutil.copyfile(path, tmp)
                os.replace(tmp, dest)
            self.names[src] = name
        return self.names[src]

    def path(self, src: str) -> str:
        if src not in self.paths:
            self.paths[src] = str((self.dir / self.name(src)).resolve())
        return self.paths[src]


def user_content(prompt: str, n_images: int) -> list[dict[str, Any]]:
    """TRL content blocks of a prompt with ``<image>`` placeholders (the policy engine's own split).

    >>> user_content("<image>\\nHow many?", 1)
    [{'type': 'image'}, {'type': 'text', 'text': 'How many?'}]
    """
    from tts.prompts import content_parts

    return content_parts(prompt, n_images)


def _text_message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


def trl_step_prompt(pair: Pair, system_message: str | None = None) -> str:
    """A step pair's prompt as TRL's standard (string) format wants it: the policy's own rendering of the
    question (InternVL2.5 ChatML, ``<IMG_CONTEXT>`` per image as the -hf processor expands it) with the
    assistant turn opened and continued by ``initial_reason_steps``, exactly as Step-DPO builds it. An empty
    system message is an empty system turn, as the policy was sampled with; ``None`` leaves the turn out."""
    from tts.models.internvl import chatml
    from tts.prompts import IMAGE_PLACEHOLDER

    return chatml(system_message, pair.prompt.replace(IMAGE_PLACEHOLDER, "<IMG_CONTEXT>"), pair.initial_steps)


def trl_row(pair: Pair, images: list[str], system_message: str | None = None) -> dict[str, Any]:
    """One TRL vision-preference row: conversational, except step pairs (see the module docstring)."""
    common = {"images": images, "pair_id": pair.pair_id, "problem_id": pair.problem_id, "method": pair.method,
              "kind": pair.kind}
    if pair.kind == "step":
        return {"prompt": trl_step_prompt(pair, system_message), "chosen": pair.chosen, "rejected": pair.rejected,
                **common, "initial_reason_steps": pair.initial_steps}
    prompt = [_text_message("system", system_message)] if system_message is not None else []
    prompt.append({"role": "user", "content": user_content(pair.prompt, len(images))})
    return {"prompt": prompt, "chosen": [_text_message("assistant", pair.chosen_response)],
            "rejected": [_text_message("assistant", pair.rejected_response)], **common}


def _side_meta(pair: Pair, chosen: bool) -> dict[str, Any]:
    side = pair.chosen_from if chosen else pair.rejected_from
    return {"pair_id": pair.pair_id, "problem_id": pair.problem_id, "sample_idx": side.sample_idx,
            "outcome": side.outcome, "extracted": side.extracted, "score": side.score}


def mmpr_row(pair: Pair, image_names: list[str]) -> dict[str, Any]:
    """One line of an MMPR annotation file."""
    row: dict[str, Any] = {}
    if image_names:
        row["image"] = image_names[0] if len(image_names) == 1 else image_names
    row.update(question=pair.prompt, chosen=pair.chosen_response, rejected=pair.rejected_response)
    if pair.answer_gt is not None:
        row["answer_gt"] = pair.answer_gt
    if pair.kind == "step":
        row["initial_reason_steps"] = pair.initial_steps
    row.update(chosen_meta=_side_meta(pair, True), rejected_meta=_side_meta(pair, False))
    return row


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "run"


def write_trl(pairset: PairSet, out_dir: Path) -> list[Path]:
    images = ImageCopier(out_dir)
    path = out_dir / f"{file_stem(pairset.method)}.jsonl"
    _write_jsonl_atomic(path, (trl_row(p, [images.path(i) for i in p.images], pairset.system_message)
                               for p in pairset.pairs))
    return [path]


def write_mmpr(pairset: PairSet, out_dir: Path) -> list[Path]:
    images = ImageCopier(out_dir)
    groups: dict[str, list[Pair]] = {}
    for p in pairset.pairs:
        groups.setdefault(f"{_safe(p.benchmark)}_{_safe(p.split)}_{MMPR_SUFFIX[p.kind]}", []).append(p)
    meta_path = out_dir / "meta.json"
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    root = str(images.dir.resolve())
    written = []
    for stem, pairs in sorted(groups.items()):
        path = out_dir / "annotations" / f"{stem}.jsonl"
        n = _write_jsonl_atomic(path, (mmpr_row(p, [images.name(i) for i in p.images]) for p in pairs))
        meta[stem] = {"root": root, "annotation": str(path.resolve()), "data_augment": False, "repeat_time": 1,
                      "length": n}
        written.append(path)
    # A benchmark that gave pairs last time and none now must not keep its old file in meta.json.
    suffixes = tuple(f"_{MMPR_SUFFIX[k]}" for k in METHOD_KINDS.get(pairset.method, ()))
    for stem in [s for s in meta if s.endswith(suffixes) and s not in groups]:
        stale = out_dir / "annotations" / f"{stem}.jsonl"
        if Path(meta[stem].get("annotation", "")) == stale.resolve():
            stale.unlink(missing_ok=True)
            del meta[stem]
    write_json_atomic(meta_path, meta)
    return [*written, meta_path]


FORMATS: Registry[Callable[[PairSet, Path], list[Path]]] = Registry("pair format")
FORMATS.register("trl", write_trl)
FORMATS.register("mmpr", write_mmpr)


def write_pairs(pairset: PairSet, format: str, out_dir: str | Path) -> WrittenPairs:
    """Write ``pairset`` in ``format`` (``trl`` or ``mmpr``) under ``out_dir``, with provenance and report.

    Files of this method are replaced; other methods' files in the same folder are kept.
    """
    writer = FORMATS.get(format)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = writer(pairset, out)
    stem = file_stem(pairset.method)
    prov = out / "provenance" / f"{stem}.jsonl"
    _write_jsonl_atomic(prov, (p.provenance() for p in pairset.pairs))
    report = out / "reports" / f"{stem}.json"
    write_json_atomic(report, {"format": format, "config": dict(pairset.config), "report": pairset.report.to_json(),
                               "files": [str(f.relative_to(out)) for f in files]})
    return WrittenPairs(out, format, len(pairset.pairs), (*files, prov, report))


def load_trl(path: str | Path, *, decode: bool = True) -> Any:
    """A TRL export as a ``datasets.Dataset`` with ``images`` cast to ``Sequence(Image())``.

    Image paths that no longer exist (the folder was moved) are re-rooted to ``images/`` beside the file.
    """
    import datasets

    path = Path(path)
    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    here = path.parent.resolve() / "images"
    rows = read_jsonl(path)[:1]
    if rows and any(not Path(p).exists() for p in rows[0].get("images", [])):
        ds = ds.map(lambda row: {"images": [str(here / Path(p).name) for p in row["images"]]})
    return ds.cast_column("images", datasets.Sequence(datasets.Image(decode=decode)))
