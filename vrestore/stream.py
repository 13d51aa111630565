"""One stream of frames through a transform into a writer: what ``restore`` and ``synth`` share.

The caller opens the reader and the writer and owns their lifetimes (``api.py``, ``synth_api.py``); on an
error or an interrupt the writer stays open for its context manager, which removes the partial output, or
for ``--resume`` to keep it. A reader yields at least one frame or raises InputError, so a stream that ends
has written frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vrestore.engine.pipeline import run_pipeline
from vrestore.engine.profile import NO_PROFILE, StageProfile
from vrestore.frame import Frame

if TYPE_CHECKING:
    from vrestore.io.writer import FrameWriter

Transform = Callable[[Iterable[Frame]], Iterator[Frame]]


@dataclass(frozen=True)
class Progress:
    """A progress report: frames written so far, the expected total (None if unknown), seconds elapsed.

    ``frames_computed`` (at least ``frames_done``) also counts the frames the model has finished but not yet
    written, including the finished part of the window it is computing (fractional): a recurrent model's
    window can take minutes on a CPU before its first frame is written. A restore reports once at its start
    (0 frames, with the probed total) and then as either count grows.
    ``preparing`` (frames done, frames in all) is set while the model waits for a classical stage before it,
    the motion average of ``pgdenet.mc``'s next window; ``None`` otherwise.
    """

    frames_done: int
    frames_total: int | None
    elapsed_s: float
    frames_computed: float = 0.0
    preparing: tuple[int, int] | None = None


class FrameCounts:
    """The frames written (encode thread) and computed (model thread) of one run, reported as Progress.

    ``started`` is when the elapsed time starts; a run resets it when its frames start to flow.
    """

    def __init__(self, progress: Callable[[Progress], None] | None, total: int | None) -> None:
        self.progress = progress
        self.total = total
        self.started = time.perf_counter()
        self.done = 0
        self.model = 0.0
        self.prepared: tuple[int, int] | None = None

    def written(self, done: int) -> None:
        """``done`` frames are written (the stream's ``on_frame``)."""
        self.done = done
        self.report()

    def computed(self, frames: float) -> None:
        """The model has finished ``frames`` frames (fractional inside a window)."""
        self.model = frames
        self.prepared = None
        self.report()

    def preparing(self, done: int, total: int) -> None:
        """The model waits for a classical stage (the motion average) that has ``done`` of ``total`` frames."""
        if self.prepared != (done, total):
            self.prepared = (done, total)
            self.report()

    def report(self) -> None:
        """Send the counts to the progress callback, if any."""
        if self.progress is not None:
            done = self.done
            self.progress(Progress(done, self.total, time.perf_counter() - self.started, max(self.model, done),
                                   self.prepared))


def run_stream(
    frames: Iterable[Frame],
    transform: Transform,
    writer: FrameWriter,
    *,
    queue_size: int,
    on_frame: Callable[[int], None] | None = None,
    profile: StageProfile = NO_PROFILE,
    before_close: Callable[[int], None] | None = None,
) -> int:
    """Decode ``frames``, apply ``transform`` and write, on three threads; close ``writer``; return the frames written.

    ``engine.pipeline.run_pipeline`` runs the stages (``on_frame(n)`` after each frame written, ``profile``
    timing them). ``before_close(n)`` runs once every frame is written, before ``writer.close()`` renames
    the output into place (synth stages its sidecar there). Nothing is closed when a stage fails.
    """
    written = run_pipeline(frames, transform, writer.write, queue_size=queue_size, on_frame=on_frame, profile=profile)
    if before_close is not None:
        before_close(written)
    writer.close()
    return written
