"""VisualPRM step scores: the conversation it was trained on, all steps in one forward pass per rollout.

Format (VisualPRM's data pipeline and reward-model code, see ``shared/reference/visualprm.md`` §1):

* InternVL2.5 ChatML template with a system message: the checkpoint config's ``system_message`` when it
  has one (as the reference's model code), else the prompt file named by ``default_system_message``
  (``visualprm_system``: the process-supervision prompt VisualPRM400K was built with; ``internvl_system``:
  the template's own default, which the reference's model code would fall back to); an explicit
  ``system_message`` overrides both (``""`` renders an empty system turn, as InternVL's template does);
* first user turn ``### Question:\\n{question}\\n\\n### Solution Process:\\n{step_0}``, where the question
  is the full policy prompt with its ``<image>`` placeholders (``<image>\\n`` is put in front when it has
  none, as the reference does); ``question="raw"`` gives the benchmark question instead;
* every later step is its own user turn, every assistant turn is the placeholder ``+``; an empty step (from
  ``\\n\\n\\n\\n``) writes only its role, as InternVL's MPT template renders an empty message;
* only the question's ``<image>`` placeholders become image slots (``<image>`` in a response is plain text);
  a response that writes ``<IMG_CONTEXT>``, ``<img>`` or ``</img>`` (or, on vLLM's image path, the
  checkpoint's image token) is left unscored as ``template_mismatch`` rather than failing its problem;
* the whole conversation is tokenized with the tokenizer's own special tokens (a BOS for InternLM2-based
  VisualPRM-8B, nothing for Qwen2-based checkpoints), as ``tokenizer(query)`` in the reference;
* the score of step *i* is softmax over the logits of ``+`` and ``-`` at the position that predicts the
  *i*-th assistant reply, i.e. P(+); ``score_rounding="bf16"`` rounds it as the reference's bf16 run does
  (:mod:`tts.critics.numerics`: exact ties between responses, as in the reference).

ORM mode (``visualprm-orm``, the reference's ``orm_soft``): the whole response is one step.

Backends:

* ``transformers`` — each problem's images are encoded once (vision batches of up to ``vision_tile_budget``
  tiles), the rollouts of all problems in the call are packed into forward batches of up to
  ``token_budget`` padded tokens, each row carrying its own problem's image features; only the ``+``/``-``
  rows of the LM head are evaluated, at the reply positions only (:mod:`tts.critics.hf_scoring`).
* ``vllm`` — one request per step ending at its reply position, label log-probabilities, prefix caching
  (:mod:`tts.critics.vllm_backend`). Text-only rollouts are sent as the exact token ids the transformers
  path builds; with images the prompt text carries the checkpoint's image token (``<image>`` for remote
  code, ``<IMG_CONTEXT>`` for -hf checkpoints) and vLLM's InternVL processor expands it (its tiling is the
  same rule, capped per request by ``max_tiles``).

Rollouts longer than the critic's context lose the start of the solution (:mod:`tts.critics.fitting`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tts.critics.base import Critic, ScoringRequest
from tts.critics.fitting import fit_steps
from tts.critics.rows import Row, assemble, split_prepared
from tts.critics.steps import split_steps
from tts.errors import ConfigError
from tts.models.internvl import expand_images
from tts.prompts import IMAGE_PLACEHOLDER, prompt_text
from tts.records import StepScores

ROLE_SYSTEM = "<|im_start|>system\n"
ROLE_USER = "<|im_start|>user\n"
ROLE_ASSISTANT = "<|im_start|>assistant\n"
SEP = "<|im_end|>\n"
PLACEHOLDER = "+"
NEGATIVE = "-"
BACKENDS = ("transformers", "vllm")
DEFAULT_SYSTEM_MESSAGE = "visualprm_system"
"""The prompt file used when the checkpoint's config has no system message: the process-supervision prompt of
VisualPRM's data pipeline (``PRM_SYSTEM_PROMPT``), which the critic was trained with."""


