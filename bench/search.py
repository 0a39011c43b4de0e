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

The tiny policy has random weights and writes no paragraphs by itself; a logit bias on its paragraph-end
token (:func:`tts.testing.steps.bias_steps`) gives solutions of a few steps, as a real chain of thought has.

Usage:
    python bench/search.py                         # 32 problems, N=4, M=2, CPU
    python bench/search.py --problems 64 --n 8 --beam-width 4 --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _problems(count: int) -> list[Any]:
    from PIL import Image

    from tts.search import SearchProblem
    from tts.search.context import ProblemContext

    colors = ["white", "red", "green", "blue", "black", "yellow", "purple", "orange"]
    out = []
    for i in range(count):
        img = Image.new("RGB", (224 + 32 * (i % 5), 168), colors[i % len(colors)])
        prompt = f"<image>\nHow many shapes are in the figure? Problem {i}. Answer step by step."
        out.append(SearchProblem.from_run_seed(f"p{i}", 0, ProblemContext(prompt, (img,), None, None)))
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
    from tts.critics import load_critic
    from tts.engines import SamplingParams, load_engine
    from tts.search import SearchSettings, run_search
    from tts.search.proposer import EngineProposer
    from tts.search.scorer import CriticScorer
    from tts.testing import tiny_checkpoints
    from tts.testing.steps import bias_steps

    ck = tiny_checkpoints()
    engine = load_engine("transformers", str(ck.policy), device=args.device, max_batch_rows=args.problems * args.n)
    critic = load_critic("visualprm", str(ck.critic), device=args.device, max_steps=None)
    counted = Counted(engine)
    settings = SearchSettings(n=args.n, beam_width=args.beam_width, max_steps=args.max_steps,
                              max_new_tokens=args.max_new_tokens)
    params = SamplingParams(n=args.n, max_new_tokens=args.max_new_tokens)
    problems = _problems(args.problems)
    modes = {}
    with bias_steps(engine, 3.0, 1.5):
        proposer, scorer = EngineProposer(engine, params), CriticScorer(critic)
        with proposer.session():  # warm-up: first calls pay one-off costs
            list(run_search("beam", problems[:1], proposer, scorer, settings, max_in_flight=1))
        for name, in_flight in (("one problem at a time", 1), ("batched across problems", args.problems)):
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
                           "vision_runs": counted.vision, "results": results}
    one, batched = modes["one problem at a time"], modes["batched across problems"]
    return {"modes": modes, "identical": _same(one["results"], batched["results"]),
            "ratio": one["seconds"] / batched["seconds"]}


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
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    out = run(args)
    print(f"beam search N={args.n} M={args.beam_width}, {args.problems} problems with one image, "
          f"{args.max_new_tokens} tokens per solution, max {args.max_steps} steps, device={args.device}, "
          f"torch threads={torch.get_num_threads()}; tiny policy + tiny critic (transformers)")
    print(f"  {'mode':26s} {'engine calls':>12s} {'critic calls':>12s} {'vision runs':>11s} {'seconds':>8s}")
    for name, m in out["modes"].items():
        print(f"  {name:26s} {m['engine_calls']:12d} {m['critic_calls']:12d} {m['vision_runs']:11d} {m['seconds']:8.2f}")
    steps = [len(r.nodes) for r in out["modes"]["batched across problems"]["results"].values()]
    print(f"  tree nodes per problem: mean {sum(steps) / len(steps):.1f}")
    print(f"  time ratio one-at-a-time / batched: {out['ratio']:.2f}x (target >= 5x)")
    print(f"  identical results in both modes: {'yes' if out['identical'] else 'NO'}")
    if args.json:
        slim = {name: {k: v for k, v in m.items() if k != "results"} for name, m in out["modes"].items()}
        Path(args.json).write_text(json.dumps({"modes": slim, "ratio": out["ratio"], "identical": out["identical"]},
                                              indent=2))
    return 0 if out["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
