"""The transformers engine: InternVL checkpoints on CPU or GPU, N rollouts per problem, image encoded once.

For each problem the prompt is rendered with the checkpoint's own chat template (plus InternVL's default
system message, as ``model.chat`` of the reference evaluation uses), the images go through the
checkpoint's processor, and the vision tower runs once. The resulting input embeddings feed one
``generate`` call with ``num_return_sequences`` for the sampled rollouts (and one greedy call for sample 0
when ``first_greedy`` is set), so N rollouts never re-encode the image.

Reproducibility: the global torch RNG is seeded with the problem's seed right before its sampling call, so
a problem's rollouts depend only on (model, prompt, images, params, seed) — not on batching or on which
problems were already done when a run resumed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from tts.engines.base import Completion, Engine, GenerationRequest, SamplingParams
from tts.prompts import IMAGE_PLACEHOLDER, prompt_text


def content_parts(prompt: str, n_images: int) -> list[dict[str, Any]]:
    """Split a prompt with ``<image>`` placeholders into chat-template content parts, in order."""
    pieces = prompt.split(IMAGE_PLACEHOLDER)
    if len(pieces) - 1 != n_images:
        raise ValueError(f"prompt has {len(pieces) - 1} <image> placeholders for {n_images} images")
    parts: list[dict[str, Any]] = []
    for i, piece in enumerate(pieces):
        if i > 0:
            parts.append({"type": "image"})
            # The template renders an image as "<IMG_CONTEXT>\n"; drop the newline that followed the placeholder.
            piece = piece[1:] if piece.startswith("\n") else piece
        if piece:
            parts.append({"type": "text", "text": piece})
    return parts


class TransformersEngine(Engine):
    """Policy sampling with transformers (``AutoModelForImageTextToText`` + ``AutoProcessor``).

    Args:
        model: hub id (``OpenGVLab/InternVL3-8B-hf``) or local path of a transformers-native checkpoint.
        device: ``cuda``, ``cpu`` … (default: cuda when available).
        dtype: ``auto`` (bf16 on GPU, fp32 on CPU), ``bf16``, ``fp16`` or ``fp32``.
        system_message: system prompt; default InternVL's own; ``""`` for none.
        device_map: passed to ``from_pretrained`` (e.g. ``"auto"`` to spread a large model over GPUs).
    """

    name = "transformers"

    def __init__(self, model: str, *, device: str | None = None, dtype: str = "auto", revision: str | None = None,
                 system_message: str | None = None, device_map: str | None = None) -> None:
        super().__init__(model)
        from tts.models.internvl import load_native

        self.loaded = load_native(model, device=device, dtype=dtype, revision=revision, device_map=device_map)
        self.system_message = prompt_text("internvl_system") if system_message is None else system_message
        tok = self.loaded.tokenizer
        self.eos_ids = {i for i in (tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id) if i is not None and i >= 0}
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else min(self.eos_ids)

    def info(self) -> dict[str, Any]:
        return {**self.loaded.info(), "engine": self.name, "system_message": self.system_message}

    def identity(self) -> dict[str, Any]:
        from tts.prompts import text_hash

        return {**super().identity(), "revision": self.loaded.revision, "system_message": text_hash(self.system_message)}

    def render(self, request: GenerationRequest) -> str:
        messages: list[dict[str, Any]] = []
        if self.system_message:
            messages.append({"role": "system", "content": self.system_message})
        messages.append({"role": "user", "content": content_parts(request.prompt, len(request.images))})
        text = self.loaded.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return text + request.assistant_prefix

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        return [self._generate_one(r, params) for r in requests]

    def _generate_one(self, request: GenerationRequest, params: SamplingParams) -> list[Completion]:
        import torch

        from tts.models.internvl import embed_with_images

        start = time.perf_counter()
        text = self.render(request)
        inputs = self.loaded.processor(text=[text], images=list(request.images) or None, return_tensors="pt")
        input_ids = inputs["input_ids"].to(self.loaded.device)
        attention = inputs["attention_mask"].to(self.loaded.device)
        embeds = embed_with_images(self.loaded, input_ids, inputs.get("pixel_values"))
        prompt_tokens = int(input_ids.shape[1])

        common = dict(
            inputs_embeds=embeds, attention_mask=attention, max_new_tokens=params.max_new_tokens,
            eos_token_id=sorted(self.eos_ids), pad_token_id=self.pad_id,
        )
        sequences: list[tuple[Any, tuple[str, ...]]] = []
        greedy_first = params.first_greedy or params.temperature == 0
        n_sampled = 0 if params.temperature == 0 else params.n - (1 if params.first_greedy else 0)
        with torch.no_grad():
            if greedy_first:
                out = self.loaded.model.generate(**common, do_sample=False, num_return_sequences=1)
                copies = params.n if params.temperature == 0 else 1
                sequences += [(out[0], ("greedy",))] * copies
            if n_sampled > 0:
                torch.manual_seed(request.seed)
                out = self.loaded.model.generate(
                    **common, do_sample=True, temperature=params.temperature, top_p=params.top_p,
                    top_k=params.top_k or 0, num_return_sequences=n_sampled,
                )
                sequences += [(row, ()) for row in out]
        seconds = (time.perf_counter() - start) / max(1, len(sequences))
        return [self._completion(i, seq, flags, prompt_tokens, seconds) for i, (seq, flags) in enumerate(sequences)]

    def _completion(self, idx: int, seq: Any, flags: tuple[str, ...], prompt_tokens: int, seconds: float) -> Completion:
        ids = seq.tolist()
        # generate() with inputs_embeds returns only the new tokens.
        length, finish = len(ids), "length"
        for pos, tok in enumerate(ids):
            if tok in self.eos_ids:
                length, finish = pos + 1, "stop"
                break
        text = self.loaded.tokenizer.decode(ids[:length], skip_special_tokens=True)
        return Completion(idx, text, finish, prompt_tokens, length, seconds, flags)
