"""The vLLM engine: offline ``LLM.generate`` with InternVL's multimodal inputs, N samples per request.

Each problem becomes one vLLM request ``{"prompt": text, "multi_modal_data": {"image": [...]}}`` with
``SamplingParams(n=N, seed=problem seed)``; vLLM fans it out into N sequences that share the prompt's
KV cache blocks (prefix caching is on) and the image is encoded once. With ``first_greedy`` sample 0 is a
separate greedy request and samples 1..N-1 one request with ``n=N-1`` and seed ``seed + 1`` — vLLM gives
child ``i`` the seed ``seed + i``, so sample ``i`` always has seed :func:`~tts.engines.base.sample_seed`.

Prompt text is the same ChatML the transformers engine renders (InternVL's system message, ``assistant_prefix``
appended after ``<|im_start|>assistant\\n``). Images: for original remote-code checkpoints
(``InternVLChatModel``) each image is the literal ``<image>`` that vLLM's InternVL processor expands into
``<img><IMG_CONTEXT>×256·tiles</img>`` with InternVL's dynamic tiling (per-request cap
``mm_processor_kwargs={"max_dynamic_patch": k}``); for transformers-native ``-hf`` checkpoints the image
token is ``<IMG_CONTEXT>`` (expanded by the HF processor, cap ``{"max_patches": k}``). Text-only
checkpoints (used by the CPU tests) accept no images.

Continuations: a request's own ``n``, ``max_new_tokens``, ``greedy`` and ``stop`` strings
(:func:`~tts.engines.base.request_params`) become that prompt's own ``SamplingParams`` (``stop``,
``include_stop_str_in_output=False``), so requests with different budgets share one ``LLM.generate``. A
sample vLLM ended at one of the request's stop strings (``finish_reason == "stop"`` and ``stop_reason`` that
string) has finish reason ``step``; end of sequence stays ``stop`` (``stop_reason`` None or the end token
id). A partial solution continued step after step re-reads the same prompt: prefix caching (on) makes each
new step cost only its own tokens, and the image's multimodal hash reuses its encoding.

Problems go to vLLM in chunks of ``chunk_size`` so the sample stage can write each chunk's rollouts before
the next one starts (:meth:`VLLMEngine.stream`). With ``params.stop_on_repetition`` a looping sample is
ended by a logits processor (:mod:`tts.engines.vllm_repetition`) and reported with finish reason
``length`` and the ``repetition`` flag; loops are flagged from the token ids in any case.

On a CPU prefills are kept whole and a failed ``LLM.generate`` aborts what it left in the engine
(:mod:`tts.engines.vllm_scheduling`).

Example (GPU machine)::

    engine = VLLMEngine("OpenGVLab/InternVL3-8B", tensor_parallel_size=1, max_model_len=16384)
    engine.generate([GenerationRequest("p1", "<image>\\nHow many?", (image,), seed=7)], SamplingParams(n=8))
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from tts.engines.base import (
    FINISH_STEP,
    Completion,
    Engine,
    GenerationRequest,
    ProblemOutput,
    SamplingParams,
    request_params,
    sample_seed,
)
from tts.engines.prompting import default_system_message, read_config, render_chatml
from tts.engines.repetition import DEFAULT_DETECTOR, REPETITION_FLAG, RepetitionDetector
from tts.engines.vllm_repetition import PROCESSOR, loop_xargs, stopped_by_loop
from tts.engines.vllm_scheduling import generate_or_abort, whole_prefills

# model_type in config.json -> (image token in the prompt, mm_processor_kwargs key of the tiling cap)
MULTIMODAL_STYLES = {
    "internvl_chat": ("<image>", "max_dynamic_patch"),  # original remote-code checkpoints
    "internvl": ("<IMG_CONTEXT>", "max_patches"),  # transformers-native -hf checkpoints
}
_DTYPES = {"auto": "auto", "bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def vllm_style(config: dict[str, Any]) -> str:
    """``internvl_chat`` / ``internvl`` for the multimodal checkpoints, ``text`` for anything else."""
    model_type = config.get("model_type", "")
    return model_type if model_type in MULTIMODAL_STYLES else "text"


class VLLMEngine(Engine):
    """Policy sampling with vLLM's offline engine.

    Args:
        model: hub id or local path.
        tensor_parallel_size: GPUs per model replica.
        max_model_len: context length to reserve (prompt with image tokens + new tokens).
        gpu_memory_utilization: fraction of GPU memory for weights and KV cache.
        enable_prefix_caching: share the prompt's KV blocks between the N samples (on by default).
        limit_mm_per_prompt: most images per prompt (e.g. MMMU has up to 7); None: vLLM's default.
        max_tiles: default tiling cap for all requests (a request's ``max_tiles`` overrides it).
        dtype: ``auto``, ``bf16``, ``fp16`` or ``fp32``.
        system_message: default the checkpoint config's, else InternVL's; ``""`` gives an empty system turn, as
            InternVL's template renders it.
        chunk_size: problems per ``LLM.generate`` call (records reach disk after each chunk).
        loop_stop: install the loop-stopping logits processor (used when ``params.stop_on_repetition``).
        device: accepted for interface compatibility; vLLM picks its platform itself.
        **llm_kwargs: passed to ``vllm.LLM`` (``enforce_eager``, ``max_num_seqs``, ``distributed_executor_backend`` …).
    """

    name = "vllm"
    preferred_batch_size = 256

    def __init__(self, model: str, *, tensor_parallel_size: int = 1, max_model_len: int | None = None,
                 gpu_memory_utilization: float = 0.9, enable_prefix_caching: bool = True,
                 limit_mm_per_prompt: int | None = None, max_tiles: int | None = None, dtype: str = "auto",
                 revision: str | None = None, system_message: str | None = None, chunk_size: int = 256,
                 trust_remote_code: bool = True, device: str | None = None,
                 repetition: RepetitionDetector = DEFAULT_DETECTOR, loop_stop: bool = True,
                 **llm_kwargs: Any) -> None:
        super().__init__(model)
        from vllm import LLM

        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        config = read_config(model, revision)
        self.style = vllm_style(config)
        self.system_message = default_system_message(config) if system_message is None else system_message
        self.revision = revision
        self.max_tiles = max_tiles
        self.chunk_size = chunk_size
        self.repetition = repetition
        kwargs: dict[str, Any] = dict(
            model=model, revision=revision, tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization, enable_prefix_caching=enable_prefix_caching,
            dtype=_DTYPES.get(dtype, dtype), trust_remote_code=trust_remote_code,
        )
        if max_model_len:
            kwargs["max_model_len"] = max_model_len
        if self.style != "text" and limit_mm_per_prompt:
            kwargs["limit_mm_per_prompt"] = {"image": limit_mm_per_prompt}
        if self.style != "text" and max_tiles:
            kwargs["mm_processor_kwargs"] = {MULTIMODAL_STYLES[self.style][1]: max_tiles}
        self.loop_stop = loop_stop
        if loop_stop:
            kwargs["logits_processors"] = [PROCESSOR]
        kwargs.update(llm_kwargs)
        kwargs.update(whole_prefills(kwargs, config))
        self.llm = LLM(**kwargs)
        tok = self.llm.get_tokenizer()
        im_end = tok.convert_tokens_to_ids("<|im_end|>")
        unk = getattr(tok, "unk_token_id", None)
        self.stop_token_ids = [im_end] if isinstance(im_end, int) and im_end >= 0 and im_end != unk else []
        self.end_ids = {*self.stop_token_ids, *([tok.eos_token_id] if tok.eos_token_id is not None else [])}
        self.settings = {"tensor_parallel_size": tensor_parallel_size, "max_model_len": max_model_len,
                         "enable_prefix_caching": enable_prefix_caching, "dtype": dtype, "max_tiles": max_tiles}

    def info(self) -> dict[str, Any]:
        import vllm

        return {"model": self.model_id, "engine": self.name, "revision": self.revision, "style": self.style,
                "vllm": vllm.__version__, "system_message": self.system_message, **self.settings}

    def identity(self) -> dict[str, Any]:
        from tts.prompts import text_hash

        return {**super().identity(), "revision": self.revision, "system_message": text_hash(self.system_message)}

    # ------------------------------------------------------------------ prompts
    def render(self, request: GenerationRequest) -> str:
        image_token = MULTIMODAL_STYLES[self.style][0] if self.style != "text" else "<image>"
        return render_chatml(request, self.system_message, image_token=image_token)

    def prompt(self, request: GenerationRequest) -> dict[str, Any]:
        """The vLLM prompt dict for one problem (text, images, per-request tiling cap)."""
        text = self.render(request)
        prompt: dict[str, Any] = {"prompt": text}
        if request.images:
            if self.style == "text":
                raise ValueError(f"{request.problem_id}: {self.model_id} is a text-only model; it cannot take images")
            prompt["multi_modal_data"] = {"image": list(request.images)}
            tiles = request.max_tiles or self.max_tiles
            if tiles:
                prompt["mm_processor_kwargs"] = {MULTIMODAL_STYLES[self.style][1]: tiles}
        return prompt

    def _sampling(self, params: SamplingParams, *, n: int, seed: int | None, greedy: bool,
                  stop: tuple[str, ...] = ()) -> Any:
        from vllm import SamplingParams as VLLMSamplingParams

        return VLLMSamplingParams(
            n=n, seed=seed, temperature=0.0 if greedy else params.temperature,
            top_p=1.0 if greedy else params.top_p, top_k=0 if greedy else (params.top_k or 0),
            max_tokens=params.max_new_tokens, stop_token_ids=self.stop_token_ids, skip_special_tokens=True,
            stop=list(stop) or None, include_stop_str_in_output=False,
            extra_args=loop_xargs(self.repetition) if params.stop_on_repetition and self.loop_stop else None,
        )

    # ------------------------------------------------------------------ generation
    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        results: list[list[Completion]] = []
        for start in range(0, len(requests), self.chunk_size):
            results += self._generate_chunk(requests[start : start + self.chunk_size], params)
        return results

    def stream(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> Iterator[ProblemOutput]:
        requests = list(requests)
        for start in range(0, len(requests), self.chunk_size):
            chunk = requests[start : start + self.chunk_size]
            for out in super().stream(chunk, params):  # isolates a failing problem within the chunk
                yield replace(out, index=out.index + start)

    def _generate_chunk(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[Completion]]:
        started = time.perf_counter()
        prompts: list[Any] = []
        sampling: list[Any] = []
        plan: list[Any] = []  # plan: per problem, (first output index, kinds, its params)
        for request in requests:
            prompt = self.prompt(request)
            own = request_params(request, params)
            parts = []
            if own.temperature == 0:
                parts.append(("all_greedy", self._sampling(own, n=1, seed=None, greedy=True, stop=request.stop)))
            else:
                if own.first_greedy:
                    parts.append(("greedy", self._sampling(own, n=1, seed=None, greedy=True, stop=request.stop)))
                first = 1 if own.first_greedy else 0
                if own.n > first:
                    parts.append(("sampled", self._sampling(own, n=own.n - first, seed=sample_seed(request.seed, first),
                                                            greedy=False, stop=request.stop)))
            plan.append((len(prompts), [kind for kind, _ in parts], own, request.stop))
            for _, sp in parts:
                prompts.append(prompt)
                sampling.append(sp)
        outputs = generate_or_abort(self.llm, prompts, sampling)
        seconds = (time.perf_counter() - started) / max(1, sum(own.n for _, _, own, _ in plan))
        results = []
        for first, kinds, own, stops in plan:
            completions: list[Completion] = []
            for offset, kind in enumerate(kinds):
                out = outputs[first + offset]
                prompt_tokens = len(out.prompt_token_ids or ())
                for choice in sorted(out.outputs, key=lambda c: c.index):
                    c = self._completion(choice, prompt_tokens, seconds, greedy=kind != "sampled",
                                         loop_stop=own.stop_on_repetition and self.loop_stop, stops=stops)
                    copies = own.n if kind == "all_greedy" else 1
                    completions += [c] * copies
            results.append([replace(c, sample_idx=i) for i, c in enumerate(completions)])
        return results

    def _completion(self, choice: Any, prompt_tokens: int, seconds: float, *, greedy: bool,
                    loop_stop: bool, stops: tuple[str, ...] = ()) -> Completion:
        token_ids = list(choice.token_ids)
        finish = choice.finish_reason if choice.finish_reason in ("stop", "length") else "error"
        flags = ["greedy"] if greedy else []
        stop_reason = getattr(choice, "stop_reason", None)
        if finish == "stop" and isinstance(stop_reason, str) and stop_reason in stops:
            # One of the request's stop strings: a step, unless the loop qualified at this very token (the loop
            # stopper would force the end next): a loop is never a step, as in the transformers engine.
            finish = "length" if loop_stop and stopped_by_loop(token_ids, self.repetition) else FINISH_STEP
        body = token_ids[:-1] if finish == "stop" and token_ids and token_ids[-1] in self.end_ids else token_ids
        if loop_stop and finish == "stop" and stopped_by_loop(body, self.repetition):
            finish, token_ids = "length", body  # ended by the loop stopper, not by the model
        if self.repetition.find(token_ids) is not None:
            flags.append(REPETITION_FLAG)
        return Completion(0, choice.text, finish, prompt_tokens, len(token_ids), seconds, tuple(flags))

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is None:
            return
        self.llm = None
        engine = getattr(llm, "llm_engine", None)
        shutdown = getattr(engine, "shutdown", None) or getattr(getattr(engine, "engine_core", None), "shutdown", None)
        if callable(shutdown):
            shutdown()
        del llm
