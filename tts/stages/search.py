"""Stage: step-level search guided by the critic, instead of sampling then scoring (``tts search``).

For every problem the policy and the critic run together (:func:`tts.search.run_search`, many problems in
lockstep: one engine call and one critic call per round, ``batch_size`` problems in flight). A finished
problem is written whole (:mod:`tts.search.store`): its tree to ``search/<algorithm>.jsonl``, its summary
(cost: policy tokens, critic tokens, engine and critic calls, seconds) to ``search/<algorithm>.summary.jsonl``,
then its final candidates as ordinary records, ``rollouts.jsonl`` and ``scores/<critic label>.jsonl``, padded
to N with flagged copies (:class:`tts.search.SearchResult`), so ``tts grade``, ``select``, ``report`` and
``pairs`` read a search run as they read a sampled one.

Resume per problem: a problem with a summary is done (its missing rollouts/scores are re-derived from its
tree); any other problem is searched again from its seed, which reproduces it (seeds per problem and node
path), so kill -9 loses at most the problems in flight. A problem that fails (engine error, bad image) is
a warning and no record; the next run searches it again.

What the run binds (a resume with other values is refused): the policy (engine identity), ``sampling``
(N, temperature, top-p/k, max new tokens, seed: the search's draws; ``first_greedy`` is off), the prompt
set, ``search`` (the algorithm, the settings it reads, the step separator) and the critic under its label
with ``max_steps=None`` (a critic step is a search step).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from tts.critics.base import Critic
from tts.engines.base import Engine, SamplingParams
from tts.errors import ConfigError
from tts.images import BadImage
from tts.progress import progress_bar
from tts.prompts import build_prompt
from tts.records import Problem
from tts.rundir import ConfigConflict, RunDir
from tts.search.context import ProblemContext
from tts.search.driver import run_search
from tts.search.proposer import EngineProposer
from tts.search.scorer import CriticScorer
from tts.search.settings import SearchSettings
from tts.search.store import SearchStore, derived_records, missing_derived
from tts.search.types import STEP_SEPARATOR, SearchProblem
from tts.stages.common import after_batch, load_images, select_problems, tiles_for
from tts.stages.sample import prompt_binding
from tts.stages.score import raw_question

log = logging.getLogger(__name__)

DEFAULT_IN_FLIGHT = {"transformers": 16, "vllm": 256, "openai": 64}
"""Problems searched in lockstep when ``batch_size`` is not given, per engine."""


@dataclass(frozen=True)
class SearchStageSummary:
    problems: int
    skipped_done: int
    searched: int
    failed: int
    rederived: int


def search_sampling(sampling: SamplingParams, settings: SearchSettings) -> SamplingParams:
    """The sampling record a search run binds: the search's N and solution cap; no greedy first sample."""
    return replace(sampling, n=settings.n, max_new_tokens=settings.max_new_tokens, first_greedy=False)


def search_binding(algorithm: str, settings: SearchSettings) -> dict:
    return {"algorithm": algorithm, "settings": settings.options(algorithm), "separator": STEP_SEPARATOR}


def search(run: RunDir, engine: Engine, critic: Critic, algorithm: str, settings: SearchSettings,
           sampling: SamplingParams, problems: Sequence[Problem] | None = None, *, prompt_set: str = "internvl_cot",
           batch_size: int | None = None, progress: bool = True) -> SearchStageSummary:
    """Search every problem of ``problems`` (default: all of the run) not searched yet."""
    try:
        settings.check(algorithm)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if reason := engine.continuation_support():
        raise ConfigError(reason)
    params = search_sampling(sampling, settings)
    before = critic.max_steps
    critic.configure(max_steps=None)
    try:
        run.bind(f"critics.{critic.label}", critic.identity())
    except ConfigConflict:
        critic.configure(max_steps=before)
        raise
    run.bind("policy", engine.identity())
    run.bind("sampling", params.to_json())
    run.bind("prompt", prompt_binding(prompt_set))
    run.bind("search", search_binding(algorithm, settings))
    run.set_model_info("policy", engine.info())
    run.set_model_info(f"critic:{critic.label}", critic.info())

    store = SearchStore(run, algorithm)
    problems = select_problems(run, problems)
    rederived = complete_derived(run, algorithm, critic.label, model=engine.model_id, engine=engine.name)
    done = store.summaries()
    todo = [p for p in problems if p.id not in done]
    warnings: list[str] = []
    searched = failed = 0
    in_flight = batch_size or DEFAULT_IN_FLIGHT.get(engine.name, 16)
    proposer, scorer = EngineProposer(engine, params), CriticScorer(critic)
    with progress_bar(f"search ({algorithm})", total=len(todo), unit="problems", enabled=progress) as advance, \
            proposer.session():
        bad_images: list[str] = []
        queue = _search_problems(run, todo, params.seed, prompt_set, bad_images, advance)
        for result in run_search(algorithm, queue, proposer, scorer, settings, max_in_flight=in_flight):
            proposer.release(result.problem_id)
            advance(1)
            if not result.ok:
                warnings.append(f"{result.problem_id}: {result.error}")
                failed += 1
                continue
            store.write_tree(result)
            rollouts, scores = derived_records(result, model=engine.model_id, engine=engine.name, critic=critic.label,
                                               n=settings.n)
            run.append(rollouts)
            run.append(scores, critic=critic.label)
            searched += 1
            after_batch()
    failed += len(bad_images)
    run.add_warnings("search", bad_images + warnings)
    run.update_stage("search", algorithm=algorithm, problems=len(problems), done=len(store.summaries()))
    return SearchStageSummary(len(problems), len(problems) - len(todo), searched, failed, rederived)


def _search_problems(run: RunDir, problems: Sequence[Problem], seed: int, prompt_set: str, bad_images: list[str],
                     advance: Callable[[int], None]) -> Iterator[SearchProblem]:
    """The problems to search, images decoded when the driver takes each one (bounded by what is in flight)."""
    for p in problems:
        try:
            images = load_images(run, p)
        except BadImage as exc:
            bad_images.append(f"{p.id}: {exc}")
            advance(1)
            continue
        context = ProblemContext(build_prompt(p, prompt_set), images, tiles_for(p), raw_question(p))
        yield SearchProblem.from_run_seed(p.id, seed, context)


def complete_derived(run: RunDir, algorithm: str, label: str, *, model: str | None = None,
                     engine: str | None = None) -> int:
    """Write the rollouts and scores of done problems that are missing (a kill between a problem's summary
    and its derived records); returns how many records were written."""
    policy = run.config("policy") or {}
    sampling = run.config("sampling") or {}
    results = SearchStore(run, algorithm).results()
    if not results:
        return 0
    rollouts, scores = missing_derived(run, results, model=model or policy.get("model", ""),
                                       engine=engine or policy.get("engine", ""), critic=label,
                                       n=int(sampling.get("n") or 0))
    return run.append(rollouts) + run.append(scores, critic=label)
