"""Grading throughput: plain math-verify vs ttscale's grader on the same typical answers, in one run.

Typical answers are what most rollouts end with: integers, decimals, thousands separators, percentages,
option letters and simple fractions, each wrapped the way InternVL's CoT prompt asks ("Answer:
\\boxed{...}") after a few sentences of reasoning. Every case is distinct (no cache help for either side)
and labelled, so the accuracy of both graders is printed next to their speed.

Baseline: ``math_verify.verify(parse(gold), parse(response))`` with its default extraction configs (and
``StringExtractionConfig`` for letter answers, as its README advises), its own signal timeouts on.
Ours: ``tts.grading.grade(response, problem)``, caches cleared first.

Then realistic endings: the blind human-verdict set (``tests/grading/data/blind_human_set.jsonl``, 558
InternVL-style responses, many ending in prose rather than a box), graded cold by both, with their
agreement with the human verdicts.

Then the same grading at scale, the two ways ``tts grade`` takes it: a responses file (``tts grade FILE``,
:func:`tts.grading.grade_file`) and a run directory (``tts grade RUN``, :func:`tts.stages.grade_run`), on the
same ``--rollouts`` long chain-of-thought responses (about 1,500 characters each), with worker processes;
a run must grade as fast per response as a file.

Run: ``PYTHONPATH=$PWD python bench/grading.py [--n 3000] [--rollouts 8000] [--workers N]``; the targets are a
ratio of at least 10x against math-verify and a run directory within 1.25x of a file's time.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from tts.records import Problem, Rollout

LEAD = [
    "Looking at the figure, we read off the relevant values and combine them step by step.",
    "First count the marked items, then apply the rule stated in the question.",
    "The bar chart shows the values; subtracting the smaller from the larger gives the result.",
]


def _problem(i: int, answer: str, **kw) -> Problem:
    return Problem(id=f"b{i}", benchmark=kw.pop("benchmark", "generic"), split="bench", question="q",
                   answer=answer, **kw)


def make_cases(n: int, seed: int = 0) -> list[tuple[str, Problem, bool, str]]:
    """``n`` distinct labelled cases: (response, problem, expected verdict, kind)."""
    rng = random.Random(seed)
    cases: list[tuple[str, Problem, bool, str]] = []
    seen: set[tuple[str, str]] = set()
    while len(cases) < n:
        i = len(cases)
        kind = rng.choice(["integer", "decimal", "thousands", "percent", "letter", "fraction"])
        right = rng.random() < 0.6
        lead = rng.choice(LEAD)
        if kind == "integer":
            g = rng.randint(-500, 5000)
            p = g if right else g + rng.choice([-2, -1, 1, 3])
            gold, pred, problem = str(g), str(p), _problem(i, str(g), answer_type="integer", benchmark="mathvista")
        elif kind == "decimal":
            g = Fraction(rng.randint(1, 99999), 100)
            p = g if right else g + Fraction(rng.choice([-7, 3, 11]), 100)
            gold, pred = f"{float(g):.2f}", rng.choice([f"{float(p):.2f}", f"{float(p):.3f}"])
            problem = _problem(i, gold, answer_type="float", precision=2, benchmark="mathvista")
        elif kind == "thousands":
            g = rng.randint(1000, 9_999_999)
            p = g if right else g + 1000
            gold, pred, problem = str(g), f"{p:,}", _problem(i, str(g))
        elif kind == "percent":
            g = rng.randint(1, 99)
            p = g if right else g + 5
            gold, pred, problem = f"{g}\\%", f"{p}\\%", _problem(i, f"{g}\\%")
        elif kind == "letter":
            k = rng.randint(2, 5)
            g = rng.randrange(k)
            p = g if right else (g + 1) % k
            choices = tuple(f"{rng.randint(1, 10**6)} cm" for _ in range(k))
            gold, pred = "ABCDE"[g], "ABCDE"[p]
            problem = _problem(i, gold, benchmark="mmmu", question_type="multi_choice", answer_type="text",
                               choices=choices)
        else:
            a, b = rng.randint(1, 400), rng.randint(2, 400)
            g = Fraction(a, b)
            p = g if right else g + Fraction(1, b + 1)
            gold = f"\\frac{{{g.numerator}}}{{{g.denominator}}}"
            pred = rng.choice([f"{p.numerator}/{p.denominator}", f"\\frac{{{p.numerator}}}{{{p.denominator}}}"])
            problem = _problem(i, gold)
        if (gold, pred) in seen:
            continue
        seen.add((gold, pred))
        response = f"{lead} So the result is {pred}.\nAnswer: \\boxed{{{pred}}}"
        cases.append((response, problem, right, kind))
    return cases


def math_verify_grader() -> Callable[[str, Problem], bool]:
    from math_verify import StringExtractionConfig, parse, verify

    def run(response: str, problem: Problem) -> bool:
        gold = str(problem.answer)
        if problem.question_type == "multi_choice":
            letters = tuple("ABCDE"[: len(problem.choices)])
            config = [StringExtractionConfig(strings=letters)]
            return verify(parse(gold, config), parse(response, config))
        return verify(parse(f"${gold}$"), parse(response))

    return run


def ours_grader() -> Callable[[str, Problem], bool]:
    from tts.grading import grade
    from tts.grading.equivalence import clear_cache

    clear_cache()
    return lambda response, problem: grade(response, problem).correct


def measure(name: str, fn: Callable[[str, Problem], bool], cases) -> tuple[float, float]:
    start = time.perf_counter()
    correct = sum(fn(r, p) == expected for r, p, expected, _ in cases)
    seconds = time.perf_counter() - start
    print(f"{name:<14} {len(cases) / seconds:>10.0f} cases/s   accuracy {100 * correct / len(cases):6.2f}%"
          f"   ({seconds:.2f} s)")
    return seconds, correct / len(cases)


REASONING = (
    "Let me analyze the figure step by step. The diagram shows the relevant quantities labelled on each side, "
    "and the question asks for a single value. First, I identify the known lengths and angles, then I apply the "
    "appropriate relations between them. Substituting the values read from the figure gives an intermediate "
    "result, which I check against the constraints stated in the problem. "
)


def long_rollouts(cases: list[tuple[str, Problem, bool, str]], n: int) -> list[tuple[str, Problem]]:
    """``n`` long chain-of-thought responses (about 1,500 characters), cycling over the labelled cases."""
    out = []
    for i in range(n):
        response, problem, _, _ = cases[i % len(cases)]
        body = REASONING * 4 + f"(Sample {i}.)\n\n"
        out.append((body + response, Problem(id=f"{problem.id}-{i}", **{k: v for k, v in problem.to_json().items()
                                                                       if k != "id"})))
    return out


def time_file(rollouts: list[tuple[str, Problem]], workers: int, folder: Path) -> float:
    from tts.grading import grade_file

    src = folder / "responses.jsonl"
    with open(src, "w") as f:
        for response, problem in rollouts:
            f.write(json.dumps({**problem.to_json(), "response": response}) + "\n")
    start = time.perf_counter()
    grade_file(src, out=folder / "graded.jsonl", workers=workers)
    return time.perf_counter() - start


def time_run(rollouts: list[tuple[str, Problem]], workers: int, folder: Path) -> float:
    from tts.rundir import RunDir
    from tts.stages import grade_run

    run = RunDir.open(folder / "run")
    run.append([p for _, p in rollouts])
    run.append([Rollout(p.id, 0, r, "stop", 10, 400, 0.1, "m", "transformers") for r, p in rollouts])
    start = time.perf_counter()
    grade_run(run, workers=workers, progress=False)
    return time.perf_counter() - start


HUMAN_SET = Path(__file__).resolve().parents[1] / "tests" / "grading" / "data" / "blind_human_set.jsonl"


def human_cases(path: Path) -> list[tuple[str, Problem, bool, str]]:
    """The labelled rows of a human-verdict set as bench cases (response, problem, human verdict, family)."""
    from tts.grading.files import problem_from_line

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["response"], problem_from_line(r, i), r["human"], r["family"]) for i, r in enumerate(rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="number of distinct cases")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rollouts", type=int, default=8000, help="long responses for the file / run case (0: skip)")
    parser.add_argument("--workers", type=int, default=None, help="grading processes [default: CPU count]")
    args = parser.parse_args()
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    cases = make_cases(args.n, args.seed)
    kinds = sorted({k for *_, k in cases})
    print(f"{len(cases)} cases ({', '.join(kinds)}), {sum(e for _, _, e, _ in cases)} correct by construction")
    mv, ours = math_verify_grader(), ours_grader()
    mv(*cases[0][:2]), ours(*cases[0][:2])  # imports and first-call set-up outside the timings
    ours = ours_grader()
    mv_s, mv_acc = measure("math-verify", mv, cases)
    our_s, our_acc = measure("ttscale", ours, cases)
    print(f"ratio: ttscale is {mv_s / our_s:.1f}x math-verify's throughput "
          f"(target >= 10x); accuracy {100 * our_acc:.2f}% vs {100 * mv_acc:.2f}%")
    if HUMAN_SET.exists():
        human = human_cases(HUMAN_SET)
        print(f"{len(human)} realistic responses with human verdicts ({HUMAN_SET.name})")
        from tts.grading.equivalence import clear_cache

        warm = ("Answer: \\boxed{\\frac{\\sqrt{2}}{2}}", _problem(-1, "\\frac{1}{\\sqrt{2}}"))
        mv(*warm), ours(*warm)  # SymPy's LaTeX parser and our symbolic worker started outside the timings
        clear_cache()
        h_mv_s, h_mv_acc = measure("math-verify", math_verify_grader(), human)
        h_our_s, h_our_acc = measure("ttscale", ours_grader(), human)
        print(f"ratio: ttscale is {h_mv_s / h_our_s:.1f}x math-verify's throughput on realistic endings; "
              f"agreement with the human verdicts {100 * h_our_acc:.2f}% vs {100 * h_mv_acc:.2f}%")
    else:
        print(f"warning: {HUMAN_SET} is missing; the realistic-endings timing is skipped")
    if args.rollouts <= 0:
        return
    rollouts = long_rollouts(cases, args.rollouts)
    with tempfile.TemporaryDirectory() as tmp:
        file_s = time_file(rollouts, args.workers, Path(tmp))
        run_s = time_run(rollouts, args.workers, Path(tmp))
    n = len(rollouts)
    print(f"{n} long responses, worker processes: {args.workers or 'CPU count'}")
    print(f"tts grade FILE {n / file_s:>10.0f} cases/s   ({file_s:.2f} s)")
    print(f"tts grade RUN  {n / run_s:>10.0f} cases/s   ({run_s:.2f} s)")
    print(f"ratio: a run directory takes {run_s / file_s:.2f}x a file's time (target <= 1.25x); "
          f"math-verify would take about {n / (len(cases) / mv_s):.0f} s")


if __name__ == "__main__":
    main()
