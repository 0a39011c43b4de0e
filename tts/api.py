"""The Python API behind ``tts bestofn`` and ``tts demo``: one call runs every stage over a run directory.

Example (tiny offline checkpoints; accuracy is meaningless with random weights):
    >>> from tts.testing import tiny_checkpoints
    >>> ck = tiny_checkpoints()                                    # doctest: +SKIP
    >>> result = bestofn(str(ck.policy), str(ck.critic), n=4, benchmarks=["demo"],
    ...                  max_new_tokens=32, out="runs/example")   # doctest: +SKIP
    >>> result.report["accuracy"]["demo"]                          # doctest: +SKIP
"""

from __future__ import annotations

import gc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts.engines.base import SamplingParams
from tts.records import Problem, Rollout
from tts.rundir import ConfigConflict, RunDir


@dataclass(frozen=True)
class BestOfNResult:
    run_dir: Path
    report: dict[str, Any]


def slug(model: str) -> str:
    """A short, filesystem-safe name for a model id or path (``OpenGVLab/InternVL3-8B`` → ``InternVL3-8B``)."""
    base = Path(model.rstrip("/")).name or model
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base)[:60]


def default_out(policy: str, critic: str, n: int) -> Path:
    return Path("runs") / f"bestofn-{slug(policy)}-{slug(critic)}-n{n}"


def _release() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass


def _missing_rollouts(run: RunDir, problems: Sequence[Problem], n: int) -> int:
    have: dict[str, int] = {}
    for pid, _ in run.keys(Rollout):
        have[pid] = have.get(pid, 0) + 1
    return sum(max(0, n - have.get(p.id, 0)) for p in problems)


def bestofn(
    policy: str,
    critic: str,
    *,
    n: int = 8,
    benchmarks: Sequence[str] = ("demo",),
    out: str | Path | None = None,
    engine: str = "transformers",
    critic_kind: str = "visualprm",
    critic_label: str | None = None,
    temperature: float = 0.7,
    top_p: float = 0.95,
    top_k: int | None = None,
    max_new_tokens: int = 4096,
    seed: int = 0,
    first_greedy: bool = False,
    prompt_set: str = "internvl_cot",
    limit: int | None = None,
    data_dir: str | Path | None = None,
    strategies: Sequence[str] = ("best_of_n",),
    aggregations: Sequence[str] = ("mean",),
    batch_size: int = 4,
    device: str | None = None,
    dtype: str = "auto",
    progress: bool = True,
) -> BestOfNResult:
    """Sample N rollouts per problem, score them with the critic, grade, select and report.

    Re-running the same call resumes: every stage skips what is already on disk. A call whose settings
    differ from the run's (model, n, temperature, prompt …) raises :class:`tts.rundir.ConfigConflict`.
    """
    from tts.critics import load_critic
    from tts.engines import load_engine
    from tts.stages import add_problems, build_report, grade_run, sample, score, select_run

    params = SamplingParams(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                            seed=seed, first_greedy=first_greedy)
    run = RunDir.open(out or default_out(policy, critic, n))
    problems = add_problems(run, benchmarks, data_dir=data_dir, limit=limit)

    if _missing_rollouts(run, problems, n):
        policy_engine = load_engine(engine, policy, device=device, dtype=dtype)
        try:
            sample(run, policy_engine, params, problems, prompt_set=prompt_set, batch_size=batch_size, progress=progress)
        finally:
            policy_engine.close()
            del policy_engine
            _release()
    else:  # nothing to generate: check the settings without loading the policy
        stored = run.config("policy") or {}
        if stored.get("model") not in (None, policy) or stored.get("engine") not in (None, engine):
            raise ConfigConflict(f"{run.path} was sampled with {stored.get('engine')}:{stored.get('model')}, "
                                 f"not {engine}:{policy}; write to a new --out directory")
        run.bind("sampling", params.to_json())

    scorer = load_critic(critic_kind, critic, label=critic_label, device=device, dtype=dtype)
    try:
        score(run, scorer, problems, batch_size=batch_size, progress=progress)
        label = scorer.label
    finally:
        del scorer
        _release()
    grade_run(run, problems, progress=progress)
    select_run(run, label, strategies=strategies, aggregations=aggregations, n=n, problems=problems)
    return BestOfNResult(run.path, build_report(run))


def demo(out: str | Path | None = None, *, n: int = 4, max_new_tokens: int = 48, progress: bool = True) -> BestOfNResult:
    """Run the whole pipeline on the tiny offline checkpoints and the bundled problems (no download)."""
    from tts.testing import tiny_checkpoints

    ckpts = tiny_checkpoints()
    return bestofn(str(ckpts.policy), str(ckpts.critic), n=n, benchmarks=["demo"], out=out or Path("runs") / "demo",
                   max_new_tokens=max_new_tokens, first_greedy=True, progress=progress)
