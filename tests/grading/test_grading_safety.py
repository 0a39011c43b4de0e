"""Untrusted output: nothing it says runs, nothing it says hangs the grader, nothing it says raises.

The timeout tests shrink the symbolic timeout so they stay quick; the property tests feed arbitrary unicode
and LaTeX-ish strings and check every public entry point returns, without raising, within its bound.
"""

from __future__ import annotations

import random
import re
import shutil
import string
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from grading_helpers import make_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts.grading import cluster_answers, equivalent, extract_answer, grade, sandbox, symbolic
from tts.grading.runners import PoolRunner

PACKAGE = Path(__file__).resolve().parents[2] / "tts" / "grading"
GENERIC = make_problem("generic", "1", answer_type="expression")
PROBLEMS = [
    GENERIC,
    make_problem("mathvista", "8cm", question_type="multi_choice", answer_type="text", choices=("6cm", "8cm")),
    make_problem("mathvista", "2", answer_type="integer"),
    make_problem("mathvista", "1.5", answer_type="float", precision=1),
    make_problem("mathvista", "[1, 2]", answer_type="list"),
    make_problem("mathvision", "\\frac{1}{2}"),
    make_problem("mmmu", "B", question_type="multi_choice", answer_type="text", choices=("1", "2", "3")),
    make_problem("mathverse", "B", question_type="multi_choice", answer_type="text",
                 question="Choices:\nA:1\nB:2"),
    make_problem("dynamath", "2.5", answer_type="float", meta={"dynamath_answer_type": "float"}),
    make_problem("wemath", "A", question_type="multi_choice", answer_type="text", choices=("x", "y")),
    make_problem("logicvista", "A, C", question_type="multi_choice", answer_type="text"),
]


@pytest.fixture()
def quick_timeout(monkeypatch):
    monkeypatch.setattr(sandbox, "DEFAULT_TIMEOUT", 1.0)
    monkeypatch.setenv("TTS_GRADING_TIMEOUT", "1")
    symbolic.clear_caches()
    sandbox.symbolic_pool().call("verify", ["1", "1"], timeout=30)  # start-up is not part of any bound below
    yield 1.0
    symbolic.clear_caches()


@pytest.fixture()
def hook_runner(quick_timeout) -> Iterator[sandbox.WorkerPool]:
    """Symbolic work goes to workers that also know the diagnostic ``_sleep`` and ``_hang`` (hook_worker.py)."""
    pool = sandbox.WorkerPool(size=2, argv=[sys.executable, str(Path(__file__).with_name("hook_worker.py"))])
    pool.call("verify", ["1", "1"], timeout=30)
    with symbolic.use_runner(PoolRunner(pool)):
        yield pool
    pool.close()


def test_no_eval_exec_or_sympify_in_the_package() -> None:
    banned = re.compile(r"(?<![\w.])(?:eval|exec|sympify|parse_expr)\(|\.(?:sympify|parse_expr)\(|(?<!\w)eval\(")
    for path in PACKAGE.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if banned.search(line) and "# safe:" not in line:
                pytest.fail(f"{path.name}:{n}: {line.strip()}")


@pytest.fixture()
def digit_free_dir() -> Iterator[Path]:
    """A scratch folder whose path has no digit: pytest's ``tmp_path`` (``pytest-2/...``) does, and a digit
    in the payload is a legitimate last-number answer that may equal a gold such as ``2``."""
    path = Path(tempfile.gettempdir()) / ("tts-payload-" + "".join(random.choices(string.ascii_lowercase, k=16)))
    assert not re.search(r"\d", str(path)), f"the temp folder {path} has a digit; set TMPDIR"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize(
    "payload",
    [
        "__import__('os').system('touch {marker}')",
        "\\boxed{__import__('os').system('touch {marker}')}",
        "Answer: $__import__(\"os\").system(\"touch {marker}\")$",
        "\\boxed{exec(\"open('{marker}','w')\")}",
        "\\boxed{eval(compile(\"open('{marker}','w')\",'x','exec'))}",
        "The answer is (lambda: __import__('os').system('touch {marker}'))()",
    ],
)
def test_payloads_never_run(payload: str, digit_free_dir: Path) -> None:
    marker = digit_free_dir / "pwned"
    text = payload.replace("{marker}", str(marker))
    for problem in PROBLEMS:
        assert grade(text, problem).correct is False
        grade(text, problem, "official")  # official rules may match stray digits; they must not run code
        assert equivalent(text, "0") is False
        assert equivalent("0", text) is False
        extract_answer(text, problem)
    cluster_answers([text, text, "1"], GENERIC)
    assert not marker.exists()


def test_inputs_too_big_for_sympy_are_refused_not_computed() -> None:
    for s in ["10^{10^{10}}", "2^{1000000000}", "9" * 400, "100000!", "\\binom{10^{9}}{5000}", "x" * 5000]:
        assert symbolic.too_complex(s), s
    start = time.monotonic()
    assert equivalent("10^{10^{10}}", "10^{10^{10}} + 1") is False
    assert equivalent("2^{2^{2^{30}}}", "1") is False
    assert time.monotonic() - start < 5


def test_soft_timeout_from_a_thread(quick_timeout, hook_runner) -> None:
    results = []

    def run() -> None:
        start = time.monotonic()
        results.append((symbolic.run("_sleep", [30]), time.monotonic() - start))

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    (out, elapsed), = results
    assert out.status == "timeout" and elapsed < quick_timeout + sandbox.KILL_GRACE + 1


