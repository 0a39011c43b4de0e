"""The ``tts`` command line: a thin typer layer; every command calls one public Python function.

Each command lives in its own module that exposes ``register(app)``; heavy imports (torch, transformers,
vllm) happen inside the command functions so ``tts --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = (
    "tts.cli.demo",
    "tts.cli.bestofn",
    "tts.cli.tiny",
    "tts.cli.run",
    "tts.cli.stages",
    "tts.cli.grade",
    "tts.cli.select",
    "tts.cli.report",
    "tts.cli.pairs",
    "tts.cli.merge",
    "tts.cli.problems",
    "tts.cli.doctor",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="tts",
        help="ttscale: test-time scaling for multimodal math reasoning (sample → score → select → grade).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(app)
    return app


def main() -> None:
    """Run the CLI; expected failures (conflicting settings, bad paths, unknown names) print one clear line."""
    import logging
    import sys

    from tts.interrupts import cli_guard
    from tts.logs import current_run_log
    from tts.rundir import ConfigConflict, RunDirError
    from tts.runlock import RunBusy

    try:
        with cli_guard():  # SIGINT/SIGTERM and a full disk: one line, exit 130/143/1
            build_app()()
    except (RunBusy, ConfigConflict, RunDirError, FileNotFoundError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        log = current_run_log()
        if log is not None:
            logging.getLogger("tts.cli").error("%s", message, exc_info=True)
        print(f"error: {message}" + (f"\n(details: {log})" if log else ""), file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure: one line here, the traceback in the log
        log = current_run_log()
        if log is None:
            raise
        logging.getLogger("tts.cli").error("unexpected error", exc_info=True)
        print(f"error: {type(exc).__name__}: {exc}\n(traceback in {log})", file=sys.stderr)
        sys.exit(1)

