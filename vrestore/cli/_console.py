"""Terminal output: rich consoles, the warning handler and the progress bar. Only cli/ uses rich."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from vrestore.stream import Progress as RunProgress

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """Print one error line on stderr (plain text when not a terminal)."""
    if stderr.is_terminal:
        stderr.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    else:
        print(f"error: {message}", file=sys.stderr, flush=True)


class _StderrWarnings(logging.Handler):
    """Prints each distinct warning once per command (the demo, for one, reads its clip several times)."""

    def __init__(self, level: int) -> None:
        super().__init__(level=level)
        self._shown: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message in self._shown:
            return
        self._shown.add(message)
        if record.levelno < logging.WARNING:
            print(f"info: {message}", file=sys.stderr, flush=True)
        elif stderr.is_terminal:
            stderr.print(f"[yellow]warning:[/] {message}", markup=True, highlight=False)
        else:
            print(f"warning: {message}", file=sys.stderr)


def show_warnings(enabled: bool, *, verbose: bool = False) -> None:
    """Route vrestore's logged warnings to stderr (or silence them, for --quiet); ``verbose`` adds INFO lines."""
    logger = logging.getLogger("vrestore")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        if isinstance(handler, (_StderrWarnings, logging.NullHandler)):
            logger.removeHandler(handler)
    # Without any handler Python's "last resort" would still print warnings on stderr.
    level = logging.INFO if verbose else logging.WARNING
    logger.addHandler(_StderrWarnings(level=level) if enabled else logging.NullHandler())


FrameUpdate = Callable[..., None]  # update(done, total, elapsed_s, computed=None, preparing=None)


@contextmanager
def frame_progress(description: str, total: int | None, enabled: bool) -> Iterator[FrameUpdate]:
    """A rich progress bar (frames, fps, ETA) on a terminal; else a no-op ``update``.

    ``update(done, total, elapsed_s, computed=None, preparing=None)``: the bar stands at ``computed`` (frames
    the model has finished, fractional inside a window; see ``api.Progress``) when given, else at ``done``, so
    that a long first window moves the bar and gives an ETA before any frame is written. ``preparing``
    (done, total) replaces the description while the model waits for the motion average of its next frames.
    """
    if not enabled or not stderr.is_terminal:
        yield lambda done, total, elapsed, computed=None, preparing=None: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]:.1f} fps"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        # Without a total the bar waits for the first update, which usually brings one ("0/?" otherwise).
        task = bar.add_task(description, total=total, fps=0.0, visible=total is not None)

        def update(done: int, total: int | None, elapsed: float, computed: float | None = None,
                   preparing: tuple[int, int] | None = None) -> None:
            position = max(done, computed or 0.0)
            # The probed total is an estimate; never let the bar claim more than 100 %.
            total = max(total, math.ceil(position)) if total else None
            # In place of the description, which would not fit beside it in 80 columns.
            label = description if preparing is None else f"averaging frames {preparing[0]}/{preparing[1]}"
            bar.update(task, completed=position, total=total, fps=position / elapsed if elapsed > 0 else 0.0,
                       visible=True, description=label)

        yield update


def follow(update: FrameUpdate) -> Callable[[RunProgress], None]:
    """A progress callback for a run's reports (``vrestore.stream.Progress``) that moves a ``frame_progress`` bar."""
    return lambda p: update(p.frames_done, p.frames_total, p.elapsed_s, p.frames_computed, p.preparing)


def profile_line(profile: dict[str, float]) -> str:
    """One line of per-stage seconds for ``restore --profile`` (stages overlap: decode/encode run beside the model)."""
    stages = ", ".join(f"{name} {profile[name]:.2f}" for name in
                       ("decode", "upload", "model", "download", "encode", "idle") if name in profile)
    vram = f"; peak VRAM {profile['peak_vram_mib']:.0f} MiB" if "peak_vram_mib" in profile else ""
    return f"profile (s, overlapping): {stages}; wall {profile.get('wall', 0.0):.2f}{vram}"
