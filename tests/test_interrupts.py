"""Signals wait for the write in flight, then end the command with one line; a full disk is one line too."""

from __future__ import annotations

import errno
import logging
import os
import signal

import pytest

from tts import interrupts
from tts.cli.guard import cli_guard
from tts.logs import RESERVE_NAME, attach_run_log, reserve_log_space


@pytest.fixture()
def handlers():
    interrupts.install()
    yield
    interrupts.uninstall()


def test_a_signal_inside_a_critical_section_is_raised_after_it(handlers):
    steps = []
    with pytest.raises(interrupts.Interrupted) as exc:
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            steps.append("after the signal")  # still runs: the write completes
    assert steps == ["after the signal"] and exc.value.exit_code == 130


def test_outside_a_critical_section_the_signal_stops_at_once(handlers):
    with pytest.raises(interrupts.Interrupted) as exc:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
    assert exc.value.signum == signal.SIGTERM and exc.value.exit_code == 143
    assert not isinstance(exc.value, Exception)  # stages isolate `except Exception`; this must pass through


def test_without_handlers_nothing_is_deferred():
    with interrupts.deferred():
        pass  # library use: Python's defaults, no-op section


def test_the_cli_guard_prints_what_is_saved_and_how_to_resume(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["tts", "bestofn", "--out", "runs/my run"])
    remove = interrupts.on_interrupt(lambda: "saved in runs/my run: 12 rollouts")
    try:
        with pytest.raises(SystemExit) as exc, cli_guard():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass
    finally:
        remove()
    err = capsys.readouterr().err
    assert exc.value.code == 143 and err.count("\n") == 1
    assert err.startswith("interrupted by SIGTERM: saved in runs/my run: 12 rollouts; resume with: "
                          "tts bestofn --out 'runs/my run'")
    assert signal.getsignal(signal.SIGTERM) is not interrupts._handler  # handlers restored


def test_a_full_disk_is_one_line_and_the_traceback_reaches_the_run_log(tmp_path, capsys):
    log_path = attach_run_log(tmp_path)
    reserve_log_space(tmp_path)  # what the run's writer keeps
    try:
        assert (tmp_path / RESERVE_NAME).stat().st_size > 0
        with pytest.raises(SystemExit) as exc, cli_guard():
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "rollouts.jsonl"))
        err = capsys.readouterr().err
        assert exc.value.code == 1 and err.count("\n") == 1
        assert err.startswith(f"error: no space left on {tmp_path / 'rollouts.jsonl'}") and "Traceback" not in err
        logged = log_path.read_text()
        assert "Traceback" in logged and "No space left on device" in logged
        assert not (tmp_path / RESERVE_NAME).exists()  # given up so the traceback fits
    finally:
        for h in list(logging.getLogger().handlers):
            if getattr(h, "baseFilename", "").startswith(str(tmp_path)):
                logging.getLogger().removeHandler(h)
                h.close()