def test_hard_kill_when_the_worker_is_stuck_in_c_code(quick_timeout, hook_runner) -> None:
    start = time.monotonic()
    out = symbolic.run("_hang", [60])
    assert out.status == "timeout"
    assert time.monotonic() - start < quick_timeout + sandbox.KILL_GRACE + 2
    # the pool recovers: the killed worker is replaced on next use
    assert symbolic.verify("\\frac{1}{2}", "0.5").value is True


def test_slow_sympy_comparison_times_out_and_grades_wrong(quick_timeout) -> None:
    slow = make_problem("generic", "(x+y+z+1)^{60}")
    start = time.monotonic()
    g = grade("Answer: \\boxed{(x+y+z+2)^{60}}", slow)
    assert g.correct is False and g.reason.startswith("timeout")
    assert time.monotonic() - start < symbolic.BUDGET_FACTOR * quick_timeout + sandbox.KILL_GRACE + 2


def test_concurrent_threads_share_the_pool() -> None:
    pairs = [("x^2-1", "(x-1)(x+1)", True), ("\\sqrt{8}", "2\\sqrt{2}", True), ("\\pi/2", "90", False)] * 4
    out: list[bool | None] = [None] * len(pairs)

    def work(i: int) -> None:
        out[i] = equivalent(pairs[i][1], pairs[i][0])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == [p[2] for p in pairs]


def test_a_dead_worker_is_an_error_verdict_not_a_crash(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise sandbox.WorkerError("worker died")

    monkeypatch.setattr(sandbox.WorkerPool, "call", broken)
    symbolic.clear_caches()
    try:
        assert equivalent("(a+b)^2", "a^2+2ab+b^2") is False
        g = grade("\\boxed{(a+b)^2}", make_problem("generic", "a^2+2ab+b^2"))
        assert g.correct is False and g.reason.startswith("error")
    finally:
        symbolic.clear_caches()


LATEX_TOKENS = [
    "\\frac{", "}", "{", "\\sqrt", "^", "_", "\\boxed{", "$", "$$", "\\(", "\\)", "\\left(", "\\right)", "\\pi",
    "\\infty", "\\cdot", "\\times", "\\text{", "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "=", "<", "\\le",
    "1", "2", "0", "9", "10", "999", ".", ",", "-", "+", "(", ")", "[", "]", "x", "y", "A", "B", " ", "\n",
    "Answer:", "the answer is ", "%", "°", "\\circ", "!", "e", "i", "\\ln", "\\sin", "\\{", "\\}", "\\cup",
]
latex_ish = st.lists(st.sampled_from(LATEX_TOKENS), max_size=40).map("".join)
BOUND = (symbolic.BUDGET_FACTOR + 1) * 1.0 + sandbox.KILL_GRACE + 1


def _bounded(fn, *args):
    start = time.monotonic()
    out = fn(*args)
    assert time.monotonic() - start < BOUND
    # grade() turns an internal exception into reason "error: <type>: ..." so a run goes on; here that
    # would be a bug, so it must not happen ("error (...)" from a bounded symbolic check is an outcome).
    assert not (hasattr(out, "reason") and out.reason.startswith("error:")), out
    return out


def _inner_never_raises(a: str, b: str, problem) -> None:
    """The functions behind grade() and equivalent(), called without their catch-all."""
    from tts.grading.equivalence import judge
    from tts.grading.extract import extract_answer
    from tts.grading.rules import rule_for

    with symbolic.budget(symbolic.call_budget()):
        found = extract_answer(a, problem)
        for gold in problem.golds:
            judge(found.answer or a, str(gold), rule_for(problem))
        judge(a, b, rule_for(None))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200), st.sampled_from(PROBLEMS))
def test_arbitrary_unicode_never_raises(quick_timeout, text: str, problem) -> None:
    for rules in ("strict", "official"):
        _bounded(grade, text, problem, rules)
    _bounded(equivalent, text, "1/2")
    _bounded(equivalent, "1/2", text, problem)
    _bounded(_inner_never_raises, text, "1/2", problem)


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(latex_ish, latex_ish, st.sampled_from(PROBLEMS))
def test_latexish_strings_never_raise(quick_timeout, a: str, b: str, problem) -> None:
    _bounded(grade, a, problem)
    _bounded(grade, a, problem, "official")
    _bounded(equivalent, a, b)
    _bounded(equivalent, a, b, problem)
    _bounded(cluster_answers, [a, b, a], problem)
    _bounded(_inner_never_raises, a, b, problem)


@pytest.mark.parametrize(
    "response",
    [
        " " * 20000 + "x", "*" * 20000, "Answer:" * 3000, "\\boxed{" * 5000, "(" * 10000, "$" * 10000,
        "A: " + " " * 20000 + "y", "1," * 10000, "\\frac{" * 3000 + "}" * 3000, "answer is " * 2000,
    ],
)
def test_pathological_responses_finish_quickly(quick_timeout, response: str) -> None:
    question = "Choices:\n" + "A: " + " " * 20000 + "y\nB: 2"
    mc = make_problem("mathverse", "B", question_type="multi_choice", answer_type="text", question=question)
    for problem in (GENERIC, mc, PROBLEMS[2]):
        _bounded(grade, response, problem)
        _bounded(grade, response, problem, "official")
