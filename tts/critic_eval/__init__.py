"""Step-level evaluation of any critic on VisualProcessBench (``tts critic-eval``).

The critic scores every human-labelled step of the benchmark's 2,866 solutions through the conversation it
uses in Best-of-N (one forward per solution); the report gives the paper's metric — macro-F1 of correct
and incorrect steps, neutral steps excluded — per source and pooled over all steps, beside VisualPRM-8B's
Table 3, at a given threshold (default 0.5), at the best threshold on the set, and as a curve.

* :func:`evaluate_critic` — the whole evaluation (resumable output folder, ``report.json``, plot);
* :mod:`tts.critic_eval.metrics` — confusion counts, F1, the exact threshold sweep;
* :mod:`tts.critic_eval.scoring` — how solutions become critic requests, the output folder;
* :mod:`tts.critic_eval.report` — the report, the console table and the plot.
"""

from tts.critic_eval.evaluate import CriticEvalResult, evaluate_critic
from tts.critic_eval.metrics import Confusion, best_threshold, confusion, sweep

__all__ = ["Confusion", "CriticEvalResult", "best_threshold", "confusion", "evaluate_critic", "sweep"]
