"""The pieces of ``bench/gpu_check.sh``: tiny checkpoints it can run on vLLM, and the comparison of two runs.

``build DIR``
    Tiny transformers-native InternVL checkpoints (``DIR/policy``, ``DIR/critic``) that vLLM's GPU kernels
    accept (text head size 64, vision head size 32) — built locally, nothing is downloaded. The policy's LM
    head is untied and scaled so that its greedy choices have clear margins (a random model's flat logits
    would let bf16 rounding noise decide greedy decoding); the critic is left as initialised, so its P(+)
    spreads over (0, 1) and the score comparison means something.

``data DIR``
    Hub-layout copies of the seven benchmarks (the test fixtures, built locally), for the multi-image MMMU
    problems and per-benchmark tiling.

``compare A B --scores LABEL_A LABEL_B``
    Run A against run B (same problems, same settings, different engine/backend or dtype):

    * prompts — every problem's sample 0 has the same prompt length in tokens, image tokens included
      (the text is rendered by one function; the count checks each side's image-token expansion);
    * greedy outputs — the problems' greedy samples 0 have the same text. A wiring fault (another prompt,
      image expansion, template or detokenisation) changes them from the first token on; two correct bf16
      paths can still part at a numerical near-tie of a random model (observed on CPU: bf16 at batch size 1
      vs 8 kept 7 of 8 identical). So fewer than ``--greedy-min`` (75%) identical is a FAIL and any
      other difference a WARN, listed with where the texts part;
    * scores — two critics' step scores of run A's rollouts (label A and label B) split into the same
      steps and agree within ``--tolerance`` (default 2**-7: two bfloat16 steps just below 1).

    Prints one line per check and a verdict; exits 0 on PASS (warnings included), 1 on FAIL.

Run ``bench/gpu_check.sh`` rather than this file; ``--cpu-dry-run`` there runs everything on CPU.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TOLERANCE = 2.0**-7
LM_HEAD_SCALE = 30.0


def build(directory: Path, seed: int = 0) -> None:
    from tts.testing.tiny import build_internvl, build_tokenizer

    tok = build_tokenizer()
    sizes = {"hidden": 128, "heads": 2, "kv_heads": 1, "vision_hidden": 64, "tokenizer": tok}
    build_internvl(directory / "policy", seed=seed, lm_head_scale=LM_HEAD_SCALE, **sizes)
    build_internvl(directory / "critic", seed=seed + 1, **sizes)
    print(f"tiny checkpoints: {directory / 'policy'}, {directory / 'critic'}")


def data(directory: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(repo))
    from tests.fixtures.reasoning7 import build_reasoning7

    build_reasoning7(directory)
    print(f"benchmark copies: {directory}")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    problems: list[str] = field(default_factory=list)
    warn: bool = False  # passed, with differences worth reading


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def compare(run_a: Path, run_b: Path, label_a: str, label_b: str, tolerance: float = DEFAULT_TOLERANCE,
            greedy_min: float = 0.75) -> list[Check]:
    """The three checks of the module docstring (run A's rollouts carry both score labels)."""
    from tts.records import Rollout, StepScores
    from tts.rundir import RunDir

    a, b = RunDir.open(run_a, create=False), RunDir.open(run_b, create=False)
    checks = []
    prompt_a, prompt_b = a.config("prompt") or {}, b.config("prompt") or {}
    ra = {r.key(): r for r in a.read(Rollout)}
    rb = {r.key(): r for r in b.read(Rollout)}
    pids = sorted({pid for pid, _ in ra})
    if sorted({pid for pid, _ in rb}) != pids or not pids:
        return [Check("problems", False, f"{len(pids)} problems in A, {len({p for p, _ in rb})} in B")]

    same_len = [p for p in pids if (p, 0) in rb and ra[(p, 0)].prompt_tokens == rb[(p, 0)].prompt_tokens]
    bad = [f"{p}: {ra[(p, 0)].prompt_tokens} vs {rb[(p, 0)].prompt_tokens if (p, 0) in rb else '-'} tokens"
           for p in pids if p not in same_len]
    same_set = prompt_a.get("fingerprint") == prompt_b.get("fingerprint")
    checks.append(Check("prompts", same_set and not bad,
                        f"{len(same_len)}/{len(pids)} problems with the same prompt length (image tokens included); "
                        f"prompt set {prompt_a.get('set')} in both: {same_set}", bad))

    greedy_ok, diffs = 0, []
    for p in pids:
        x, y = ra.get((p, 0)), rb.get((p, 0))
        if x is None or y is None or "greedy" not in x.flags or "greedy" not in y.flags:
            diffs.append(f"{p}: sample 0 is not greedy in both runs")
        elif x.text == y.text:
            greedy_ok += 1
        else:
            diffs.append(f"{p}: differ after {_common_prefix(x.text, y.text)} of {max(len(x.text), len(y.text))} characters")
    not_greedy = any("not greedy" in d for d in diffs)
    checks.append(Check("greedy outputs", not not_greedy and greedy_ok >= greedy_min * len(pids),
                        f"{greedy_ok}/{len(pids)} greedy samples identical (at least {greedy_min:.0%} required)",
                        diffs, warn=bool(diffs)))

    sa = {s.key(): s for s in a.read(StepScores, label_a)}
    sb = {s.key(): s for s in a.read(StepScores, label_b)}
    worst, steps, exact, problems = 0.0, 0, 0, []
    for key, x in sorted(sa.items()):
        y = sb.get(key)
        if y is None or x.steps != y.steps or len(x.scores) != len(y.scores):
            problems.append(f"{key}: steps differ or missing")
            continue
        for u, v in zip(x.scores, y.scores):
            steps += 1
            exact += u == v
            worst = max(worst, abs(u - v))
        if any(abs(u - v) > tolerance for u, v in zip(x.scores, y.scores)):
            problems.append(f"{key}: max |diff| {max(abs(u - v) for u, v in zip(x.scores, y.scores)):.4g}")
    if not steps:
        problems.append("no scored step to compare (every rollout unscored?)")
    ok = bool(sa) and len(sa) == len(sb) and not problems
    checks.append(Check("scores", ok, f"{len(sa)} rollouts, {steps} steps: max |{label_a} - {label_b}| = {worst:.3g} "
                        f"(tolerance {tolerance:.3g}), {exact}/{steps} identical", problems))
    return checks


def report(checks: list[Check], title: str) -> int:
    for c in checks:
        print(f"[{('WARN' if c.warn else 'PASS') if c.ok else 'FAIL'}] {c.name}: {c.detail}")
        for line in c.problems[:5]:
            print(f"         {line}")
        if len(c.problems) > 5:
            print(f"         ... and {len(c.problems) - 5} more")
    verdict = all(c.ok for c in checks)
    warnings = sum(c.ok and c.warn for c in checks)
    text = ("PASS" + (f" with {warnings} warning(s)" if warnings else "")) if verdict else "FAIL"
    print(f"VERDICT ({title}): {text}")
    return 0 if verdict else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_build = sub.add_parser("build")
    p_build.add_argument("directory", type=Path)
    p_data = sub.add_parser("data")
    p_data.add_argument("directory", type=Path)
    p_cmp = sub.add_parser("compare")
    p_cmp.add_argument("run_a", type=Path)
    p_cmp.add_argument("run_b", type=Path)
    p_cmp.add_argument("--scores", nargs=2, required=True, metavar=("LABEL_A", "LABEL_B"))
    p_cmp.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    p_cmp.add_argument("--greedy-min", type=float, default=0.75)
    p_cmp.add_argument("--title", default="A vs B")
    args = parser.parse_args(argv)
    if args.cmd == "build":
        build(args.directory)
        return 0
    if args.cmd == "data":
        data(args.directory)
        return 0
    return report(compare(args.run_a, args.run_b, *args.scores, tolerance=args.tolerance, greedy_min=args.greedy_min),
                  args.title)


if __name__ == "__main__":
    sys.exit(main())
