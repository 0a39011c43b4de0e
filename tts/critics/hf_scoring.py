"""The transformers side of token-position critics: packed forward passes, two LM-head rows.

A rollout becomes one token sequence and a list of *score positions* (for VisualPRM, the position that
predicts each assistant reply; for Math-Shepherd, each step tag). Sequences of many problems are packed
into forward batches up to a token budget (rows × longest row, right padding, so real positions never
attend to padding), the LM body runs once per batch, and only the two label rows of the LM head are
applied, only at the score positions: never the full vocabulary × sequence logits.

Step score = softmax over the two label logits, first label's probability (P(+)). The logits are taken
in float32 from the body's hidden states (bf16 on GPU), which is at least as exact as the reference,
whose bf16 LM head rounds them first; ``rounding="bf16"`` rounds as the reference does
(:mod:`tts.critics.numerics`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from tts.critics.fitting import pack_by_budget
from tts.critics.rows import Row


def default_token_budget(device: str) -> int:
    """Padded tokens per forward pass: generous on a GPU (bf16 8B activations are small), modest on CPU."""
    return 32768 if str(device).startswith("cuda") else 8192


class LabelHead:
    """The LM-head rows of two label tokens; scores hidden states as P(first label) over the pair."""

    def __init__(self, lm: Any, label_ids: Sequence[int], rounding: str = "none") -> None:
        from tts.critics.numerics import check_rounding

        self.rounding = check_rounding(rounding)
        head = lm.get_output_embeddings()
        self.weight = head.weight[list(label_ids)].detach().float()  # (2, H)
        bias = getattr(head, "bias", None)
        self.bias = bias[list(label_ids)].detach().float() if bias is not None else None

    def p_first(self, hidden: Any) -> Any:
        from tts.critics.numerics import p_first

        logits = hidden.float() @ self.weight.T
        if self.bias is not None:
            logits = logits + self.bias
        return p_first(logits, self.rounding)


def run_packed(rows: Sequence[Row], *, budget: int, pad_id: int, device: str, head: LabelHead,
               body: Callable[[Any, Any, Sequence[Row]], Any], stats: Counter) -> list[list[float]]:
    """P(first label) at every row's score positions, rows packed into forward batches up to ``budget``.

    ``body(input_ids, attention_mask, rows)`` returns the final hidden states (B, L, H) of the batch.
    """
    import torch

    out: list[list[float]] = [[] for _ in rows]
    for batch in pack_by_budget([len(r.ids) for r in rows], budget):
        width = max(len(rows[i].ids) for i in batch)
        input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for b, i in enumerate(batch):
            input_ids[b, : len(rows[i].ids)] = torch.tensor(rows[i].ids)
            attention[b, : len(rows[i].ids)] = 1
        with torch.inference_mode():
            hidden = body(input_ids.to(device), attention.to(device), [rows[i] for i in batch])
            b_idx = torch.tensor([b for b, i in enumerate(batch) for _ in rows[i].positions], device=hidden.device)
            p_idx = torch.tensor([p for i in batch for p in rows[i].positions], device=hidden.device)
            scores = head.p_first(hidden[b_idx, p_idx].to(head.weight.device)).tolist()
        k = 0
        for i in batch:
            n = len(rows[i].positions)
            out[i] = scores[k : k + n]
            k += n
        stats["forward_passes"] += 1
        stats["sequences"] += len(batch)
        stats["tokens"] += sum(len(rows[i].ids) for i in batch)
        stats["padded_tokens"] += width * len(batch)
    return out
