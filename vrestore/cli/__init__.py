"""The command-line interface. ``main()`` is the single error boundary of the program."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from vrestore.cli import analyze, compare, demo, evaluate, models, restore, synth, train  # noqa: F401  (registers the commands)
from vrestore.cli._app import app
from vrestore.cli._console import error_line
from vrestore.cli._errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    exit_code_for,
    take_partial_kept,
)
from vrestore.cli._process import pin_malloc_mmap_threshold
from vrestore.errors import VrestoreError

__all__ = ["app", "main"]

_sigterm_received = threading.Event()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map errors to one stderr line and the documented exit code."""
    debug = os.environ.get("VRESTORE_DEBUG", "") not in ("", "0")
    _sigterm_received.clear()
    take_partial_kept()
    pin_malloc_mmap_threshold()
    try:
        with _process_state_restored():
            _terminate_as_interrupt()
            code = app(args=argv, prog_name="vrestore", standalone_mode=False)
    except VrestoreError as exc:
        if debug:
            raise
        error_line(str(exc))
        code = exit_code_for(exc)
    except (KeyboardInterrupt, typer.Abort):
        code = EXIT_INTERRUPTED
    except typer.Exit as exc:
        code = exc.exit_code
    except Exception as exc:  # the boundary: anything else is a usage error or our bug, in one line
        if _is_usage_error(exc):
            exc.show()
            code = exc.exit_code
        elif debug:
            raise
        else:
            error_line(f"internal error: {type(exc).__name__}: {exc} (rerun with VRESTORE_DEBUG=1 for a traceback)")
            code = EXIT_INTERNAL
    if code == EXIT_BROKEN_PIPE:
        _detach_stdout()
    if code == EXIT_INTERRUPTED and _sigterm_received.is_set():
        code = EXIT_TERMINATED  # Typer reports any KeyboardInterrupt as 130; ours came from SIGTERM
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        # Typer turns Ctrl-C into exit code 130 itself; either way the run was cleaned up by then.
        what = "terminated (SIGTERM)" if code == EXIT_TERMINATED else "interrupted"
        kept = take_partial_kept()
        if kept is None:
            error_line(f"{what}; the partial output was removed")
        else:
            error_line(f"{what}; {kept}: run the same command again (with --resume) to continue")
    sys.exit(code if isinstance(code, int) else 0)


def _detach_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so that Python's flush at exit cannot fail on it
    (it would print "Exception ignored ... BrokenPipeError"; the recipe of the Python docs on SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced by an object without a descriptor (tests)
        pass


def _is_usage_error(exc: Exception) -> bool:
    """Click/Typer parse errors (vendored or not) carry ``exit_code`` and ``show()``."""
    return hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int)


@contextmanager
def _process_state_restored() -> Iterator[None]:
    """Give back the SIGTERM handler and the ``vrestore`` logger set-up on exit, so ``main()`` can run in-process."""
    logger = logging.getLogger("vrestore")
    saved_logger = (logger.level, logger.propagate, list(logger.handlers))
    try:
        saved_sigterm = signal.getsignal(signal.SIGTERM)
    except ValueError:
        saved_sigterm = None
    try:
        yield
    finally:
        logger.setLevel(saved_logger[0])
        logger.propagate = saved_logger[1]
        logger.handlers[:] = saved_logger[2]
        if saved_sigterm is not None:
            try:
                signal.signal(signal.SIGTERM, saved_sigterm)
            except ValueError:
                pass


def _terminate_as_interrupt() -> None:
    """Treat SIGTERM (batch schedulers, `timeout`) like Ctrl-C so partial outputs are cleaned up (exit 143)."""

    def handler(signum, frame):  # noqa: ARG001
        _sigterm_received.set()
        raise Terminated

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread (e.g. called from a test runner thread)
        pass
