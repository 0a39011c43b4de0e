"""Critic cost: per-step passes vs one pass per rollout vs one pass with a shared image, in one run.

All three compute the same VisualPRM step scores (checked here) on the tiny critic, N rollouts per
problem, each problem with its own image:

* **per-step** — the reference's first method (``generate_steps_with_soft_score``): one full-model forward
  per step over the conversation up to that step's reply, the image encoded every time;
* **per-rollout** — the reference's single-pass method (``soft_v2``): one full-model forward per rollout
  with all ``+`` placeholders, full-vocabulary logits, the image encoded per rollout;
* **shared** — ``tts.critics.VisualPRM``: each image encoded once per problem (tiles of several problems
  per encoder call), all rollouts of all problems packed into forward batches up to the token budget,
  only the ``+``/``-`` LM-head rows at the reply positions.

Forward passes of the language model and vision-encoder calls are counted with hooks on the modules
themselves, for every method. Times are the best of ``--repeats`` runs (the least disturbed by other
work on the machine). Run:

    PYTHONPATH=$PWD python bench/critic.py [--n 8] [--problems 4] [--style native|remote] [--device cuda]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

WORDS = ("the triangle has sides 3 4 and 5 so the area is half of 3 times 4 which gives 6 then the perimeter "
         "is 12 cm and the angle is 45 degrees hence x = 2 and y = -1").split()


def make_requests(problems: int, n: int, seed: int = 0) -> list[Any]:
    """``problems`` requests with their own image and ``n`` rollouts of 2–9 blank-line steps each."""
    from PIL import Image

    from tts.critics import ScoringRequest

    rng = random.Random(seed)
    out = []
    for p in range(problems):
        image = Image.new("RGB", (rng.choice([120, 200, 90]), rng.choice([90, 60, 150])), rng.choice(["white", "gray"]))
        rollouts = []
        for i in range(n):
            steps = [" ".join(rng.choices(WORDS, k=rng.randint(6, 18))) + "." for _ in range(rng.randint(2, 9))]
            rollouts.append((i, "\n\n".join(steps) + f"\n\nAnswer: \\boxed{{{rng.randint(1, 20)}}}"))
        question = f"<image>\nProblem {p}: what is the area of the triangle?\nAnswer the preceding question."
        out.append(ScoringRequest(f"p{p}", question, (image,), tuple(rollouts)))
    return out


class Counters:
    """Forward calls of the language-model body and of the vision tower, whoever makes them."""

    def __init__(self, vlm: Any) -> None:
        tower = vlm.model.model.vision_tower if vlm.style == "native" else vlm.model.vision_model
        body = vlm.model.model.language_model if vlm.style == "native" else vlm.model.language_model.model
        self.forward = self.vision = 0
        tower.register_forward_hook(lambda *a: self._bump("vision"))
        body.register_forward_hook(lambda *a: self._bump("forward"))

    def _bump(self, name: str) -> None:
        setattr(self, name, getattr(self, name) + 1)

    def reset(self) -> None:
        self.forward = self.vision = 0


def full_forward(vlm: Any, input_ids: Any, pixel_values: Any) -> Any:
    """The whole model as the reference calls it: vision, merge, LM body, full-vocabulary logits."""
    if vlm.style == "native":
        return vlm.model(input_ids=input_ids, pixel_values=pixel_values).logits
    return vlm.model(pixel_values=pixel_values, input_ids=input_ids).logits


def per_step(critic: Any, requests: list[Any]) -> list[list[float]]:
    import torch

    from tts.critics.visualprm import reply_prefixes

    vlm, out = critic.vlm, []
    for r in requests:
        pixel_values, tiles = vlm.pixel_values(r.images, None)
        pixel_values = pixel_values.to(vlm.device, vlm.model.dtype)
        for _, text in r.responses:
            scores = []
            for prefix in reply_prefixes(critic.system_message, r.question, critic.steps_of(text), 1):
                ids = torch.tensor([critic.encode(critic.expand_images(prefix, tiles))], device=vlm.device)
                with torch.inference_mode():
                    logits = full_forward(vlm, ids, pixel_values)[0, -1, critic.candidate_ids].float()
                scores.append(torch.softmax(logits, -1)[0].item())
            out.append(scores)
    return out


def per_rollout(critic: Any, requests: list[Any]) -> list[list[float]]:
    import torch

    from tts.critics.visualprm import conversation

    vlm, out = critic.vlm, []
    for r in requests:
        pixel_values, tiles = vlm.pixel_values(r.images, None)
        pixel_values = pixel_values.to(vlm.device, vlm.model.dtype)
        for _, text in r.responses:
            ids = critic.encode(critic.expand_images(conversation(critic.system_message, r.question,
                                                                  critic.steps_of(text), 1), tiles))
            positions = critic.reply_positions(ids)
            with torch.inference_mode():
                logits = full_forward(vlm, torch.tensor([ids], device=vlm.device), pixel_values)[0]
            out.append(torch.softmax(logits[positions][:, critic.candidate_ids].float(), -1)[:, 0].tolist())
    return out


def shared(critic: Any, requests: list[Any]) -> list[list[float]]:
    return [list(rec.scores) for recs in critic.score(requests) for rec in recs]


def measure(fn: Callable[[Any, list[Any]], list[list[float]]], critic: Any, requests: list[Any], counters: Counters,
            repeats: int) -> tuple[float, int, int, list[list[float]]]:
    import torch

    times = []
    for _ in range(repeats):
        counters.reset()
        if str(critic.vlm.device).startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        scores = fn(critic, requests)
        if str(critic.vlm.device).startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times), counters.forward, counters.vision, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=8, help="rollouts per problem")
    parser.add_argument("--problems", type=int, default=4)
    parser.add_argument("--style", choices=["native", "remote"], default="native")
    parser.add_argument("--device", default=None)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--critic", default=None, help="critic checkpoint (default: the tiny one)")
    args = parser.parse_args()

    import torch

    from tts.critics import load_critic
    from tts.testing import tiny_checkpoints

    torch.set_grad_enabled(False)
    ck = tiny_checkpoints()
    path = args.critic or str(ck.critic if args.style == "native" else ck.critic_remote)
    critic = load_critic("visualprm", path, device=args.device, dtype=args.dtype)
    requests = make_requests(args.problems, args.n)
    counters = Counters(critic.vlm)
    shared(critic, requests[:1])  # warm-up (allocator, kernels) for every method alike
    per_rollout(critic, requests[:1])

    rows = []
    for name, fn in [("per-step (reference, 1 pass per step)", per_step),
                     ("per-rollout (reference soft_v2)", per_rollout),
                     ("shared image, packed (ttscale)", shared)]:
        rows.append((name, *measure(fn, critic, requests, counters, args.repeats)))

    steps = sum(len(s) for s in rows[0][4])
    rollouts = args.problems * args.n
    print(f"critic {path} ({critic.vlm.style}, {critic.vlm.device}, {str(critic.vlm.model.dtype).replace('torch.', '')}); "
          f"{args.problems} problems x N={args.n} = {rollouts} rollouts, {steps} steps "
          f"({steps / rollouts:.1f}/rollout); token budget {critic.token_budget}, best of {args.repeats}")
    print(f"{'method':40s} {'LM forwards':>12s} {'vision calls':>13s} {'seconds':>9s} {'x per-step':>11s} {'x per-rollout':>14s}")
    base_step, base_rollout = rows[0][1], rows[1][1]
    for name, seconds, forwards, vision, _ in rows:
        print(f"{name:40s} {forwards:12d} {vision:13d} {seconds:9.3f} {base_step / seconds:10.1f}x {base_rollout / seconds:13.1f}x")
    ref = [x for s in rows[0][4] for x in s]
    for name, *_, scores in rows[1:]:
        diff = max(abs(a - b) for a, b in zip(ref, [x for s in scores for x in s]))
        print(f"max |score - per-step score| for {name}: {diff:.2e}")


if __name__ == "__main__":
    main()