# Tokens that only the chat template and the image expansion may write: a response containing one would
# shift the turns or claim image-feature slots, so such a rollout is left unscored (``template_mismatch``).
RESERVED_MARKERS = ("<IMG_CONTEXT>", "<img>", "</img>")


def with_image_placeholders(question: str, n_images: int) -> str:
    """The question with its ``<image>`` placeholders; ``<image>\\n`` per image in front when it has none."""
    if n_images and IMAGE_PLACEHOLDER not in question:
        question = f"{IMAGE_PLACEHOLDER}\n" * n_images + question
    return question


def first_turn(question: str, step: str, n_images: int) -> str:
    return f"### Question:\n{with_image_placeholders(question, n_images)}\n\n### Solution Process:\n{step}"


def reply_prefixes(system: str, question: str, steps: Sequence[str], n_images: int) -> list[str]:
    """For each step, the conversation up to the assistant role that precedes its ``+`` reply.

    Rendered as InternVL's MPT-style template does: an empty message (an empty step, from ``\\n\\n\\n\\n`` in
    the response) writes its role and nothing else, not even the separator.
    """
    text = f"{ROLE_SYSTEM}{system}{SEP}"
    out = []
    for i, step in enumerate(steps):
        query = first_turn(question, step, n_images) if i == 0 else step
        if i:
            text += f"{PLACEHOLDER}{SEP}"
        text += f"{ROLE_USER}{query}{SEP}{ROLE_ASSISTANT}" if query else f"{ROLE_USER}{ROLE_ASSISTANT}"
        out.append(text)
    return out


def conversation(system: str, question: str, steps: Sequence[str], n_images: int) -> str:
    """The full scoring conversation with ``+`` in every assistant turn (``<image>`` still unexpanded).

    Example (``n_images=0`` with a question that has no placeholder)::

        <|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n### Question:\\n{question}\\n\\n
        ### Solution Process:\\n{step_0}<|im_end|>\\n<|im_start|>assistant\\n+<|im_end|>\\n
        <|im_start|>user\\n{step_1}<|im_end|>\\n<|im_start|>assistant\\n+<|im_end|>\\n
    """
    if not steps:
        return f"{ROLE_SYSTEM}{system}{SEP}"
    return reply_prefixes(system, question, steps, n_images)[-1] + f"{PLACEHOLDER}{SEP}"


def find_subsequence_ends(ids: Sequence[int], pattern: Sequence[int], offset: int) -> list[int]:
    """Positions ``i + offset`` for every start ``i`` where ``pattern`` occurs in ``ids``."""
    n, m = len(ids), len(pattern)
    first = pattern[0]
    return [i + offset for i in range(n - m + 1) if ids[i] == first and list(ids[i : i + m]) == list(pattern)]


