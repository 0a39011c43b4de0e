"""The transformers engine: InternVL checkpoints on CPU or GPU, N rollouts per problem, image encoded once.

For each problem the prompt is rendered as the reference ``model.chat`` renders it (InternVL2.5's ChatML
template with InternVL's system message), the images are tiled as the checkpoint expects, and the vision
tower runs once. The resulting input embeddings feed one
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
from tts.models.internvl import chatml
from tts.prompts import IMAGE_PLACEHOLDER, prompt_text


class TransformersEngine(Engine):
    """Policy sampling with transformers, for native (``-hf``) and original remote-code InternVL checkpoints.

    Args:
        model: hub id (``OpenGVLab/InternVL3-8B-hf``, ``OpenGVLab/InternVL3-8B``) or local path.
        device: ``cuda``, ``cpu`` … (default: cuda when available).
        dtype: ``auto`` (bf16 on GPU, fp32 on CPU), ``bf16``, ``fp16`` or ``fp32``.
        system_message: system prompt; default the checkpoint config's, else InternVL's own; ``""`` for none.
        device_map: passed to ``from_pretrained`` (e.g. ``"auto"`` to spread a large model over GPUs).
        checkpoint_style: ``auto`` (read the config), ``native`` or ``remote``.
    """

    name = "transformers"

    def __init__(self, model: str, *, device: str | None = None, dtype: str = "auto", revision: str | None = None,
                 system_message: str | None = None, device_map: str | None = None,
                 checkpoint_style: str = "auto") -> None:
        super().__init__(model)
        from tts.models.internvl import load_internvl

        self.vlm = load_internvl(model, device=device, dtype=dtype, revision=revision, device_map=device_map,
                                 style=checkpoint_style)
        if system_message is None:
            system_message = self.vlm.config_system_message or prompt_text("internvl_system")
        self.system_message = system_message
        tok = self.vlm.tokenizer
        self.eos_ids = {i for i in (tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id) if i is not None and i >= 0}
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else min(self.eos_ids)

    def info(self) -> dict[str, Any]:
        return {**self.vlm.info(), "engine": self.name, "system_message": self.system_message}

    def identity(self) -> dict[str, Any]:
        from tts.prompts import text_hash

        return {**super().identity(), "revision": self.vlm.revision, "system_message": text_hash(self.system_message)}

    def render(self, request: GenerationRequest) -> str:
        """The prompt text the model sees, ``<image>`` placeholders not yet expanded into image tokens."""
        if request.prompt.count(IMAGE_PLACEHOLDER) != len(request.images):
            raise ValueError(f"{request.problem_id}: prompt has {request.prompt.count(IMAGE_PLACEHOLDER)} <image> "
                             f"placeholders for {len(request.images)} images")
        return chatml(self.system_message, request.prompt, request.assistant_prefix)

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        return [self._generate_one(r, params) for r in requests]

    def _generate_one(self, request: GenerationRequest, params: SamplingParams) -> list[Completion]:
        import torch

        start = time.perf_counter()
        text = self.render(request)
        features, tiles = None, []
        with torch.no_grad():
            if request.images:
                pixel_values, tiles = self.vlm.pixel_values(request.images, request.max_tiles)
                features = self.vlm.features(pixel_values)  # the only vision-tower call for this problem
        input_ids = torch.tensor([self.vlm.encode(self.vlm.expand_images(text, tiles))], device=self.vlm.device)
        embeds = self.vlm.embed(input_ids, features)
        prompt_tokens = int(input_ids.shape[1])

        common = dict(
            inputs_embeds=embeds, attention_mask=torch.ones_like(input_ids), max_new_tokens=params.max_new_tokens,
            eos_token_id=sorted(self.eos_ids), pad_token_id=self.pad_id,
        )
        lm = self.vlm.language_model
        sequences: list[tuple[Any, tuple[str, ...]]] = []
        greedy_first = params.first_greedy or params.temperature == 0
        n_sampled = 0 if params.temperature == 0 else params.n - (1 if params.first_greedy else 0)
        with torch.no_grad():
            if greedy_first:
                out = lm.generate(**common, do_sample=False, num_return_sequences=1)
                copies = params.n if params.temperature == 0 else 1
                sequences += [(out[0], ("greedy",))] * copies
            if n_sampled > 0:
                torch.manual_seed(request.seed)
                out = lm.generate(
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
        text = self.vlm.tokenizer.decode(ids[:length], skip_special_tokens=True)
        return Completion(idx, text, finish, prompt_tokens, length, seconds, flags)
