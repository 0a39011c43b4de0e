"""The transformers engine: InternVL checkpoints on CPU or GPU, N rollouts per problem, image encoded once.

For each problem the prompt is rendered as the reference ``model.chat`` renders it (InternVL2.5's ChatML
template with InternVL's system message), the images are tiled as the checkpoint expects, and the vision
tower runs once. The resulting input embeddings are repeated for the problem's N rows, several problems
are left-padded into one batch (up to ``max_batch_rows`` rows), and one ``generate`` call decodes them all
— the reference loop instead calls ``model.chat`` N times, encoding the image N times.

Reproducibility: each row samples with its own seed (:func:`tts.engines.base.sample_seed`, through
:class:`tts.engines.seeded_sampling.SeededSampler`), so a rollout depends only on (model, prompt, images,
params, problem seed, sample index) — not on batching, N, or which problems were already done when a run
resumed. With ``first_greedy`` sample 0 is greedy and shares the batch with the sampled rows.

Loops: with ``params.stop_on_repetition`` a stopping criterion ends a row as soon as it loops
(:mod:`tts.engines.repetition`); the rollout keeps its text up to there, with finish reason ``length`` and
the ``repetition`` flag. Without it, loops are still flagged after generation.

Continuations (step-level search): each request may carry its own ``n``, ``max_new_tokens``, ``greedy`` and
``stop`` strings (:func:`tts.engines.base.request_params`); rows of different requests share one ``generate``
call, each ending at its own cap or stop string (:mod:`tts.engines.stops`, transformers'
``StopStringCriteria`` with the tokenizer). A row ended by a stop string has finish reason ``step`` and its
text cut before the string; a loop cut by the repetition stopper is ``length`` even when the loop contained
a stop string. Inside :meth:`TransformersEngine.image_cache` a problem's vision features are computed once
and reused by every later call for that problem (a search calls the policy once per step).

Not done: sharing the prompt's KV cache between the N rows of a problem. Prefill is a small part of the
cost of long chain-of-thought decoding (a 2k-token prompt against up to 4k generated tokens per row), and
transformers' cache-expansion API differs between versions; vLLM's prefix caching does it for free.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tts.engines.base import (
    FINISH_STEP,
    Completion,
    Engine,
    GenerationRequest,
    SamplingParams,
    request_params,
    sample_seed,
)
from tts.engines.prompting import render_chatml
from tts.engines.repetition import DEFAULT_DETECTOR, REPETITION_FLAG, RepetitionDetector
from tts.prompts import prompt_text


@dataclass
class _Prepared:
    """One problem ready for decoding: its prompt embeddings and the rows it needs."""

    request: GenerationRequest
    embeds: Any  # (1, L, H)
    rows: list[tuple[int, bool]]  # (seed, greedy) per row
    copies: int  # completions per row (N for temperature 0, where one greedy row stands for all)
    max_new_tokens: int  # this request's cap


class TransformersEngine(Engine):
    """Policy sampling with transformers, for native (``-hf``) and original remote-code InternVL checkpoints.

    Args:
        model: hub id (``OpenGVLab/InternVL3-8B-hf``, ``OpenGVLab/InternVL3-8B``) or local path.
        device: ``cuda``, ``cpu`` … (default: cuda when available).
        dtype: ``auto`` (bf16 on GPU, fp32 on CPU), ``bf16``, ``fp16`` or ``fp32``.
        system_message: system prompt; default the checkpoint config's, else InternVL's own; ``""`` gives an
            empty system turn (``<|im_start|>system\n<|im_end|>\n``), as InternVL's template renders it.
        device_map: passed to ``from_pretrained`` (e.g. ``"auto"`` to spread a large model over GPUs).
        checkpoint_style: ``auto`` (read the config), ``native`` or ``remote``.
        max_batch_rows: most sequences decoded together (problems × N); bounds GPU memory.
        repetition: the loop detector's thresholds.
    """

    name = "transformers"

    def __init__(self, model: str, *, device: str | None = None, dtype: str = "auto", revision: str | None = None,
                 system_message: str | None = None, device_map: str | None = None,
                 checkpoint_style: str = "auto", max_batch_rows: int = 64,
                 repetition: RepetitionDetector = DEFAULT_DETECTOR) -> None:
        super().__init__(model)
        from tts.models.internvl import load_internvl

        if max_batch_rows < 1:
            raise ValueError("max_batch_rows must be >= 1")
        self.vlm = load_internvl(model, device=device, dtype=dtype, revision=revision, device_map=device_map,
                                 style=checkpoint_style)
        if system_message is None:
            system_message = self.vlm.config_system_message or prompt_text("internvl_system")
        self.system_message = system_message
        self.max_batch_rows = max_batch_rows
        self.repetition = repetition
        tok = self.vlm.tokenizer
        self.eos_ids = {i for i in (tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id) if i is not None and i >= 0}
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else min(self.eos_ids)
        self._images: dict[tuple[Any, ...], tuple[Any, list[int]]] | None = None  # inside image_cache()

    @contextlib.contextmanager
    def image_cache(self) -> Iterator[None]:
        """Keep each problem's vision features between calls until the block ends (or release_images)."""
        outer = self._images
        if outer is None:
            self._images = {}
        try:
            yield
        finally:
            if outer is None:
                self._images = None

    def release_images(self, problem_id: str) -> None:
        if self._images is not None:
            for key in [k for k in self._images if k[0] == problem_id]:
                del self._images[key]

    def info(self) -> dict[str, Any]:
        return {**self.vlm.info(), "engine": self.name, "system_message": self.system_message}

    def identity(self) -> dict[str, Any]:
        from tts.prompts import text_hash

        return {**super().identity(), "revision": self.vlm.revision, "system_message": text_hash(self.system_message)}

    def render(self, request: GenerationRequest) -> str:
        """The prompt text the model sees, ``<image>`` placeholders not yet expanded into image tokens."""
        return render_chatml(request, self.system_message)

    # ------------------------------------------------------------------ generation
    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        prepared = [self._prepare(r, params) for r in requests]
        results: list[list[Completion]] = []
        group: list[_Prepared] = []
        for item in prepared:
            if group and sum(len(g.rows) for g in group) + len(item.rows) > self.max_batch_rows:
                results += self._decode(group, params)
                group = []
            group.append(item)
        if group:
            results += self._decode(group, params)
        return results

    def _vision(self, request: GenerationRequest) -> tuple[Any, list[int]]:
        """The request's vision features and tiles per image: computed here, or kept from an earlier call
        inside :meth:`image_cache` (same problem, same images, same tiling cap)."""
        key = (request.problem_id, request.max_tiles, tuple((im.size, im.mode) for im in request.images))
        if self._images is not None and key in self._images:
            return self._images[key]
        pixel_values, tiles = self.vlm.pixel_values(request.images, request.max_tiles)
        found = (self.vlm.features(pixel_values), tiles)  # the only vision-tower call for this problem
        if self._images is not None:
            self._images[key] = found
        return found

    def _prepare(self, request: GenerationRequest, params: SamplingParams) -> _Prepared:
        import torch

        text = self.render(request)
        params = request_params(request, params)
        features: Any = None
        tiles: list[Any] = []
        with torch.no_grad():
            if request.images:
                features, tiles = self._vision(request)
            input_ids = torch.tensor([self.vlm.encode(self.vlm.expand_images(text, tiles))], device=self.vlm.device)
            embeds = self.vlm.embed(input_ids, features)
        if params.temperature == 0:
            rows, copies = [(request.seed, True)], params.n
        else:
            rows = [(sample_seed(request.seed, i), params.is_greedy(i)) for i in range(params.n)]
            copies = 1
        return _Prepared(request, embeds, rows, copies, params.max_new_tokens)

    def _decode(self, group: list[_Prepared], params: SamplingParams) -> list[list[Completion]]:
        """One ``generate`` call for all rows of ``group`` (left-padded); completions per problem."""
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        from tts.engines.repetition import repetition_stopping_criteria
        from tts.engines.seeded_sampling import SeededSampler
        from tts.engines.stops import row_stops

        start = time.perf_counter()
        lengths = [int(p.embeds.shape[1]) for p in group]
        width = max(lengths)
        hidden = group[0].embeds.shape[-1]
        embeds, masks, seeds, greedy, caps, stops = [], [], [], [], [], []
        for p, length in zip(group, lengths):
            pad = width - length
            row = torch.cat([p.embeds.new_zeros(1, pad, hidden), p.embeds], dim=1)
            mask = torch.cat([torch.zeros(1, pad, dtype=torch.long), torch.ones(1, length, dtype=torch.long)], dim=1)
            for seed, is_greedy in p.rows:
                embeds.append(row)
                masks.append(mask)
                seeds.append(seed)
                greedy.append(is_greedy)
                caps.append(p.max_new_tokens)
                stops.append(p.request.stop)
        inputs_embeds = torch.cat(embeds)
        attention_mask = torch.cat(masks).to(inputs_embeds.device)
        stoppers = StoppingCriteriaList()
        stop = None
        if params.stop_on_repetition:
            stop = repetition_stopping_criteria(self.repetition, len(seeds), inputs_embeds.device)
            stoppers.append(stop)
        ends = None
        if any(stops) or len(set(caps)) > 1:
            ends = row_stops(self.vlm.tokenizer, stops, caps, inputs_embeds.device)
            stoppers.append(ends)
        sampler = SeededSampler(seeds, greedy, temperature=params.temperature, top_p=params.top_p, top_k=params.top_k,
                                finished=_finished_rows(len(seeds), sorted(self.eos_ids), stop, ends))
        config = GenerationConfig(max_new_tokens=max(caps), do_sample=False,
                                  eos_token_id=sorted(self.eos_ids), pad_token_id=self.pad_id)
        with torch.no_grad():
            out = self.vlm.language_model.generate(
                inputs_embeds=inputs_embeds, attention_mask=attention_mask, generation_config=config,
                logits_processor=LogitsProcessorList([sampler]), stopping_criteria=stoppers,
            )
        stopped_at = stop.stopped_at.tolist() if stop is not None else [-1] * len(seeds)
        step_at = ends.step_at.tolist() if ends is not None else [-1] * len(seeds)
        rows_total = sum(len(p.rows) * p.copies for p in group)
        seconds = (time.perf_counter() - start) / max(1, rows_total)
        results, r = [], 0
        for p, length in zip(group, lengths):
            completions: list[Completion] = []
            for _seed, is_greedy in p.rows:
                ids = out[r].tolist()[: p.max_new_tokens]
                completion = self._completion(ids, stopped_at[r], step_at[r], p.request.stop, is_greedy, length, seconds)
                completions += [completion] * p.copies
                r += 1
            results.append([_with_index(c, i) for i, c in enumerate(completions)])
        return results

    def _completion(self, ids: list[int], stopped_at: int, step_at: int, stops: Sequence[str], greedy: bool,
                    prompt_tokens: int, seconds: float) -> Completion:
        # generate() with inputs_embeds returns only the new tokens.
        eos_pos = next((pos for pos, tok in enumerate(ids) if tok in self.eos_ids), None)
        # The stopping criteria also watch rows that already ended (their padding repeats, and may look like
        # a loop): only a stop before the row's end (end of sequence, or its stop string) counts. A loop wins
        # a tie with a stop string: never "step".
        ended = eos_pos + 1 if eos_pos is not None else len(ids) + 1
        looped = 0 <= stopped_at < ended and (step_at < 0 or stopped_at <= step_at)
        stepped = not looped and 0 <= step_at < ended
        if looped:
            length, finish = stopped_at, "length"  # cut where the loop was detected
        elif stepped:
            length, finish = step_at, FINISH_STEP
        elif eos_pos is not None:
            length, finish = eos_pos + 1, "stop"
        else:
            length, finish = len(ids), "length"
        flags: list[str] = ["greedy"] if greedy else []
        if looped or self.repetition.find(ids[:length]) is not None:
            flags.append(REPETITION_FLAG)
        text = self.vlm.tokenizer.decode(ids[:length], skip_special_tokens=True)
        if stepped:
            from tts.engines.stops import cut_at_stop

            text, _ = cut_at_stop(text, stops)  # the stop string (and what its last token overhangs) left out
        return Completion(0, text, finish, prompt_tokens, length, seconds, tuple(flags))


def _finished_rows(rows: int, eos_ids: list[int], loop: Any, ends: Any) -> Any:
    """Which rows ``generate`` has ended before the current step: an end-of-sequence token, or one of our
    stopping criteria (the sampler skips them; their next token becomes padding)."""
    import torch

    state: dict[str, Any] = {"done": None}

    def finished(input_ids: Any) -> Any:
        done = state["done"]
        if done is None:
            done = torch.zeros(rows, dtype=torch.bool, device=input_ids.device)
        if input_ids.shape[1]:
            done = done | torch.isin(input_ids[:, -1], torch.tensor(eos_ids, device=input_ids.device))
        if loop is not None:
            done = done | (loop.stopped_at >= 0)
        if ends is not None:
            done = done | (ends.step_at >= 0) | (ends.capped_at >= 0)
        state["done"] = done
        return done

    return finished


def _with_index(c: Completion, idx: int) -> Completion:
    from dataclasses import replace

    return replace(c, sample_idx=idx)
