"""Progress in a log (Slurm, nohup) and on a terminal: counts, rate, ETA; rates count only real work; no thread."""

from __future__ import annotations

import re
import threading

import pytest

from tts import progress
from tts.progress import Tracker, progress_bar


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progress.time, "monotonic", c)
    return c


def test_a_log_gets_a_start_line_periodic_lines_and_an_end_line(clock, monkeypatch, capsys):
    monkeypatch.setenv("TTS_PROGRESS_INTERVAL", "30")
    threads = threading.active_count()
    with progress_bar("sampling", total=1600, unit="rollouts") as advance:
        assert threading.active_count() == threads  # no refresh thread: forking stays safe
        for _ in range(16):
            clock.now += 10
            advance(100)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "sampling: 1,600 rollouts to do"
    assert lines[1] == "sampling: 300/1,600 rollouts (18%), 10.00 rollouts/s, ETA 0:02:10"
    assert len(lines) == 1 + 5 + 1  # every 30 s of a 160 s stage, and the end
    assert lines[-1] == "sampling: done, 1,600 rollouts in 0:02:40 (10.00 rollouts/s)"


def test_skipped_work_does_not_inflate_the_rate(clock, monkeypatch, capsys):
    monkeypatch.setenv("TTS_PROGRESS_INTERVAL", "0")
    with progress_bar("selecting", total=10_000, unit="problems") as advance:
        advance(9_990, skipped=True)  # already selected: no work
        clock.now += 5
        advance(10)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == "selecting: done, 10 problems in 0:00:05 (2.00 problems/s), 9,990 skipped"
    assert not any(re.search(r"\d{3,}\.\d\d problems/s", line) for line in lines)


def test_no_rate_from_less_than_a_second_of_work(clock, capsys):
    with progress_bar("grading (strict)", total=3, unit="rollouts") as advance:
        clock.now += 0.01
        advance(3)
    assert capsys.readouterr().err.strip().splitlines()[-1] == "grading (strict): done, 3 rollouts in 0:00:00"


def test_an_interrupted_stage_says_what_it_did_not_reach(clock, capsys):
    with pytest.raises(KeyboardInterrupt), progress_bar("scoring", total=8, unit="rollouts") as advance:
        clock.now += 2
        advance(4)
        raise KeyboardInterrupt
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "scoring: stopped after 4 rollouts in 0:00:02 (2.00 rollouts/s), 4 not reached"


def test_a_terminal_gets_a_bar_with_the_same_rate_and_no_thread(clock, monkeypatch, capsys):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: treat stderr as a terminal
    threads = threading.active_count()
    with progress_bar("sampling", total=100, unit="rollouts") as advance:
        assert threading.active_count() == threads
        advance(90, skipped=True)
        clock.now += 4
        advance(8)
    err = capsys.readouterr().err
    assert "2.00 rollouts/s" in err and "98/100" in err and "to do" not in err


def test_tracker_eta_is_remaining_work_at_the_rate_of_real_work():
    t = Tracker(total=100, unit="x", start=0.0)
    t.add(50, skipped=True)
    t.add(10, skipped=False)
    assert t.rate(now=5.0) == 2.0 and t.eta(now=5.0) == 20.0  # 40 left at 2/s
    assert t.rate(now=0.5) is None and t.eta(now=0.5) is None


def test_disabled_and_empty_bars_print_nothing(capsys):
    for enabled, total in ((False, 5), (True, 0)):
        with progress_bar("x", total=total, enabled=enabled) as advance:
            advance(1)
            advance(1, skipped=True)
    assert capsys.readouterr().err == ""
