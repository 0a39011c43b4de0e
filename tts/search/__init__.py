"""Step-level search guided by the critic: beam search, DVTS, step-greedy, particle filtering, Best-of-N.

The algorithm layer: model-free, batched across problems, registered by name in :data:`SEARCHES`.

* :mod:`tts.search.types` — the interfaces (:class:`StepProposer`, :class:`PartialScorer` and their
  request/answer records) and the step convention (a step ends at a blank line, the critic's split);
* :mod:`tts.search.settings` — :class:`SearchSettings` (N, beam width M, ``max_steps``, token budgets,
  ``lookahead``, ``filter_duplicates``, particle temperature, …);
* :mod:`tts.search.seeds` — a seed per (problem, node path);
* :mod:`tts.search.tree` — one problem's tree, budgets and cost; the ``expand``/``score`` moves;
* :mod:`tts.search.beam`, :mod:`~tts.search.step_greedy`, :mod:`~tts.search.dvts`,
  :mod:`~tts.search.particle`, :mod:`~tts.search.best_of_n` — the algorithms (each module's docstring
  gives its semantics and the peer code it follows);
* :mod:`tts.search.driver` — :func:`run_search`: many problems in lockstep, one policy and one critic call
  per round;
* :mod:`tts.search.records` / :mod:`tts.search.result` — the tree and summary JSONL records, and the final
  candidates as ordinary ``Rollout`` + ``StepScores``.

Example:
    >>> from tts.search import SEARCHES, SearchSettings
    >>> SEARCHES.names()
    ['beam', 'best_of_n', 'dvts', 'particle_filter', 'step_greedy']
    >>> SearchSettings(n=16, beam_width=4, aggregation="min").options("beam")["aggregation"]
    'min'

Design note for step two (integration with engines, critic, run directory, CLI)
===============================================================================

**Policy (a StepProposer over an Engine).** One ``propose`` call turns into one engine call:

* each :class:`StepRequest` becomes a generation request whose ``assistant_prefix`` is ``request.prefix``
  (the partial solution plus one ``"\\n\\n"``; ``""`` at the root, where the normal generation prompt
  applies) with ``n = len(seeds)`` and ``seed = seeds[0]`` (children seeds are consecutive: vLLM's
  ``SamplingParams(n, seed)`` rule, which the transformers engine already reproduces);
* the engine interface needs a ``stop`` setting (strings): ``["\\n\\n"]`` when ``stop_at_step``, none
  otherwise; the stop string is left out of the text (``include_stop_str_in_output=False``) and the finish
  reason reported as ``step`` when it fired, ``stop`` at end of sequence, ``length`` at ``max_new_tokens``
  (per request: the search sets it per request from its budgets). ``greedy`` requests use temperature 0.
  The repetition stopper must report ``length``-like truncation, never ``step``;
* transformers: the image is encoded once per problem for the whole search (cache the vision features by
  problem id for the lifetime of the search, not per call); vLLM: ``enable_prefix_caching`` makes each
  new step cost only its own tokens, and the image's multimodal hash makes its encoding shared too;
  OpenAI-compatible servers: chat completions with the partial reply as a final assistant message and
  ``continue_final_message=True, add_generation_prompt=False`` (vLLM serve), or the completions endpoint
  with the rendered prompt; ``stop`` and ``seed`` per request;
* re-tokenisation: the prefix is re-tokenised from text, so a step boundary may tokenise differently
  than generated (search-and-learn has the same property); ``tokens`` must count generated tokens only.

**Critic (a PartialScorer over a Critic).** Each :class:`ScoreRequest` is a rollout of its problem: the
partial solution's text is ``"\\n\\n".join(steps)`` and the critic must split it the same way, so it scores
with ``max_steps=None`` (no merging; VisualPRM's 12-step merge would change what a step is). Requests of one
problem go into one ``ScoringRequest`` so its image features are shared (VisualPRM already encodes each
image once per request), the vLLM backend uses prefix caching (partial solutions of a node's children
share their whole prefix). Scores must be causal (a step's score ignores what follows), which VisualPRM's
and Math-Shepherd's are; the tree records then hold the exact scores of the final candidates, and
lookahead steps are cut off by position. A critic that drops leading steps returns the trailing scores.

**Memory.** Policy and critic live in one process: vLLM policy with ``gpu_memory_utilization`` ≈ 0.45 and a
vLLM critic ≈ 0.45 for 8B + 8B on one 80 GB GPU (bf16 weights ≈ 16 GB each, the rest KV cache), or
the transformers critic in the remainder (search-and-learn: vLLM 0.5, HF PRM the rest). The policy on a
server with the critic local needs nothing more than the OpenAI proposer above.

**Run directory and resume.** ``search/<algo>.jsonl`` holds the tree (:class:`SearchNode` lines) and
``search/<algo>.summary.jsonl`` one :class:`SearchSummary` per problem, appended after that problem's
nodes in one fsynced batch; ``rollouts.jsonl`` and ``scores/<critic>.jsonl`` get the final candidates
(:meth:`SearchResult.rollouts`, :meth:`SearchResult.step_scores`) in the same batch. Resume per problem: a
problem is done iff its summary line is there; on restart, tree lines of problems without a summary are
ignored (a reader keeps the lines of summarised problems only) and those problems are searched again from
their seed, which reproduces them exactly; kill -9 loses at most the problems in flight. Results with
``error`` are logged and not written. The manifest records the algorithm and :meth:`SearchSettings.options`
as identity (changing them for an existing run is refused), the critic's identity with ``max_steps=None``.
Proposal for :mod:`tts.records`: a ``search`` field on ``Rollout`` (``{"algorithm", "node", "settings"}``)
to replace the ``search:``/``node:``/``search_settings:`` flags written today; ``tts pairs --method step``
then reads sibling pairs (same parent, different scores) from ``search/<algo>.jsonl``.

**CLI and report.** ``tts search --policy P --critic C --algorithm beam --n 16 --beam-width 4
--benchmark mathvista:testmini [--aggregation last --max-steps 40 --lookahead 0 --token-budget T ...]``
parses options into :class:`SearchSettings` and calls one public function (``tts.stages.search``) that
builds the proposer/scorer adapters and iterates :func:`run_search` (``max_in_flight`` = the engine's
batch size), writing whole problems; ``grade``, ``select``, ``report`` and ``pairs`` then work on the run
unchanged. ``tts run`` recipes for InternVL3-8B + VisualPRM at budgets 4, 16, 64 per algorithm. The
compare report (``tts report RUN1 RUN2 …``) plots accuracy against mean generated policy tokens per problem
(``SearchSummary.policy_tokens``; Best-of-N runs from ``rollouts.jsonl``) with bootstrap CIs, one curve per
algorithm (Best-of-N and weighted vote from the Best-of-N run's subsets), critic tokens as a second axis.
``bench/search.py``: beam search over 32 problems with ``max_in_flight=1`` vs batched: calls, time ratio,
identical results.
"""

from tts.search.driver import run_search, search_problems
from tts.search.records import SearchNode, SearchSummary
from tts.search.registry import SEARCHES, Outcome, SearchAlgorithm
from tts.search.result import SearchResult
from tts.search.settings import SearchSettings
from tts.search.tree import SearchContractError, SearchTree
from tts.search.types import (
    PartialScore,
    PartialScorer,
    ScoreRequest,
    SearchProblem,
    StepProposal,
    StepProposer,
    StepRequest,
)

__all__ = [
    "SEARCHES",
    "Outcome",
    "PartialScore",
    "PartialScorer",
    "ScoreRequest",
    "SearchAlgorithm",
    "SearchContractError",
    "SearchNode",
    "SearchProblem",
    "SearchResult",
    "SearchSettings",
    "SearchSummary",
    "SearchTree",
    "StepProposal",
    "StepProposer",
    "StepRequest",
    "run_search",
    "search_problems",
]
