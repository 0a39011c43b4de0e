"""A grading worker with two diagnostic operations, for the timeout tests (kept out of the production table).

Run as a script by :class:`tts.grading.sandbox.Worker` (``argv=[python, this file]``):

- ``_sleep(s)``: sleeps interruptibly, so the worker's soft timer must stop it;
- ``_hang(s)``: sleeps with SIGALRM blocked, like work stuck in C code, so only the parent's kill stops it.
"""

from __future__ import annotations

import signal
import time

from tts.grading import worker


def _sleep(seconds: float) -> float:
    time.sleep(float(seconds))
    return float(seconds)


def _hang(seconds: float) -> float:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(float(seconds))
    return float(seconds)


if __name__ == "__main__":
    worker.main(extra_ops={"_sleep": _sleep, "_hang": _hang})
