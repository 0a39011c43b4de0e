"""VisualPRM step scores: the conversation it was trained on, all steps in one forward pass per rollout.

Format (VisualPRM's data pipeline and reward-model code, see ``shared/reference/visualprm.md`` §1):

* InternVL2.5 ChatML template with the process-supervision system prompt (the checkpoint config's
  ``system_message`` when it has one, else ``prompts/visualprm_system.txt``);
* first user turn ``### Question:\\n{question}\\n\\n### Solution Process:\\n{step_0}``, where the question
  is the full policy prompt with its ``<image>`` placeholders (``<image>\\n`` is put in front when it has
  none, as the reference does);
* every later step is its own user turn, every assistant turn is the placeholder ``+``;
* the score of step *i* is softmax over the logits of ``+`` and ``-`` at the position that predicts the
  *i*-th assistant reply, i.e. P(+).

Efficiency: the image is encoded once per problem and its features are scattered into the N rollout
sequences, which run as one padded batch; only the ``+``/``-`` rows of the LM head are evaluated, at the
reply positions only (never the full vocabulary × sequence logits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tts.critics.base import Critic, ScoringRequest
from tts.critics.steps import split_steps
from tts.prompts import IMAGE_PLACEHOLDER, prompt_text
from tts.records import StepScores

ROLE_USER = "<|im_start|>user\n"
ROLE_ASSISTANT = "<|im_start|>assistant\n"
SEP = "<|im_end|>\n"
PLACEHOLDER = "+"


def first_turn(question: str, step: str, n_images: int) -> str:
    if n_images and IMAGE_PLACEHOLDER not in question:
        question = f"{IMAGE_PLACEHOLDER}\n" * n_images + question
    return f"### Question:\n{question}\n\n### Solution Process:\n{step}"


def conversation(system: str, question: str, steps: Sequence[str], n_images: int) -> str:
    """The full scoring conversation with ``+`` in every assistant turn (``<image>`` still unexpanded)."""
    parts = [f"<|im_start|>system\n{system}{SEP}"]
    for i, step in enumerate(steps):
        query = first_turn(question, step, n_images) if i == 0 else step
        parts.append(f"{ROLE_USER}{query}{SEP}{ROLE_ASSISTANT}{PLACEHOLDER}{SEP}")
    return "".join(parts)


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
        system_message: override the system prompt.
        checkpoint_style: ``auto`` (read the config), ``native`` or ``remote``.
    """

    name = "visualprm"

    def __init__(self, model: str, label: str | None = None, *, device: str | None = None, dtype: str = "auto",
                 revision: str | None = None, max_steps: int | None = 12, system_message: str | None = None,
                 checkpoint_style: str = "auto") -> None:
        super().__init__(model, label)
        from tts.models.internvl import load_internvl

        self.vlm = load_internvl(model, device=device, dtype=dtype, revision=revision, style=checkpoint_style)
        self.max_steps = max_steps
        self.system_message = system_message or self.vlm.config_system_message or prompt_text("visualprm_system")
        tok = self.vlm.tokenizer
        ids = tok.convert_tokens_to_ids([PLACEHOLDER, "-"])
        unk = tok.unk_token_id
        if any(i is None or (unk is not None and i == unk) for i in ids) or len(self.vlm.encode(PLACEHOLDER)) != 1:
            raise ValueError(f"{model}: tokenizer has no single '+'/'-' tokens; not a VisualPRM-format critic")
        self.candidate_ids = ids
        self.bos = self.vlm.encode(ROLE_ASSISTANT)
        self.target = self.vlm.encode(ROLE_ASSISTANT + PLACEHOLDER + SEP)

    def info(self) -> dict[str, Any]:
        return {**super().info(), **self.vlm.info(), "max_steps": self.max_steps, "system_message": self.system_message}

    def identity(self) -> dict[str, Any]:
        from tts.prompts import text_hash

        return {**super().identity(), "revision": self.vlm.revision, "max_steps": self.max_steps,
                "system_message": text_hash(self.system_message)}

    def reply_positions(self, ids: Sequence[int]) -> list[int]:
        """Positions whose next token is an assistant ``+`` (the last token of the assistant role prefix)."""
        return find_subsequence_ends(ids, self.target, len(self.bos) - 1)

    def score(self, requests: Sequence[ScoringRequest]) -> list[list[StepScores]]:
        return [self._score_problem(r) for r in requests]

    def _score_problem(self, request: ScoringRequest) -> list[StepScores]:
        import torch

        vlm = self.vlm
        results: dict[int, StepScores] = {}
        rows: list[tuple[int, list[str], list[int], list[int]]] = []
        features, tiles = None, []
        with torch.no_grad():
            if request.images:
                pixel_values, tiles = vlm.pixel_values(request.images, request.max_tiles)
                features = vlm.features(pixel_values)  # once for all N rollouts of the problem
        for sample_idx, text in request.responses:
            steps = split_steps(text, max_steps=self.max_steps)
            if not steps:
                results[sample_idx] = self.unscored(request.problem_id, sample_idx, steps, "empty")
                continue
            conv = conversation(self.system_message, request.question, steps, len(request.images))
            ids = vlm.encode(vlm.expand_images(conv, tiles))
            positions = self.reply_positions(ids)
            if len(positions) != len(steps):
                # A response containing chat-template markers would shift the turns; refuse to guess.
                results[sample_idx] = self.unscored(request.problem_id, sample_idx, steps, "template_mismatch")
                continue
            rows.append((sample_idx, steps, ids, positions))

        if rows:
            width = max(len(r[2]) for r in rows)
            pad = vlm.tokenizer.pad_token_id if vlm.tokenizer.pad_token_id is not None else 0
            input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
            attention = torch.zeros((len(rows), width), dtype=torch.long)
            for i, (_, _, ids, _) in enumerate(rows):  # right padding: real positions never see the pad
                input_ids[i, : len(ids)] = torch.tensor(ids)
                attention[i, : len(ids)] = 1
            input_ids, attention = input_ids.to(vlm.device), attention.to(vlm.device)
            with torch.no_grad():
                hidden = vlm.backbone_hidden(vlm.embed(input_ids, features), attention)
                head = vlm.language_model.get_output_embeddings()
                weight = head.weight[self.candidate_ids].float()  # (2, H): only the "+" and "-" rows
                bias = head.bias[self.candidate_ids].float() if getattr(head, "bias", None) is not None else None
                for i, (sample_idx, steps, _, positions) in enumerate(rows):
                    logits = hidden[i, positions].float() @ weight.T
                    if bias is not None:
                        logits = logits + bias
                    p_plus = torch.softmax(logits, dim=-1)[:, 0].tolist()
                    results[sample_idx] = StepScores(request.problem_id, sample_idx, self.label, tuple(steps), tuple(p_plus))
        return [results[idx] for idx, _ in request.responses]
