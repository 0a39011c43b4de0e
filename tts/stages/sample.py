"""Stage 1: N policy rollouts per problem, written per small batch of problems.

Resume: a problem with all N rollouts on disk is skipped; a problem with some missing (the batch in flight
when a run was killed) is regenerated from its seed and only the missing samples are written, so the
finished run equals a clean one.

Failures: a problem that fails (its images cannot be read, the engine or the server gives up on it) is
counted in :class:`SampleSummary` with its reason, recorded in the manifest's warnings, and left for the
next run of the command. When every problem of a call fails, nothing useful came out of it (the server is
down, every image request is rejected) and :class:`StageFailed` says why, with the first reason,
instead of a run that goes on to score nothing.

Streaming: the engine yields each problem as soon as it is done (:meth:`tts.engines.Engine.stream`) and its
rollouts are appended right away, so a crash or a server failure loses at most the problems in flight. A
problem that fails is reported as a warning with the reason; whatever samples of it did complete are kept.

Response text: a rollout stores what the reference returns, for every engine: InternVL's ``model.chat``
cuts the decode at the template separator (``<|im_end|>``) and strips it (``response.strip()``), and that
text is what VLMEvalKit grades and VisualPRM scores (a trailing ``"\n\n"`` would otherwise become an extra
empty critic step, a leading space change the first one). ``completion_tokens`` still counts the raw decode.
Engines themselves return the raw decode: a continuation of an ``assistant_prefix`` (DropoutNTP) must keep
its leading whitespace, as InternVL's pipeline joins ``prefix + response``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from tts.engines.base import Engine, GenerationRequest, SamplingParams, problem_seed
from tts.errors import TTSError
from tts.images import BadImage
from tts.progress import progress_bar
from tts.prompts import PROMPT_SETS, build_prompt
from tts.records import FinishReason, Problem, Rollout
from tts.rundir import RunDir
from tts.stages.common import after_batch, chunks, load_images, select_problems, tiles_for

FAILURE_EXAMPLES = 20
"""Failure reasons a summary keeps (all are counted)."""


class StageFailed(TTSError, RuntimeError):
    """Every problem a stage attempted failed (sampling, scoring): the message gives the first reason."""


@dataclass(frozen=True)
class SampleSummary:
    """What one sampling call did: ``failures`` are ``"<problem id>: <reason>"``, the first
    :data:`FAILURE_EXAMPLES` of the ``failed`` problems."""

    problems: int
    skipped_done: int
    written: int
    failed: int
    failures: tuple[str, ...] = ()

    @property
    def attempted(self) -> int:
        return self.problems - self.skipped_done


def all_failed_message(what: str, failed: int, failures: Sequence[str]) -> str:
    """``sampling failed for all 3 problems it attempted; the first: q0: ServerError: …``."""
    first = failures[0] if failures else "no reason recorded"
    return (f"{what} failed for all {failed} problem(s) it attempted; the first: {first} (every reason: the "
            "manifest's warnings and run.log; fix the cause and run the command again to resume)")


END_OF_TURN = "<|im_end|>"
RESPONSE_TEXT = "model.chat"
"""How rollout texts are derived from the decode (:func:`reference_response`); bound into every run."""


def reference_response(raw: str) -> str:
    """The response as InternVL's ``model.chat`` returns it: the decode cut at the first ``<|im_end|>``
    (``response.split(template.sep.strip())[0]``) and stripped of surrounding whitespace.

    >>> reference_response(" The answer is 4.\\n\\n")
    'The answer is 4.'
    """
    return raw.split(END_OF_TURN, 1)[0].strip()


def prompt_binding(prompt_set: str) -> dict[str, str]:
    """What a run stores under ``config.prompt``: the prompt set, the fingerprint of its texts and routing, and
    how responses are read from the decode (a run sampled before responses were stripped is not resumed)."""
    return {"set": prompt_set, "fingerprint": PROMPT_SETS.get(prompt_set).fingerprint(), "response_text": RESPONSE_TEXT}


def bind_sampling(run: RunDir, engine: Engine, params: SamplingParams, prompt_set: str) -> None:
    run.bind("policy", engine.identity())
    run.bind("sampling", params.to_json())
    run.bind("prompt", prompt_binding(prompt_set))
    run.set_model_info("policy", engine.info())


def sample(run: RunDir, engine: Engine, params: SamplingParams, problems: Sequence[Problem] | None = None, *,
           prompt_set: str = "internvl_cot", batch_size: int | None = None, progress: bool = True) -> SampleSummary:
    """Generate the missing rollouts of ``problems`` (default: all problems of the run).

    ``batch_size`` is the number of problems handed to the engine at once (default: the engine's
    ``preferred_batch_size``: a few for transformers, many for vLLM and servers).
    """
    bind_sampling(run, engine, params, prompt_set)
    batch_size = batch_size or engine.preferred_batch_size
    problems = select_problems(run, problems)
    done: dict[str, set[int]] = {}
    for pid, idx in run.keys(Rollout):
        done.setdefault(pid, set()).add(idx)
    todo = [p for p in problems if len(done.get(p.id, ())) < params.n]
    written = failed = 0
    warnings: list[str] = []
    with progress_bar("sampling", total=len(todo) * params.n, unit="rollouts", enabled=progress) as advance:
        for batch in chunks(todo, batch_size):
            requests, kept = [], []
            for p in batch:
                try:
                    images = load_images(run, p)
                except BadImage as exc:
                    warnings.append(f"{p.id}: {exc}")
                    failed += 1
                    advance(params.n, skipped=True)  # no work was done on it
                    continue
                requests.append(GenerationRequest(p.id, build_prompt(p, prompt_set), images, problem_seed(params.seed, p.id),
                                                  max_tiles=tiles_for(p)))
                kept.append(p)
            for out in engine.stream(requests, params):
                p = kept[out.index]
                if out.error:
                    warnings.append(f"{p.id}: {out.error}")
                    failed += 1
                have = done.setdefault(p.id, set())
                seed = problem_seed(params.seed, p.id)
                records = []
                for c in out.completions:
                    if c.sample_idx in have or c.sample_idx >= params.n:
                        continue
                    have.add(c.sample_idx)
                    records.append(Rollout(
                        problem_id=p.id, sample_idx=c.sample_idx, text=reference_response(c.text),
                        finish_reason=cast(FinishReason, c.finish_reason),  # Rollout checks it
                        prompt_tokens=c.prompt_tokens, completion_tokens=c.completion_tokens, seconds=c.seconds,
                        model=engine.model_id, engine=engine.name, seed=seed, flags=c.flags,
                    ))
                written += run.append(records)
                advance(len(records))
                if params.n > len(records):  # failed samples: no rollout to count as work
                    advance(params.n - len(records), skipped=True)
            after_batch()
    run.add_warnings("sample", warnings)
    run.update_stage("sample", problems=len(problems), rollouts=len(run.keys(Rollout)))
    summary = SampleSummary(len(problems), len(problems) - len(todo), written, failed,
                            tuple(warnings[:FAILURE_EXAMPLES]))
    if todo and failed == len(todo):
        raise StageFailed(all_failed_message("sampling", failed, warnings))
    return summary

