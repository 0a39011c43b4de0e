"""Per-sample seeded sampling for transformers ``generate``: every row draws from its own random stream.

Why: transformers samples every row of a batch from the one global torch RNG, so a rollout would depend
on which other rows (samples, problems) shared its batch. Here each row carries a seed; at decoding step
``t`` the row draws exponential noise from a torch generator seeded with ``mix(seed, t)`` and takes the
token with the largest ``logit/T - log(noise)`` among those top-k/top-p keep (the exponential-race form
of the Gumbel-max trick, which is how vLLM samples too). A rollout is then a function of (model, prompt,
seed, settings) only: several problems can share one ``generate`` call (better GPU use) and a resumed or
sharded run reproduces a clean one. The race is also robust to the last-bit differences that different
batch shapes cause in the logits: a draw changes only if two tokens' noisy scores tie to that precision
(inverse-CDF sampling over sorted probabilities, by contrast, flips whenever two near-equal
probabilities swap places).

The processor applies temperature, top-k and top-p like transformers' warpers (in that order), samples,
and returns scores that are ``-inf`` everywhere except the chosen token, so ``generate`` runs in greedy
mode and simply takes it. Rows marked greedy take the arg-max of the raw scores.

Rows that already ended (``finished``, a callable the engine passes: end of sequence or a stopping
criterion) are not sampled: ``generate`` replaces their next token with padding anyway, and a row's draws
depend only on its own seed and step, so skipping them changes nothing but the time (in a batch whose rows
stop at different lengths, most rows wait for the longest).

Example:
    >>> mix(7, 0) == mix(7, 0) != mix(7, 1)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def mix(seed: int, step: int) -> int:
    """A 63-bit generator seed determined by (row seed, decoding step) alone."""
    return _splitmix64(_splitmix64(seed & _MASK64) ^ (step & _MASK64)) >> 1


class SeededSampler:
    """A transformers logits processor that samples each row with its own seed (or greedily).

    Args:
        seeds: one seed per row (ignored for greedy rows).
        greedy: one flag per row.
        temperature, top_p, top_k: as in :class:`tts.engines.SamplingParams` (top_k 0/None: off).
    """

    def __init__(self, seeds: Sequence[int], greedy: Sequence[bool], *, temperature: float, top_p: float,
                 top_k: int | None, finished: Callable[[Any], Any] | None = None) -> None:
        if len(seeds) != len(greedy):
            raise ValueError("one seed and one greedy flag per row")
        self.finished = finished
        self.seeds = list(seeds)
        self.greedy = list(greedy)
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k or 0
        self._start: int | None = None
        self._generators: dict[int, Any] = {}

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if scores.shape[0] != len(self.seeds):
            raise ValueError(f"batch has {scores.shape[0]} rows, sampler has {len(self.seeds)} seeds")
        if self._start is None:
            self._start = int(input_ids.shape[1])
        step = int(input_ids.shape[1]) - self._start
        logits = scores.float()
        choice = logits.argmax(dim=-1)
        done = self.finished(input_ids).tolist() if self.finished is not None else [False] * len(self.seeds)
        rows = [i for i, g in enumerate(self.greedy) if not g and self.temperature > 0 and not done[i]]
        if rows:
            idx = torch.tensor(rows, device=logits.device)
            choice[idx] = self._sample(logits[idx], rows, step)
        out = torch.full_like(scores, float("-inf"))
        out.scatter_(1, choice.unsqueeze(1), 0.0)
        return out

    def _sample(self, logits: Any, rows: list[int], step: int) -> Any:
        import torch

        logits = self.warp(logits)
        noise = torch.empty_like(logits)
        for k, row in enumerate(rows):
            gen = self._generators.get(row)
            if gen is None:
                gen = self._generators[row] = torch.Generator(device=logits.device)
            gen.manual_seed(mix(self.seeds[row], step))
            noise[k].exponential_(generator=gen)
        return (logits - noise.clamp_(min=1e-30).log()).argmax(dim=-1)

    def warp(self, logits: Any) -> Any:
        """Temperature, then top-k, then top-p (masked tokens become ``-inf``), as transformers' warpers."""
        import torch

        logits = logits / self.temperature
        vocab = logits.shape[-1]
        if 0 < self.top_k < vocab:
            kth = torch.topk(logits, self.top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
            probs = torch.softmax(sorted_logits, dim=-1)
            before = probs.cumsum(dim=-1) - probs  # mass of the tokens ranked above each token
            drop_sorted = before >= self.top_p  # the top token always stays
            drop = torch.zeros_like(drop_sorted).scatter_(1, order, drop_sorted)
            logits = logits.masked_fill(drop, float("-inf"))
        return logits
