"""Stop looping samples inside vLLM: a per-request logits processor that forces end-of-sequence.

vLLM (v1) has no stopping-criteria hook, but it runs custom logits processors on every decoding step and
hands them each request's growing list of output tokens. :data:`PROCESSOR` (``"module:Class"``, as vLLM
loads it: ``LLM(logits_processors=[PROCESSOR])`` or ``vllm serve --logits-processors PROCESSOR``) keeps,
per request and period, the current run of matching tokens — the streaming form of
:class:`tts.engines.repetition.RepetitionDetector` — and once a loop qualifies it allows only the
end-of-sequence token, so the sample ends there. It acts only on requests that ask for it through
``SamplingParams.extra_args`` (``vllm_xargs`` over HTTP) with key :data:`XARG`:
``[min_repeats, min_span, max_period]``; the token forced is the request's own end-of-sequence token
(``eos_token_id``, else its lowest stop token id), which vLLM resolves from the tokenizer.

A sample ended this way comes back with finish reason ``stop``; :func:`stopped_by_loop` recognises it (the
detected loop ends exactly at the last generated token, which a loop that merely reached the threshold
can only do if it was cut there) so the engines report it as ``length`` with the ``repetition`` flag.

The class is built on first access (module ``__getattr__``), so importing this module needs no vLLM.

Example:
    >>> loop_xargs(RepetitionDetector())
    {'tts_loop_stop': [4, 64, 512]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tts.engines.repetition import RepetitionDetector

XARG = "tts_loop_stop"
PROCESSOR = "tts.engines.vllm_repetition:LoopStopProcessor"


def loop_xargs(detector: RepetitionDetector) -> dict[str, list[int]]:
    """The ``extra_args`` / ``vllm_xargs`` entry that turns loop stopping on for one request."""
    return {XARG: [detector.min_repeats, detector.min_span, detector.max_period]}


def stopped_by_loop(token_ids: Sequence[int], detector: RepetitionDetector) -> bool:
    """Whether a sequence (without its end-of-sequence token) ends exactly where a loop qualified."""
    loop = detector.find(token_ids)
    return loop is not None and loop.start + loop.length == len(token_ids)


class _RequestLoopStop:
    """Incremental loop test over one request's output tokens; forces EOS once it fires."""

    def __init__(self, detector: RepetitionDetector, eos: int) -> None:
        import numpy as np

        self.eos = eos
        self.periods = np.arange(1, detector.max_period + 1)
        self.need = np.array([detector.run_needed(int(p)) for p in self.periods])
        self.runs = np.zeros(detector.max_period, dtype=np.int64)
        self.tokens = np.zeros(1024, dtype=np.int64)
        self.seen = 0
        self.fired = False

    def __call__(self, output_ids: list[int], logits: Any) -> Any:
        import numpy as np

        if not self.fired:
            for pos in range(self.seen, len(output_ids)):
                if pos >= self.tokens.shape[0]:
                    self.tokens = np.concatenate([self.tokens, np.zeros_like(self.tokens)])
                tok = output_ids[pos]
                self.tokens[pos] = tok
                back = pos - self.periods
                same = (back >= 0) & (self.tokens[np.maximum(back, 0)] == tok)
                self.runs = np.where(same, self.runs + 1, 0)
                if (self.runs >= self.need).any():
                    self.fired = True
                    break
            self.seen = len(output_ids)
        if self.fired:
            logits.fill_(float("-inf"))
            logits[self.eos] = 0.0
        return logits


def _build() -> type:
    from vllm.v1.sample.logits_processor import AdapterLogitsProcessor

    class LoopStopProcessor(AdapterLogitsProcessor):
        """End a request's sample with EOS as soon as it loops (requests opt in via extra_args)."""

        def is_argmax_invariant(self) -> bool:
            return False

        def new_req_logits_processor(self, params: Any) -> Any:
            settings = (getattr(params, "extra_args", None) or {}).get(XARG)
            if not settings:
                return None
            min_repeats, min_span, max_period = (int(v) for v in settings[:3])
            eos = params.eos_token_id
            if eos is None:
                stops = sorted(params.all_stop_token_ids)
                if not stops:
                    return None  # nothing that would end the sample: leave it alone
                eos = stops[0]
            detector = RepetitionDetector(min_repeats=min_repeats, min_span=min_span, max_period=max_period)
            return _RequestLoopStop(detector, eos)

    LoopStopProcessor.__module__ = __name__
    LoopStopProcessor.__qualname__ = "LoopStopProcessor"
    return LoopStopProcessor


def __getattr__(name: str) -> Any:
    if name == "LoopStopProcessor":
        cls = _build()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
