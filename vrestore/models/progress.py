"""Progress from inside one forward pass, for models whose single call takes long.

A recurrent network such as PGDENet restores a whole temporal window in one call: on a CPU one 48-frame
window of 640x360 takes minutes, and no output frame exists before the call returns. Shrinking the window
would give a first frame sooner but changes the output (see ``engine/autosize.py``), so instead the model
says how far through the call it is, and the engine turns that into frames for the progress bar.

The listener is a context variable rather than an argument of ``forward``: every architecture keeps the
forward signature of its paper (checkpoints and golden tests rely on it), and a model that never calls
:func:`report` simply moves the bar once per window. Reports go to the listener of the calling thread only,
so a model run elsewhere (a training loop, a prefetch thread) reports to nobody. Listeners nest: the tiler
maps one tile's 0..1 onto its share of the window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[float], None]

_listener: ContextVar[Listener | None] = ContextVar("vrestore_model_progress", default=None)


def report(fraction: float) -> None:
    """Tell the listener (if any) that ``fraction`` (0..1) of the current forward pass is done."""
    listener = _listener.get()
    if listener is not None:
        listener(min(max(fraction, 0.0), 1.0))


@contextmanager
def listen(listener: Listener | None) -> Iterator[None]:
    """Send the :func:`report` calls made inside the block to ``listener`` (None: to nobody)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


@contextmanager
def share(start: float, width: float) -> Iterator[None]:
    """Inside the block, a report of f reaches the current listener as ``start + f * width``.

    Used for one part of a larger call (one tile of a window); a no-op when nobody listens.
    """
    outer = _listener.get()
    if outer is None:
        yield
        return
    with listen(lambda fraction: outer(start + fraction * width)):
        yield


class WorkMeter:
    """Counts the units of work of one forward pass and reports the fraction done after each step.

    Units are rough relative costs (measured once on a CPU); they only need to make the bar move at a
    steady pace, so that the ETA drawn from it is sensible.
    """

    def __init__(self, total: float) -> None:
        self.total = max(total, 1e-9)
        self.done = 0.0

    def add(self, units: float) -> None:
        """Count ``units`` more as done and report."""
        self.done += units
        report(self.done / self.total)