class VisualPRM(Critic):
    """VisualPRM-8B / -v1_1 style critic on an InternVL checkpoint (remote-code or transformers-native).

    Args:
        model: hub id (``OpenGVLab/VisualPRM-8B-v1_1``) or local path.
        max_steps: merge steps evenly down to this many (12 as in the paper; ``None`` for no cap).
        question: ``prompt`` (the full policy prompt, as VLMEvalKit) or ``raw`` (the benchmark question).
        system_message: override the system prompt (``""``: an empty system turn).
        default_system_message: the ``prompts/`` file used when the checkpoint's config has no system message.
        score_rounding: ``none`` (float32 P(+)) or ``bf16`` (as the reference's bf16 logits round it).
        checkpoint_style: ``auto`` (read the config), ``native`` or ``remote``.
        backend: ``transformers`` or ``vllm``.
        token_budget: padded tokens per forward pass (transformers; default by device).
        vision_tile_budget: image tiles per vision-encoder call (transformers).
        max_length: the critic's context in tokens (default: the language model's).
        gpu_memory_utilization, enforce_eager, vllm_kwargs: passed to ``vllm.LLM``; max_images: most images
            per prompt (vLLM reserves encoder memory for that many).
    """

    name = "visualprm"
    orm = False

    def __init__(self, model: str, label: str | None = None, *, device: str | None = None, dtype: str = "auto",
                 revision: str | None = None, max_steps: int | None = 12, system_message: str | None = None,
                 default_system_message: str = DEFAULT_SYSTEM_MESSAGE, score_rounding: str = "none",
                 checkpoint_style: str = "auto", question: str = "prompt", backend: str = "transformers",
                 token_budget: int | None = None, vision_tile_budget: int | None = None, max_length: int | None = None,
                 gpu_memory_utilization: float | None = None, enforce_eager: bool = False, max_images: int = 8,
                 vllm_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(model, label, question=question, max_steps=None if self.orm else max_steps)
        if backend not in BACKENDS:
            raise ConfigError(f"unknown backend {backend!r}; use {' or '.join(BACKENDS)}")
        from tts.critics.numerics import check_rounding

        self.score_rounding = check_rounding(score_rounding)
        fallback_text = prompt_text(default_system_message)  # fails early on an unknown prompt name
        self.backend = backend
        self.stats: Counter = Counter()
        self.vlm: Any = None
        self.engine: Any = None
        if backend == "transformers":
            from tts.critics.hf_scoring import default_token_budget
            from tts.models.internvl import load_internvl

            self.vlm = load_internvl(model, device=device, dtype=dtype, revision=revision, style=checkpoint_style)
            self.tokenizer = self.vlm.tokenizer
            self.revision = self.vlm.revision
            config_system, model_length = self.vlm.config_system_message, self.vlm.max_length
            self.token_budget = token_budget or default_token_budget(self.vlm.device)
            self.vision_tile_budget = vision_tile_budget or (64 if str(self.vlm.device).startswith("cuda") else 16)
            self.tokens_per_tile = self.vlm.tokens_per_tile
        else:
            from tts.critics.vllm_backend import VLLMLabelScorer
            from tts.models.layout import ModelLayout

            self.layout = ModelLayout.from_pretrained(model, revision)
            extra: dict[str, Any] = {}
            if self.layout.style == "remote" and self.layout.architecture != "InternVLChatModel":
                # A reward-model subclass of InternVLChatModel (same weights); vLLM knows the chat model class.
                extra["hf_overrides"] = {"architectures": ["InternVLChatModel"]}
            self.engine = VLLMLabelScorer(model, revision=revision, dtype=dtype, max_model_len=max_length,
                                          gpu_memory_utilization=gpu_memory_utilization, enforce_eager=enforce_eager,
                                          limit_images=max_images if self.layout.has_vision else None,
                                          engine_kwargs={**extra, **(vllm_kwargs or {})})
            self.tokenizer = self.engine.tokenizer
            self.revision = revision or self.layout.commit
            config_system, model_length = self.layout.system_message, self.engine.max_model_len
            self.tokens_per_tile = self.layout.tokens_per_tile
        self.max_length = max_length or model_length
        self.default_system_message = default_system_message
        if system_message is not None:
            self.system_message, self.system_message_source = system_message, "argument"
        elif config_system:
            self.system_message, self.system_message_source = config_system, "checkpoint config"
        else:
            self.system_message, self.system_message_source = fallback_text, f"prompts/{default_system_message}.txt"
        self.candidate_ids = self._label_ids(model)
        self.bos = self.tokenizer.encode(ROLE_ASSISTANT, add_special_tokens=False)
        self.target = self.tokenizer.encode(ROLE_ASSISTANT + PLACEHOLDER + SEP, add_special_tokens=False)

    def _label_ids(self, model: str) -> list[int]:
        """The ``+``/``-`` token ids, checked at load: a checkpoint without them is not a VisualPRM critic."""
        tok = self.tokenizer
        ids = tok.convert_tokens_to_ids([PLACEHOLDER, NEGATIVE])
        unk = tok.unk_token_id
        bad = [t for t, i in zip((PLACEHOLDER, NEGATIVE), ids) if i is None or (unk is not None and i == unk)]
        if bad or len(tok.encode(PLACEHOLDER, add_special_tokens=False)) != 1:
            raise ConfigError(f"{model}: the tokenizer has no single-token {' and '.join(repr(b) for b in bad or ['+'])}; "
                             "this checkpoint cannot be a VisualPRM-format critic (it must answer '+' or '-')")
        return [int(i) for i in ids]

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def info(self) -> dict[str, Any]:
        base = self.vlm.info() if self.vlm is not None else {"model": self.model_id, "layout": self.layout.style}
        return {**super().info(), **base, "backend": self.backend, "max_steps": self.max_steps,
                "question": self.question, "max_length": self.max_length, "system_message": self.system_message,
                "system_message_source": self.system_message_source,
                "default_system_message": self.default_system_message, "score_rounding": self.score_rounding}

    def identity(self) -> dict[str, Any]:
        from tts.prompts import text_hash

        out = {**super().identity(), "mode": "orm" if self.orm else "prm", "revision": self.revision,
               "system_message": text_hash(self.system_message)}
        if self.score_rounding != "none":  # absent when off, so runs scored before the option still resume
            out["score_rounding"] = self.score_rounding
        return out

    # ------------------------------------------------------------------ formatting
    def steps_of(self, text: str) -> list[str]:
        if self.orm:
            return [text] if text.strip() else []
        return split_steps(text, max_steps=self.max_steps)

    def reply_positions(self, ids: Sequence[int]) -> list[int]:
        """Positions whose next token is an assistant ``+`` (the last token of the assistant role prefix)."""
        return find_subsequence_ends(ids, self.target, len(self.bos) - 1)

    def encode(self, text: str) -> list[int]:
        """Token ids of a full scoring sequence, with the tokenizer's own special tokens (BOS if any)."""
        return list(self.tokenizer(text, add_special_tokens=True)["input_ids"])

    def expand_images(self, text: str, tiles: Sequence[int]) -> str:
        return expand_images(text, tiles, self.tokens_per_tile)

    def reserved_markers(self, request: ScoringRequest) -> tuple[str, ...]:
        """Markers a response must not contain; on vLLM's image path also its image token, which vLLM expands."""
        if self.backend == "vllm" and request.images:
            return (*RESERVED_MARKERS, self.layout.image_token)
        return RESERVED_MARKERS

    def _prepare(self, ri: int, request: ScoringRequest, tiles: Sequence[int]):
        # Only the question's placeholders become image slots: a response that writes "<image>" is plain text.
        question = self.expand_images(with_image_placeholders(self.question_text(request), len(request.images)), tiles)
        markers = self.reserved_markers(request)
        tok = self.tokenizer

        def build(steps: Sequence[str]) -> list[int]:
            return self.encode(conversation(self.system_message, question, steps, 0))

        for sample_idx, text in request.responses:
            steps = self.steps_of(text)
            if not steps:
                yield self.unscored(request.problem_id, sample_idx, steps, "empty")
                continue
            if any(m in text for m in markers):
                yield self.unscored(request.problem_id, sample_idx, steps, "template_mismatch")
                continue
            fit = fit_steps(steps, build, self.max_length, encode_text=lambda s: tok.encode(s, add_special_tokens=False),
                            decode=tok.decode)
            if fit is None:
                yield self.unscored(request.problem_id, sample_idx, steps, "too_long")
                continue
            positions = self.reply_positions(fit.ids)
            if len(positions) != len(fit.steps):
                # A response containing chat-template markers would shift the turns; refuse to guess.
                yield self.unscored(request.problem_id, sample_idx, fit.steps, "template_mismatch")
                continue
            yield Row(ri, sample_idx, fit.steps, fit.ids, positions, fit.flags)

    # ------------------------------------------------------------------ scoring
    def score(self, requests: Sequence[ScoringRequest]) -> list[list[StepScores]]:
        if self.backend == "transformers":
            pixels = [self.vlm.pixel_values(r.images, r.max_tiles) if r.images else (None, []) for r in requests]
            tiles = [t for _, t in pixels]
        else:
            pixels = []
            tiles = [[self.layout.tiles(im, r.max_tiles) for im in r.images] for r in requests]
        prepared = [list(self._prepare(i, r, tiles[i])) for i, r in enumerate(requests)]
        rows = split_prepared(prepared)
        scores: list[list[float]] = []
        if rows:
            scores = self._score_hf(rows, pixels) if self.backend == "transformers" else self._score_vllm(rows, requests)
        return assemble([r.problem_id for r in requests], prepared, rows, scores, self.label)

    def _score_hf(self, rows: Sequence[Any], pixels: Sequence[tuple[Any, list[int]]]) -> list[list[float]]:
        import torch

        from tts.critics.hf_scoring import LabelHead, run_packed

        vlm = self.vlm
        features = self._features(sorted({r.request for r in rows}), pixels)
        head = LabelHead(vlm.language_model, self.candidate_ids, self.score_rounding)

        def body(input_ids: Any, attention: Any, batch: Sequence[Any]) -> Any:
            return vlm.backbone_hidden(vlm.embed_rows(input_ids, [features.get(r.request) for r in batch]), attention)

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        with torch.inference_mode():
            return run_packed(rows, budget=self.token_budget, pad_id=pad, device=vlm.device, head=head, body=body,
                              stats=self.stats)

    def _features(self, request_ids: Sequence[int], pixels: Sequence[tuple[Any, list[int]]]) -> dict[int, Any]:
        """Vision features per request, computed once each, several requests' tiles per encoder call."""
        import torch

        todo = [i for i in request_ids if pixels[i][0] is not None]
        out: dict[int, Any] = {}
        group: list[int] = []

        def flush() -> None:
            if not group:
                return
            with torch.inference_mode():
                feats = self.vlm.features(torch.cat([pixels[i][0] for i in group]))
            self.stats["vision_calls"] += 1
            start = 0
            for i in group:
                n = pixels[i][0].shape[0]
                out[i] = feats[start : start + n]
                start += n
            group.clear()

        for i in todo:
            if group and sum(pixels[j][0].shape[0] for j in group) + pixels[i][0].shape[0] > self.vision_tile_budget:
                flush()
            group.append(i)
        flush()
        return out

    def _score_vllm(self, rows: Sequence[Any], requests: Sequence[ScoringRequest]) -> list[list[float]]:
        items = []
        for row in rows:
            request = requests[row.request]
            if not request.images:  # exactly the transformers path's tokens
                prompts = [{"prompt_token_ids": row.ids[: p + 1]} for p in row.positions]
            else:
                question = with_image_placeholders(self.question_text(request), len(request.images))
                question = question.replace(IMAGE_PLACEHOLDER, self.layout.image_token)
                texts = reply_prefixes(self.system_message, question, row.steps, 0)
                mm = {"image": list(request.images)}
                kwargs = self.layout.mm_processor_kwargs(request.max_tiles)
                prompts = [{"prompt": t, "multi_modal_data": mm, **({"mm_processor_kwargs": kwargs} if kwargs else {})}
                           for t in texts]
            items.append((request.problem_id, prompts))
        scores = self.engine.p_first(items, tuple(self.candidate_ids), self.score_rounding)
        self.stats.update(self.engine.stats)
        self.engine.stats.clear()
        return scores


class VisualORM(VisualPRM):
    """VisualPRM in outcome mode (the reference's ``orm_soft``): the whole response is scored as one step."""

    name = "visualprm-orm"
    orm = True
