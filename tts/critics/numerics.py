"""How a label-token critic turns its two label logits into a step score, and how the reference rounds it.

The reference (VisualPRM's ``select_best_response`` as VLMEvalKit calls it) runs the critic in bfloat16: the
LM head writes bf16 logits, ``logits[idx][:, [+, -]].softmax(-1)`` returns a bf16 tensor, and ``.tolist()``
hands those bf16 values to the mean. P(+) therefore takes one of few values near 1 (bf16 keeps 8 significant
bits: steps of 2**-8 in [0.5, 1)), exact ties between responses' mean scores are common, and the stable
``sorted(..., reverse=True)`` gives a tie to the earlier candidate (the strategies' rule: lowest sample index).

``score_rounding``:

``none`` (default)
    P(+) from float32 logits, in float32: at least as exact as the reference, but it breaks the
    reference's ties apart and can pick another response than a bf16 GPU run of the reference.
``bf16``
    As the reference's dtype does: the two label logits rounded to bf16 (a no-op where the model already
    produced bf16 logits), softmax in float32, the probability rounded to bf16. On the vLLM backend only the
    probability can be rounded (vLLM returns log-probabilities; in a bf16 run its logits are bf16 already).

Example:
    >>> round_bf16(0.99951171875), round_bf16(0.123456)
    (1.0, 0.12353515625)
"""

from __future__ import annotations

import math
import struct
from typing import Any

SCORE_ROUNDINGS = ("none", "bf16")


def check_rounding(rounding: str) -> str:
    """``rounding`` if it names a score rounding, else a ValueError listing them."""
    if rounding not in SCORE_ROUNDINGS:
        raise ValueError(f"unknown score_rounding {rounding!r}; use {' or '.join(SCORE_ROUNDINGS)}")
    return rounding


def round_bf16(x: float) -> float:
    """``x`` as float32 then bfloat16 (round to nearest, ties to even), back as a Python float.

    The same bits as ``torch.tensor(x, dtype=torch.float32).to(torch.bfloat16).item()``, without torch.
    """
    if math.isnan(x) or math.isinf(x):
        return x
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def p_first(logits: Any, rounding: str = "none") -> Any:
    """P(first label) over the last dimension (two label logits), as a float32 tensor."""
    import torch

    logits = logits.float()
    if rounding == "bf16":
        logits = logits.to(torch.bfloat16).float()
    p = torch.softmax(logits, dim=-1)[..., 0]
    return p.to(torch.bfloat16).float() if rounding == "bf16" else p


def p_first_from_logprobs(first: float, second: float, rounding: str = "none") -> float:
    """P(first label) from the two labels' log-probabilities (same normaliser, so only the difference counts)."""
    d = second - first
    p = 1.0 / (1.0 + math.exp(d)) if d < 700 else 0.0
    return round_bf16(p) if rounding == "bf16" else p
