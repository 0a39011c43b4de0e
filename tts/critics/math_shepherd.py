"""A text-only PRM with a step-tag convention: Math-Shepherd (``peiyi9979/math-shepherd-mistral-7b-prm``).

Why it is here: it proves the critic interface fits PRMs that do not use VisualPRM's chat turns. Format
(the model card's usage code, and search-and-learn's adaptation to free-form chain-of-thought):

* input text ``f"{question} {step_1} ки\\n\\n{step_2} ки … {step_n} ки"`` — the steps are the rollout's
  blank-line paragraphs, each followed by the tag ``" ки"``, tokenized with the tokenizer's special tokens
  (Mistral's BOS);
* the question is the policy prompt (or the raw question) with its ``<image>`` placeholders removed: the
  model cannot see the image;
* step score = softmax over the logits of the label tokens ``+`` and ``-`` (the ids of ``"+ -"`` as the
  model card takes them) at each tag position, i.e. P(+); scores are read at the tag tokens themselves.

No step merging by default (the reference has none; ``max_steps`` merges evenly as for VisualPRM). A
step that itself contains the tag token would shift the positions, so such a rollout is not scored
(``template_mismatch``). Backends as for VisualPRM: ``transformers`` (one packed forward pass per batch of
rollouts, two LM-head rows) and ``vllm`` (one request per tag, label log-probabilities, prefix caching).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from tts.critics.base import Critic, ScoringRequest, strip_image_placeholders
from tts.critics.fitting import fit_steps
from tts.critics.rows import Row, assemble, split_prepared
from tts.critics.steps import split_steps
from tts.errors import ConfigError
from tts.records import StepScores


class MathShepherd(Critic):
    """Math-Shepherd-style PRM on any causal LM checkpoint with a step tag and ``+``/``-`` label tokens.

    Args:
        model: hub id (``peiyi9979/math-shepherd-mistral-7b-prm``) or local path.
        step_tag, good, bad: the tag after each step and the two label tokens.
        max_steps: merge steps evenly down to this many (default: no cap, as the reference).
        question: ``prompt`` or ``raw`` (see :class:`tts.critics.base.Critic`).
        backend: ``transformers`` or ``vllm``; token_budget / max_length / vLLM options as VisualPRM.
    """

    name = "math-shepherd"

    def __init__(self, model: str, label: str | None = None, *, device: str | None = None, dtype: str = "auto",
                 revision: str | None = None, max_steps: int | None = None, question: str = "prompt",
                 step_tag: str = "ки", good: str = "+", bad: str = "-", backend: str = "transformers",
                 token_budget: int | None = None, max_length: int | None = None,
                 gpu_memory_utilization: float | None = None, enforce_eager: bool = False,
                 vllm_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__(model, label, question=question, max_steps=max_steps)
        self.backend = backend
        from tts.models.layout import ModelLayout

        self.revision = revision or ModelLayout.from_pretrained(model).commit  # identity: the exact weights
        self.stats: Counter = Counter()
        self.model: Any = None
        self.engine: Any = None
        if backend == "transformers":
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from tts.critics.hf_scoring import default_token_budget
            from tts.models.internvl import pick_device, pick_dtype

            self.device = pick_device(device)
            self.tokenizer = AutoTokenizer.from_pretrained(model, revision=revision)
            loaded: Any = AutoModelForCausalLM.from_pretrained(  # transformers types .to() as unbound
                model, revision=revision, dtype=pick_dtype(dtype, self.device))
            self.model = loaded.to(self.device).eval()
            model_length = getattr(self.model.config, "max_position_embeddings", None)
            self.token_budget = token_budget or default_token_budget(self.device)
        elif backend == "vllm":
            from tts.critics.vllm_backend import VLLMLabelScorer

            self.engine = VLLMLabelScorer(model, revision=revision, dtype=dtype, max_model_len=max_length,
                                          gpu_memory_utilization=gpu_memory_utilization, enforce_eager=enforce_eager,
                                          trust_remote_code=False, engine_kwargs=vllm_kwargs)
            self.tokenizer = self.engine.tokenizer
            model_length = self.engine.max_model_len
        else:
            raise ConfigError(f"unknown backend {backend!r}; use transformers or vllm")
        self.max_length = max_length or model_length
        self.step_tag, self.good, self.bad = step_tag, good, bad
        labels = self.tokenizer.encode(f"{good} {bad}", add_special_tokens=False)
        tag = self.tokenizer.encode(f" {step_tag}", add_special_tokens=False)
        if len(labels) != 2 or not tag:
            raise ConfigError(f"{model}: {good!r} and {bad!r} are not one token each in this tokenizer "
                             f"(got {labels}); not a Math-Shepherd-style PRM")
        self.candidate_ids = [int(i) for i in labels]
        self.tag_id = int(tag[-1])

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def info(self) -> dict[str, Any]:
        return {**super().info(), "backend": self.backend, "max_steps": self.max_steps, "question": self.question,
                "step_tag": self.step_tag, "max_length": self.max_length}

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "revision": self.revision, "step_tag": self.step_tag,
                "labels": [self.good, self.bad]}

    def render(self, question: str, steps: Sequence[str]) -> str:
        tag = f" {self.step_tag}"
        return f"{question} " + (tag + "\n\n").join(steps) + tag

    def _prepare(self, ri: int, request: ScoringRequest):
        question = strip_image_placeholders(self.question_text(request))
        tok = self.tokenizer

        def build(steps: Sequence[str]) -> list[int]:
            return list(tok(self.render(question, steps), add_special_tokens=True)["input_ids"])

        for sample_idx, text in request.responses:
            steps = split_steps(text, max_steps=self.max_steps)
            if not steps:
                yield self.unscored(request.problem_id, sample_idx, steps, "empty")
                continue
            fit = fit_steps(steps, build, self.max_length, encode_text=lambda s: tok.encode(s, add_special_tokens=False),
                            decode=lambda ids: str(tok.decode(ids)))
            if fit is None:
                yield self.unscored(request.problem_id, sample_idx, steps, "too_long")
                continue
            positions = [i for i, t in enumerate(fit.ids) if t == self.tag_id]
            if len(positions) != len(fit.steps):
                yield self.unscored(request.problem_id, sample_idx, fit.steps, "template_mismatch")
                continue
            yield Row(ri, sample_idx, fit.steps, fit.ids, positions, fit.flags)

    def score(self, requests: Sequence[ScoringRequest]) -> list[list[StepScores]]:
        prepared = [list(self._prepare(i, r)) for i, r in enumerate(requests)]
        rows = split_prepared(prepared)
        scores = self._score_rows(rows) if rows else []
        return assemble([r.problem_id for r in requests], prepared, rows, scores, self.label)

    def _score_rows(self, rows: Sequence[Any]) -> list[list[float]]:
        if self.backend == "vllm":
            items = [(r.request, [{"prompt_token_ids": r.ids[: p + 1]} for p in r.positions]) for r in rows]
            scores = self.engine.p_first(items, tuple(self.candidate_ids))
            self.stats.update(self.engine.stats)
            self.engine.stats.clear()
            return scores
        from tts.critics.hf_scoring import LabelHead, run_packed

        body_model = self.model.base_model

        def body(input_ids: Any, attention: Any, batch: Sequence[Any]) -> Any:
            return body_model(input_ids=input_ids, attention_mask=attention).last_hidden_state

        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        return run_packed(rows, budget=self.token_budget, pad_id=pad, device=self.device,
                          head=LabelHead(self.model, self.candidate_ids), body=body, stats=self.stats)
