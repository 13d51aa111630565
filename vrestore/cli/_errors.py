"""The one place that turns exceptions into exit codes (documented in README and vrestore.errors)."""

from __future__ import annotations

from vrestore.errors import (
    DeviceError,
    InputError,
    OutputError,
    PipeClosed,
    UsageError,
    VrestoreError,
    WeightsError,
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_OUTPUT = 4
EXIT_WEIGHTS = 5
EXIT_DEVICE = 6
# 128 + SIGPIPE: what a shell reports for a program killed by a closed pipe (``yes | head``). We exit with it
# ourselves, after a clean stop, when the reader of stdout goes away; a real output failure stays 4.
EXIT_BROKEN_PIPE = 141
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, what shells and schedulers expect


# A side channel because Typer (standalone_mode=False) turns KeyboardInterrupt into a returned 130 and drops
# the exception, so ``main`` cannot read a PartialKept from it.
_partial_kept: list[str] = []


def note_partial_kept(what: str) -> None:
    """Remember that an interrupted run kept its partial output (``main`` says so instead of "removed")."""
    _partial_kept[:] = [what]


def take_partial_kept() -> str | None:
    """What ``note_partial_kept`` recorded since the last call, if anything."""
    what = _partial_kept[0] if _partial_kept else None
    _partial_kept.clear()
    return what


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so the same clean-up runs."""


_CODES: tuple[tuple[type[VrestoreError], int], ...] = (
    (PipeClosed, EXIT_BROKEN_PIPE),  # before its base class OutputError
    (UsageError, EXIT_USAGE),
    (InputError, EXIT_INPUT),
    (OutputError, EXIT_OUTPUT),
    (WeightsError, EXIT_WEIGHTS),
    (DeviceError, EXIT_DEVICE),
)


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for ``error``."""
    if isinstance(error, Terminated):
        return EXIT_TERMINATED
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    for cls, code in _CODES:
        if isinstance(error, cls):
            return code
    return EXIT_INTERNAL
